"""Cell comments of a worksheet written straight as XML: the comments part and its VML shapes.

The in-place feedback copy (xlsx_marks) attaches a note to every problem cell, thousands in a large
file. This writes the same parts xlsxwriter's write_comment would (the same note size, font, colour
and place beside the cell), at a fraction of the cost: each shape is one formatted string.
"""
from __future__ import annotations

from xlsxwriter.utility import xl_rowcol_to_cell

from pipeline.sheet_xml import xml_text

WIDTH_PIXELS = 380
COLUMN_PIXELS, ROW_PIXELS = 64, 20   # a sheet's default column width and row height, which the note is placed by
ROWS, COLUMNS = 1_048_576, 16_384
# Excel's (and xlsxwriter's) placement of a note on the first and the last rows and columns: cell -> (start, offset).
ROW_EDGES = {0: (0, 2), ROWS - 3: (ROWS - 7, 16), ROWS - 2: (ROWS - 6, 16), ROWS - 1: (ROWS - 5, 14)}
COLUMN_EDGES = {COLUMNS - 3: (COLUMNS - 6, 49), COLUMNS - 2: (COLUMNS - 5, 49), COLUMNS - 1: (COLUMNS - 4, 49)}

COMMENTS_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<comments xmlns="http://schemas.openxml'
                 'formats.org/spreadsheetml/2006/main"><authors><author>{author}</author></authors><commentList>')
RUN_PROPERTIES = '<rPr><sz val="8"/><color indexed="81"/><rFont val="Tahoma"/><family val="2"/></rPr>'
VML_HEAD = ('<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
            'xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit"><o:idmap v:ext="edit" '
            'data="{data}"/></o:shapelayout><v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
            'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/><v:path gradientshapeok="t" '
            'o:connecttype="rect"/></v:shapetype>')
VML_SHAPE = ('<v:shape id="_x0000_s{shape}" type="#_x0000_t202" style="position:absolute;margin-left:{left:.15g}pt;'
             'margin-top:{top:.15g}pt;width:{width:.15g}pt;height:{height:.15g}pt;z-index:{z};visibility:hidden" '
             'fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow on="t" color="black" '
             'obscured="t"/><v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto"><div '
             'style="text-align:left"></div></v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/>'
             '<x:SizeWithCells/><x:Anchor>{anchor}</x:Anchor><x:AutoFill>False</x:AutoFill><x:Row>{row}</x:Row>'
             '<x:Column>{column}</x:Column></x:ClientData></v:shape>')


def comments_xml(notes: dict[tuple[int, int], str], author: str) -> bytes:
    """The comments part: each (0-based row, column) -> its note, by one author."""
    parts = [COMMENTS_HEAD.format(author=xml_text(author))]
    for (row, column), note in sorted(notes.items()):
        space = ' xml:space="preserve"' if note[:1].isspace() or note[-1:].isspace() else ""
        parts.append(f'<comment ref="{xl_rowcol_to_cell(row, column)}" authorId="0"><text><r>{RUN_PROPERTIES}'
                     f'<t{space}>{xml_text(note)}</t></r></text></comment>')
    parts.append("</commentList></comments>")
    return "".join(parts).encode()


def note_blocks(count: int) -> int:
    """How many 1,024-id blocks a drawing of `count` note shapes reserves (as xlsxwriter counts them)."""
    return count // 1024 + 1


def vml_xml(notes: dict[tuple[int, int], int], first_block: int) -> bytes:
    """The notes' shapes: each (0-based row, column) -> the note's height in pixels.

    Shape ids come from the drawing's own blocks of 1,024 (`first_block` on, note_blocks of them, listed in
    o:idmap): Excel repairs a workbook whose shape ids leave their drawing's blocks or repeat across sheets.
    """
    blocks = range(first_block, first_block + note_blocks(len(notes)))
    parts = [VML_HEAD.format(data=",".join(map(str, blocks)))]
    for index, ((row, column), height) in enumerate(sorted(notes.items()), start=1):
        (start_row, top), (start_column, left) = _note_row(row), _note_column(column)
        right, bottom = WIDTH_PIXELS + left, height + top
        anchor = (f"{start_column}, {left}, {start_row}, {top}, {start_column + right // COLUMN_PIXELS}, "
                  f"{right % COLUMN_PIXELS}, {start_row + bottom // ROW_PIXELS}, {bottom % ROW_PIXELS}")
        parts.append(VML_SHAPE.format(shape=1024 * first_block + index, z=index, anchor=anchor, row=row, column=column,
                                      left=(start_column * COLUMN_PIXELS + left) * 0.75,
                                      top=(start_row * ROW_PIXELS + top) * 0.75,
                                      width=WIDTH_PIXELS * 0.75, height=height * 0.75))
    parts.append("</xml>")
    return "".join(parts).encode()


def _note_row(row: int) -> tuple[int, int]:
    """The row a note's box starts in and its offset in pixels: just above its cell, pulled up at the sheet's end."""
    return ROW_EDGES.get(row, (row - 1, 10))


def _note_column(column: int) -> tuple[int, int]:
    """The column a note's box starts in and its offset: right of its cell, pulled left at the sheet's end."""
    return COLUMN_EDGES.get(column, (column + 1, 15))
