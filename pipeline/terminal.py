"""The run's last words on the terminal: a per-district table, aligned for Thai text."""
from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

from pipeline.history import STATUSES, figure_label, incomplete_list
from pipeline.report import WeekResult
from pipeline.schema import load_schema

COUNTS = ["rows_read", "accepted", "updated", "rejected", "duplicates", "skipped"]
# Nine digits or more (dashes or spaces between them allowed) are an ID or a phone number.
LONG_NUMBER = re.compile(r"\d(?:[ -]?\d){8,}")


def redact(text: str) -> str:
    """Text fit for a terminal or a log others read: IDs and phones keep only their first and last two digits."""
    def mask(match: re.Match) -> str:
        run = match.group()
        digits = [index for index, character in enumerate(run) if character.isdigit()]
        hidden = set(digits[2:-2])
        return "".join("x" if index in hidden else character for index, character in enumerate(run))
    return LONG_NUMBER.sub(mask, text)


def display_width(text: str) -> int:
    """Columns a string takes on a terminal: Thai vowel and tone marks take none."""
    return sum(0 if unicodedata.category(c) in ("Mn", "Me", "Cf") else 1 for c in text)


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
    """The per-district table and where the outputs are; a district whose figures are incomplete is marked,
    with the legend and its incomplete figures below the table."""
    schema = load_schema()
    report = result.report
    mark = schema.label("incomplete_mark")
    headers = ["อำเภอ", "สถานะ", "ไฟล์", *(schema.label(c) for c in COUNTS)]
    rows = []
    for code, district in report["districts"].items():
        block = district["submission"]
        name = f"{code} {district['name']}" + (f" {mark}" if incomplete_list(district) else "")
        rows.append([name, schema.wording["submission_status"][block["status"]],
                     str(block["files"]), *(str(block.get(c, 0)) for c in COUNTS)])
    totals = report["totals"]["submission"]
    rows.append([schema.label("province_total"), "/".join(str(totals.get(s, 0)) for s in STATUSES),
                 str(totals["files"]), *(str(totals.get(c, 0)) for c in COUNTS)])
    incomplete = incomplete_lines(report, mark)
    widths = [max(display_width(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    line = lambda r: "  ".join(_pad(v, w, right=i >= 2) for i, (v, w) in enumerate(zip(r, widths)))  # noqa: E731
    errors = int((result.issues["severity"] == "error").sum())
    warnings = int((result.issues["severity"] == "warning").sum())
    return [
        f"รายงานสัปดาห์ {report['week']} (ปิดรับ {report['cutoff']}) จังหวัด{report['province']}",
        line(headers), *(line(r) for r in rows),
        *([schema.label("incomplete_note"), *incomplete] if incomplete else []),
        f"ปัญหา: ข้อผิดพลาด {errors} รายการ · คำเตือน {warnings} รายการ",
        f"ผลลัพธ์: {week_dir}",
    ]


def print_summary(result: WeekResult, week_dir: Path, stream=None) -> None:
    """Print the summary table."""
    print("\n".join(summary_lines(result, week_dir)), file=stream or sys.stdout)
