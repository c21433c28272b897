"""Workbooks (xlsx, xlsm, xls, ods) read with python-calamine after their zip is measured and verified, and
merged ranges read where calamine does not give them (ods)."""
from __future__ import annotations

import html
import io
import re
import tempfile
import zipfile
from dataclasses import replace

import python_calamine

from pipeline.core.outcome import RawSheet, Refused
from pipeline.runtime import processes
from pipeline.runtime.limits import ReadLimits
from pipeline.sources.sniff import DOCTYPE_MARKERS

MAX_ZIP_MEMBERS = 10_000  # a real workbook has tens of parts; thousands means a crafted archive
# A formula cell whose cached value is missing or empty: <f>…</f></c>, <f>…</f><v/></c>, <f …/><v></v></c>.
UNCALCULATED_FORMULA = re.compile(rb'(?:</f>|<f\b[^>]*/>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>')
DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="\$?([A-Z]{1,3})\$?(\d{1,7})(?::\$?([A-Z]{1,3})\$?(\d{1,7}))?"')
# Only references far from A1 (3-letter column or 7-digit row) can blow up calamine's grid; matching
# every reference would cost about a third of the parse time, this one costs about a tenth.
FAR_REFERENCE = re.compile(rb' r="(?:[A-Z]{3}|[A-Z]{0,2}\d{7})')
REFERENCE = re.compile(rb'([A-Z]*)(\d+)')


def column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def check_zip(data: bytes, limits: ReadLimits, scan_sheets: bool) -> tuple[str, ...]:
    """Refuse zip bombs from the directory, then decompress every member (zipfile checks CRC and true size).

    Returns the warnings found on the way (formulas without cached values).
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        declared = sum(member.file_size for member in members)
        if len(members) > MAX_ZIP_MEMBERS:
            raise Refused('zip_bomb', f'{len(members)} zip members > {MAX_ZIP_MEMBERS}')
        if declared > limits.max_uncompressed_bytes:
            raise Refused('zip_bomb', f'{declared} bytes uncompressed > max_uncompressed_bytes')
        if declared / len(data) > limits.max_compression_ratio:
            raise Refused('zip_bomb', f'compression ratio {declared / len(data):.0f} > {limits.max_compression_ratio:g}')
        if any(member.flag_bits & 1 for member in members):
            raise Refused('encrypted', 'zip members are encrypted')
        declared_cells, uncalculated = 0, 0
        for member in members:
            scan = scan_sheets and member.filename.endswith('.xml') and 'sharedStrings' not in member.filename
            try:
                cells, formulas = check_member(archive, member, limits, scan)
            except Refused:
                raise
            except Exception as error:  # BadZipFile (CRC, size), zlib.error, EOFError...
                raise Refused('corrupt', f'damaged zip member ({type(error).__name__})') from None
            declared_cells, uncalculated = declared_cells + cells, uncalculated + formulas
            if declared_cells > limits.max_cells:
                raise Refused('too_many_cells', f'declared dimensions hold {declared_cells} cells > max_cells')
    return ('formulas_not_calculated',) if uncalculated else ()


def check_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: ReadLimits, scan: bool
                 ) -> tuple[int, int]:
    """Decompress one member; refuse a DTD (entities) anywhere and sheet grids over the limits.

    Returns (declared cell count, formula cells without a cached value) of a scanned sheet.

    calamine 0.9.1 sizes a sheet's grid from its actual nearest and farthest cells (a file with A1 and
    XFD1048576 asks for ~549 GB and aborts, whatever <dimension> claims; a bogus <dimension> alone is
    harmless to it), so far cell references are the real guard; the declared dimension is checked too.
    """
    first_row = first_column = last_row = last_column = far_row = far_column = uncalculated = 0
    tail = b''
    with archive.open(member) as stream:
        while chunk := stream.read(1 << 20):
            if any(marker in tail + chunk for marker in DOCTYPE_MARKERS):
                raise Refused('corrupt', f'XML document type declaration (entities) in {member.filename[:60]}')
            if not scan:
                tail = chunk[-40:]
                continue
            if b'<f' in chunk:  # cheap test first: most sheets hold no formula at all
                uncalculated += len(UNCALCULATED_FORMULA.findall(tail + chunk))
            if not tail and (match := DIMENSION.search(chunk, 0, 65536)):
                first_column, first_row = column_number(match[1]), int(match[2])
                last_column, last_row = (column_number(match[3]), int(match[4])) if match[3] else (first_column, first_row)
            buffer = tail + chunk
            for match in FAR_REFERENCE.finditer(buffer):
                if reference := REFERENCE.match(buffer, match.start() + 4):
                    far_column, far_row = max(far_column, column_number(reference[1])), max(far_row, int(reference[2]))
            tail = chunk[-40:]
    rows = max(last_row - first_row + 1, far_row, 0)
    if rows > limits.max_rows_per_sheet:
        raise Refused('too_many_cells', f'sheet spans {rows} rows > max_rows_per_sheet')
    if max(last_row, far_row) * max(last_column, far_column) > limits.max_cells:
        raise Refused('too_many_cells', f'sheet spans up to row {max(last_row, far_row)}, column {max(last_column, far_column)}')
    return ((last_row - first_row + 1) * (last_column - first_column + 1) if last_row else 0), uncalculated


def read_workbook(data: bytes, kind: str, limits: ReadLimits) -> list[RawSheet]:
    """Read every worksheet with calamine, keeping exact Excel row and column positions."""
    # calamine only reports precise errors (password, cell limit) when the extension picks its reader;
    # from_filelike guesses and says "Cannot detect file format". A private snapshot named after the
    # detected kind also makes calamine parse exactly the bytes that were checked.
    with tempfile.NamedTemporaryFile(suffix='.' + kind, dir=processes.SCRATCH_DIRECTORY) as snapshot:
        snapshot.write(data)
        snapshot.flush()
        return read_snapshot(snapshot.name, limits)


def read_snapshot(path: str, limits: ReadLimits) -> list[RawSheet]:
    try:
        with python_calamine.CalamineWorkbook.from_path(path) as workbook:
            sheets = read_sheets(workbook, limits)
    except python_calamine.PasswordError:
        raise Refused('encrypted', 'workbook is password protected') from None
    except python_calamine.CalamineError as error:
        if 'limit exceeded' in str(error):
            raise Refused('too_many_cells', 'calamine cell limit exceeded') from None
        raise Refused('corrupt', f'{type(error).__name__} from calamine') from None
    if path.endswith('.ods'):   # calamine gives no merged ranges for OpenDocument: read them from its XML
        with zipfile.ZipFile(path) as archive:
            spans = ods_merged_ranges(archive.read('content.xml'))
        sheets = [replace(sheet, merged=spans.get(sheet.name, ())) for sheet in sheets]
    return sheets


def read_sheets(workbook, limits: ReadLimits) -> list[RawSheet]:
    sheets, cells = [], 0
    for index, metadata in enumerate(workbook.sheets_metadata):
        if metadata.typ in (python_calamine.SheetTypeEnum.ChartSheet, python_calamine.SheetTypeEnum.Vba):
            continue  # no cell grid
        sheet = workbook.get_sheet_by_name(metadata.name)
        cells += sheet.height * sheet.width
        if sheet.height > limits.max_rows_per_sheet or cells > limits.max_cells:
            raise Refused('too_many_cells', f'sheet {index + 1} is {sheet.height} x {sheet.width} cells')
        # to_python() drops the leading empty rows and columns; `start` says where the kept block begins.
        start = sheet.start
        rows = sheet.to_python() if start else []
        first_row, first_column = (start[0] + 1, start[1]) if start else (1, 0)
        hidden = metadata.visible != python_calamine.SheetVisibleEnum.Visible
        sheets.append(RawSheet(metadata.name, hidden, first_row, first_column, rows, merged_ranges(sheet)))
    return sheets


def merged_ranges(sheet) -> tuple:
    """The sheet's merged cell ranges as calamine gives them (xlsx and xls; ods: see ods_merged_ranges)."""
    try:
        return tuple(tuple(map(tuple, pair)) for pair in sheet.merged_cell_ranges or ())
    except (AttributeError, TypeError, ValueError):
        return ()
ODS_TABLE_NAMESPACE = re.compile(rb'xmlns:([\w.-]+)="urn:oasis:names:tc:opendocument:xmlns:table:1\.0"')
ODS_NUMBER = re.compile(rb'([\w.-]+):(number-(?:rows|columns)-(?:repeated|spanned)|name)="([^"]*)"')


def ods_merged_ranges(content: bytes) -> dict[str, tuple]:
    """Merged ranges of each table of an OpenDocument content.xml, named like the sheets, as calamine gives xlsx's.

    A merged cell carries table:number-rows-spanned / number-columns-spanned; its place is counted from the
    table's rows and cells (each possibly repeated). Tables nested in a cell are skipped.
    """
    if b'-spanned="' not in content:   # nothing merged: the usual case costs one search
        return {}
    namespace = ODS_TABLE_NAMESPACE.search(content)
    if namespace is None:
        return {}
    prefix = re.escape(namespace[1])
    tags = re.compile(rb'<(/?)' + prefix + rb':(table|table-row|table-cell|covered-table-cell)(?=[\s/>])([^>]*?)(/?)>')
    found: dict[str, tuple] = {}
    depth, name, ranges, row, column, repeat = 0, '', [], 0, 0, 1
    for closing, element, attributes, empty in tags.findall(content):
        numbers = {key: value for owner, key, value in ODS_NUMBER.findall(attributes) if owner == namespace[1]}
        if element == b'table':
            if closing:
                if depth == 1 and ranges:
                    found[name] = tuple(ranges)
                depth -= 1
            elif not empty:
                depth += 1
                if depth == 1:
                    name = html.unescape(numbers.get(b'name', b'').decode('utf-8', 'replace'))
                    ranges, row = [], 0
            continue
        if depth != 1:
            continue
        if element == b'table-row':
            if not closing:
                column, repeat = 0, _count(numbers.get(b'number-rows-repeated'))
            if closing or empty:
                row += repeat
            continue
        if closing:
            continue
        # A span never reaches past a sheet's last row or column (Excel's grid: 1,048,576 x 16,384).
        rows = min(_count(numbers.get(b'number-rows-spanned')), 1_048_576)
        columns = min(_count(numbers.get(b'number-columns-spanned')), 16_384)
        if element == b'table-cell' and (rows > 1 or columns > 1):
            ranges.append(((row, column), (row + rows - 1, column + columns - 1)))
        column += _count(numbers.get(b'number-columns-repeated'))
    return found


def _count(text: bytes | None) -> int:
    """A repeat or span count (1 when absent or unreadable)."""
    return int(text) if text and len(text) <= 9 and text.isdigit() and int(text) > 0 else 1
