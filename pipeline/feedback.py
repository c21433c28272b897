"""Feedback workbooks: per submitted file, a summary and a copy of the district's own sheets, problems marked in Thai."""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import unicodedata
import warnings
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath

import openpyxl
import pandas as pd
import yaml
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink

from pipeline import inbox, readers
from pipeline.config import Config
from pipeline.outputs import atomic_path
from pipeline.report import WeekResult
from pipeline.schema import PACKAGE_DIR, Schema
from pipeline.thaidates import thai_datetime
from pipeline.workbook_style import HEADER_FILL, TOTAL_FILL

FILLS = {"error": "FF9C9C", "warning": "FFD966"}   # red and amber under which black text stays readable
SUFFIX = ".feedback.xlsx"
MAX_NAME_BYTES = 120
MAX_COPY_CELLS = 300_000   # openpyxl copies ~5k cells a second, all in memory (config limits.feedback_max_cells)
UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
UNSAFE_TITLE = re.compile(r"[\x00-\x1f\x7f\[\]:*?/\\]")
WIDTHS = [26, 11, 16, 11, 11, 22, 72]   # summary columns A..G: counts use A-F, problem rows their reason in G
HINTED = {"required_missing", "recommended_missing", "date_unreadable", "date_invalid", "phone_invalid",
          "phone_not_mobile", "id_check_digit", "id_length", "id_invalid_prefix", "id_scientific_notation",
          "id_invalid", "number_invalid", "number_not_whole", "district_unknown", "subdistrict_unknown"}
COUNTS = ["rows_read", "accepted", "rejected", "duplicates", "skipped"]


@cache
def feedback_wording() -> dict:
    """The feedback workbook's Thai wording (wording_feedback.yaml)."""
    return yaml.safe_load((PACKAGE_DIR / "wording_feedback.yaml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Mark:
    """One cell of a copied sheet to fill and annotate."""

    sheet: str
    row: int
    column: int
    severity: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Line:
    """One row of the summary sheet: cells, look, the target of its column-B link, merged column ranges.

    A cell followed by an empty one is not wrapped: it runs on over its empty neighbours. Body rows rely on that
    instead of merging, because openpyxl takes quadratic time to merge thousands of ranges.
    """

    cells: tuple = ()
    style: str = "body"
    link: str | None = None
    spans: tuple[tuple[int, int], ...] = ()


def clean(value) -> str:
    """Text openpyxl accepts: control characters removed, NaN and NA empty."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def safe_name(text: str, tail: str = "") -> str:
    """A file or folder name without separators or control characters, fitting MAX_NAME_BYTES with SUFFIX."""
    name = UNSAFE_NAME.sub("_", text).strip(" .") or "file"
    while len((name + tail + SUFFIX).encode()) > MAX_NAME_BYTES:
        name = name[:-1]
    return name.rstrip(" .") + tail


def feedback_names(folders: dict[str, str]) -> dict[str, str]:
    """Feedback file name of each source file (given its output folder): its stem; where stems clash, its path."""
    def unique(names: dict[str, str]) -> Counter:
        return Counter((folders[source], name.casefold()) for source, name in names.items())

    stems = {source: safe_name(PurePosixPath(source).stem) for source in folders}
    clashes = unique(stems)
    names = {source: stem if clashes[(folders[source], stem.casefold())] == 1
             else safe_name(source.split("/", 1)[-1].replace("/", " - ")) for source, stem in stems.items()}
    clashes = unique(names)   # still the same (say, two inbox folders of one district): add a hash of the path
    return {source: (name if clashes[(folders[source], name.casefold())] == 1 else safe_name(
        source.replace("/", " - "), f" {hashlib.sha1(source.encode()).hexdigest()[:8]}")) + SUFFIX
        for source, name in names.items()}


def format_hint(schema: Schema, dataset: str, field: str, districts: list[str]) -> str:
    """The accepted values or format of a form field, in Thai ('' when there is nothing useful to say)."""
    if dataset not in schema.datasets or field not in schema.datasets[dataset].keys:
        return ""
    labels, formats = feedback_wording()["labels"], feedback_wording()["formats"]
    form_field = schema.datasets[dataset].field(field)
    if form_field.choices or form_field.type == "district":
        values = schema.choice_values(form_field.choices) if form_field.choices else districts
        return labels["accepted_values"].format(values=" · ".join(values))
    hint = formats.get(form_field.type, "")
    if form_field.type == "whole" and None not in (form_field.minimum, form_field.maximum):
        hint = formats["whole_range"].format(minimum=form_field.minimum, maximum=form_field.maximum)
    return labels["accepted_format"].format(hint=hint) if hint else ""


def cell_of(issue, first_columns: dict[str, int]) -> tuple[int, int] | None:
    """(row, column) of an issue; a problem without a column sits in its row's first cell; None for a whole file."""
    if pd.isna(issue.excel_row) or not clean(issue.sheet):
        return None
    letter = clean(issue.column_letter)
    return int(issue.excel_row), column_index_from_string(letter) if letter else first_columns.get(issue.sheet, 1)


def plan_marks(issues: pd.DataFrame, first_columns: dict[str, int], schema: Schema,
               districts: list[str]) -> list[Mark]:
    """Every cell to mark: its worst severity, each Thai reason once, then the accepted values or format."""
    cells: dict[tuple, list] = {}
    for issue in issues.itertuples(index=False):
        if place := cell_of(issue, first_columns):
            cells.setdefault((issue.sheet, *place), []).append(issue)
    marks = []
    for (sheet, row, column), found in cells.items():
        reasons = [f"{schema.wording['severity'][i.severity]}: {clean(i.message)}" for i in found]
        hints = [format_hint(schema, clean(i.dataset), clean(i.field), districts) for i in found if i.code in HINTED]
        severity = "error" if any(i.severity == "error" for i in found) else "warning"
        marks.append(Mark(sheet, row, column, severity, tuple(dict.fromkeys(reasons + [h for h in hints if h]))))
    return marks


def kind_of(code: str, schema: Schema) -> str:
    """The short Thai name of a kind of problem (a new code without one: its message, placeholders left out)."""
    template = schema.wording["problems"].get(code, {}).get("message", code)
    return feedback_wording()["kinds"].get(code) or re.sub(r"\s*[“(]?\{\w+\}[”)]?", "", template)[:60].strip()


def location(title: str, row: int, column: int) -> str:
    """An internal link target: 'sheet'!C7."""
    return "'" + title.replace("'", "''") + f"'!{get_column_letter(column)}{row}"


def summary_lines(version: pd.DataFrame, issues: pd.DataFrame, duplicates: pd.DataFrame, titles: dict,
                  first_columns: dict[str, int], config: Config, schema: Schema, note: str) -> list[Line]:
    """The summary sheet row by row: which file and when, rows per sheet, problems by kind, repeated rows."""
    labels, head, wide = feedback_wording()["labels"], version.iloc[0], ((2, len(WIDTHS)),)
    sent = thai_datetime(head.submitted_at.tz_convert(config.timezone).to_pydatetime(), config.date_digits)
    district = f"{head.district_folder} {config.districts.get(head.district_folder, '')}"
    lines = [Line((labels["title"],), "title"), *(Line(pair, "info", spans=wide) for pair in [
        (labels["file"], head.source_file), (labels["district"], district), (labels["submitted"], sent)])]
    if isinstance(head.problem, str) and head.problem:
        reasons = "\n".join(dict.fromkeys(clean(m) for m in issues["message"]))
        return lines + [Line((labels["result"], labels["unreadable"]), "error", spans=wide),
                        Line((labels["what_to_do"], reasons), "error", spans=wide)]
    errors, warnings = (int(issues["severity"].eq(s).sum()) for s in ("error", "warning"))
    verdict = labels["found"].format(errors=errors, warnings=warnings) if len(issues) else labels["clean"]
    lines += [Line((labels["result"], verdict), "error" if errors else "warning" if warnings else "info", spans=wide),
              Line(("", note or labels["how_to"]), "info", spans=wide), Line(),
              Line((labels["counts_heading"],), "heading"),
              Line((labels["sheet"], *(schema.label(c) for c in COUNTS)), "header")]
    for sheet in version.itertuples(index=False):
        title = schema.datasets[sheet.dataset].title if sheet.dataset in schema.datasets else sheet.sheet
        name = f"{sheet.sheet} ({title})" if title != sheet.sheet else sheet.sheet or "-"
        lines.append(Line((name, *(int(getattr(sheet, c)) for c in COUNTS))))
    lines += [Line((labels["total"], *(int(version[c].sum()) for c in COUNTS)), "total"), Line()]
    return lines + _problem_lines(issues, titles, first_columns, schema) + \
        _duplicate_lines(duplicates, titles, first_columns)


def _problem_lines(issues: pd.DataFrame, titles: dict, first_columns: dict, schema: Schema) -> list[Line]:
    labels = feedback_wording()["labels"]
    if issues.empty:
        return []
    lines = [Line((labels["problems_heading"],), "heading"), Line(
        (labels["sheet"], labels["cell"], labels["column"], labels["value"], "", "", labels["message"]), "header",
        spans=((4, 6),))]
    ordered = issues.assign(later=issues["severity"].ne("error"), order=range(len(issues)))
    for code, group in ordered.sort_values(["later", "order"]).groupby("code", sort=False):
        severity = group["severity"].iloc[0]
        lines.append(Line((schema.wording["severity"][severity], kind_of(code, schema), "", "", "", "",
                           labels["places"].format(count=len(group))), severity, spans=((2, 6),)))
        for issue in group.itertuples(index=False):
            place = cell_of(issue, first_columns)
            link = location(titles[issue.sheet], *place) if place and issue.sheet in titles else None
            address = f"{get_column_letter(place[1])}{place[0]}" if place else "-"
            lines.append(Line((clean(issue.sheet) or "-", address, clean(issue.column), clean(issue.value), "", "",
                               clean(issue.message)), "body", link))
    return lines + [Line()]


def _duplicate_lines(duplicates: pd.DataFrame, titles: dict, first_columns: dict) -> list[Line]:
    labels = feedback_wording()["labels"]
    if duplicates.empty:
        return []
    lines = [Line((labels["duplicates_heading"],), "heading"),
             Line((labels["sheet"], labels["cell"], labels["repeats_file"], "", "", "", ""), "header", None, ((3, 6),))]
    for row in duplicates.sort_values(["sheet_order", "excel_row"]).itertuples(index=False):
        place = (int(row.excel_row), first_columns.get(row.sheet, 1))
        link = location(titles[row.sheet], *place) if row.sheet in titles else None
        where = labels["repeats_place"].format(sheet=row.first_sheet, row=int(row.first_excel_row))
        lines.append(Line((row.sheet, f"{get_column_letter(place[1])}{place[0]}", row.first_source_file, "", "", "",
                           where), "body", link))
    return lines


def write_feedback(result: WeekResult, inputs_dir: Path, week_dir: Path, config: Config,
                   schema: Schema) -> list[Path]:
    """Write a feedback workbook for each file submitted this week (its newest version); return their paths."""
    accounting = result.accounting.sort_values("submitted_at", kind="stable")
    newest = accounting.drop_duplicates("source_file", keep="last")
    folders = {row.source_file: safe_name(f"{row.district_folder} {config.districts.get(row.district_folder, '')}")
               for row in newest.itertuples(index=False)}
    # The inbox as it is now: a copy is made only of the very version that was checked (same bytes, same time).
    files, _ = inbox.discover(inputs_dir, config, dt.datetime.now(tz=config.timezone))
    on_disk, present = {f.version_id: f.path for f in files}, {f.source_file for f in files}
    names, written = feedback_names(folders), []
    for head in newest.itertuples(index=False):
        source = on_disk.get(head.version_id)
        refusal = "unreadable" if isinstance(head.problem, str) and head.problem else None if source else \
            "changed" if head.source_file in present else "missing"
        target = week_dir / "feedback" / folders[head.source_file] / names[head.source_file]
        with atomic_path(target) as temporary:
            _write_one(temporary, accounting[accounting["version_id"] == head.version_id], result, source, refusal,
                       config, schema)
        written.append(target)
    for stale in set((week_dir / "feedback").rglob(f"*{SUFFIX}")) - set(written):
        stale.unlink()   # a rerun of the week leaves exactly this run's workbooks
    return written


def _write_one(path: Path, version: pd.DataFrame, result: WeekResult, source: Path | None, refusal: str | None,
               config: Config, schema: Schema) -> None:
    head = version.iloc[0]
    mine = result.issues["source_file"] == head.source_file
    if "version_id" in result.issues:   # an earlier version of the file this week had its own problems
        mine &= result.issues["version_id"].isna() | result.issues["version_id"].eq(head.version_id)
    issues, duplicates = result.issues[mine], result.duplicates[result.duplicates["version_id"] == head.version_id]
    if refusal is None:
        try:
            book, titles, first_columns = _copy_of(source, config)
            _apply_marks(book, plan_marks(issues, first_columns, schema, list(config.districts.values())), titles)
            _save(path, book, summary_lines(version, issues, duplicates, titles, first_columns, config, schema, ""),
                  config)
            return
        except Exception as error:   # a file we cannot copy still gets its summary
            refusal = "too_large" if isinstance(error, MemoryError) or str(error) == "too_large" else "failed"
    book = openpyxl.Workbook()
    book.remove(book.active)
    note = feedback_wording()["no_copy"].get(refusal, "")
    _save(path, book, summary_lines(version, issues, duplicates, {}, {}, config, schema, note), config)


def _copy_of(source: Path, config: Config) -> tuple:
    """The workbook as sent (xlsx/xlsm: styles, merges kept) or rebuilt from raw cells; sheet titles; first columns."""
    outcome = readers.read_files([source], workers=1)[0]   # in a child process, as for every untrusted file
    cells = sum(len(row) for sheet in outcome.sheets for row in sheet.rows)
    if outcome.problem or cells > int(config.limits.get("feedback_max_cells", MAX_COPY_CELLS)):
        raise ValueError(outcome.problem or "too_large")
    first_columns = {sheet.name: sheet.first_column + 1 for sheet in outcome.sheets}
    if outcome.kind in ("xlsx", "xlsm"):   # macros are not kept: the copy is a plain .xlsx
        with warnings.catch_warnings():   # "extension not supported" notes about their file are not for the officer
            warnings.simplefilter("ignore")
            # Values, never live formulas (=WEBSERVICE(…), DDE), and no links to other workbooks or the web.
            book = openpyxl.load_workbook(source, data_only=True, keep_links=False)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.hyperlink is not None:
                        cell.hyperlink = None
        return book, {title: title for title in book.sheetnames}, first_columns
    book, titles = openpyxl.Workbook(), {}
    book.remove(book.active)
    for raw in outcome.sheets:
        titles[raw.name] = _unique_title(raw.name, book.sheetnames)
        _rebuild_sheet(book.create_sheet(titles[raw.name]), raw, config)
    return book, titles, first_columns


def _unique_title(name: str, taken: list[str]) -> str:
    base, number = UNSAFE_TITLE.sub("_", name).strip("'")[:31] or "Sheet", 1
    title = base
    while title.casefold() in {t.casefold() for t in taken}:
        number += 1
        title = f"{base[:26]} ({number})"
    return title


def _rebuild_sheet(sheet, raw: readers.RawSheet, config: Config) -> None:
    """Raw cells at their original rows and column letters; district text always stays text."""
    font, widths = Font(name=config.font, size=config.font_size), {}
    for row_offset, values in enumerate(raw.rows):
        for column_offset, value in enumerate(values):
            if value is None or value == "":
                continue
            cell = sheet.cell(raw.first_row + row_offset, raw.first_column + column_offset + 1)
            keep = isinstance(value, (int, float)) or hasattr(value, "year")   # numbers and dates stay typed
            cell.value, cell.font = value if keep else clean(value), font
            if not keep:
                cell.data_type = "s"   # '=…' from a district must not become a formula in our file
            wanted = _text_width(clean(value)) * config.font_size / 11 + 2   # width unit: an 11-pt character
            widths[cell.column] = max(widths.get(cell.column, 8), min(wanted, 50))
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.sheet_format.defaultRowHeight, sheet.sheet_format.customHeight = config.font_size * 1.6, True
    sheet.sheet_state = "hidden" if raw.hidden else "visible"
    _fit_page(sheet)


def _apply_marks(book, marks: list[Mark], titles: dict[str, str]) -> None:
    author = feedback_wording()["labels"]["author"]
    for mark in sorted((m for m in marks if m.sheet in titles), key=lambda m: m.severity == "error"):
        sheet = book[titles[mark.sheet]]
        cell = sheet.cell(mark.row, mark.column)
        if isinstance(cell, MergedCell):   # a merged range shows its top-left cell's fill and comment only
            merged = next(r for r in sheet.merged_cells.ranges if cell.coordinate in r)
            cell = sheet.cell(merged.min_row, merged.min_col)
        cell.fill = PatternFill("solid", fgColor=FILLS[mark.severity])   # errors come last: red wins
        text = "\n".join(mark.lines) if cell.comment is None else f"{cell.comment.text}\n—\n" + "\n".join(mark.lines)
        lines = sum(math.ceil(max(_text_width(part), 1) / 40) for part in text.split("\n"))
        cell.comment = Comment(text, author, height=min(22 * lines + 20, 600), width=380)


def _text_width(text: str) -> int:
    """Characters that take width: Thai vowels above and below and tone marks do not."""
    return sum(1 for ch in text if unicodedata.category(ch) != "Mn")


def _fit_page(sheet) -> None:
    sheet.page_setup.orientation, sheet.page_setup.paperSize = "landscape", 9   # A4, one page wide
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0


def _save(path: Path, book, lines: list[Line], config: Config) -> None:
    """Put the summary first (report font, sized columns, rows tall enough for wrapped Thai) and save."""
    sheet = book.create_sheet(_unique_title(feedback_wording()["labels"]["summary_sheet"], book.sheetnames), 0)
    size = config.font_size
    fonts = {style: Font(name=config.font, size=size + grow, bold=True) for style, grow in
             [("title", 4), ("heading", 2), ("header", 0), ("total", 0), ("error", 0), ("warning", 0)]}
    body, link_font = Font(name=config.font, size=size), Font(name=config.font, size=size, color="0563C1",
                                                              underline="single")
    alignments = {(wrap, centred): Alignment(wrap_text=wrap, vertical="top", horizontal="center" if centred else None)
                  for wrap in (True, False) for centred in (True, False)}
    fills = {"header": HEADER_FILL[1:], "total": TOTAL_FILL[1:], **FILLS}
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for row, line in enumerate(lines, start=1):
        for column, value in enumerate(line.cells, start=1):
            cell = sheet.cell(row, column, value if isinstance(value, int) else clean(value))
            cell.data_type = "n" if isinstance(value, int) else "s"   # file names and values come from districts
            cell.font = fonts.get(line.style, body)
            cell.alignment = alignments[(_wraps(line, column), isinstance(value, int) or line.style == "header")]
            if line.style in fills:
                cell.fill = PatternFill("solid", fgColor=fills[line.style])
        if line.link:
            sheet.cell(row, 2).hyperlink = Hyperlink(ref=f"B{row}", location=line.link)
            sheet.cell(row, 2).font = link_font
        for first, last in line.spans:
            sheet.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
        sheet.row_dimensions[row].height = _row_height(line, size)
    sheet.freeze_panes = "A2"
    _fit_page(sheet)
    for other in book.worksheets:
        other.sheet_view.tabSelected = other is sheet   # one selected tab, or Excel opens the sheets grouped
    book.active = 0
    book.calculation.fullCalcOnLoad = True   # openpyxl drops cached formula results: the viewer recomputes them
    book.save(path)


def _wraps(line: Line, column: int) -> bool:
    return line.style not in ("title", "heading") and not (column < len(line.cells) and line.cells[column] == "")


def _row_height(line: Line, size: int) -> float:
    """Points for the most-wrapped cell, 1.65 × the font size a line (room for Thai marks above and below)."""
    widths = list(WIDTHS)
    for first, last in line.spans:
        widths[first - 1] = sum(WIDTHS[first - 1:last])
    per_unit = 11 / size * 0.95   # characters a width unit holds at this size, a little pessimistic
    count = max([1] + [sum(math.ceil(max(_text_width(part), 1) / (widths[i] * per_unit))
                           for part in clean(value).split("\n"))
                       for i, value in enumerate(line.cells) if _wraps(line, i + 1)])
    return count * size * 1.65 + (size if line.style == "title" else 0)
