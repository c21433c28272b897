"""Any text a district can send, through every writer of XML text: the workbook stays well-formed and opens.

Cells, summary lines, issue-table rows and notes may hold any Unicode: control characters, U+FFFE and U+FFFF,
lone surrogates (Python holds undecodable bytes so), a literal _xHHHH_, more than a cell's 32,767 characters.
Each written workbook is read back with openpyxl and checked by xlsx-check (no CERTAIN or MIGHT finding), and
the text read from its XML, Excel's _xHHHH_ escapes decoded, is the text written (cut with … when too long).
"""
from __future__ import annotations

import importlib.util
import io
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.comments import Comment

from pipeline.outputs import style as workbook_style
from pipeline.outputs.feedback import book as feedback_book
from pipeline.outputs.feedback.plan import Line, Mark
from pipeline.outputs.xlsx import marks as xlsx_marks
from pipeline.outputs.xlsx.sheet_xml import EXCEL_TEXT_LIMIT, ELLIPSIS, fitted
from pipeline.core.outcome import RawSheet
from tests.builders import xlsx_checker, xlsx_book

pytestmark = pytest.mark.skipif(importlib.util.find_spec("lxml") is None, reason="xlsx-check needs lxml")
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
SPECIAL = ["\ufffe", "\uffff", "\ud800", "\udfff", "\x00", "\x01", "\x0b", "\r", "\r\n", "\t", "\n", "_x0041_",
           "_x005F_", "_xD800_", "&", "<", "]]>", "\u0e48", "ไข่", "\U0001F600", " "]
TEXT = st.lists(st.one_of(st.text(st.characters(codec=None, exclude_categories=()), max_size=12),
                          st.sampled_from(SPECIAL)), max_size=8).map("".join)
EXAMPLES = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])



def decoded(text: str | None) -> str:
    """XML text as Excel reads it: each _xHHHH_ the character it names, left to right."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda match: chr(int(match.group(1), 16)), text or "")


def opens_cleanly(data: bytes, tmp_path: Path) -> zipfile.ZipFile:
    """The package loads in openpyxl and xlsx-check finds nothing Excel would repair."""
    openpyxl.load_workbook(io.BytesIO(data))
    path = tmp_path / "checked.xlsx"
    path.write_bytes(data)
    serious = [finding for finding in xlsx_checker().validate_file(str(path)).findings if finding[0] in ("CERTAIN", "MIGHT")]
    assert not serious, serious[:3]
    return zipfile.ZipFile(io.BytesIO(data))


def cell_text(archive: zipfile.ZipFile, part: str, reference: str) -> str:
    """The decoded text of a cell (inline or shared)."""
    cell = next(c for c in ElementTree.fromstring(archive.read(part)).iter(f"{MAIN}c") if c.get("r") == reference)
    if cell.get("t") == "s":
        strings = ElementTree.fromstring(archive.read("xl/sharedStrings.xml")).findall(f"{MAIN}si")
        return decoded("".join(t.text or "" for t in strings[int(cell.findtext(f"{MAIN}v"))].iter(f"{MAIN}t")))
    return decoded("".join(t.text or "" for t in cell.iter(f"{MAIN}t")))


def note_texts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Every note of the package by cell, decoded."""
    notes = {}
    for name in archive.namelist():
        if "comment" in name and name.endswith(".xml"):
            for comment in ElementTree.fromstring(archive.read(name)).iter(f"{MAIN}comment"):
                notes[comment.get("ref")] = decoded("".join(t.text or "" for t in comment.iter(f"{MAIN}t")))
    return notes


@pytest.fixture(scope="module")
def district() -> bytes:
    """A plain district workbook with a note of its own on A1."""
    book = xlsx_book({"ข้อมูล": [["ชื่อ", "เบอร์"], ["ก", "0812345678"], ["ข", "12"]]})
    book["ข้อมูล"]["A1"].comment = Comment("หมายเหตุของอำเภอ", "อำเภอ")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@EXAMPLES
@given(text=TEXT)
def test_summary_and_notes_of_a_copy_marked_in_place(text, district, config, tmp_path):
    lines = [Line(("ไฟล์", text), "info", spans=((2, 7),)),
             Line(("ข้อมูล", "B3", "เบอร์", text, "", "", text), "body", "'ข้อมูล'!B3")]
    frame, body = feedback_book.summary_book("สรุป", lines, config)
    marks = {"ข้อมูล": xlsx_marks.SheetMarks({(3, 2): "error"}, {(2, 1): text, (0, 0): text})}
    archive = opens_cleanly(xlsx_marks.marked_package(district, frame, "สรุป", marks, body, author=text), tmp_path)
    summary = "xl/worksheets/feedback_summary.xml"
    if feedback_book.clean(text):
        assert cell_text(archive, summary, "B1") == feedback_book.clean(text)
    notes = note_texts(archive)
    assert notes["B3"] == fitted(text)
    assert notes["A1"] == f"{fitted(text, EXCEL_TEXT_LIMIT - 20)}\n—\nหมายเหตุของอำเภอ"   # ours, then theirs


@EXAMPLES
@given(name=TEXT, text=TEXT)
def test_a_rebuilt_copy(name, text, config, tmp_path):
    sheets = [RawSheet(name, False, 1, 0, [["ชื่อ", "ค่า"], ["ก", text]])]
    titles = feedback_book.unique_titles([name], ["สรุป"])
    path = tmp_path / "rebuilt.xlsx"
    feedback_book.write_book(path, "สรุป", [Line(("ไฟล์", text), "info")], sheets, titles,
                             [Mark(name, 2, 2, "error", (text,))], "ระบบ", config)
    archive = opens_cleanly(path.read_bytes(), tmp_path)
    if feedback_book.clean(text):
        assert cell_text(archive, "xl/worksheets/sheet2.xml", "B2") == feedback_book.clean(text)
    assert note_texts(archive)["B2"] == re.sub("[\ud800-\udfff]", "\ufffd", fitted(text))   # no UTF-8 for those


@EXAMPLES
@given(texts=st.lists(TEXT, min_size=1, max_size=4))
def test_issue_table_rows(texts, config, schema, tmp_path):
    frame = pd.DataFrame({"value": ["x", *texts], "message": ["y", *reversed(texts)]})
    buffer = io.BytesIO()
    book = workbook_style.new_workbook(buffer, config)
    rest = workbook_style.table_sheet(book, "ปัญหา", "หัวเรื่อง", {"week": "2021-12-24"}, config, schema, frame,
                                      {"value": "label:value", "message": "label:message"})
    book.close()
    archive = opens_cleanly(workbook_style.add_table_rows(buffer.getvalue(), rest), tmp_path)
    for offset, text in enumerate(texts, start=6):   # row 5 is xlsxwriter's; the rest are written as XML
        assert cell_text(archive, "xl/worksheets/sheet1.xml", f"A{offset}") == fitted(text)


def test_text_longer_than_a_cell_is_cut_with_an_ellipsis_on_a_letter(district, config, tmp_path):
    text = "ก่" * 20_000 + "\uffff" * 3   # 40,003 characters: Thai tone marks stay on their consonant
    lines = [Line(("ไฟล์", text), "info", spans=((2, 7),))]
    frame, body = feedback_book.summary_book("สรุป", lines, config)
    marks = {"ข้อมูล": xlsx_marks.SheetMarks({}, {(2, 1): text})}
    archive = opens_cleanly(xlsx_marks.marked_package(district, frame, "สรุป", marks, body, author="ระบบ"), tmp_path)
    shown, note = cell_text(archive, "xl/worksheets/feedback_summary.xml", "B1"), note_texts(archive)["B3"]
    assert shown == note and shown.endswith("ก่" + ELLIPSIS) and len(shown) <= EXCEL_TEXT_LIMIT
    escaped = "\uffff" * 5000   # each is written as 7 characters: the written text fits too
    assert len(fitted(escaped)) < EXCEL_TEXT_LIMIT // 7 + 1 and fitted(escaped).endswith(ELLIPSIS)
