"""Writers: grids to .xlsx (openpyxl), .ods (OpenDocument XML) and .csv (utf-8, utf-8-sig, cp874)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from pipeline.synthetic.cells import csv_text
from pipeline.synthetic.layout import Grid


def write_xlsx(path: Path, grids: list[Grid]) -> None:
    """One sheet per grid; merged titles and group labels, wrapped headers, a hidden junk sheet stays hidden."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for grid in grids:
        sheet = workbook.create_sheet(grid.name)
        for row in grid.cells:
            sheet.append(row)
        for r1, c1, r2, c2 in grid.merges:
            sheet.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
        _style(sheet, grid)
        if grid.hidden:
            sheet.sheet_state = "hidden"
    workbook.save(path)


def _style(sheet, grid: Grid) -> None:
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, (dt.date, dt.datetime)):
                cell.number_format = "dd/mm/yyyy"  # how a Thai-locale Excel shows a typed date
            elif isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula
    if grid.header_row:
        for cell in sheet[grid.header_row]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.cell(1, 1).font = Font(bold=True, size=14)
    for index in range(1, max((len(r) for r in grid.cells), default=0) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 16


def write_csv(path: Path, grid: Grid, encoding: str) -> None:
    """One dataset as CSV the way Excel saves it (CRLF, dates as text, numbers as plain digits)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in grid.cells:
        writer.writerow([csv_text(value) for value in row])
    path.write_bytes(buffer.getvalue().encode(encoding))


ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
ODS_MANIFEST = f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:version="1.2" manifest:media-type="{ODS_MIMETYPE}"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
"""
ODS_NAMESPACES = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
                  'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
                  'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"')


def write_ods(path: Path, grids: list[Grid]) -> None:
    """One table per grid, merged titles spanned; the XML is written directly (odfpy is ~50x slower)."""
    tables = "".join(_ods_table(grid) for grid in grids)
    content = (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {ODS_NAMESPACES}>'
               f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), ODS_MIMETYPE, compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", ODS_MANIFEST)
        archive.writestr("content.xml", content)


def _ods_table(grid: Grid) -> str:
    spans = {(r1, c1): (r2 - r1 + 1, c2 - c1 + 1) for r1, c1, r2, c2 in grid.merges}
    covered = {(r, c) for r1, c1, r2, c2 in grid.merges for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)
               if (r, c) != (r1, c1)}
    rows = []
    for row_number, row in enumerate(grid.cells, start=1):
        cells = []
        for column, value in enumerate(row, start=1):
            if (row_number, column) in covered:
                cells.append("<table:covered-table-cell/>")
            else:
                cells.append(_ods_cell(value, *spans.get((row_number, column), (1, 1))))
        rows.append(f"<table:table-row>{''.join(cells) or '<table:table-cell/>'}</table:table-row>")
    return f'<table:table table:name="{escape(grid.name, {chr(34): "&quot;"})}">{"".join(rows)}</table:table>'


def _ods_cell(value, row_span: int, column_span: int) -> str:
    spanned = (f' table:number-columns-spanned="{column_span}"' if column_span > 1 else "") + \
        (f' table:number-rows-spanned="{row_span}"' if row_span > 1 else "")
    if value is None:
        return f"<table:table-cell{spanned}/>"
    if isinstance(value, dt.date):
        kind = f'office:value-type="date" office:date-value="{value.isoformat()}"'
        text = f"{value.day:02d}/{value.month:02d}/{value.year}"
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        kind, text = f'office:value-type="float" office:value="{value}"', str(value)
    else:
        kind, text = 'office:value-type="string"', str(value)
    paragraphs = "".join(f"<text:p>{_ods_text(line)}</text:p>" for line in text.split("\n"))
    return f"<table:table-cell {kind}{spanned}>{paragraphs}</table:table-cell>"


def _ods_text(line: str) -> str:
    """Escaped text whose extra spaces survive (ODF collapses plain runs of spaces)."""
    parts = []
    for match in re.finditer(r" +|[^ ]+", line):
        part = match.group()
        if part[0] != " ":
            parts.append(escape(part))
        elif len(part) == 1 and 0 < match.start() and match.end() < len(line):
            parts.append(" ")
        else:
            parts.append(f'<text:s text:c="{len(part)}"/>')
    return "".join(parts)


def write_lock_file(path: Path) -> None:
    """An Office owner/lock file ('~$name.xlsx'): a user name padded with junk bytes."""
    owner = "อำเภอ".encode("utf-16-le")
    path.write_bytes(bytes([len("amphoe")]) + b"amphoe" + b"\x00" * 48 + owner + b"\x20\x00" * 40)


def write_ds_store(path: Path) -> None:
    """A macOS Finder '.DS_Store' (binary junk that is not a spreadsheet)."""
    path.write_bytes(b"\x00\x00\x00\x01Bud1" + bytes(range(256)) * 8)


def write_corrupt_workbook(path: Path, noise: bytes) -> None:
    """An .xlsx cut short in a copy: a zip signature, then noise (no program can open it)."""
    path.write_bytes(b"PK\x03\x04" + noise)


COVER_LETTER = ("บันทึกข้อความ", "ส่วนราชการ ที่ว่าการอำเภอ{district}", "เรื่อง ขอส่งรายงานข้อมูลประจำสัปดาห์",
                "เรียน นายอำเภอ{district}", "ตามที่จังหวัดได้ขอให้อำเภอรายงานข้อมูล บัดนี้อำเภอได้ดำเนินการเรียบร้อยแล้ว",
                "จึงเรียนมาเพื่อโปรดทราบ")


def write_cover_letter(path: Path, district_name: str) -> None:
    """A workbook holding only the cover memo a clerk meant to attach the tables to (no sheet of any form)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "หนังสือนำส่ง"
    for line in COVER_LETTER:
        sheet.append([line.format(district=district_name)])
    sheet.column_dimensions["A"].width = 80
    workbook.save(path)
