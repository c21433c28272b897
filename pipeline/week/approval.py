"""Sign-off: the administrator approves a week; a later run of that week says whether anything changed.

Every weekly run writes outputs/<week>/inputs.json: the SHA-256 of report.json and of every input file
version the week's figures were computed from (all versions submitted by the cut-off: the cumulative
figures count them all), marking those submitted in the week itself. `python -m pipeline approve`
checks that report.json is the one that run wrote and that the inbox holds no file version of the week
the run did not count, then writes outputs/<week>/approval.json: who, when, those hashes and a copy of
the approved report. A later run of the week compares its inputs and figures with the approved ones.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.core import messages
from pipeline.core import weeks
from pipeline.core.atomic import atomic_path, file_mask
from pipeline.core.paths import WeekFiles, week_files
from pipeline.core.config import Config, load_config
from pipeline.core.errors import ConfigError
from pipeline.core.schema import Schema
from pipeline.core.screen import say, visible
from pipeline.runtime import locking
from pipeline.sources import inbox
from pipeline.thai.dates import thai_datetime
from pipeline.week.history import figure_label, flat_figures, scope_name, wording

TERMINAL_LINES = 12


class ApprovalError(ConfigError):
    """A week that cannot be approved as it is; the message is one line for the administrator."""


def input_files(versions: pd.DataFrame, window, config: Config) -> list[dict]:
    """Every input file version counted in the week's figures, in submission order."""
    frame = versions.copy()
    frame["moment"] = pd.to_datetime(frame["submitted_at"], utc=True, format="ISO8601")
    frame = frame.sort_values(["moment", "source_file", "version_id"], kind="stable")
    inside = window.contains(frame["moment"])
    return [{"source_file": row.source_file, "district": row.district_folder,
             "submitted_at": row.moment.tz_convert(config.timezone).isoformat(),
             "sha256": row.sha256, "size": int(row.size) if pd.notna(row.size) else None,
             "version_id": row.version_id, "this_week": bool(now)}
            for row, now in zip(frame.itertuples(index=False), inside)]


def sha256_text(text: str) -> str:
    """SHA-256 of text as written (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def manifest(week: str, report_text: str, files: list[dict]) -> dict:
    """What a week's report was computed from: report.json's hash and every input file version."""
    return {"week": week, "report_sha256": sha256_text(report_text), "files": files}


def manifest_text(content: dict) -> str:
    """inputs.json / approval.json as stable text."""
    return json.dumps(content, ensure_ascii=False, indent=2) + "\n"


@dataclass(frozen=True)
class FileChange:
    """An input file version counted now but not at approval, or the reverse."""

    kind: str           # added | revised | removed
    source_file: str
    district: str
    submitted_at: str
    sha256: str


@dataclass(frozen=True)
class FigureChange:
    """A figure whose value differs from the approved report."""

    scope: str          # district code or "totals"
    scope_name: str
    path: tuple[str, ...]
    label: str
    approved: object
    current: object


@dataclass(frozen=True)
class ApprovalStatus:
    """Whether the week was approved, by whom and when, and what changed since."""

    week: str
    approved: bool = False
    by: str = ""
    at: str = ""
    files: list[FileChange] = field(default_factory=list)
    figures: list[FigureChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when an approved week's inputs or figures are no longer those approved."""
        return self.approved and bool(self.files or self.figures)

    def line(self) -> str:
        """One Thai sentence on the week's approval."""
        words = wording()["approval"]
        if not self.approved:
            return words["not_approved"].format(week=self.week)
        if not self.changed:
            return words["approved"].format(by=self.by, at=self.at)
        template = words["changed"] if self.files else words["changed_code"]
        return template.format(by=self.by, at=self.at, files=len({f.source_file for f in self.files}),
                               figures=len(self.figures))

    def terminal_lines(self, config: Config, schema: Schema) -> list[str]:
        """What the terminal says after a run of an approved week (and what changed since, if anything)."""
        if not self.changed:
            return [visible(self.line())] if self.approved else []
        words = wording()["approval"]
        details = [words["terminal_file"].format(kind=words["kinds"][f.kind], file=f.source_file,
                                                 submitted=_at(f.submitted_at, config)) for f in self.files]
        details += [words["terminal_figure"].format(district=f.scope_name, figure=f.label,
                                                    old=shown_value(f.path, f.approved, config, schema),
                                                    new=shown_value(f.path, f.current, config, schema))
                    for f in self.figures]
        shown = details[:TERMINAL_LINES]
        if len(details) > len(shown):
            shown.append(words["terminal_more"].format(count=len(details) - len(shown)))
        return [visible(line) for line in [f"!! {self.line()}", *shown]]   # names reach a terminal


def shown_value(path: tuple[str, ...], value, config: Config, schema: Schema, keep_numbers: bool = False):
    """A figure value as people read it: numbers with separators, statuses and times in Thai."""
    if value is None:
        return "-"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value if keep_numbers else f"{value:,}"
    if path and path[-1] == "status":
        return schema.wording["submission_status"].get(str(value), str(value))
    if path and path[-1].endswith("_submitted"):
        return _at(str(value), config)
    return str(value)


def _at(text: str, config: Config) -> str:
    try:
        return thai_datetime(dt.datetime.fromisoformat(text).astimezone(config.timezone), config.date_digits)
    except (TypeError, ValueError):
        return str(text)


def file_changes(approved: list[dict], current: list[dict]) -> list[FileChange]:
    """Versions counted now but not at approval (new files, or new versions of approved files), and the reverse."""
    before = {f["version_id"]: f for f in approved}
    now = {f["version_id"]: f for f in current}
    names_before = {f["source_file"] for f in approved}
    names_now = {f["source_file"] for f in current}
    changes = [FileChange("revised" if f["source_file"] in names_before else "added", f["source_file"],
                          f.get("district", ""), f["submitted_at"], f["sha256"])
               for key, f in now.items() if key not in before]
    changes += [FileChange("removed", f["source_file"], f.get("district", ""), f["submitted_at"], f["sha256"])
                for key, f in before.items() if key not in now and f["source_file"] not in names_now]
    return sorted(changes, key=lambda c: (c.submitted_at, c.source_file))


def figure_changes(approved: dict, current: dict, schema: Schema) -> list[FigureChange]:
    """Every figure (per district and province total) whose value is not the approved one."""
    before, now = flat_figures(approved), flat_figures(current)
    keys = list(now) + [key for key in before if key not in now]
    changes = [FigureChange(scope, scope_name(current, scope, schema), path, figure_label(path),
                            before.get((scope, path)), now.get((scope, path)))
               for scope, path in keys if before.get((scope, path)) != now.get((scope, path))
               and path[1:] != ("this_week", "total")           # the same number as the block's "new"
               and not path[-1].endswith("_submitted")]         # the file changes say when
    # Cumulative figures first, then this week's, then the submission bookkeeping; the province before districts.
    return sorted(changes, key=lambda c: (c.path[0] == "submission", c.path[1] in ("new", "this_week"),
                                          c.scope != "totals"))


def read_json(path: Path) -> dict | None:
    """A JSON file, or None when it is missing or not valid."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def compare(week_dir: Path, report: dict, files: list[dict], config: Config, schema: Schema) -> ApprovalStatus:
    """The week's approval status against the report and inputs of this run."""
    record = read_json(WeekFiles(week_dir, report["week"]).approval)
    week = report["week"]
    if not record or "report" not in record:
        return ApprovalStatus(week)
    return ApprovalStatus(week, True, str(record.get("approved_by", "")), _at(record.get("approved_at", ""), config),
                          file_changes(record.get("files", []), files),
                          figure_changes(record["report"], report, schema))


def _approver(by: str | None, week: dt.date) -> str:
    """Who approves: a name must be given (the login name of a shared office account says nothing)."""
    if by and by.strip():
        return " ".join(by.split())
    raise ApprovalError(messages.text("approver_missing", week=week.isoformat()))


def approve_week(config_path: Path, inputs: Path, outputs_dir: Path, week_text: str | None, by: str | None = None,
                 now: dt.datetime | None = None) -> tuple[dict, Path, dict | None]:
    """Record the approval of a week's report as it is on disk; returns (record, its path, the one it replaced).

    Holds the outputs folder's lock: a week is never signed off while a run is rewriting it.
    """
    config = load_config(config_path)
    with file_mask(config.umask), locking.outputs_lock(outputs_dir, "approve", config.lock_wait_seconds):
        return _approve(config, inputs, outputs_dir, week_text, by, now)


def _approve(config: Config, inputs: Path, outputs_dir: Path, week_text: str | None, by: str | None,
             now: dt.datetime | None) -> tuple[dict, Path, dict | None]:
    now = now or dt.datetime.now(tz=config.timezone)
    week = weeks.parse_week(week_text, config, now)
    approver = _approver(by, week)   # refused before anything is read or written
    files = week_files(outputs_dir, week.isoformat())
    week_dir = files.folder
    report_path, manifest_path = files.report_json, files.manifest
    if not report_path.is_file():
        raise ApprovalError(messages.text("approval_no_report", week=week, folder=week_dir))
    content = read_json(manifest_path)
    if content is None:
        raise ApprovalError(messages.text("approval_no_manifest", path=manifest_path, week=week))
    report_text = report_path.read_text(encoding="utf-8")
    if sha256_text(report_text) != content["report_sha256"]:
        raise ApprovalError(messages.text("approval_report_changed", path=report_path, week=week))
    if not inputs.is_dir():
        raise ApprovalError(messages.text("inputs_missing", path=inputs))
    found, _ = inbox.discover(inputs, config, now)
    cutoff = weeks.cutoff_of(week, config)
    counted = {f["version_id"] for f in content["files"]}
    unseen = [f.source_file for f in found if f.submitted_at <= cutoff and f.version_id not in counted]
    if unseen:
        listed = ", ".join(unseen[:3]) + (" " + messages.text("more_files", count=len(unseen) - 3)
                                          if len(unseen) > 3 else "")
        raise ApprovalError(messages.text("approval_unseen_files", week=week, count=len(unseen), listed=listed))
    previous = read_json(files.approval)
    record = {"week": week.isoformat(), "approved_by": approver,
              "approved_at": now.astimezone(config.timezone).isoformat(timespec="seconds"),
              "report_sha256": content["report_sha256"], "files": content["files"],
              "report": json.loads(report_text)}
    with atomic_path(files.approval) as path:
        path.write_text(manifest_text(record), encoding="utf-8")
    return record, files.approval, previous


def approved_lines(record: dict, path: Path, previous: dict | None, config: Config) -> list[str]:
    """What the approve command prints."""
    words = wording()["approval"]
    lines = [words["recorded"].format(week=record["week"], by=record["approved_by"],
                                      at=_at(record["approved_at"], config), files=len(record["files"]),
                                      sha=record["report_sha256"][:12], path=path)]
    if previous and previous.get("approved_by"):
        lines.append(words["replaced"].format(by=previous["approved_by"], at=_at(previous.get("approved_at"), config)))
    return lines


def main_approve(arguments) -> int:
    """python -m pipeline approve: record the sign-off and say so in one line."""
    config = load_config(arguments.config)
    record, path, previous = approve_week(arguments.config, arguments.inputs, arguments.outputs, arguments.week,
                                          arguments.by)
    say(approved_lines(record, path, previous, config))
    return 0
