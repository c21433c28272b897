"""The run's last words on the terminal: a per-district table, aligned for Thai text; and the one filter every
name or cell value passes before it reaches a terminal."""
from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

from pipeline.history import STATUSES, figure_label, incomplete_list, wording
from pipeline.report import WeekResult
from pipeline.schema import load_schema

COUNTS = ["rows_read", "accepted", "updated", "rejected", "duplicates", "skipped"]
# Nine digits or more (dashes or spaces between them allowed) are an ID or a phone number.
LONG_NUMBER = re.compile(r"\d(?:[ -]?\d){8,}")


# What a terminal would obey instead of show: C0 and C1 controls (ESC, CR, LF, BEL, DEL...), line and
# paragraph separators, bidi embeddings, overrides and isolates (a file name could reorder the line around it),
# and lone surrogates (undecodable bytes of a file name: printing them would raise). Shown as visible escapes.
_HIDDEN = [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A),
           *range(0xD800, 0xE000)]
_VISIBLE = {code: (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}") for code in _HIDDEN}


def visible(text) -> str:
    """Text safe to print on a terminal: every control, bidi or undecodable character shown as an escape (\\x1b,
    \\x0a, \\u202e) instead of acted on; printable text, Thai included, unchanged. Applying it twice changes nothing."""
    return str(text).translate(_VISIBLE)


def say(lines, stream=None) -> None:
    """Print lines to the terminal (stdout by default), each through `visible`, so a line break inside a name
    cannot forge a line of its own."""
    print("\n".join(visible(line) for line in lines), file=stream or sys.stdout, flush=True)


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
        words["issues_workbook"].format(path=week_dir / f"issues_{week}.xlsx"),
        words["feedback_folder"].format(path=week_dir / "feedback"),
    ]]


def print_summary(result: WeekResult, week_dir: Path, stream=None) -> None:
    """Print the summary table."""
    say(summary_lines(result, week_dir), stream)
