"""The run's last words on the terminal: a per-district table, aligned for Thai text (every name and value
through core.screen's filter)."""
from __future__ import annotations

from pathlib import Path

from pipeline.core.paths import WeekFiles
from pipeline.core.schema import load_schema
from pipeline.core.screen import display_width, visible
from pipeline.week.history import STATUSES, figure_label, incomplete_list, wording
from pipeline.week.report import WeekResult

COUNTS = ["rows_read", "accepted", "updated", "rejected", "duplicates", "skipped"]
def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(width - display_width(text), 0)
    return gap + text if right else text + gap


def incomplete_lines(report: dict, mark: str) -> list[str]:
    """Per district with incomplete figures: the marked name and which figures (empty when none)."""
    lines = []
    for code, district in report["districts"].items():
        listed = incomplete_list(district)
        if listed:
            names = ", ".join(figure_label(tuple(path.split(".", 2))) for path in listed)
            lines.append(f"  {mark} {code} {district['name']}: {names}")
    return lines


def summary_lines(result: WeekResult, week_dir: Path) -> list[str]:
    """The per-district table, the legend of its total row's status counts, and where the outputs are (the
    issues workbook, the feedback folder); a district whose figures are incomplete is marked, with the legend
    and its incomplete figures below the table. Every name and value is passed through `visible`."""
    schema, words = load_schema(), wording()["terminal"]
    report = result.report
    mark = schema.label("incomplete_mark")
    statuses = schema.wording["submission_status"]
    headers = ["อำเภอ", "สถานะ", "ไฟล์", *(schema.label(c) for c in COUNTS)]
    rows = []
    for code, district in report["districts"].items():
        block = district["submission"]
        name = f"{code} {district['name']}" + (f" {mark}" if incomplete_list(district) else "")
        rows.append([name, statuses[block["status"]], str(block["files"]), *(str(block.get(c, 0)) for c in COUNTS)])
    totals = report["totals"]["submission"]
    rows.append([schema.label("province_total"), "/".join(str(totals.get(s, 0)) for s in STATUSES),
                 str(totals["files"]), *(str(totals.get(c, 0)) for c in COUNTS)])
    rows = [[visible(value) for value in row] for row in [headers, *rows]]
    incomplete = incomplete_lines(report, mark)
    widths = [max(display_width(r[i]) for r in rows) for i in range(len(headers))]
    line = lambda r: "  ".join(_pad(v, w, right=i >= 2) for i, (v, w) in enumerate(zip(r, widths)))  # noqa: E731
    legend = words["status_legend"].format(
        total=schema.label("province_total"), counts="/".join(str(totals.get(s, 0)) for s in STATUSES),
        named=" · ".join(words["status_count"].format(status=statuses[s], count=totals.get(s, 0)) for s in STATUSES))
    errors = int((result.issues["severity"] == "error").sum())
    warnings = int((result.issues["severity"] == "warning").sum())
    week = report["week"]
    return [visible(text) for text in [
        words["title"].format(week=week, cutoff=report["cutoff"], province=report["province"]),
        *(line(r) for r in rows), legend,
        *([schema.label("incomplete_note"), *incomplete] if incomplete else []),
        words["problems"].format(errors=errors, warnings=warnings),
        words["outputs"].format(path=week_dir),
        words["issues_workbook"].format(path=WeekFiles(week_dir, week).issues_workbook),
        words["feedback_folder"].format(path=WeekFiles(week_dir, week).feedback),
    ]]
