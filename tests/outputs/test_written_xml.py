"""The parts written straight as XML for in-place feedback copies say what xlsxwriter would have written."""
from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree

import openpyxl
import pandas as pd
import xlsxwriter

from pipeline.outputs import style as workbook_style
from pipeline.outputs.feedback import book as feedback_book
from pipeline.outputs.feedback.plan import Line
from pipeline.outputs.xlsx import comments as xlsx_comments
from pipeline.outputs.xlsx import marks as xlsx_marks
from pipeline.outputs.xlsx import sheet_xml
from tests.builders import xlsx_book

AUTHOR = "ระบบตรวจสอบข้อมูล & co"
NOTES = {
    (0, 0): "ข้อผิดพลาด: ต้องกรอก\nค่าที่รับได้: ชาย · หญิง",
    (5, 2): " leading space & <tags> and _x0041_ kept as typed",
    (9, 7): "คำเตือน: " + "ยาวมาก " * 60,
    (1_048_575, 16_383): "the very last cell",
    (1_048_573, 16_381): "near the end",
    (1_048_574, 3): "second last row",
}


def xlsxwriter_parts(notes: dict, author: str) -> tuple[bytes, bytes]:
    """The comments part and VML drawing xlsxwriter writes for the same notes, as feedback_book asks it to."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for (row, column), note in notes.items():
        sheet.write_comment(row, column, note, {"author": author, "width": 380,
                                                "height": feedback_book.note_height(note)})
    book.close()
    with zipfile.ZipFile(buffer) as package:
        return package.read("xl/comments1.xml"), package.read("xl/drawings/vmlDrawing1.vml")


def test_comments_and_their_shapes_are_the_bytes_xlsxwriter_writes():
    comments, shapes = xlsxwriter_parts(NOTES, AUTHOR)
    assert xlsx_comments.comments_xml(NOTES, AUTHOR) == comments
    heights = {place: feedback_book.note_height(note) for place, note in NOTES.items()}
    assert xlsx_comments.vml_xml(heights, 1) == shapes
    assert b'data="3"' in xlsx_comments.vml_xml(heights, 3) and b"_x0000_s3073" in xlsx_comments.vml_xml(heights, 3)


LINES = [
    Line(("สรุปผลการตรวจ",), "title"),
    Line(("ไฟล์", "a & b <c>.xlsx"), "info", spans=((2, 7),)),
    Line(("ผล", "พบข้อผิดพลาด 2 รายการ"), "error", spans=((2, 7),)),
    Line(),
    Line(("ชีต", "อ่าน", "รับ", "ปฏิเสธ", "ซ้ำ", "ข้าม"), "header"),
    Line(("ข้อมูล", 120, 118, 2, 0, 0)),
    Line(("รวม", 120, 118, 2, 0, 0), "total"),
    Line(("ข้อผิดพลาด", "ต้องกรอก", "", "", "", "", "2 จุด"), "error", spans=((2, 6),)),
    Line(("ข้อมูล", "C7", "ชื่อ", "", "", "", "ต้องกรอก " + "ยาว " * 40), "body", "'ข้อมูล'!C7"),
    Line(("ชีต", "เซลล์", "คอลัมน์", "ค่า", "", "", "ข้อความ"), "header", spans=((4, 6),)),
]


def cell_looks(book, title: str) -> list:
    """Every cell of a sheet as the reader sees it: value, font, fill, alignment, link; and rows, merges, panes."""
    sheet = book[title]
    cells = [(cell.coordinate, cell.value if cell.value != "" else None, cell.font.b, cell.font.sz, cell.font.u,
              cell.font.color.rgb if cell.font.color else None, cell.fill.fgColor.rgb if cell.fill.fill_type else None,
              cell.alignment.wrap_text, cell.alignment.horizontal, cell.hyperlink.location if cell.hyperlink else None)
             for row in sheet.iter_rows() for cell in row if cell.has_style]   # unwritten cells: the book's default
    rows = [(number, sheet.row_dimensions[number].height) for number in range(1, sheet.max_row + 1)]
    return [cells, rows, sorted(map(str, sheet.merged_cells.ranges)), sheet.freeze_panes,
            [(key, dimension.width) for key, dimension in sheet.column_dimensions.items()]]


def test_the_summary_written_as_xml_reads_as_xlsxwriter_writes_it(tmp_path, config):
    rebuilt = tmp_path / "rebuilt.xlsx"
    feedback_book.write_book(rebuilt, "สรุป", LINES, [], {}, [], AUTHOR, config)
    district = io.BytesIO()
    xlsx_book({"ข้อมูล": [["ชื่อ", "อายุ"], ["ก", 1]]}).save(district)
    frame, body = feedback_book.summary_book("สรุป", LINES, config)
    marked = xlsx_marks.marked_package(district.getvalue(), frame, "สรุป", {}, body)
    in_place, expected = openpyxl.load_workbook(io.BytesIO(marked)), openpyxl.load_workbook(rebuilt)
    assert in_place.sheetnames == ["สรุป", "ข้อมูล"]
    assert cell_looks(in_place, "สรุป") == cell_looks(expected, "สรุป")
    assert in_place["สรุป"]["B2"].value == "a & b <c>.xlsx" and in_place["สรุป"]["B6"].value == 120



def test_summary_text_is_escaped_as_excel_reads_it():
    body = sheet_xml.sheet_body([(21.0, [(0, "a_x0041_ & <b>", frozenset(), None, None), (2, 7, frozenset(), None, 4)])],
                                  lambda look: 3)
    # _xHHHH_ would be read as an escaped character: its underscore is escaped, as xlsxwriter does
    assert b'<c r="A1" s="3" t="inlineStr"><is><t xml:space="preserve">a_x005F_x0041_ &amp; &lt;b&gt;</t></is></c>' in body.cells
    assert b'<row r="1" ht="21" customHeight="1">' in body.cells and b'<c r="C1" s="3"><v>7</v></c>' in body.cells
    assert body.after == b'<mergeCells count="1"><mergeCell ref="C1:E1"/></mergeCells>' and body.dimension == "A1:E1"


def test_issue_table_rows_written_as_xml_read_like_its_first_row(tmp_path, config, schema):
    headers = {"district": "label:district", "excel_row": "label:row", "value": "label:value", "message": "label:message"}
    frame = pd.DataFrame({"district": ["เมืองแพร่", "ลอง", "สอง", "วังชิ้น"],
                          "excel_row": pd.array([7, None, 12, 1_048_576], dtype="Int64"),
                          "value": ["=SUM(A1:A2)", "a & b <c>", "", None],
                          "message": ["ต้องกรอก", "ยาว " * 60, "0812345678", "x"]})
    report = {"week": "2021-12-24"}
    path = tmp_path / "issues.xlsx"
    book = workbook_style.new_workbook(path, config)
    rest = workbook_style.table_sheet(book, "ปัญหา", "หัวเรื่อง", report, config, schema, frame, headers)
    book.close()
    path.write_bytes(workbook_style.add_table_rows(path.read_bytes(), rest))
    sheet = openpyxl.load_workbook(path)["ปัญหา"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=5)]
    assert rows == [["เมืองแพร่", 7, "=SUM(A1:A2)", "ต้องกรอก"], ["ลอง", "", "a & b <c>", "ยาว " * 60],
                    ["สอง", 12, "", "0812345678"], ["วังชิ้น", 1_048_576, "", "x"]]
    first, later = list(sheet.iter_rows(min_row=5, max_row=5))[0], list(sheet.iter_rows(min_row=6))
    for row in later:   # the rows written as XML look like the first, which xlsxwriter wrote
        for cell, model in zip(row, first):
            assert (cell.font.name, cell.font.sz, cell.border.left.style, cell.alignment.wrap_text) == \
                (model.font.name, model.font.sz, model.border.left.style, model.alignment.wrap_text)
        assert sheet.row_dimensions[row[0].row].height == sheet.row_dimensions[5].height
    assert first[3].alignment.wrap_text and not first[0].alignment.wrap_text and first[0].border.left.style == "thin"
    assert sheet["C5"].data_type == "s"   # a formula-looking value stays text
    assert sheet.auto_filter.ref == "A4:D8" and sheet.freeze_panes == "A5" and sheet.dimensions == "A1:D8"


def test_control_characters_become_excel_escapes_not_broken_xml():
    rows = sheet_xml.table_rows([["a\x01b", "x"], [3, ""]], 5, [2, 4], 24)
    assert rows.startswith(b'<row r="5" ht="24" customHeight="1"><c r="A5" s="2" t="inlineStr"><is><t '
                           b'xml:space="preserve">a_x0001_b</t></is></c><c r="B5" s="4"><v>3</v></c></row>')
    assert b'<row r="6"' in rows and rows.count(b"<row ") == 2


def test_what_xml_forbids_is_written_as_excel_escapes_as_xlsxwriter_does():
    text = "a\ufffeb\uffffc\ud800d\x00e\rf_x0041_&"
    assert sheet_xml.xml_text(text) == "a_xFFFE_b_xFFFF_c_xD800_d_x0000_e_x000D_f_x005F_x0041_&amp;"
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.add_worksheet().write_string(0, 0, text.replace("\ud800", ""))
    book.close()
    with zipfile.ZipFile(buffer) as package:
        written = package.read("xl/sharedStrings.xml").decode()
    assert sheet_xml.xml_text(text.replace("\ud800", "")) in written
    notes = xlsx_comments.comments_xml({(0, 0): text}, "ระบบ\uffff")
    ElementTree.fromstring(notes)   # well-formed
    assert b"_xFFFF_" in notes and b"_xD800_" in notes
