"""Rendering a feedback workbook with xlsxwriter: the summary sheet, then the district's sheets rebuilt from raw cells.

The copy keeps what the district typed where they typed it (sheet names and order, hidden sheets, merged
ranges, values with their types) and marks the problem cells; their own fonts and colours are not kept.
Runs in a limited child process next to the parser (see feedback.write_feedback), so it never sees a
file the reader did not accept and uses both cores.
"""
from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path

from pipeline.outputs.style import HEADER_FILL, TOTAL_FILL, fmt, new_workbook
from pipeline.outputs.xlsx.sheet_xml import SheetBody, fitted, grapheme_boundary, sheet_body
from pipeline.core.outcome import RawSheet

FILLS = {"error": "FF9C9C", "warning": "FFD966"}   # red and amber under which black text stays readable
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}   # a cell shows its worst; info (no fill) only gets a note
LINE_FILLS = {"header": HEADER_FILL, "total": TOTAL_FILL, **{k: "#" + v for k, v in FILLS.items()}}   # summary lines
WIDTHS = [26, 11, 16, 11, 11, 22, 72]   # summary columns A..G: counts use A-F, problem rows their reason in G
GROW = {"title": 4, "heading": 2, "header": 0, "total": 0, "error": 0, "warning": 0}   # bold, points larger
LINK_COLOUR = "#0563C1"
WIDTH_SAMPLE_ROWS = 100   # column widths are judged from the first rows: a width is a hint, not a measure
ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
SURROGATES = re.compile("[\ud800-\udfff]")   # no UTF-8 writer accepts a lone one
# Thai vowels above and below and tone marks take no width of their own.
ZERO_WIDTH = dict.fromkeys([0x0E31, *range(0x0E34, 0x0E3B), *range(0x0E47, 0x0E4F)])
RESERVED_TITLES = {"history"}   # Excel keeps this sheet name for itself
MAX_ROW_POINTS = 409   # Excel's tallest row


def clean(value) -> str:
    """Text a workbook accepts: control characters removed, a lone surrogate shown as �, cut to what a cell holds;
    None and NaN empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = value if isinstance(value, str) else str(value)
    if ILLEGAL_CHARACTERS.search(text):
        text = ILLEGAL_CHARACTERS.sub("", text)
    if SURROGATES.search(text):
        text = SURROGATES.sub("\ufffd", text)
    return fitted(text)


def text_width(text: str) -> int:
    """Characters that take width on screen (Thai marks above and below do not)."""
    return len(text.translate(ZERO_WIDTH))


def unique_titles(names: Iterable[str], taken: Iterable[str]) -> dict[str, str]:
    """A valid, distinct sheet title for each name, none equal (ignoring case) to those already taken."""
    used = {title.casefold() for title in taken} | RESERVED_TITLES
    titles = {}
    for name in names:
        base = re.sub("[\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff\\[\\]:*?/\\\\]", "_", name).strip("'")
        base = _cut_units(base, 31).strip("'") or "Sheet"
        title, number = base, 1
        while title.casefold() in used:
            number += 1
            title = f"{_cut_units(base, 26)} ({number})"
        used.add(title.casefold())
        titles[name] = title
    return titles


def _cut_units(text: str, units: int) -> str:
    """The longest start of `text` within `units` UTF-16 units (as Excel counts a sheet name), cut between letters."""
    count = 0
    for index, character in enumerate(text):
        count += 2 if ord(character) > 0xFFFF else 1
        if count > units:
            return text[:grapheme_boundary(text, index)]
    return text


def write_book(path: Path, summary_title: str, lines: list, sheets: list[RawSheet], titles: dict[str, str],
               marks: list, author: str, config) -> None:
    """Write the summary sheet (first, selected) and, when given, the marked copies of the district's sheets."""
    book = new_workbook(path, config)
    summary = book.add_worksheet(summary_title)
    for raw in sheets:
        sheet = book.add_worksheet(titles[raw.name])
        _copy_sheet(book, sheet, raw, [mark for mark in marks if mark.sheet == raw.name], author, config)
    _write_summary(book, summary, lines, config)
    summary.activate()
    book.close()


# ---------------------------------------------------------------- the district's sheets

def _value_formats(book, config) -> dict:
    """The number format of each kind of date and time value (keyed as _number_format names them)."""
    return {number_format: fmt(book, config, num_format=number_format)
            for number_format in ("dd/mm/yyyy", "dd/mm/yyyy hh:mm", "hh:mm", "[h]:mm")}


def _write_value(sheet, row: int, column: int, value, formats: dict, cell_format=None) -> None:
    """One raw cell, typed as it came: text stays text (never a formula), numbers and dates stay typed."""
    kind = type(value)
    if kind is str:
        sheet.write_string(row, column, clean(value), cell_format)
    elif kind is int or kind is float:
        sheet.write_number(row, column, value, cell_format)
    elif kind is bool:
        sheet.write_boolean(row, column, value, cell_format)
    elif isinstance(value, dt.date) and value.year < 1900:   # before Excel's calendar: shown as written
        sheet.write_string(row, column, f"{value.day:02d}/{value.month:02d}/{value.year:04d}", cell_format)
    elif isinstance(value, (dt.date, dt.time)):
        plain = value.replace(tzinfo=None) if isinstance(value, (dt.datetime, dt.time)) else value
        sheet.write_datetime(row, column, plain, cell_format or formats[_number_format(value)])
    elif isinstance(value, dt.timedelta):
        sheet.write_number(row, column, value.total_seconds() / 86400, cell_format or formats[_number_format(value)])
    elif value is not None:
        sheet.write_string(row, column, clean(value), cell_format)


def _copy_sheet(book, sheet, raw: RawSheet, marks: list, author: str, config) -> None:
    formats, top, left = _value_formats(book, config), raw.first_row - 1, raw.first_column
    for row, values in enumerate(raw.rows, start=top):
        for column, value in enumerate(values, start=left):
            if value is not None and value != "":
                _write_value(sheet, row, column, value, formats)
    merged = merged_areas(raw)
    shown = _shown_marks(marks, merged)
    fills: dict = {}
    for area in dict.fromkeys(merged.values()):   # each range once, filled when its top-left cell is marked
        severity = shown.get(area[:2], (None,))[0]
        painted = _fill(book, config, fills, severity, _value_at(raw, *area[:2])) if severity in FILLS else None
        sheet.merge_range(*area, "", painted)
        _write_value(sheet, *area[:2], _value_at(raw, *area[:2]), formats)
    for (row, column), (severity, lines) in shown.items():
        value = _value_at(raw, row, column)
        cell_format = _fill(book, config, fills, severity, value) if severity in FILLS else None
        if value is None or value == "":
            sheet.write_blank(row, column, None, cell_format)
        else:
            _write_value(sheet, row, column, value, formats, cell_format)
        _write_comment(sheet, row, column, lines, author)
    for column, width in _column_widths(raw, config.font_size).items():
        sheet.set_column(column, column, width)
    sheet.set_default_row(config.font_size * 1.6)
    if raw.hidden:
        sheet.hide()
    _fit_page(sheet)


def _write_comment(sheet, row: int, column: int, lines: list[str], author: str) -> None:
    text = SURROGATES.sub("\ufffd", fitted("\n".join(lines)))   # xlsxwriter escapes the rest, as in a cell
    sheet.write_comment(row, column, text, {"author": author, "width": 380, "height": note_height(text)})


def note_height(text: str) -> int:
    """Pixels a cell's note needs to show its text (at 40 characters a line, at most 600)."""
    return min(22 * _lines_needed(text, 40) + 20, 600)


def marked_cells(raw: RawSheet, marks: list) -> dict[tuple[int, int], tuple[str, list[str]]]:
    """The 0-based cell showing each of a sheet's marks (a merged range: its top-left cell) -> severity, reasons."""
    return _shown_marks(marks, merged_areas(raw))


def summary_book(summary_title: str, lines: list, config) -> tuple[bytes, SheetBody]:
    """A workbook holding the summary sheet's frame and formats, and the summary's cells as XML naming them.

    xlsx_marks grafts this book's summary sheet, with these cells, into the district's own package.
    """
    buffer = io.BytesIO()
    book = new_workbook(buffer, config)
    summary = book.add_worksheet(summary_title)
    rows = summary_rows(lines, config.font_size)
    looks = {look: fmt(book, config, **dict(look)) for _, cells in rows for _, _, look, _, _ in cells}
    for column, cell_format in enumerate(looks.values()):   # a cell each, so that xlsxwriter numbers the formats
        summary.write_blank(0, column, None, cell_format)
    _summary_frame(summary)
    summary.activate()
    book.close()
    return buffer.getvalue(), sheet_body(rows, lambda look: looks[look].xf_index)


def _value_at(raw: RawSheet, row: int, column: int):
    """The raw value at a 0-based cell of the sheet (None outside what was read)."""
    row_offset, column_offset = row - (raw.first_row - 1), column - raw.first_column
    if 0 <= row_offset < len(raw.rows) and 0 <= column_offset < len(raw.rows[row_offset]):
        return raw.rows[row_offset][column_offset]
    return None


def merged_areas(raw: RawSheet) -> dict[tuple[int, int], tuple[int, int, int, int]]:
    """Each cell of a range the district merged -> its range (single cells and overlaps left out)."""
    covered: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    for (first_row, first_column), (last_row, last_column) in raw.merged:
        cells = [(r, c) for r in range(first_row, last_row + 1) for c in range(first_column, last_column + 1)]
        if len(cells) > 1 and not any(cell in covered for cell in cells):   # Excel refuses overlapping ranges
            covered.update(dict.fromkeys(cells, (first_row, first_column, last_row, last_column)))
    return covered


def _shown_marks(marks: list, merged: dict) -> dict[tuple[int, int], tuple[str, list[str]]]:
    """The cell showing each mark (a merged range shows its top-left cell's) -> worst severity, every reason.

    feedback.merged_marks has already made the marks inside a merged range one: this only moves it to its place.
    """
    shown: dict[tuple[int, int], tuple[str, list[str]]] = {}
    for mark in marks:
        place = (mark.row - 1, mark.column - 1)
        place = merged[place][:2] if place in merged else place
        severity, lines = shown.get(place, (mark.severity, []))
        shown[place] = (max(severity, mark.severity, key=SEVERITY_RANK.__getitem__),
                        lines + (["—"] if lines else []) + list(mark.lines))
    return shown


def _fill(book, config, fills: dict, severity: str, value):
    """The red or amber format of a marked cell, with the number format its value needs."""
    number_format = _number_format(value)
    if (severity, number_format) not in fills:
        fills[(severity, number_format)] = fmt(book, config, pattern=1, bg_color="#" + FILLS[severity],
                                               **({"num_format": number_format} if number_format else {}))
    return fills[(severity, number_format)]


def _number_format(value) -> str | None:
    if isinstance(value, dt.datetime):
        return "dd/mm/yyyy" if value.time() == dt.time() else "dd/mm/yyyy hh:mm"
    if isinstance(value, dt.date):
        return "dd/mm/yyyy"
    if isinstance(value, dt.time):
        return "hh:mm"
    if isinstance(value, dt.timedelta):
        return "[h]:mm"
    return None


def _column_widths(raw: RawSheet, size: int) -> dict[int, float]:
    widths: dict[int, float] = {}
    for values in raw.rows[:WIDTH_SAMPLE_ROWS]:
        for offset, value in enumerate(values):
            if value is None or value == "":
                continue
            wanted = text_width(clean(value)) * size / 11 + 2   # width unit: an 11-pt character
            column = raw.first_column + offset
            widths[column] = max(widths.get(column, 8), min(wanted, 50))
    return widths


def _fit_page(sheet) -> None:
    sheet.set_landscape()
    sheet.set_paper(9)   # A4, one page wide
    sheet.fit_to_pages(1, 0)


# ---------------------------------------------------------------- the summary sheet

def summary_rows(lines: list, size: int) -> list[tuple[float, list[tuple]]]:
    """Each summary line as (height, cells); a cell is (column, value, look, link, last merged column or None).

    The look is the cell format's properties (a frozenset, for fmt). A value None is a formatted blank: the rest of
    a merged range, or an empty cell that still shows its line's fill. Unformatted empty cells are left out.
    """
    rows = []
    for line in lines:
        spans = {first - 1: last - 1 for first, last in line.spans}
        filled, cells, skip_to = line.style in LINE_FILLS, [], -1
        for column, value in enumerate(line.cells):
            if column <= skip_to:
                continue   # inside a merged range: written as its blank below
            linked = column == 1 and bool(line.link)
            look = _look(line.style, _wraps(line, column + 1), isinstance(value, int), linked, size)
            last = spans.get(column)
            if linked or value != "" or last is not None or filled:
                shown = value if isinstance(value, int) else clean(value) or None
                cells.append((column, shown, look, line.link if linked else None, last))
            if last is not None:
                cells += [(inside, None, look, None, None) for inside in range(column + 1, last + 1)]
                skip_to = last
        rows.append((_row_height(line, size), cells))
    return rows


@cache
def _look(style: str, wrapped: bool, number: bool, linked: bool, size: int) -> frozenset:
    """The format properties of a summary cell (decided per kind of cell, not per cell: a summary has thousands)."""
    properties = {"text_wrap": wrapped}
    if style in GROW:
        properties.update(bold=True, font_size=size + GROW[style])
    if number or style == "header":
        properties["align"] = "center"
    if style in LINE_FILLS:
        properties.update(pattern=1, bg_color=LINE_FILLS[style])
    if linked:
        properties.update(font_color=LINK_COLOUR, underline=1)
    return frozenset(properties.items())


def _write_summary(book, sheet, lines: list, config) -> None:
    """The summary in the report font: sized columns, rows tall enough for wrapped Thai, links to the cells."""
    for row, (height, cells) in enumerate(summary_rows(lines, config.font_size)):
        for column, value, look, link, last in cells:
            cell_format = fmt(book, config, **dict(look))
            if last is not None:
                sheet.merge_range(row, column, row, last, "", cell_format)
            if link:
                sheet.write_url(row, column, f"internal:{link}", cell_format, string=value)
            elif isinstance(value, int):
                sheet.write_number(row, column, value, cell_format)
            elif value is not None:
                sheet.write_string(row, column, value, cell_format)
            elif last is None:
                sheet.write_blank(row, column, None, cell_format)
        sheet.set_row(row, height)
    _summary_frame(sheet)


def _summary_frame(sheet) -> None:
    """The summary's column widths, frozen first row and page set-up."""
    for index, width in enumerate(WIDTHS):
        sheet.set_column(index, index, width)
    sheet.freeze_panes(1, 0)
    _fit_page(sheet)


def _wraps(line, column: int) -> bool:
    """A cell followed by an empty one runs on over it instead of wrapping (titles and headings never wrap)."""
    return line.style not in ("title", "heading") and not (column < len(line.cells) and line.cells[column] == "")


def _row_height(line, size: int) -> float:
    """Points for the most-wrapped cell, 1.65 × the font size a line (room for Thai marks above and below)."""
    widths = list(WIDTHS)
    for first, last in line.spans:
        widths[first - 1] = sum(WIDTHS[first - 1:last])
    per_unit = 11 / size * 0.95   # characters a width unit holds at this size, a little pessimistic
    count = max([1] + [_lines_needed(clean(value), widths[i] * per_unit)
                       for i, value in enumerate(line.cells) if _wraps(line, i + 1)])
    return min(count * size * 1.65 + (size if line.style == "title" else 0), MAX_ROW_POINTS)


@lru_cache(maxsize=8192)   # a summary repeats the same reasons over many rows
def _lines_needed(text: str, capacity: float) -> int:
    """Lines a wrapped text takes in a cell holding `capacity` characters a line."""
    if len(text) <= capacity and "\n" not in text:   # most cells: short, and never wider than their length
        return 1
    return sum(math.ceil(max(text_width(part), 1) / capacity) for part in text.split("\n"))
