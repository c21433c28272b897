"""Writing a week's outputs atomically: report.json, the provincial report, the issues workbook, the
inputs manifest (inputs.json) and the HTML page (index.html)."""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline import faults
from pipeline import approval, charts, checks, history
from pipeline import workbook_style as style
from pipeline.config import Config
from pipeline.report import BLOCKS, WeekResult
from pipeline.schema import Schema, load_schema
from pipeline.issues import by_district_and_kind

TEMPORARY_MARK = ".partial-"
# Keys report.json gained after earlier weeks' reports were stored (not-stated counts, updated rows,
# unusable districts): such a report reads 0 for them.
LATER_KEYS = frozenset({"nationality_unknown", "wants_vaccine_unknown", "updated", "unusable",
                        load_schema().label("not_stated")})


@contextmanager
def atomic_path(target: Path):
    """A temporary path beside the target, moved over it only when writing finished."""
    temporary = temporary_beside(target)
    try:
        yield temporary
        move_into_place(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()


def temporary_beside(target: Path) -> Path:
    """A new empty temporary file in the target's folder (swept by sweep_temporaries if left behind)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=TEMPORARY_MARK, suffix=target.suffix, dir=target.parent)
    os.close(handle)
    return Path(temporary)


def current_umask() -> int:
    """The process's file-creation mask (reading it means setting it: set back at once)."""
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def move_into_place(temporary: Path, target: Path) -> None:
    """Make a finished temporary durable and replace the target with it in one step."""
    faults.checkpoint("written")
    with open(temporary, "rb") as written:
        os.fsync(written.fileno())
    os.chmod(temporary, 0o666 & ~current_umask())   # mkstemp makes 600 whatever outputs.mode allows
    os.replace(temporary, target)
    faults.checkpoint("replaced")


def sweep_temporaries(folder: Path) -> int:
    """Remove half-written files a killed run left behind; returns how many."""
    swept = 0
    for path in folder.rglob(f"{TEMPORARY_MARK}*") if folder.exists() else ():
        path.unlink(missing_ok=True)
        swept += 1
    return swept


def report_json_text(report: dict) -> str:
    """report.json as text: stable key order and formatting, so reruns are byte-identical."""
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


@dataclass(frozen=True)
class Dashboard:
    """The week at a glance beyond its own figures: history, timeliness, jump checks and sign-off."""

    reports: dict[dt.date, dict]            # every week's report from the first one to this week
    timeliness: history.Timeliness | None
    checks: pd.DataFrame                    # flagged changes (checks.COLUMNS + files), most unusual first
    history_weeks: int                      # weekly changes the checks' baselines could use
    files: list[dict]                       # the input file versions the week's figures counted
    approval: approval.ApprovalStatus
    notices: tuple[str, ...] = field(default=())   # what the terminal says at the end of the run

    @staticmethod
    def of_week_only(result: WeekResult) -> "Dashboard":
        """The week alone (no store at hand): charts of this week, no history, checks or sign-off."""
        return Dashboard({result.window.week: result.report}, None, pd.DataFrame(columns=[*checks.COLUMNS, "files"]),
                         0, [], approval.ApprovalStatus(result.report["week"]))

    def summary_notices(self) -> list[tuple[str, str]]:
        """(level, sentence) lines for the top of the summary sheet and of the HTML page."""
        lines = []
        if self.approval.approved or self.files:
            lines.append(("alert" if self.approval.changed else "info", self.approval.line()))
        if len(self.checks):
            lines.append(("warn", history.wording()["checks"]["found"].format(count=len(self.checks))))
        return lines


def prepare_dashboard(result: WeekResult, past: dict[dt.date, dict], versions: pd.DataFrame, config: Config,
                      schema: Schema, outputs_dir: Path) -> Dashboard:
    """History, timeliness, jump checks and the sign-off status of the week, from the store's state.

    `past` holds the earlier weeks' reports (history.past_reports) and `versions` the stored versions
    submitted by this week's cut-off: nothing here reads the inbox.
    """
    week = result.window.week
    reports = {**past, week: result.report}
    flagged = checks.jump_checks(reports, week)
    flagged["files"] = [checks.contributing_files(result.entities, result.window, district, path[0])
                        for district, path in zip(flagged["district"], flagged["path"])]
    files = approval.input_files(versions, result.window, config)
    status = approval.compare(outputs_dir / week.isoformat(), result.report, files, config, schema)
    notices = status.terminal_lines(config, schema)
    if len(flagged):
        notices.append(history.wording()["checks"]["found"].format(count=len(flagged)))
    return Dashboard(reports, history.timeliness(versions, config, week), flagged,
                     checks.history_weeks(reports, week), files, status, tuple(notices))


def week_outputs(result: WeekResult, week_dir: Path, config: Config, schema: Schema,
                 dashboard: Dashboard | None = None) -> Iterator[Path | None]:
    """Write the week's outputs one by one, yielding each once it is in place, and None between the halves of a
    long one (the caller may work at every yield).

    Half-written files of a killed run are swept by the caller before the run writes anything: this may
    run while the feedback workbooks are being written beside it.
    """
    dashboard = dashboard or Dashboard.of_week_only(result)
    report_text = report_json_text(result.report)
    with atomic_path(week_dir / "report.json") as path:
        path.write_text(report_text, encoding="utf-8")
    yield week_dir / "report.json"
    week = result.report["week"]
    if dashboard.files:
        with atomic_path(week_dir / approval.MANIFEST) as path:
            path.write_text(approval.manifest_text(approval.manifest(week, report_text, dashboard.files)),
                            encoding="utf-8")
        yield week_dir / approval.MANIFEST
    # The longest step first, while the largest feedback copies are being made beside it (fewer idle cores).
    with atomic_path(week_dir / f"issues_{week}.xlsx") as path:
        yield from write_issues_workbook(path, result, config, schema)
    yield week_dir / f"issues_{week}.xlsx"
    week_charts = charts.build_charts(result.report, result.entities, result.window, dashboard.reports,
                                      dashboard.timeliness, config, schema)
    with atomic_path(week_dir / f"province_report_{week}.xlsx") as path:
        write_province_workbook(path, result, config, schema, dashboard, week_charts)
    yield week_dir / f"province_report_{week}.xlsx"
    from pipeline.html_report import render_week   # jinja2 is loaded only when a page is written
    with atomic_path(week_dir / "index.html") as path:
        path.write_text(render_week(result, dashboard, week_charts, config, schema), encoding="utf-8")
    yield week_dir / "index.html"


def _district_rows(report: dict, dataset: str, columns: list, scope: str, total_label: str) -> list[list]:
    """One row per district and the province total; scope 'total' (cumulative) or 'this_week'.

    A figure listed in its district's (or the totals') `incomplete` is a style.Marked number.
    """
    rows = []
    for code, district in [*report["districts"].items(), ("", {"name": total_label, **report["totals"]})]:
        listed = history.incomplete_list(district)
        cells = []
        for _, path in columns:
            where = (dataset, *scoped_path(path, scope))
            value = figure_value(district, where)
            cells.append(style.Marked(value) if history.is_incomplete(listed, where) else value)
        rows.append([code, district["name"], *cells])
    return rows


def scoped_path(path: tuple[str, ...], scope: str) -> tuple[str, ...]:
    """A figure's path inside its block for the cumulative table ('total') or the new-this-week one."""
    if scope == "total":
        return path
    return ("new",) if path == ("total",) else ("this_week", *path)


def figure_value(block: dict, path: tuple[str, ...]):
    """A figure by its path; a key added later (LATER_KEYS) reads 0 in a report made before it existed."""
    for key in path:
        block = block.get(key, 0) if key in LATER_KEYS else block[key]
    return block


def figure_columns(dataset: str, schema: Schema, stale_days: int) -> list[tuple[str, tuple[str, ...]]]:
    """(column title, path inside the block) of a dataset's figures sheet; each not-stated count beside
    the figures it completes."""
    label, not_stated = schema.label, schema.label("not_stated")
    columns = [(label("total_people") if dataset == "unvaccinated" else label("count"), ("total",))]
    if dataset == "unvaccinated":
        columns += [(label(key), (key,)) for key in ("thai", "non_thai", "nationality_unknown", "wants_vaccine",
                                                     "wants_vaccine_unknown")]
    if dataset == "facilities":
        columns.append((label("stale", days=stale_days), ("stale",)))
    if dataset == "help_requests":
        columns.append((label("open"), ("open",)))
    closed = {"volunteers": ("by_type", "volunteer_types"), "unvaccinated": ("by_reason", "reasons"),
              "facilities": ("by_type", "facility_types"), "help_requests": ("by_type", "request_types")}
    by_key, list_name = closed[dataset]
    columns += [(value, (by_key, value)) for value in schema.choice_values(list_name)]
    if dataset == "unvaccinated":
        columns.append((not_stated, (by_key, not_stated)))
    if dataset in ("facilities", "help_requests"):
        statuses = "facility_statuses" if dataset == "facilities" else "request_statuses"
        columns += [(value, ("by_status", value)) for value in schema.choice_values(statuses)]
        if dataset == "facilities":
            columns.append((not_stated, ("by_status", not_stated)))
    return columns


def write_province_workbook(path: Path, result: WeekResult, config: Config, schema: Schema,
                            dashboard: Dashboard | None = None, week_charts: list | None = None) -> None:
    """The provincial weekly report: a summary, the charts, a sheet per dataset, the submission sheet,
    the timeliness matrix and the checks (sign-off and unusual changes)."""
    report = result.report
    dashboard = dashboard or Dashboard.of_week_only(result)
    if week_charts is None:
        week_charts = charts.build_charts(report, result.entities, result.window, dashboard.reports,
                                          dashboard.timeliness, config, schema)
    book = style.new_workbook(path, config, created=style.week_cutoff(report, config))
    title = schema.label("province_report_title", province=config.province_name)
    total_label = schema.label("province_total")
    style.summary_sheet(book, config, schema, report, title, dashboard.summary_notices())
    charts.chart_sheet(book, week_charts, report, config, title)
    for dataset in BLOCKS:
        columns = figure_columns(dataset, schema, config.stale_days)
        tables = [(schema.label(scope_label), _district_rows(report, dataset, columns, scope, total_label))
                  for scope, scope_label in (("total", "cumulative_table"), ("this_week", "new_table"))]
        style.figure_sheet(book, schema.datasets[dataset].title, title, report, config, schema,
                           headers=[name for name, _ in columns], tables=tables)
    style.submission_sheet(book, config, schema, report, result.accounting, title)
    if dashboard.timeliness is not None:
        style.timeliness_sheet(book, config, schema, report, title, dashboard.timeliness)
    style.checks_sheet(book, config, schema, report, title, dashboard.approval, dashboard.checks,
                       dashboard.history_weeks, checks.SETTINGS)
    book.close()


ISSUE_ROWS_PER_SHEET = 1_048_576 - 10   # Excel's last row, less the title and header rows above the table


def _issues_frame(result: WeekResult, config: Config, schema: Schema) -> pd.DataFrame:
    frame = result.issues.copy()
    frame.insert(0, "district", frame["district_folder"].map(config.districts).fillna(""))
    frame["severity"] = frame["severity"].map(schema.wording["severity"]).fillna(frame["severity"])
    frame["dataset"] = frame["dataset"].map(lambda k: schema.datasets[k].title if k in schema.datasets else "")
    if "rows" in frame:   # a row standing for many shows their ranges where a row number would be
        grouped = frame["rows"].fillna("").astype(str) != ""
        frame["excel_row"] = frame["excel_row"].astype(object).where(~grouped, frame["rows"])
    return frame


def write_issues_workbook(path: Path, result: WeekResult, config: Config, schema: Schema) -> Iterator[None]:
    """Every problem of the week, one row each, in Thai, for the province: in steps (rows, then the file)."""
    buffer = io.BytesIO()   # its rows are added to the package before the file is written, once
    book = style.new_workbook(buffer, config, created=style.week_cutoff(result.report, config))
    title = schema.label("issues_report_title", province=config.province_name)
    from pipeline.feedback import feedback_wording  # feedback imports this module: import late
    pivot = by_district_and_kind(result.issues, config.districts, feedback_wording()["kinds"],
                                 schema.wording["severity"])
    style.count_sheet(book, schema.label("issues_by_district_sheet"), title, result.report, config, pivot)
    frame = _issues_frame(result, config, schema)
    headers = {"district": "label:district", "source_file": "label:file", "sheet": "label:sheet",
               "dataset": "แบบฟอร์ม", "excel_row": "label:row", "column_letter": "label:column",
               "column": "หัวคอลัมน์", "value": "label:value", "severity": "label:severity",
               "code": "label:code", "message": "label:message"}
    # Excel holds 1,048,576 rows a sheet: a longer list goes on in a next sheet, never past the limit.
    rests = [style.table_sheet(book, _part_name(schema.label("issues_sheet"), number), title, result.report, config,
                               schema, part, headers)
             for number, part in enumerate(_parts(frame, ISSUE_ROWS_PER_SHEET), start=1)]
    yield   # packing the file is a step of its own
    book.close()
    package = buffer.getvalue()
    for rest in rests:
        package = style.add_table_rows(package, rest)
    path.write_bytes(package)


def _parts(frame: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    """The frame in consecutive parts of at most `size` rows (one part, maybe empty, at least)."""
    return [frame.iloc[start:start + size] for start in range(0, max(len(frame), 1), size)]


def _part_name(name: str, number: int) -> str:
    """The first sheet keeps its name; the next ones are numbered: รายการปัญหา (2)."""
    return name if number == 1 else f"{name} ({number})"
