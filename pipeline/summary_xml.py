"""The feedback summary's cells written straight as worksheet XML (the in-place copy's summary sheet).

A summary lists every problem of a file, thousands of rows for a large one; xlsxwriter spends ~10 µs a
cell on them. Here each cell is one formatted string. The look of every cell is decided once, by
feedback_book.summary_rows, for both this writer and xlsxwriter's (the rebuilt copy); xlsxwriter still
writes the sheet's frame (columns, frozen header, page set-up) and the formats, whose numbers
(`xf_index`) the cells name. Strings are written inline, so no shared-string table has to be merged.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from xlsxwriter.utility import xl_col_to_name

# Excel reads _xHHHH_ in a string as an escaped character: a literal one has its underscore escaped.
EXCEL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
SHEET_DATA = re.compile(rb"<sheetData\s*/>|<sheetData\b[^>]*>.*?</sheetData>", re.DOTALL)
DIMENSION = re.compile(rb'<dimension\b[^>]*/>')


@dataclass(frozen=True)
class SheetBody:
    """A worksheet's cells (<sheetData>), what follows them (<mergeCells>, <hyperlinks>) and the used range."""

    cells: bytes
    after: bytes
    dimension: str


def _text(value: str) -> str:
    if "_x" in value:
        value = EXCEL_ESCAPE.sub(r"_x005F\1", value)
    return escape(value, quote=False) if "&" in value or "<" in value or ">" in value else value


def _attribute(value: str) -> str:
    return escape(EXCEL_ESCAPE.sub(r"_x005F\1", value), quote=True)


def sheet_body(rows: list, xf_index) -> SheetBody:
    """The XML of summary rows: each (height, cells), a cell (column, value, look, link, last merged column).

    `xf_index(look)` is the workbook's format number of a look; a value None is a formatted blank cell.
    """
    parts, merges, links = ["<sheetData>"], [], []
    width = 1 + max((max(column, last or 0) for _, cells in rows for column, _, _, _, last in cells), default=0)
    letters = [xl_col_to_name(column) for column in range(width)]
    styles: dict = {}
    for number, (height, cells) in enumerate(rows, start=1):
        points = 0.75 * int(height * 4 / 3 + 0.5)   # whole pixels, as Excel keeps a row's height (and xlsxwriter)
        parts.append(f'<row r="{number}" ht="{points:g}" customHeight="1">')
        for column, value, look, link, last in cells:
            reference = f"{letters[column]}{number}"
            style = styles.get(look)
            if style is None:
                style = styles[look] = xf_index(look)
            if value is None or value == "":
                parts.append(f'<c r="{reference}" s="{style}"/>')
            elif isinstance(value, int):
                parts.append(f'<c r="{reference}" s="{style}"><v>{value}</v></c>')
            else:
                parts.append(f'<c r="{reference}" s="{style}" t="inlineStr"><is><t xml:space="preserve">'
                             f'{_text(value)}</t></is></c>')
            if last is not None:
                merges.append(f'<mergeCell ref="{reference}:{letters[last]}{number}"/>')
            if link:
                links.append(f'<hyperlink ref="{reference}" location="{_attribute(link)}" '
                             f'display="{_attribute(str(value))}"/>')
        parts.append("</row>")
    parts.append("</sheetData>")
    after = (f'<mergeCells count="{len(merges)}">{"".join(merges)}</mergeCells>' if merges else "") + \
        (f'<hyperlinks>{"".join(links)}</hyperlinks>' if links else "")
    return SheetBody("".join(parts).encode(), after.encode(), f"A1:{xl_col_to_name(width - 1)}{max(len(rows), 1)}")


def with_body(frame: bytes, body: SheetBody) -> bytes:
    """A worksheet written by xlsxwriter (no merged cells, no links) with its cells replaced by `body`."""
    found = SHEET_DATA.search(frame)
    if found is None or b"<mergeCells" in frame or b"<hyperlinks" in frame:
        raise ValueError("not a frame written for a summary")
    frame = frame[:found.start()] + body.cells + body.after + frame[found.end():]
    return DIMENSION.sub(f'<dimension ref="{body.dimension}"/>'.encode(), frame, count=1)
