"""Cell comments of a worksheet written straight as XML: the comments part and its VML shapes.

The in-place feedback copy (xlsx_marks) attaches a note to every problem cell, thousands in a large
file. This writes the same parts xlsxwriter's write_comment would (the same note size, font, colour
and place beside the cell), at a fraction of the cost: each shape is one formatted string. A sheet
that has notes of its own (the template's header notes) keeps them: ours are merged into its
comments part, and its drawing is written again with a shape for every note.
"""
from __future__ import annotations

import html
import re

from xlsxwriter.utility import xl_cell_to_rowcol, xl_rowcol_to_cell

from pipeline.outputs.xlsx.package import MAIN, Unpatchable, in_main_namespace, parse_xml, with_attributes
from pipeline.outputs.xlsx.sheet_xml import EXCEL_TEXT_LIMIT, fitted, xml_text

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
SEPARATOR = "\n—\n"   # between our reasons and the note already on a cell
AUTHORS = re.compile(rb"<authors\s*/>|<authors\b[^>]*>(.*?)</authors>", re.DOTALL)
AUTHOR = re.compile(rb"<author\s*/>|<author\b[^>]*>(.*?)</author>", re.DOTALL)
COMMENT_LIST = re.compile(rb"<commentList\s*/>|<commentList\b[^>]*>(.*?)</commentList>", re.DOTALL)
COMMENT = re.compile(rb"<comment\b([^>]*?)(?:/>|>(.*?)</comment>)", re.DOTALL)
TEXT = re.compile(rb"<text\b[^>]*>(.*?)</text>", re.DOTALL)
PLAIN_TEXT = re.compile(rb"^\s*(<t\b[^>]*/>|<t\b[^>]*>.*?</t>)", re.DOTALL)


def comments_xml(notes: dict[tuple[int, int], str], author: str) -> bytes:
    """The comments part: each (0-based row, column) -> its note, by one author."""
    parts = [COMMENTS_HEAD.format(author=xml_text(author))]
    parts += [_comment(xl_rowcol_to_cell(row, column), 0, _run(note)) for (row, column), note in sorted(notes.items())]
    parts.append("</commentList></comments>")
    return "".join(parts).encode()


def _run(note: str, limit: int = EXCEL_TEXT_LIMIT) -> str:
    """A note's text as one run in our font (cut to what a note holds)."""
    note = fitted(note, limit)
    space = ' xml:space="preserve"' if note[:1].isspace() or note[-1:].isspace() else ""
    return f"<r>{RUN_PROPERTIES}<t{space}>{xml_text(note)}</t></r>"


def _comment(reference: str, author: int, runs: str) -> str:
    return f'<comment ref="{reference}" authorId="{author}"><text>{runs}</text></comment>'


def note_texts(comments: bytes) -> dict[tuple[int, int], str]:
    """The notes a comments part holds: each (0-based row, column) -> its plain text (phonetic runs left out)."""
    in_main_namespace(comments, b"comments")
    texts = {}
    for comment in parse_xml(comments).iter(f"{{{MAIN}}}comment"):
        text = comment.find(f"{{{MAIN}}}text")
        pieces = [] if text is None else [*text.findall(f"{{{MAIN}}}t"), *text.findall(f"{{{MAIN}}}r/{{{MAIN}}}t")]
        texts[xl_cell_to_rowcol(comment.get("ref", "A1").split(":")[0])] = "".join(t.text or "" for t in pieces)
    return texts


def merged_comments_xml(existing: bytes, notes: dict[tuple[int, int], str], author: str) -> bytes:
    """A sheet's own comments part with our notes added by our author; a cell that has a note of its own gets
    ours first, then theirs, in one note. Everything else in the part is kept as written."""
    texts = note_texts(existing)
    authors, listed = AUTHORS.search(existing), COMMENT_LIST.search(existing)
    if authors is None or listed is None or authors.end() > listed.start():
        raise Unpatchable("a comments part without its authors or its list")
    names = [html.unescape(match.group(1).decode()) if match.group(1) else "" for match in
             AUTHOR.finditer(authors.group(1) or b"")]
    ours = names.index(author) if author in names else len(names)
    author_list = authors.group(0) if author in names else \
        b"<authors>" + (authors.group(1) or b"") + f"<author>{xml_text(author)}</author>".encode() + b"</authors>"
    comments: dict[tuple[int, int], bytes] = {}
    inside = listed.group(1) or b""
    found = list(COMMENT.finditer(inside))
    for match in found:
        reference = re.search(rb'\bref="([A-Z]+[0-9]+)"', match.group(1))
        if reference is None:
            raise Unpatchable("a comment without its cell")
        comments[xl_cell_to_rowcol(reference.group(1).decode())] = match.group(0)
    if len(found) != len(comments) or len(comments) != len(texts) or COMMENT.sub(b"", inside).strip():
        raise Unpatchable("the comment list holds more than one comment a cell")
    for place, note in notes.items():
        theirs = comments.get(place)
        comments[place] = _comment(xl_rowcol_to_cell(*place), ours, _run(note)).encode() if theirs is None else \
            _combined(theirs, note, ours, EXCEL_TEXT_LIMIT - len(texts[place]) - len(SEPARATOR))
    body = b"".join(comments[place] for place in sorted(comments))
    return (existing[:authors.start()] + author_list + existing[authors.end():listed.start()] +
            b"<commentList>" + body + b"</commentList>" + existing[listed.end():])


def _combined(theirs: bytes, note: str, author: int, room: int) -> bytes:
    """Their comment with our reasons put first (their text kept as written, a plain text made a run)."""
    text = TEXT.search(theirs)
    if text is None or room < 100:
        raise Unpatchable("a comment without text, or without room for ours")
    kept = text.group(1)
    plain = PLAIN_TEXT.match(kept)
    if plain:   # Excel writes either one <t> or runs, never both: theirs becomes a run
        kept = b"<r>" + plain.group(1) + b"</r>" + kept[plain.end():]
    start_end = theirs.index(b">") + 1
    return (with_attributes(theirs[:start_end], authorId=author) + theirs[start_end:text.start(1)] +
            _run(fitted(note, room) + SEPARATOR).encode() + kept + theirs[text.end(1):])


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
