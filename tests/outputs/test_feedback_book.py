"""Rendering a feedback workbook from raw cells: values typed at their own cells, merges, marks and comments."""
from __future__ import annotations

import datetime as dt

import openpyxl

from pipeline.outputs.feedback.book import FILLS, unique_titles, write_book
from pipeline.outputs.feedback.plan import Mark
from pipeline.core.outcome import RawSheet

ROWS = [
    ["แบบรายงาน", "", ""],
    ["ชื่อ", "วันที่", "จำนวน"],
    ["สมชาย", dt.date(2021, 12, 20), ""],   # C4:D4 merged, as districts do
    ["=HYPERLINK(\"http://x\")", dt.datetime(2021, 12, 21, 9, 30), 2.5],
    ["ใจ\x07ดี", dt.date(1850, 1, 2), 3],
    ["", "", True],
]


def render(tmp_path, config, marks, sheets=None):
    sheets = sheets or [RawSheet("ข้อมูล", False, 2, 1, [list(row) for row in ROWS], (((1, 1), (1, 3)), ((3, 2), (3, 3)))),
                        RawSheet("History", True, 1, 0, [["x"]])]
    titles = unique_titles([sheet.name for sheet in sheets], ["สรุป"])
    path = tmp_path / "feedback.xlsx"
    write_book(path, "สรุป", [], sheets, titles, marks, "จังหวัด", config)
    return openpyxl.load_workbook(path), titles


def test_values_keep_their_cells_and_types(tmp_path, config):
    book, titles = render(tmp_path, config, [])
    assert book.sheetnames == ["สรุป", "ข้อมูล", titles["History"]] and titles["History"] != "History"
    sheet = book["ข้อมูล"]   # the block started at B2: first_row 2, first_column 1
    assert sheet["B2"].value == "แบบรายงาน" and sheet["A1"].value is None
    assert sheet["C4"].value == dt.datetime(2021, 12, 20) and sheet["C4"].number_format == "dd/mm/yyyy"
    assert sheet["C5"].value == dt.datetime(2021, 12, 21, 9, 30)
    assert sheet["D5"].value == 2.5 and sheet["D6"].value == 3 and sheet["D7"].value is True
    assert sheet["B5"].data_type == "s" and sheet["B5"].value.startswith("=HYPERLINK")   # never a formula
    assert sheet["B6"].value == "ใจดี"   # control character removed
    assert sheet["C6"].value == "02/01/1850"   # before Excel's calendar: as written, not a wrong date
    assert {str(area) for area in sheet.merged_cells.ranges} == {"B2:D2", "C4:D4"}
    assert book[titles["History"]].sheet_state == "hidden"
    assert not any(cell.fill.fill_type for row in sheet.iter_rows() for cell in row)


def test_marks_fill_the_shown_cell_and_join_their_reasons(tmp_path, config):
    marks = [Mark("ข้อมูล", 4, 4, "warning", ("คำเตือน: ตรวจสอบจำนวน",)),   # D4 is inside the merged C4:D4
             Mark("ข้อมูล", 4, 3, "error", ("ข้อผิดพลาด: วันที่ไม่ถูกต้อง",)),
             Mark("ข้อมูล", 7, 2, "warning", ("คำเตือน: แถวว่าง",))]   # below the data: an empty cell
    book, _ = render(tmp_path, config, marks)
    sheet = book["ข้อมูล"]
    assert sheet["C4"].fill.fgColor.rgb.endswith(FILLS["error"])   # the worst of the two, on the top-left cell
    assert sheet["C4"].number_format == "dd/mm/yyyy" and sheet["C4"].value == dt.datetime(2021, 12, 20)
    comment = sheet["C4"].comment
    assert comment.author == "จังหวัด"
    assert "ตรวจสอบจำนวน" in comment.text and "วันที่ไม่ถูกต้อง" in comment.text
    assert sheet["B7"].fill.fgColor.rgb.endswith(FILLS["warning"]) and "แถวว่าง" in sheet["B7"].comment.text
    assert sheet["D4"].comment is None
    assert {str(area) for area in sheet.merged_cells.ranges} == {"B2:D2", "C4:D4"}
