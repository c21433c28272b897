"""The week's own files: report.json, the provincial report, the issues workbook, the
inputs manifest (inputs.json) and the HTML page (index.html)."""
from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from pipeline.core.atomic import atomic_path
from pipeline.core.paths import WeekFiles
from pipeline.core.config import Config
from pipeline.core.issues import by_district_and_kind
from pipeline.core.schema import Schema
from pipeline.outputs import charts
from pipeline.outputs import style
from pipeline.outputs.columns import figure_columns, figure_value, scoped_path
from pipeline.week import approval
from pipeline.week import checks
from pipeline.week import history
from pipeline.week.dashboard import Dashboard
from pipeline.week.report import BLOCKS, WeekResult


def report_json_text(report: dict) -> str:
    """report.json as text: stable key order and formatting, so reruns are byte-identical."""
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


def week_outputs(result: WeekResult, week_dir: Path, config: Config, schema: Schema,
                 dashboard: Dashboard | None = None) -> Iterator[Path | None]:
    """Write the week's outputs one by one, yielding each once it is in place, and None between the halves of a
    long one (the caller may work at every yield).

    Half-written files of a killed run are swept by the caller before the run writes anything: this may
    run while the feedback workbooks are being written beside it.
    """
    dashboard = dashboard or Dashboard.of_week_only(result)
    report_text = report_json_text(result.report)
    files = WeekFiles(week_dir, result.report["week"])
    with atomic_path(files.report_json) as path:
        path.write_text(report_text, encoding="utf-8")
    yield files.report_json
    week = result.report["week"]
    if dashboard.files:
        with atomic_path(files.manifest) as path:
            path.write_text(approval.manifest_text(approval.manifest(week, report_text, dashboard.files)),
                            encoding="utf-8")
        yield files.manifest
    # The longest step first, while the largest feedback copies are being made beside it (fewer idle cores).
    with atomic_path(files.issues_workbook) as path:
        yield from write_issues_workbook(path, result, config, schema)
    yield files.issues_workbook
    week_charts = charts.build_charts(result.report, result.entities, result.window, dashboard.reports,
                                      dashboard.timeliness, config, schema)
    with atomic_path(files.province_workbook) as path:
        write_province_workbook(path, result, config, schema, dashboard, week_charts)
    yield files.province_workbook
    from pipeline.outputs.html import render_week  # jinja2 is loaded only when a page is written
    with atomic_path(files.html) as path:
        path.write_text(render_week(result, dashboard, week_charts, config, schema), encoding="utf-8")
    yield files.html


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
    from pipeline.outputs.feedback.plan import feedback_wording  # feedback imports this module: import late
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
