"""Writing a week's outputs atomically: report.json, the provincial report and the issues workbook."""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from pipeline import workbook_style as style
from pipeline.config import Config
from pipeline.report import BLOCKS, WeekResult
from pipeline.schema import Schema

TEMPORARY_MARK = ".partial-"


@contextmanager
def atomic_path(target: Path):
    """A temporary path beside the target, moved over it only when writing finished."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=TEMPORARY_MARK, suffix=target.suffix, dir=target.parent)
    os.close(handle)
    try:
        yield Path(temporary)
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


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


def write_week(result: WeekResult, outputs_dir: Path, config: Config, schema: Schema) -> Path:
    """Write every output of the week under outputs/<week>/ and return that folder."""
    week_dir = outputs_dir / result.report["week"]
    sweep_temporaries(week_dir)
    with atomic_path(week_dir / "report.json") as path:
        path.write_text(report_json_text(result.report), encoding="utf-8")
    week = result.report["week"]
    with atomic_path(week_dir / f"province_report_{week}.xlsx") as path:
        write_province_workbook(path, result, config, schema)
    with atomic_path(week_dir / f"issues_{week}.xlsx") as path:
        write_issues_workbook(path, result, config, schema)
    return week_dir


def _district_rows(report: dict, dataset: str, getters: list, scope: str, total_label: str) -> list[list]:
    """One row per district and the province total; scope 'total' (cumulative) or 'this_week'."""
    rows = []
    for code, district in [*report["districts"].items(), ("", {"name": total_label, **report["totals"]})]:
        block = district[dataset]
        source = block if scope == "total" else {**block["this_week"], "total": block["new"]}
        rows.append([code, district["name"], *[get(source) for _, get in getters]])
    return rows


def figure_columns(dataset: str, schema: Schema, stale_days: int) -> list[tuple[str, callable]]:
    """(column title, getter) of a dataset's figures sheet, read from a figures block."""
    label = schema.label
    columns = [(label("total_people") if dataset == "unvaccinated" else label("count"), lambda b: b["total"])]
    if dataset == "unvaccinated":
        columns += [(label(key), lambda b, k=key: b[k]) for key in ("thai", "non_thai", "wants_vaccine")]
    if dataset == "facilities":
        columns.append((label("stale", days=stale_days), lambda b: b["stale"]))
    if dataset == "help_requests":
        columns.append((label("open"), lambda b: b["open"]))
    closed = {"volunteers": ("by_type", "volunteer_types"), "unvaccinated": ("by_reason", "reasons"),
              "facilities": ("by_type", "facility_types"), "help_requests": ("by_type", "request_types")}
    by_key, list_name = closed[dataset]
    columns += [(value, lambda b, v=value, k=by_key: b[k][v]) for value in schema.choice_values(list_name)]
    if dataset in ("facilities", "help_requests"):
        statuses = "facility_statuses" if dataset == "facilities" else "request_statuses"
        columns += [(value, lambda b, v=value: b["by_status"][v]) for value in schema.choice_values(statuses)]
    return columns


def write_province_workbook(path: Path, result: WeekResult, config: Config, schema: Schema) -> None:
    """The provincial weekly report: a summary, a sheet per dataset, and the submission sheet."""
    report = result.report
    book = style.new_workbook(path, config)
    title = schema.label("province_report_title", province=config.province_name)
    total_label = schema.label("province_total")
    style.summary_sheet(book, config, schema, report, title)
    for dataset in BLOCKS:
        columns = figure_columns(dataset, schema, config.stale_days)
        tables = [(schema.label(scope_label), _district_rows(report, dataset, columns, scope, total_label))
                  for scope, scope_label in (("total", "cumulative_table"), ("this_week", "new_table"))]
        style.figure_sheet(book, schema.datasets[dataset].title, title, report, config, schema,
                           headers=[name for name, _ in columns], tables=tables)
    style.submission_sheet(book, config, schema, report, result.accounting, title)
    book.close()


def _issues_frame(result: WeekResult, config: Config, schema: Schema) -> pd.DataFrame:
    frame = result.issues.copy()
    frame.insert(0, "district", frame["district_folder"].map(config.districts).fillna(""))
    frame["severity"] = frame["severity"].map(schema.wording["severity"]).fillna(frame["severity"])
    frame["dataset"] = frame["dataset"].map(lambda k: schema.datasets[k].title if k in schema.datasets else "")
    return frame


def write_issues_workbook(path: Path, result: WeekResult, config: Config, schema: Schema) -> None:
    """Every problem of the week, one row each, in Thai, for the province."""
    book = style.new_workbook(path, config)
    frame = _issues_frame(result, config, schema)
    headers = {"district": "label:district", "source_file": "label:file", "sheet": "label:sheet",
               "dataset": "แบบฟอร์ม", "excel_row": "label:row", "column_letter": "label:column",
               "column": "หัวคอลัมน์", "value": "label:value", "severity": "label:severity",
               "code": "label:code", "message": "label:message"}
    style.table_sheet(book, schema.label("issues_sheet"), schema.label("issues_report_title",
                      province=config.province_name), result.report, config, schema, frame, headers)
    book.close()
