"""Worksheet cells written straight as XML, for sheets of thousands of rows: each cell one formatted string.

xlsxwriter spends ~10 µs a cell; here a cell costs well under one. xlsxwriter still writes each sheet's
frame (columns, frozen rows, filters, page set-up, the first rows) and the formats, whose numbers
(`xf_index`) the cells name; these cells are spliced into its sheet. Strings are written inline, so no
shared-string table has to be merged. Two uses: the feedback summary of an in-place copy (every problem
of a file; the look of each cell is decided once, by feedback_book.summary_rows, for this writer and
xlsxwriter's alike) and the rows of the issues workbook's table (workbook_style.table_sheet).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from html import escape

from xlsxwriter.utility import xl_col_to_name

# Excel reads _xHHHH_ in a string as an escaped character: a literal one has its underscore escaped.
EXCEL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
SHEET_DATA = re.compile(rb"<sheetData\s*/>|<sheetData\b[^>]*>.*?</sheetData>", re.DOTALL)
DIMENSION = re.compile(rb'<dimension\b[^>]*/>')
# What XML 1.0 forbids in text (control characters but tab and line feed; carriage return too, as xlsxwriter does;
# lone surrogates; the noncharacters U+FFFE and U+FFFF): written as Excel's _xHHHH_ escape.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]")
EXCEL_TEXT_LIMIT = 32_767   # characters (UTF-16 units) a cell or a note holds
ELLIPSIS = "\u2026"
# Characters that belong to the grapheme before them (Thai sara am, zero-width joiner) besides combining marks,
# and the Thai and Lao vowels written before the consonant they follow in speech (never left at the end of a cut).
JOINING = {"\u0e33", "\u0eb3", "\u200d", "\u200c"}
PREPOSED = {chr(code) for code in [*range(0x0E40, 0x0E45), *range(0x0EC0, 0x0EC5)]}


@dataclass(frozen=True)
class SheetBody:
    """A worksheet's cells (<sheetData>), what follows them (<mergeCells>, <hyperlinks>) and the used range."""

    cells: bytes
    after: bytes
    dimension: str


def points(height: float) -> float:
    """A row height in whole pixels, as Excel keeps it (and xlsxwriter writes it)."""
    return 0.75 * int(height * 4 / 3 + 0.5)


def excel_escaped(value: str) -> str:
    """Text with what XML 1.0 forbids written as Excel's _xHHHH_ escapes, and a literal _xHHHH_ kept literal
    (its underscore escaped), as xlsxwriter writes cell text; & < > are left to the XML writer."""
    if "_x" in value:
        value = EXCEL_ESCAPE.sub(r"_x005F\1", value)
    if FORBIDDEN.search(value):
        value = FORBIDDEN.sub(lambda match: f"_x{ord(match.group()):04X}_", value)
    return value


def xml_text(value: str) -> str:
    """Cell or note text as XML character data, with Excel's _xHHHH_ escapes (as xlsxwriter writes them)."""
    value = excel_escaped(value)
    return escape(value, quote=False) if "&" in value or "<" in value or ">" in value else value


def grapheme_boundary(text: str, index: int) -> int:
    """The nearest place at or before `index` where text may be cut: never between a base and its marks, nor
    after a Thai vowel written before its consonant (เ แ โ ใ ไ)."""
    while 0 < index < len(text) and (unicodedata.category(text[index]) in ("Mn", "Mc", "Me")
                                     or text[index] in JOINING or text[index - 1] in PREPOSED
                                     or text[index - 1] == "\u200d" or text[index - 1:index + 1] == "\r\n"):
        index -= 1
    return index


def _units(text: str) -> int:
    """Length as Excel counts it (UTF-16 units: a character past U+FFFF takes two)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def fitted(text: str, limit: int = EXCEL_TEXT_LIMIT) -> str:
    """Text that, escaped, fits in a cell or note: cut on a grapheme boundary with '…' when it is longer."""
    if len(text) * 7 <= limit or _units(excel_escaped(text)) <= limit:   # 7: the longest escape of one character
        return text
    low, high = 0, len(text)   # the longest prefix that fits with the ellipsis (its escaped length only grows)
    while low < high:
        middle = (low + high + 1) // 2
        if _units(excel_escaped(text[:middle])) + 1 <= limit:
            low = middle
        else:
            high = middle - 1
    return text[:grapheme_boundary(text, low)] + ELLIPSIS


def _attribute(value: str) -> str:
    return escape(excel_escaped(value), quote=True)


def sheet_body(rows: list, xf_index) -> SheetBody:
    """The XML of summary rows: each (height, cells), a cell (column, value, look, link, last merged column).

    `xf_index(look)` is the workbook's format number of a look; a value None is a formatted blank cell.
    """
    parts, merges, links = ["<sheetData>"], [], []
    width = 1 + max((max(column, last or 0) for _, cells in rows for column, _, _, _, last in cells), default=0)
    letters = [xl_col_to_name(column) for column in range(width)]
    styles: dict = {}
    for number, (height, cells) in enumerate(rows, start=1):
        parts.append(f'<row r="{number}" ht="{points(height):g}" customHeight="1">')
        for column, value, look, link, last in cells:
            reference = f"{letters[column]}{number}"
            style = styles.get(look)
            if style is None:
                style = styles[look] = xf_index(look)
            parts.append(f'<c r="{reference}" s="{style}"/>' if value is None or value == "" else
                         _cell(reference, style, value))
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


def _cell(reference: str, style: int, value: int | str) -> str:
    """One cell: a whole number as a number, anything else as inline text."""
    if isinstance(value, int):
        return f'<c r="{reference}" s="{style}"><v>{value}</v></c>'
    return f'<c r="{reference}" s="{style}" t="inlineStr"><is><t xml:space="preserve">{xml_text(fitted(value))}</t></is></c>'


def with_body(frame: bytes, body: SheetBody) -> bytes:
    """A worksheet written by xlsxwriter (no merged cells, no links) with its cells replaced by `body`."""
    found = SHEET_DATA.search(frame)
    if found is None or b"<mergeCells" in frame or b"<hyperlinks" in frame:
        raise ValueError("not a frame written for a summary")
    frame = frame[:found.start()] + body.cells + body.after + frame[found.end():]
    return DIMENSION.sub(f'<dimension ref="{body.dimension}"/>'.encode(), frame, count=1)


def table_rows(columns: list[list], first_row: int, styles: list[int], height: float) -> bytes:
    """Rows of a table from its columns (lists of equal length), the first as Excel row `first_row` (1-based).

    Every cell is written, with its column's format number (`styles`): a whole number as a number, any other
    value (text, empty text included) as text, as the table's first rows were.
    """
    letters = [xl_col_to_name(column) for column in range(len(columns))]
    row_start = f'" ht="{points(height):g}" customHeight="1">'
    parts = []
    for number, values in enumerate(zip(*columns), start=first_row):
        parts.append(f'<row r="{number}{row_start}')
        parts += [_cell(f"{letters[column]}{number}", styles[column], value) for column, value in enumerate(values)]
        parts.append("</row>")
    return "".join(parts).encode()


def with_rows(sheet: bytes, rows: bytes, dimension: str) -> bytes:
    """A worksheet xlsxwriter wrote with `rows` added after its own, and its used range set to `dimension`."""
    end = sheet.rfind(b"</sheetData>")
    if end < 0:
        raise ValueError("the worksheet has no rows to add to")
    sheet = sheet[:end] + rows + sheet[end:]
    return DIMENSION.sub(f'<dimension ref="{dimension}"/>'.encode(), sheet, count=1)
