"""Read untrusted district files (xlsx, xlsm, xls, ods, csv) into raw cell grids.

Files come from a folder anyone can write to, so every byte is hostile until checked: the type
is sniffed from magic bytes, zips are measured from their directory and then verified (CRC, true
sizes) before calamine sees them, and xlsx sheet XML is scanned for cell references that would
make calamine allocate a huge grid (it aborts the whole process with SIGABRT instead of raising).

`read_file` runs in the calling process and never raises on bad input, but it cannot survive a
native crash that no cheap pre-check foresees (e.g. crafted sheet XML whose cells omit their r=
attribute). `read_files` parses each file in a forked child with an address-space limit and a
wall-time limit, so such a crash costs one file: use it for anything from the shared folder.

Choices the caller should know:
- Plain text/CSV renamed .xls/.xlsx is read as CSV and reported as kind 'csv' with problem None
  ('csv_not_excel' is never produced): compare `kind` with the extension to warn the district.
- Running out of memory (MemoryError, or the child's memory limit) is reported as 'file_too_large'.
- Sheets are returned only when problem is None; cells are never coerced (numbers stay as
  calamine gives them, text stays text, empty cells are "").
- XML parts carrying a document type declaration (entities: 'billion laughs', external files) are
  refused as 'corrupt' before any parser sees them: Excel and LibreOffice never write one.
- A readable file may carry `warnings` (codes for the district, not reasons to refuse it):
  'formulas_not_calculated' when formula cells have no cached value (they read as empty).
"""
from __future__ import annotations

import csv
import ctypes
import errno
import faulthandler
import fcntl
import gc
import html
import io
import itertools
import math
import os
import pickle
import re
import resource
import selectors
import shutil
import signal
import stat
import struct
import tempfile
import time
import traceback
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NoReturn

import python_calamine

__all__ = ['PROBLEM_CODES', 'RawSheet', 'ReadLimits', 'ReadOutcome', 'detect_kind', 'read_file', 'read_files']

PROBLEM_CODES = (
    'empty_file', 'file_too_large', 'zip_bomb', 'too_many_cells', 'encrypted', 'corrupt',
    'html_not_excel', 'csv_not_excel', 'not_a_spreadsheet', 'unknown_encoding',
    'parser_crashed', 'timeout', 'unsupported_type',
)
MAX_ZIP_MEMBERS = 10_000  # a real workbook has tens of parts; thousands means a crafted archive
OLE2_MAGIC = b'\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1'
ZIP_MAGIC = (b'PK\x03\x04', b'PK\x05\x06', b'PK\x07\x08')  # not bare b'PK': a CSV may start with it
NON_SPREADSHEET_MAGIC = {
    b'\x89PNG': 'PNG image', b'\xff\xd8\xff': 'JPEG image', b'GIF8': 'GIF image',
    b'II*\x00': 'TIFF image', b'MM\x00*': 'TIFF image', b'{\\rtf': 'RTF document',
    b'Rar!': 'RAR archive', b"7z\xbc\xaf'\x1c": '7z archive', b'\x1f\x8b': 'gzip archive',
}
CSV_EXTENSIONS = frozenset({'csv', 'tsv', 'xls', 'xlsx', 'xlsm', 'ods', ''})
TEXT_BYTES = bytes(range(32, 256)) + b'\t\n\r\x0b\x0c\x1a\x1b'
DELIMITERS = (',', ';', '\t', '|')
SNIFF_ROWS = 200
# A DTD is the only way to declare entities; office XML never has one (XML names are case-sensitive).
# Every member is searched, whatever its name (a sheet part may be called anything its .rels says),
# in UTF-8 and in UTF-16 (which calamine does not parse today, but might tomorrow).
DOCTYPE_MARKERS = tuple(marker.encode(codec) for marker in ('<!DOCTYPE', '<!ENTITY')
                        for codec in ('utf-8', 'utf-16-le', 'utf-16-be'))
# A formula cell whose cached value is missing or empty: <f>…</f></c>, <f>…</f><v/></c>, <f …/><v></v></c>.
UNCALCULATED_FORMULA = re.compile(rb'(?:</f>|<f\b[^>]*/>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>')
DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="\$?([A-Z]{1,3})\$?(\d{1,7})(?::\$?([A-Z]{1,3})\$?(\d{1,7}))?"')
# Only references far from A1 (3-letter column or 7-digit row) can blow up calamine's grid; matching
# every reference would cost about a third of the parse time, this one costs about a tenth.
FAR_REFERENCE = re.compile(rb' r="(?:[A-Z]{3}|[A-Z]{0,2}\d{7})')
REFERENCE = re.compile(rb'([A-Z]*)(\d+)')
EXIT_OUT_OF_MEMORY = 71
PR_SET_PDEATHSIG = 1
# read_files points each child here at a folder the parent removes, so a crashed child leaves no snapshot.
SCRATCH_DIRECTORY: str | None = None
# Scratch folders are named after the reading process, so a later run can remove those of a killed one.
SCRATCH_NAME = re.compile(r'readers-(\d+)-[^/]*')


@dataclass(frozen=True)
class ReadLimits:
    max_file_bytes: int = 50 * 1024**2
    max_uncompressed_bytes: int = 1024**3
    max_compression_ratio: float = 200.0
    max_cells: int = 20_000_000
    max_rows_per_sheet: int = 1_100_000
    memory_bytes: int = 4 * 1024**3
    seconds: float = 120.0


def limits_of(settings: dict) -> ReadLimits:
    """Parser limits from the `limits:` section of config.yaml (defaults for what it leaves out)."""
    return ReadLimits(
        max_file_bytes=int(settings.get("max_file_megabytes", 50) * 1024**2),
        max_cells=int(settings.get("max_cells", 20_000_000)),
        max_rows_per_sheet=int(settings.get("max_rows_per_sheet", 1_100_000)),
        memory_bytes=int(settings.get("parser_memory_megabytes", 4096) * 1024**2),
        seconds=float(settings.get("parser_seconds", 120)),
    )


@dataclass(frozen=True)
class RawSheet:
    name: str
    hidden: bool
    first_row: int
    first_column: int
    rows: list[list]
    merged: tuple = ()   # ((first row, first column), (last row, last column)), 0-based, as calamine gives them
    cells: int | None = None   # set when a hand-off left the rows out: how many cells they held


@dataclass(frozen=True)
class ReadOutcome:
    path: str
    kind: str
    sheets: tuple[RawSheet, ...]
    problem: str | None
    detail: str
    warnings: tuple[str, ...] = ()


class Refused(Exception):
    """A verdict on the whole file, raised from deep inside the checks."""

    def __init__(self, problem: str, detail: str):
        super().__init__(problem, detail)
        self.problem, self.detail = problem, detail


def failed(path: str, kind: str, problem: str, detail: str) -> ReadOutcome:
    return ReadOutcome(path, kind, (), problem, detail)


# ---------------------------------------------------------------- detection (pure functions)

def detect_kind(path) -> str:
    """Return the real file type, judged by magic bytes first and the extension second."""
    try:
        data, _ = read_regular_file(os.fspath(path), ReadLimits().max_file_bytes)
    except Refused:
        return 'unknown'
    return classify(data, extension_of(path))[0]


def extension_of(path) -> str:
    return Path(os.fspath(path)).suffix.lower().lstrip('.')


def classify(data: bytes, extension: str) -> tuple[str, str | None, str]:
    """Return (kind, problem or None, detail); problem None means the kind has a parser."""
    if not data:
        return 'empty', 'empty_file', '0 bytes'
    if data.startswith(ZIP_MAGIC):
        return classify_zip(data, extension)
    if data.startswith(OLE2_MAGIC):
        return classify_ole2(data, extension)
    if data.startswith(b'%PDF'):
        return 'pdf', 'not_a_spreadsheet', 'PDF document'
    for magic, name in NON_SPREADSHEET_MAGIC.items():
        if data.startswith(magic):
            return 'unknown', 'not_a_spreadsheet', name
    if not looks_like_text(data[:8192]):
        return 'unknown', 'unsupported_type', 'unrecognised binary format'
    head = (decode_text(data[:4096]) or data[:4096].decode('latin-1')).lstrip().lower()
    if head.startswith('mime-version:') or (head.startswith('<') and any(
            tag in head for tag in ('<html', '<table', '<!doctype html'))):
        return 'html', 'html_not_excel', 'HTML page (a web system export saved with a spreadsheet name?)'
    if 'urn:schemas-microsoft-com:office:spreadsheet' in head:
        return 'unknown', 'unsupported_type', 'Excel 2003 XML spreadsheet (save as .xlsx)'
    return ('csv' if extension in CSV_EXTENSIONS else 'text'), None, ''


def classify_zip(data: bytes, extension: str) -> tuple[str, str | None, str]:
    """Tell xlsx/xlsm/ods from other zips by their parts."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            with (archive.open('mimetype') if 'mimetype' in names else io.BytesIO()) as stream:
                mimetype = stream.read(80)
    except Exception as error:  # BadZipFile, zlib.error, EOFError, NotImplementedError...
        kind = extension if extension in ('xlsx', 'xlsm', 'ods') else 'zip'
        return kind, 'corrupt', f'unreadable zip archive ({type(error).__name__})'
    if 'xl/workbook.xml' in names:
        return ('xlsm' if 'xl/vbaProject.bin' in names or extension == 'xlsm' else 'xlsx'), None, ''
    if 'xl/workbook.bin' in names:
        return 'zip', 'unsupported_type', 'xlsb binary workbook (save as .xlsx)'
    if mimetype.startswith(b'application/vnd.oasis.opendocument.spreadsheet') or (
            not mimetype and 'content.xml' in names and extension == 'ods'):
        return 'ods', None, ''
    return 'zip', 'not_a_spreadsheet', 'zip archive without workbook parts'


def classify_ole2(data: bytes, extension: str) -> tuple[str, str | None, str]:
    """Tell .xls from Office-encrypted files (an encrypted xlsx is OLE2, not zip) and Word/PowerPoint."""
    if ole2_has_stream(data, 'EncryptionInfo') or ole2_has_stream(data, 'EncryptedPackage'):
        kind = extension if extension in ('xlsx', 'xlsm', 'xls') else 'unknown'
        return kind, 'encrypted', 'password-protected Office file (OLE2 EncryptionInfo stream)'
    if ole2_has_stream(data, 'Workbook') or ole2_has_stream(data, 'Book'):
        return 'xls', None, ''
    return 'unknown', 'not_a_spreadsheet', 'OLE2 document without a workbook stream'


def ole2_has_stream(data: bytes, name: str) -> bool:
    """True when the OLE2 directory holds a stream called `name`.

    Directory entries sit on 128-byte boundaries (name in UTF-16LE, then its byte length and type 2
    for a stream), so a byte search finds them without walking a FAT that may itself be damaged.
    """
    encoded = (name + '\0').encode('utf-16-le')
    signature = struct.pack('<HB', len(encoded), 2)
    position = data.find(encoded, 512)
    while position != -1:
        if position % 128 == 0 and data[position + 64:position + 67] == signature:
            return True
        position = data.find(encoded, position + 1)
    return False


def looks_like_text(head: bytes) -> bool:
    """Text has a UTF-16 BOM or few control bytes once NULs (left by interrupted copies) are gone."""
    if head.startswith((b'\xff\xfe', b'\xfe\xff')):
        return True
    sample = head.replace(b'\0', b'')
    return len(sample.translate(None, TEXT_BYTES)) * 20 <= len(sample)


def decode_text(data: bytes) -> str | None:
    """Decode by BOM (UTF-8, UTF-16 LE/BE), then strict UTF-8, then cp874; None when none fits."""
    for bom, codec in ((b'\xef\xbb\xbf', 'utf-8'), (b'\xff\xfe', 'utf-16-le'), (b'\xfe\xff', 'utf-16-be')):
        if data.startswith(bom):
            body = data[len(bom):]
            if codec == 'utf-8':
                return strict_decode(body.replace(b'\0', b''), codec)
            text = strict_decode(body[:len(body) // 2 * 2], codec)  # an odd byte: file cut mid-character
            return None if text is None else text.replace('\0', '')
    data = data.replace(b'\0', b'')
    for codec in ('utf-8', 'cp874'):
        text = strict_decode(data, codec)
        if text is not None:
            return text
    return None


def strict_decode(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        # A file still being copied may end inside a multi-byte character: keep what precedes it.
        if error.reason == 'unexpected end of data' and error.end == len(data):
            return strict_decode(data[:error.start], codec)
        return None


def unicode_name(name: str) -> str:
    """A file or folder name as valid Unicode text, fit for the store and the reports.

    Linux names are bytes: a zip made on Thai Windows extracts with cp874 names, which Python holds
    as lone surrogates that no UTF-8 writer accepts. Those are decoded as cp874, else shown escaped.
    """
    try:
        name.encode('utf-8')
        return name
    except UnicodeEncodeError:
        raw = os.fsencode(name)
    try:
        return raw.decode('cp874')
    except UnicodeDecodeError:
        return raw.decode('utf-8', 'backslashreplace')


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first rows into the most consistent number (> 1) of fields.

    csv.Sniffer is not used: its quote-guessing regex backtracks quadratically, so 64 KB of crafted
    text (",'a" repeated) costs it minutes of CPU. This guess is linear in the sample.
    """
    sample = text[:65536]
    if len(text) > len(sample) and '\n' in sample:
        sample = sample[:sample.rindex('\n')]
    best, best_score = ',', (0, 0)
    for delimiter in DELIMITERS:
        counts = [len(row) for row in itertools.islice(delimited_rows(sample, delimiter), SNIFF_ROWS) if any(row)]
        if not counts:
            continue
        width = max(set(counts), key=lambda count: (counts.count(count), count))
        score = (counts.count(width), width) if width > 1 else (0, 0)
        if score > best_score:  # ties keep the earlier, more common delimiter
            best, best_score = delimiter, score
    return best


def delimited_rows(sample: str, delimiter: str):
    """Rows of a sample split by one delimiter; a malformed tail ends the rows instead of raising."""
    try:
        yield from csv.reader(io.StringIO(sample, newline=''), delimiter=delimiter)
    except csv.Error:
        return


def column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


# ---------------------------------------------------------------- reading in this process

def read_file(path, limits: ReadLimits = ReadLimits()) -> ReadOutcome:
    """Read one file in this process; never raises on bad input (native crashes: use read_files)."""
    path_text, kind = os.fspath(path), 'unknown'
    try:
        data, size = read_regular_file(path_text, limits.max_file_bytes)
        kind, problem, detail = classify(data, extension_of(path_text))
        if max(size, len(data)) > limits.max_file_bytes:
            return failed(path_text, kind, 'file_too_large', f'{max(size, len(data))} bytes > max_file_bytes')
        if problem:
            return failed(path_text, kind, problem, detail)
        warnings: tuple[str, ...] = ()
        if kind in ('xlsx', 'xlsm', 'ods'):
            warnings = check_zip(data, limits, scan_sheets=kind != 'ods')
        if kind in ('csv', 'text'):
            sheets = read_delimited(data, unicode_name(Path(path_text).stem), limits)
        else:
            sheets = read_workbook(data, kind, limits)
        if not any(map(has_cells, sheets)):
            return failed(path_text, kind, 'empty_file', 'no non-empty cell')
        return ReadOutcome(path_text, kind, tuple(sheets), None, '', warnings)
    except Refused as refusal:
        return failed(path_text, kind, refusal.problem, refusal.detail)
    except MemoryError:
        return failed(path_text, kind, 'file_too_large', 'out of memory while parsing')
    except Exception as error:
        return failed(path_text, kind, 'corrupt', f'{type(error).__name__} while parsing')
    except BaseException as error:
        if isinstance(error, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        # pyo3 turns a Rust panic into PanicException, which derives from BaseException.
        return failed(path_text, kind, 'parser_crashed', f'{type(error).__name__} in parser')


def read_regular_file(path: str, max_bytes: int) -> tuple[bytes, int]:
    """Return (content, size) of a regular file; only a head when it is over max_bytes.

    The whole file is read once so every check sees the same bytes even while a district is still
    writing it; symlinks, FIFOs and devices in a world-writable folder are refused.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise Refused('unsupported_type', 'symbolic link refused') from None
        raise Refused('corrupt', f'cannot open ({type(error).__name__})') from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode):  # before fdopen, which raises on a directory
        os.close(descriptor)
        raise Refused('unsupported_type', 'not a regular file')
    with os.fdopen(descriptor, 'rb') as handle:
        # One byte over the limit notices a file that grows while it is read.
        return handle.read(max_bytes + 1 if info.st_size <= max_bytes else 65536), info.st_size


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
    with tempfile.NamedTemporaryFile(suffix='.' + kind, dir=SCRATCH_DIRECTORY) as snapshot:
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


def read_delimited(data: bytes, name: str, limits: ReadLimits) -> list[RawSheet]:
    """Read CSV/TSV text as one sheet of str cells (no numeric coercion)."""
    text = decode_text(data)
    if text is None:
        raise Refused('unknown_encoding', 'not UTF-8, UTF-16 or cp874')
    rows, cells = [], 0
    try:
        for row in csv.reader(io.StringIO(text, newline=''), delimiter=sniff_delimiter(text)):
            cells += len(row)
            if cells > limits.max_cells or len(rows) >= limits.max_rows_per_sheet:
                raise Refused('too_many_cells', f'over {len(rows)} rows / {cells} cells')
            rows.append(row)
    except csv.Error as error:  # csv messages name the limit or the line, never the data
        raise Refused('corrupt', f'csv: {str(error)[:80]}') from None
    return [RawSheet(name, False, 1, 0, rows)]


def has_cells(sheet: RawSheet) -> bool:
    return any(not (value is None or isinstance(value, str) and not value.strip())
               for row in sheet.rows for value in row)


# ---------------------------------------------------------------- reading in child processes

@dataclass
class Child:
    index: int
    pid: int
    descriptor: int
    deadline: float
    scratch: str
    chunks: list[bytes] = field(default_factory=list)


def read_files(paths, limits: ReadLimits = ReadLimits(), workers: int = 2) -> list[ReadOutcome]:
    """Read each file in its own forked child under memory and time limits; results in the order of paths."""
    return [outcome for outcome, _ in read_and_process(paths, None, limits, workers)]


@dataclass(frozen=True)
class ChildResult:
    """What a child sends back: the outcome (without its cells when processed there) and the product."""

    outcome: ReadOutcome
    product: object = None
    error: str | None = None   # a traceback: our own bug while processing, raised in the parent


def read_and_process(paths, process=None, limits: ReadLimits = ReadLimits(), workers: int = 2,
                     meanwhile=None, reader=None, finished=None, sizes=None) -> list[tuple]:
    """Read each file in a limited child and, if given, run process(index, outcome) there too.

    Processing in the child uses both cores for the costly work after parsing and sends back only
    its (smaller) product instead of every raw cell. Returns (outcome, product) pairs in path order;
    a file whose child died has product None (the caller processes that failed outcome itself).
    `meanwhile`, if given, is work for this process while the children run (their results wait in their
    pipes): a callable, called once as soon as the first children are started, or an iterator of steps,
    advanced one step at a time with finished children replaced in between (no core left idle for long).
    `reader(path, limits)` replaces read_file (read_handoff: what this run has already parsed). `finished(index,
    outcome, product)`, if given, is called here as each file's result comes in (in the order they finish), so
    this process can use it at once. `sizes` orders the work when the
    paths' own sizes do not tell how much each is (say, hand-offs that hold only a layout).
    """
    paths = [os.fspath(path) for path in paths]
    sweep_scratch()
    results: list[ReadOutcome | None] = [None] * len(paths)
    # Largest files first (popped from the end): the two workers then finish close together.
    sizes = sizes or [file_size(path) for path in paths]
    waiting = sorted(range(len(paths)), key=lambda index: (sizes[index], -index))
    running: dict[int, Child] = {}
    steps = _steps(meanwhile)
    with selectors.DefaultSelector() as selector:
        try:
            while waiting or running:
                # While this process works on its own steps one more child runs: the cores stay busy even
                # when both children finish during a long step.
                while waiting and len(running) < max(1, workers) + (steps is not None):
                    child = start_child(waiting.pop(), paths, limits, process, reader)
                    running[child.descriptor] = child
                    selector.register(child.descriptor, selectors.EVENT_READ)
                timeout = None
                if steps is not None:
                    started = time.monotonic()
                    if next(steps, _DONE) is _DONE:
                        steps = None
                    for child in running.values():   # time spent here is not theirs: results wait in the pipes
                        child.deadline += time.monotonic() - started
                    timeout = 0.0   # only collect what has finished, then the next step
                if timeout is None:
                    timeout = min(child.deadline for child in running.values()) - time.monotonic()
                # Read results while children are still writing them: a child blocked on a full pipe
                # would otherwise never exit (the join-before-read deadlock).
                for key, _ in selector.select(max(0.0, timeout)):
                    child = running[key.fd]
                    chunk = os.read(key.fd, 1 << 20)
                    if chunk:
                        child.chunks.append(chunk)
                        continue
                    selector.unregister(key.fd)
                    del running[key.fd]
                    results[child.index] = finish_child(child, paths[child.index], limits)
                    if results[child.index][2]:
                        raise RuntimeError(f"processing {paths[child.index]} failed:\n{results[child.index][2]}")
                    if finished is not None:
                        finished(child.index, *results[child.index][:2])
                for child in [child for child in running.values() if child.deadline <= time.monotonic()]:
                    selector.unregister(child.descriptor)
                    del running[child.descriptor]
                    stop_child(child)
                    path = paths[child.index]
                    results[child.index] = (failed(path, detect_kind(path), 'timeout',
                                                   f'no result within {limits.seconds:g} s'), None, None)
                    if finished is not None:
                        finished(child.index, *results[child.index][:2])
        finally:
            for child in running.values():
                stop_child(child)
    for _ in steps or ():   # the children finished first (or there were none): the rest of the parent's work
        pass
    return [(outcome, product) for outcome, product, _ in results]


_DONE = object()


def _steps(meanwhile):
    """The parent's work as an iterator of steps (a plain callable is one step); None when there is none."""
    if meanwhile is None:
        return None
    return _one_step(meanwhile) if callable(meanwhile) else iter(meanwhile)


def _one_step(task):
    task()
    yield


HANDOFF_SUFFIX = '.cells.pickle'


def cell_count(sheet: RawSheet) -> int:
    """Cells the sheet's rows hold (or held, when a hand-off left them out)."""
    return sheet.cells if sheet.cells is not None else sum(len(row) for row in sheet.rows)


def save_handoff(outcome: ReadOutcome, path: Path, with_cells: bool = True) -> None:
    """Keep a parsed file for a later step of the same run (the feedback copy), so it is not parsed twice.

    Without cells, only each sheet's layout is kept (name, place, hidden, merged ranges, cell count).
    """
    if not with_cells:
        outcome = replace(outcome, sheets=tuple(replace(sheet, rows=[], cells=cell_count(sheet))
                                                for sheet in outcome.sheets))
    temporary = path.with_name(path.name + '.partial')
    with open(temporary, 'wb') as handle:
        pickle.dump(outcome, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temporary, path)


def read_handoff(path: str, limits: ReadLimits = ReadLimits()) -> ReadOutcome:
    """The cells save_handoff kept (our own file, written by this run); any other path is read as usual."""
    if not path.endswith(HANDOFF_SUFFIX):
        return read_file(path, limits)
    with open(path, 'rb') as handle:
        return pickle.load(handle)


def file_size(path: str) -> int:
    """Bytes of a file (0 when it cannot be seen)."""
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def address_space_bytes() -> int:
    """This process's virtual memory size: what a forked child inherits before it allocates anything."""
    try:
        with open('/proc/self/statm', 'rb') as handle:
            return int(handle.read().split()[0]) * os.sysconf('SC_PAGE_SIZE')
    except (OSError, ValueError, IndexError):
        return 0


def sweep_scratch(folder: str | None = None) -> int:
    """Remove the scratch folders of reading processes that died (they may hold a copy of a district file)."""
    swept = 0
    try:
        entries = list(os.scandir(folder or tempfile.gettempdir()))
    except OSError:
        return 0
    for entry in entries:
        match = SCRATCH_NAME.fullmatch(entry.name)
        if match and entry.is_dir(follow_symlinks=False) and not process_alive(int(match[1])):
            shutil.rmtree(entry.path, ignore_errors=True)
            swept += 1
    return swept


def process_alive(pid: int) -> bool:
    """True when a process with this id exists (ours or another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_child(index: int, paths: list[str], limits: ReadLimits, process=None, reader=None) -> Child:
    global SCRATCH_DIRECTORY
    scratch = tempfile.mkdtemp(prefix=f'readers-{os.getpid()}-')
    read_end, write_end = os.pipe()
    try:
        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 1 << 20)  # fewer wake-ups for large results
    except (OSError, AttributeError):
        pass
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:  # out of processes or memory: a machine problem, not the file's, so it is raised
        os.close(read_end)
        os.close(write_end)
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    if pid == 0:
        try:  # the child must never return into the caller's code, whatever happens
            os.close(read_end)
            die_with_parent(parent)
            SCRATCH_DIRECTORY = scratch
            child_main(paths[index], limits, write_end, process, index, reader)
        finally:
            os._exit(70)
    os.close(write_end)
    return Child(index, pid, read_end, time.monotonic() + limits.seconds, scratch)


def die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this child when the run dies, so a killed run leaves no parser behind."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the CPU limit below still bounds an orphan
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(70)


def child_main(path: str, limits: ReadLimits, descriptor: int, process=None, index: int = 0,
               reader=None) -> NoReturn:
    """Parse one file under RLIMIT_AS and stream the pickled outcome; always ends in os._exit."""
    status = 70
    try:
        gc.disable()  # a short-lived process: the cycle collector only slows building 200k row lists
        faulthandler.disable()  # a crash here is an expected, reported outcome, not a stack dump for the log
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = limits.memory_bytes if hard == resource.RLIM_INFINITY else min(limits.memory_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash on a hostile file leaves no core dump
        cpu = max(1, math.ceil(limits.seconds) + 1)  # the parent's wall-time limit, enforced even on an orphan
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        os.environ['RUST_BACKTRACE'] = '0'
        # A native parser's dying words (calamine: 'memory allocation of … bytes failed') are not the
        # terminal's business: the outcome says what happened, in the issues table.
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 2)
        os.close(quiet)
        outcome = (reader or read_file)(path, limits)
        result = ChildResult(outcome)
        if process is not None:
            try:
                product = process(index, outcome)
                result = ChildResult(replace(outcome, sheets=()), product)
            except MemoryError:
                raise
            except Exception:  # our bug, not the file's: the parent raises it with this traceback
                result = ChildResult(replace(outcome, sheets=()), None, traceback.format_exc())
        with open(descriptor, 'wb', buffering=1 << 20) as pipe:
            pickle.dump(result, pipe, protocol=pickle.HIGHEST_PROTOCOL)
        status = 0
    except MemoryError:
        status = EXIT_OUT_OF_MEMORY
    except BaseException:
        status = 70
    finally:
        if SCRATCH_DIRECTORY:  # normally empty by now; removed here too in case the parent was killed
            shutil.rmtree(SCRATCH_DIRECTORY, ignore_errors=True)
        os._exit(status)


def finish_child(child: Child, path: str, limits: ReadLimits) -> tuple:
    """Turn a finished child's exit status and bytes into (outcome, product, error)."""
    os.close(child.descriptor)
    _, status = os.waitpid(child.pid, 0)
    shutil.rmtree(child.scratch, ignore_errors=True)
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f'signal {number}'
        return failed(path, detect_kind(path), 'parser_crashed', f'parser process killed by {name}'), None, None
    if os.WEXITSTATUS(status) == EXIT_OUT_OF_MEMORY:
        return (failed(path, detect_kind(path), 'file_too_large',
                       f'parser process exceeded memory_bytes={limits.memory_bytes}'), None, None)
    payload, child.chunks = b''.join(child.chunks), []
    if os.WEXITSTATUS(status) == 0:
        gc_was_enabled = gc.isenabled()
        gc.disable()  # unpickling 200k row lists runs twice as fast without the cycle collector
        try:
            outcome = pickle.loads(payload)
        except Exception:
            outcome = None
        finally:
            if gc_was_enabled:
                gc.enable()
        if isinstance(outcome, ChildResult):
            return outcome.outcome, outcome.product, outcome.error
    return (failed(path, detect_kind(path), 'parser_crashed',
                   f'parser process exited with status {os.WEXITSTATUS(status)}'), None, None)


def stop_child(child: Child) -> None:
    try:
        os.kill(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(child.pid, 0)
    os.close(child.descriptor)
    shutil.rmtree(child.scratch, ignore_errors=True)
