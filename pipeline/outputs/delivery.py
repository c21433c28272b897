"""Feedback delivered where each district drops its files: inputs/<district folder>/ผลการตรวจ/.

The district sees, in its own folder, the feedback workbook of each file it sent this week and สถานะ.txt:
what the province has of it this week, the problems left to fix, the deadline and whether it is still on time.
Nothing of another district's is written there; feedback of a file replaced or removed since is removed. The
files take the group and the permissions of the district folder (read and write, never execute), not the
private mode of outputs/, so the district's own account can open them. Google Sheets districts have no folder:
their status stays in outputs/.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
from pathlib import Path

import pandas as pd

from pipeline.core.atomic import atomic_path
from pipeline.core.config import Config
from pipeline.core.wording import wording
from pipeline.outputs.feedback.plan import feedback_paths
from pipeline.sources.inbox import FEEDBACK_FOLDER
from pipeline.thai.dates import thai_datetime
from pipeline.week.report import WeekResult

STATUS_FILE = "สถานะ.txt"


def folders_of(accounting: pd.DataFrame, inputs: Path) -> dict[str, list[str]]:
    """District folder (as named in the inbox) -> this week's counted files sent from it."""
    kept = accounting[accounting["counted"].astype(bool)] if "counted" in accounting else accounting
    folders: dict[str, list[str]] = {}
    for source_file in dict.fromkeys(kept["source_file"]):
        parts = str(source_file).split("/")
        if len(parts) > 1 and (inputs / parts[0]).is_dir():   # Google Sheets snapshots have no folder there
            folders.setdefault(parts[0], []).append(source_file)
    return folders


def status_text(result: WeekResult, district: str, files: list[str], now: dt.datetime, config: Config) -> str:
    """สถานะ.txt of one district: its files this week and what is left to fix (Thai, a few lines)."""
    words = wording("feedback")["delivery"]
    block = result.report["districts"][district]["submission"]
    mine = result.accounting[result.accounting["source_file"].isin(files)]
    issues = result.issues[result.issues["source_file"].isin(files)]
    deadline = result.window.deadline
    lines = [words["title"].format(district=result.report["districts"][district]["name"],
                                   week=thai_datetime(result.window.cutoff, config.date_digits))]
    for source_file, rows in mine.groupby("source_file", sort=False):
        sent = rows["submitted_at"].iloc[0].tz_convert(config.timezone).to_pydatetime()
        lines.append(words["file"].format(file=source_file.split("/", 1)[1], at=thai_datetime(sent, config.date_digits),
                                          read=int(rows["rows_read"].sum()), accepted=int(rows["accepted"].sum()),
                                          updated=int(rows["updated"].sum()), rejected=int(rows["rejected"].sum())))
    errors, warnings = (int(issues["severity"].eq(level).sum()) for level in ("error", "warning"))
    lines.append(words["problems"].format(errors=errors, warnings=warnings) if errors or warnings else words["clean"])
    status = wording("base")["submission_status"].get(block["status"], block["status"])
    lines.append(words["status"].format(status=status, deadline=thai_datetime(deadline, config.date_digits)))
    if now <= deadline:
        lines.append(words["before_deadline"])
    elif now <= result.window.cutoff:
        lines.append(words["after_deadline"])
    return "\n".join(lines) + "\n"


def _take_folder_access(path: Path, folder: Path) -> None:
    """A delivered file or folder gets the district folder's group and its permissions (files: no execute)."""
    info = folder.stat()
    try:
        os.chown(path, -1, info.st_gid)
    except OSError:   # not the file's owner in that group: the folder's setgid bit decides instead
        pass
    mode = stat.S_IMODE(info.st_mode)
    os.chmod(path, mode if path.is_dir() else mode & 0o666 | stat.S_IRUSR | stat.S_IWUSR)


def deliver(result: WeekResult, inputs: Path, week_dir: Path, now: dt.datetime, config: Config) -> list[Path]:
    """Copy each district's feedback and status into its own inbox folder; remove what no longer applies."""
    made = feedback_paths(result, week_dir, config)
    delivered = []
    for folder, sources in folders_of(result.accounting, inputs).items():
        district = str(result.accounting.loc[result.accounting["source_file"] == sources[0], "district_folder"].iloc[0])
        target = inputs / folder / FEEDBACK_FOLDER
        target.mkdir(exist_ok=True)
        _take_folder_access(target, inputs / folder)
        wanted = {made[source].name: made[source] for source in sources if made[source].exists()}
        for old in target.iterdir():   # feedback of a file replaced or removed since
            if old.is_file() and old.name not in {*wanted, STATUS_FILE}:
                old.unlink()
        for name, workbook in wanted.items():
            with atomic_path(target / name) as path:
                shutil.copyfile(workbook, path)
            delivered.append(target / name)
        if district in result.report["districts"]:
            with atomic_path(target / STATUS_FILE) as path:
                path.write_text(status_text(result, district, sources, now, config), encoding="utf-8")
            delivered.append(target / STATUS_FILE)
        for path in delivered:
            if path.parent == target:
                _take_folder_access(path, inputs / folder)
    return delivered
