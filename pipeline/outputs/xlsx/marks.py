"""A feedback copy made from the district's own .xlsx package: their file as they sent it, problem cells marked.

Every part of the district's workbook is kept (their fonts, colours, widths, validations, hidden sheets);
a marked cell gets a clone of its own cell format with a red or amber fill; comments, the summary sheet
(put first and selected) with the styles it needs comes from a small workbook xlsxwriter made
(feedback_book.summary_book; its cells written as XML by sheet_xml); comments and their shapes are
written by xlsx_comments. All are grafted into the package. Notes the workbook already has (the
template's header notes, a district's own) are kept, ours merged in beside them; every note drawing
is written again, its shape ids in 1,024-id blocks of its own across the workbook. Only packages of
plain worksheets are marked this way: anything else (formulas, external links, drawings, threaded
comments, form controls, macros, a namespace prefix on the main elements) raises Unpatchable and the
copy is rebuilt from the parsed cells. Pure functions of bytes: the caller reads and writes the files.
"""
from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass

from xlsxwriter.utility import xl_col_to_name

from pipeline.outputs.feedback.book import note_height
from pipeline.outputs.xlsx.sheet_xml import SheetBody, with_body
from pipeline.sources.workbooks import column_number
from pipeline.outputs.xlsx.comments import (SEPARATOR, comments_xml, merged_comments_xml, note_blocks, note_texts,
                                            vml_xml)
from pipeline.outputs.xlsx.package import (COMMENTS_TYPE, VML_TYPE, WORKSHEET_TYPE, ContentTypes, Unpatchable,
                                           Workbook, add_relationship, check_parts, check_well_formed, content_types,
                                           content_types_xml, free_name, in_main_namespace, quoted, read_package,
                                           relationships, with_attributes, with_relationship_prefix, workbook_of,
                                           write_package)
from pipeline.outputs.xlsx.styles import Styles, merge_strings, merged_styles, styles_xml

ROW_TAG = re.compile(rb"<row\b([^>]*?)(/?)>")
CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.DOTALL)
REFERENCE = re.compile(rb'\br="([A-Z]+)(\d+)"')
ROW_NUMBER = re.compile(rb'\br="(\d+)"')
STYLE = re.compile(rb"""\bs=["'](\d+)["']""")
# Elements a worksheet may hold after <legacyDrawing>, in the schema's order: the new element goes before them.
AFTER_LEGACY_DRAWING = {b"legacyDrawingHF", b"drawingHF", b"picture", b"oleObjects", b"controls", b"webPublishItems",
                        b"tableParts", b"extLst"}
TAG = re.compile(rb"<(/?)([A-Za-z_][\w:.-]*)[^>]*?(/?)>")
LEGACY_DRAWING = re.compile(rb"<legacyDrawing\b[^>]*?\br:id=[\"']([^\"']*)[\"']")
VML_SHAPE = re.compile(rb"<(?:\w+:)?shape\b")
NOTE = re.compile(rb"""\bObjectType=["']Note["']""")
BLOCKS = re.compile(rb"""\bdata=["']([\d,\s]*)["']""")
SHAPE_ID = re.compile(rb"_x0000_s(\d+)")


@dataclass(frozen=True)
class SheetMarks:
    """The cells to fill on one of the district's sheets, and their notes."""

    fills: dict[tuple[int, int], str]             # (Excel row, column number) -> "error" | "warning"
    notes: dict[tuple[int, int], str] | None = None   # (0-based row, column) -> the note's text


def marked_package(original: bytes, marks_book: bytes, summary_sheet: str, marks: dict[str, SheetMarks],
                   summary_body: SheetBody | None = None, author: str = "") -> bytes:
    """The district's package with `marks` applied (notes by `author`) and the marks book's first sheet added in
    front as the summary (its cells replaced by `summary_body`, when given)."""
    try:
        return _marked_package(original, marks_book, summary_sheet, marks, summary_body, author)
    except (ValueError, KeyError, IndexError, AttributeError, zipfile.BadZipFile) as error:
        # XML spelled in a way the byte-level edits do not expect (say, UTF-16): rebuilt instead
        raise Unpatchable(f"{type(error).__name__}: {error}") from error


def _marked_package(original: bytes, marks_book: bytes, summary_sheet: str, marks: dict[str, SheetMarks],
                    summary_body: SheetBody | None, author: str) -> bytes:
    parts, extra = read_package(original), read_package(marks_book)
    as_sent = dict(parts)
    types = content_types(parts)
    check_parts(parts, types)
    book = workbook_of(parts)
    if summary_sheet.casefold() in (name.casefold() for name in book.sheets):
        raise Unpatchable("the district has a sheet named like the summary")
    if set(marks) - set(book.sheets):
        raise Unpatchable("marks on a sheet the package does not have")
    extra_book = workbook_of(extra)
    styles = merged_styles(parts[book.styles], extra[extra_book.styles])
    string_offset = merge_strings(parts, types, book, extra.get(extra_book.shared_strings or "", b""))
    summary = extra[extra_book.sheets[next(iter(extra_book.sheets))]]
    summary = _restyled(with_body(summary, summary_body) if summary_body else summary, styles, string_offset)
    drawings = _note_drawings(parts, types, book)
    block = _first_free_block(parts, types, drawings)
    for name, path in book.sheets.items():
        sheet = _unselected(parts[path])
        notes = (marks[name].notes or {}) if name in marks else {}
        if name in marks:
            sheet = _marked_cells(sheet, marks[name].fills, styles)
        if notes or path in drawings:
            sheet, block = _with_notes(parts, types, path, sheet, drawings.get(path), notes, author, block)
        parts[path] = sheet
    parts[book.styles] = styles_xml(styles)
    _add_summary(parts, types, book, summary_sheet, summary)
    parts["[Content_Types].xml"] = content_types_xml(parts["[Content_Types].xml"], types)
    for name, data in parts.items():   # every small part edited or added is well-formed, or the copy is rebuilt
        if data is not as_sent.get(name) and name not in book.sheets.values():   # the district's own: too large
            check_well_formed(data)
    return write_package(parts)


def _unselected(sheet: bytes) -> bytes:
    """A district sheet no longer selected (the summary is the one selected tab)."""
    in_main_namespace(sheet, b"worksheet")
    head_end = sheet.find(b"<sheetData")
    head = sheet[:head_end] if head_end >= 0 else sheet
    if b"tabSelected" not in head:
        return sheet
    return re.sub(rb"""\stabSelected=["'](?:1|true)["']""", b"", head) + sheet[len(head):]


def _marked_cells(sheet: bytes, fills: dict[tuple[int, int], str], styles: Styles) -> bytes:
    """The sheet with each marked cell's format replaced by its filled clone (missing cells and rows added)."""
    data_start, data_end = sheet.find(b"<sheetData"), sheet.find(b"</sheetData>")
    if data_start < 0 or data_end < 0:
        raise Unpatchable("no sheet data")
    by_row: dict[int, dict[int, str]] = {}
    for (row, column), severity in fills.items():
        by_row.setdefault(row, {})[column] = severity
    opened = sheet.find(b">", data_start) + 1
    found = _marked_rows_found(sheet, by_row, styles, opened, data_end)
    return found if found is not None else _marked_rows_scanned(sheet, by_row, styles, opened, data_end)


def _marked_rows_found(sheet: bytes, by_row: dict[int, dict[int, str]], styles: Styles, opened: int,
                       data_end: int) -> bytes | None:
    """Marked rows looked up directly (r written first, as every common writer does); None when one is not there."""
    pieces, position = [sheet[:opened]], opened
    for number in sorted(by_row):
        start = sheet.find(b'<row r="%d"' % number, position, data_end)
        if start < 0:
            return None
        tag_end = sheet.index(b">", start) + 1
        end = tag_end if sheet[tag_end - 2] == ord("/") else sheet.index(b"</row>", tag_end) + len(b"</row>")
        pieces += [sheet[position:start], _restyled_row(sheet[start:end], number, by_row[number], styles)]
        position = end
    return b"".join(pieces) + sheet[position:]


def _restyled_row(row: bytes, number: int, marked: dict[int, str], styles: Styles) -> bytes:
    """A row whose marked cells are restyled where they stand (rebuilt when one of them is missing)."""
    pieces, position = [], 0
    for column in sorted(marked):
        start = row.find(b'<c r="%s%d"' % (xl_col_to_name(column - 1).encode(), number), position)
        if start < 0:
            tag_end = row.index(b">") + 1
            body = b"" if row[tag_end - 2] == ord("/") else row[tag_end:-len(b"</row>")]
            return _row_xml(number, marked, body, row[:tag_end], styles)
        end = row.index(b">", start) + 1
        style = STYLE.search(row, start, end)
        marked_style = styles.marked(int(style.group(1)) if style else 0, marked[column])
        pieces += [row[position:start], with_attributes(row[start:end], s=marked_style)]
        position = end
    return b"".join(pieces) + row[position:]


def _marked_rows_scanned(sheet: bytes, by_row: dict[int, dict[int, str]], styles: Styles, opened: int,
                         data_end: int) -> bytes:
    """Marked rows found by reading every row's number (rows the file lacks are added in order)."""
    pending, done = sorted(by_row), 0
    pieces, position, last = [sheet[:opened]], opened, 0
    for match in ROW_TAG.finditer(sheet, opened, data_end):
        if done == len(pending):
            break
        found = ROW_NUMBER.search(match.group(1))
        if found is None or int(found.group(1)) <= last:
            raise Unpatchable("a row without its number, or rows out of order")
        last = int(found.group(1))
        if pending[done] < last:   # marked rows the file does not have come before this one
            pieces.append(sheet[position:match.start()])
            position = match.start()
            while done < len(pending) and pending[done] < last:
                pieces.append(_row_xml(pending[done], by_row[pending[done]], b"", b"<row>", styles))
                done += 1
        if done < len(pending) and pending[done] == last:
            end = match.end() if match.group(2) else sheet.index(b"</row>", match.end()) + len(b"</row>")
            body = b"" if match.group(2) else sheet[match.end():end - len(b"</row>")]
            pieces += [sheet[position:match.start()], _row_xml(last, by_row[last], body, match.group(0), styles)]
            position, done = end, done + 1
    pieces.append(sheet[position:data_end])
    pieces += [_row_xml(row, by_row[row], b"", b"<row>", styles) for row in pending[done:]]
    return b"".join(pieces) + sheet[data_end:]


def _row_xml(number: int, marked: dict[int, str], body: bytes, start_tag: bytes, styles: Styles) -> bytes:
    """A row with its marked cells restyled and those it lacks added, in column order."""
    cells, rest, position = [], [], 0
    for cell in CELL.finditer(body):
        rest.append(body[position:cell.start()])
        position = cell.end()
        reference = REFERENCE.search(cell.group(1))
        if reference is None or int(reference.group(2)) != number:
            raise Unpatchable(f"a cell of row {number} without its reference")
        column = column_number(reference.group(1))
        if column in marked:
            style = STYLE.search(cell.group(1))
            cells.append((column, with_attributes(cell.group(0), s=styles.marked(int(style.group(1)) if style else 0,
                                                                                     marked[column]))))
        else:
            cells.append((column, cell.group(0)))
    if b"".join(rest + [body[position:]]).strip():
        raise Unpatchable(f"row {number} holds more than cells")
    present = {column for column, _ in cells}
    cells += [(column, b'<c r="' + f"{xl_col_to_name(column - 1)}{number}".encode() + b'" s="' +
               str(styles.marked(0, severity)).encode() + b'"/>') for column, severity in marked.items()
              if column not in present]
    start = re.sub(rb'\sspans="[^"]*"', b"", start_tag)   # the cells' span may have grown: the hint is dropped
    start = start[:-2] + b">" if start.endswith(b"/>") else start
    if start == b"<row>":
        start = b'<row r="' + str(number).encode() + b'">'
    return start + b"".join(xml for _, xml in sorted(cells, key=lambda pair: pair[0])) + b"</row>"


def _note_drawings(parts: dict[str, bytes], types: ContentTypes, book: Workbook) -> dict[str, tuple[str, str]]:
    """Each sheet that has notes of its own -> its comments part and note drawing (Unpatchable when its drawing
    holds anything but notes: form controls, pictures)."""
    found = {}
    for path in book.sheets.values():
        _, links = relationships(parts, path)
        comments = [target for kind, target in links.values() if kind == "comments"]
        drawing = LEGACY_DRAWING.search(parts[path])
        if drawing is None and not comments:
            continue
        kind, shapes = links.get(drawing.group(1).decode(), ("", "")) if drawing else ("", "")
        if len(comments) != 1 or kind != "vmlDrawing" or comments[0] not in parts or shapes not in parts or \
                types.of(comments[0]) != COMMENTS_TYPE or types.of(shapes) != VML_TYPE:
            raise Unpatchable(f"the notes of {path} are not wired as Excel writes them")
        if len(VML_SHAPE.findall(parts[shapes])) != len(NOTE.findall(parts[shapes])):
            raise Unpatchable(f"the drawing of {path} holds more than notes")
        found[path] = (comments[0], shapes)
    return found


def _first_free_block(parts: dict[str, bytes], types: ContentTypes, drawings: dict[str, tuple[str, str]]) -> int:
    """The first 1,024-id shape block no drawing kept as it is uses (the note drawings are all written again)."""
    rewritten = {shapes for _, shapes in drawings.values()}
    used = [0]
    for name, data in parts.items():
        if types.of(name) == VML_TYPE and name not in rewritten:
            used += [int(number) for found in BLOCKS.findall(data) for number in re.findall(rb"\d+", found)]
            used += [int(number) // 1024 for number in SHAPE_ID.findall(data)]
    return max(used) + 1


def _with_notes(parts: dict[str, bytes], types: ContentTypes, path: str, sheet: bytes,
                existing: tuple[str, str] | None, notes: dict[tuple[int, int], str], author: str,
                block: int) -> tuple[bytes, int]:
    """The sheet with our notes merged into its own (or attached as its first), its note drawing written again
    from `block` on; and the next free block."""
    if existing:
        comments_path, shapes_path = existing
        texts = note_texts(parts[comments_path])
        if notes:
            parts[comments_path] = merged_comments_xml(parts[comments_path], notes, author)
        texts |= {place: note + (SEPARATOR + texts[place] if place in texts else "") for place, note in notes.items()}
        parts[shapes_path] = vml_xml({place: note_height(text) for place, text in texts.items()}, block)
        return sheet, block + note_blocks(len(texts))
    shapes_xml = vml_xml({place: note_height(note) for place, note in notes.items()}, block)
    return _with_comments(parts, types, path, sheet, comments_xml(notes, author), shapes_xml), \
        block + note_blocks(len(notes))


def _with_comments(parts: dict[str, bytes], types: ContentTypes, path: str, sheet: bytes, comments_xml: bytes,
                   vml_xml: bytes) -> bytes:
    """The sheet with its (first) comments part and their VML shapes attached."""
    if b"<legacyDrawing" in sheet:
        raise Unpatchable("the sheet already has comments or form controls")
    comments = free_name(parts, "xl/comments_feedback.xml")
    parts[comments] = comments_xml
    shapes = free_name(parts, "xl/drawings/vmlDrawing_feedback.vml")
    parts[shapes] = vml_xml
    types.added["/" + comments] = COMMENTS_TYPE
    if types.defaults.get("vml") != VML_TYPE:
        types.added["/" + shapes] = VML_TYPE
    relationships_path, _ = relationships(parts, path)
    folder = posixpath.dirname(path)
    add_relationship(parts, relationships_path, "comments", posixpath.relpath(comments, folder))
    drawing = add_relationship(parts, relationships_path, "vmlDrawing", posixpath.relpath(shapes, folder))
    sheet = with_relationship_prefix(sheet, b"worksheet")
    tail = sheet.find(b"</sheetData>")
    place = _child_position(sheet, tail + len(b"</sheetData>"), AFTER_LEGACY_DRAWING)
    return sheet[:place] + f'<legacyDrawing r:id="{drawing}"/>'.encode() + sheet[place:]


def _child_position(sheet: bytes, start: int, names: set[bytes]) -> int:
    """Where the first of the worksheet's own children named `names` begins (else its end tag), from `start`.

    Only direct children count: an <extLst> inside a <cfRule> (Excel's data bars) is not the sheet's.
    """
    depth = 0
    for match in TAG.finditer(sheet, start):
        closing, name, empty = match.groups()
        if closing:
            if depth == 0:
                return match.start()   # </worksheet>
            depth -= 1
        elif depth == 0 and name in names:
            return match.start()
        elif not empty:
            depth += 1
    raise Unpatchable("the worksheet does not end")


def _restyled(summary: bytes, styles: Styles, string_offset: int) -> bytes:
    """The marks book's summary sheet with its format and string numbers moved to where they now are."""
    format_offset = len(styles.district_formats)

    def moved(by: int):
        return lambda match: match.group(1) + str(int(match.group(2)) + by).encode() + match.group(3)

    # xlsxwriter's own spelling: <c r="A1" s="3" t="s"><v>5</v></c>, <row … s="2" …>, <col … style="2" …>
    summary = re.sub(rb'(<(?:c|row)\b[^>]*?\ss=")(\d+)(")', moved(format_offset), summary)
    summary = re.sub(rb'(<col\b[^>]*?\sstyle=")(\d+)(")', moved(format_offset), summary)
    return re.sub(rb'(<c\b[^>]*?\st="s"[^>]*><v>)(\d+)(</v>)', moved(string_offset), summary)


def _add_summary(parts: dict[str, bytes], types: ContentTypes, book: Workbook, title: str, summary: bytes) -> None:
    """Put the summary sheet first and make it the selected tab."""
    path = free_name(parts, posixpath.join(posixpath.dirname(book.path), "worksheets/feedback_summary.xml"))
    parts[path] = summary
    types.added["/" + path] = WORKSHEET_TYPE
    identifier = add_relationship(parts, book.relationships, "worksheet",
                                   posixpath.relpath(path, posixpath.dirname(book.path)))
    xml = with_relationship_prefix(parts[book.path], b"workbook")
    sheet_id = max([0, *(int(i) for i in re.findall(rb'<sheet\b[^>]*?\bsheetId="(\d+)"', xml))]) + 1
    element = f'<sheet name={quoted(title)} sheetId="{sheet_id}" r:id="{identifier}"/>'.encode()
    opening = re.search(rb"<sheets\b[^>]*>", xml)
    xml = xml[:opening.end()] + element + xml[opening.end():]
    # Sheet-scoped names count sheets by position: every sheet moved one place right.
    xml = re.sub(rb'\blocalSheetId="(\d+)"',
                 lambda m: b'localSheetId="' + str(int(m.group(1)) + 1).encode() + b'"', xml)
    parts[book.path] = re.sub(rb"<workbookView\b[^>]*>",
                              lambda m: re.sub(rb'\s(?:activeTab|firstSheet)="\d+"', b"", m.group(0)), xml)
