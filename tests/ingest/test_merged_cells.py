"""Merged data cells: หมู่ / ตำบล / อำเภอ typed once and merged down a village's rows count for every row."""
from __future__ import annotations

import json
import struct
from pathlib import Path

import openpyxl
import pytest
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import CoveredTableCell, Table, TableCell, TableRow
from odf.text import P

from pipeline.ingest.layout import build_table
from pipeline.ingest.merged import fill_down, filled
from pipeline.run import run_weekly
from pipeline.sources.readers import read_file
from pipeline.core.outcome import RawSheet
from pipeline.sources.workbooks import ods_merged_ranges
from tests.builders import headers, set_mtime, write_xlsx
from tests.conftest import PROJECT, bangkok
from tests.sources.test_readers import biff8_workbook_stream, compound_file

WEEK = "2021-12-24"
SENT = bangkok(2021, 12, 23, 9)
BAD_DISTRICT = "อำเภอทดสอบ"


def person(first: str, phone: str, subdistrict: str | None, district: str | None) -> list:
    """A volunteer row; None leaves the cell empty (a merged range covers it)."""
    return ["นาย", first, "ทดสอบ", phone, "อสม.", "อสม.(moicovid)", subdistrict or "", district or "", "21/12/2564"]


def village_rows(district: str, subdistricts: tuple[str, str], phone_prefix: str) -> list[list]:
    """Title, header, then three villages as a clerk types them: ตำบล and อำเภอ once per village (rows 3, 6, 8)."""
    first, second = subdistricts
    return [
        ["แบบรายงานอาสาสมัคร"],
        headers("volunteers"),
        person("หนึ่ง", f"{phone_prefix}01", first, district), person("สอง", f"{phone_prefix}02", None, None),
        person("สาม", f"{phone_prefix}03", None, None),
        person("สี่", f"{phone_prefix}04", second, district), person("ห้า", f"{phone_prefix}05", None, None),
        person("หก", f"{phone_prefix}06", first, BAD_DISTRICT), person("เจ็ด", f"{phone_prefix}07", None, None),
        person("แปด", f"{phone_prefix}08", None, None),
    ]


# 0-based ((first row, first column), (last row, last column)): the title, then ตำบล (G) and อำเภอ (H) per village.
MERGES = (((0, 0), (0, 8)),
          ((2, 6), (4, 6)), ((2, 7), (4, 7)), ((5, 6), (6, 6)), ((5, 7), (6, 7)), ((7, 6), (9, 6)), ((7, 7), (9, 7)))


def excel_range(merge) -> str:
    (first_row, first_column), (last_row, last_column) = merge
    return f"{chr(65 + first_column)}{first_row + 1}:{chr(65 + last_column)}{last_row + 1}"


def write_merged_xlsx(path: Path, rows: list[list], merges) -> Path:
    write_xlsx(path, {"อาสาสมัคร": rows})
    book = openpyxl.load_workbook(path)
    for merge in merges:
        book["อาสาสมัคร"].merge_cells(excel_range(merge))
    book.save(path)
    set_mtime(path, SENT)
    return path


def write_merged_ods(path: Path, rows: list[list], merges) -> Path:
    """An .ods (odfpy) whose merged cells carry number-rows-spanned / number-columns-spanned, covered cells after."""
    starts = {first: (last[0] - first[0] + 1, last[1] - first[1] + 1) for first, last in merges}
    covered = {(r, c) for (r0, c0), (r1, c1) in merges
               for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)} - set(starts)
    document, table = OpenDocumentSpreadsheet(), Table(name="อาสาสมัคร")
    for row_index, row in enumerate(rows):
        element = TableRow()
        for column_index in range(9):
            value = row[column_index] if column_index < len(row) else ""
            if (row_index, column_index) in covered:
                element.addElement(CoveredTableCell())
                continue
            spans = starts.get((row_index, column_index), (1, 1))
            extra = {"numberrowsspanned": spans[0], "numbercolumnsspanned": spans[1]} if spans != (1, 1) else {}
            cell = TableCell(valuetype="string", **extra) if value else TableCell(**extra)
            if value:
                cell.addElement(P(text=str(value)))
            element.addElement(cell)
        table.addElement(element)
    document.spreadsheet.addElement(table)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    set_mtime(path, SENT)
    return path


def write_merged_xls(path: Path, rows: list[list], merges) -> Path:
    """A BIFF8 .xls built byte by byte (no xls writer is a dependency), with a MERGEDCELLS record."""
    cells = [(r, c, value) for r, row in enumerate(rows) for c, value in enumerate(row) if value != ""]
    stream = biff8_workbook_stream("อาสาสมัคร", cells)
    ranges = b"".join(struct.pack("<HHHH", first[0], last[0], first[1], last[1]) for first, last in merges)
    record = struct.pack("<HHH", 0x00E5, 2 + len(ranges), len(merges)) + ranges
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(compound_file([("Workbook", stream[:-4] + record + stream[-4:])]))   # before the sheet's EOF
    set_mtime(path, SENT)
    return path


def blanked(rows: list[list], merges) -> list[list]:
    """The rows as a merge leaves them: every cell a range covers, but its first, empty."""
    rows = [list(row) for row in rows]
    for (r0, c0), (r1, c1) in merges:
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                if (r, c) != (r0, c0) and c < len(rows[r]):
                    rows[r][c] = ""
    return rows


ACROSS = (((2, 6), (3, 7)),)   # ตำบล and อำเภอ of two rows merged together: the value stays in ตำบล


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    root = tmp_path_factory.mktemp("merged")
    inbox = root / "inbox"
    write_merged_xlsx(inbox / "5401" / "หมู่บ้าน.xlsx", village_rows("เมืองแพร่", ("ในเวียง", "ป่าแดง"), "08100000"),
                      MERGES)
    write_merged_ods(inbox / "5404" / "หมู่บ้าน.ods",
                     blanked(village_rows("สูงเม่น", ("สูงเม่น", "หัวฝาย"), "08200000"), MERGES), MERGES)
    write_merged_xls(inbox / "5402" / "หมู่บ้าน.xls",
                     blanked(village_rows("ร้องกวาง", ("ร้องกวาง", "น้ำเลา"), "08300000"), MERGES), MERGES)
    across = [["แบบรายงานอาสาสมัคร"], headers("volunteers"), person("หนึ่ง", "0840000001", "วังชิ้น", None),
              person("สอง", "0840000002", None, None), person("สาม", "0840000003", "วังชิ้น", "วังชิ้น")]
    write_merged_xlsx(inbox / "5407" / "คร่อม.xlsx", across, ACROSS)
    run = run_weekly(PROJECT / "config.yaml", inbox, root / "out", WEEK, now=bangkok(2021, 12, 24, 17),
                     progress=lambda message: None)
    report = json.loads((run.week_dir / "report.json").read_text(encoding="utf-8"))
    return root, run, report


# ---------------------------------------------------------------- reading the merges

def test_each_format_gives_the_same_merged_ranges(week):
    root, _, _ = week
    for name in ("5401/หมู่บ้าน.xlsx", "5404/หมู่บ้าน.ods", "5402/หมู่บ้าน.xls"):
        sheet = read_file(root / "inbox" / name).sheets[0]
        assert sorted(sheet.merged) == sorted(MERGES), name
        assert sheet.rows[3][6] == "" and sheet.rows[2][6] != ""   # as read: the value in the first row only


def test_ods_merges_count_repeated_rows_and_cells():
    content = (b'<office:document-content xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               b'xmlns:office="o"><table:table table:name="A &amp; B"><table:table-row table:number-rows-repeated="2">'
               b'<table:table-cell/></table:table-row><table:table-row><table:table-cell '
               b'table:number-columns-repeated="3"/><table:table-cell table:number-rows-spanned="4"><text:p>x</text:p>'
               b'</table:table-cell></table:table-row></table:table><table:table table:name="other"><table:table-row>'
               b'<table:table-cell table:number-columns-spanned="2"/><table:covered-table-cell/></table:table-row>'
               b'</table:table></office:document-content>')
    assert ods_merged_ranges(content) == {"A & B": (((2, 3), (5, 3)),), "other": (((0, 0), (0, 1)),)}
    assert ods_merged_ranges(b"<x/>") == {}


# ---------------------------------------------------------------- the fill (pure)

def test_fill_down_copies_the_value_into_rows_that_hold_something():
    rows = [["h1", "h2"], ["a", "x"], ["b", ""], ["", ""], ["c", ""]]
    result = fill_down(rows, 0, 0, (((1, 1), (4, 1)),))
    assert result == [["h1", "h2"], ["a", "x"], ["b", "x"], ["", ""], ["c", "x"]]   # the blank row stays blank
    assert rows[2] == ["b", ""]   # the given rows are untouched
    assert fill_down(rows, 0, 0, (((0, 0), (0, 1)),)) is rows   # a one-row range has nothing to fill


def test_fill_down_works_in_sheet_coordinates_and_clips_to_the_rows_read():
    sheet = RawSheet("s", False, 3, 2, [["v", "a"], ["", "b"]], merged=(((2, 2), (1_000_000, 2)),))
    assert filled(sheet).rows == [["v", "a"], ["v", "b"]]
    assert filled(RawSheet("s", False, 1, 0, [["a"]])).rows == [["a"]]


def test_header_rows_merged_down_still_give_the_same_header(schema):
    # A two-row header whose single-row fields are merged down over the sub-header row.
    top = ["คำนำหน้า", "ชื่อ", "นามสกุล", "เบอร์โทรศัพท์มือถือ", "ประเภทอาสาสมัคร", "สังกัด", "ที่อยู่", "",
           "วันที่ลงทะเบียน"]
    sub = ["", "", "", "", "", "", "ตำบล", "อำเภอ", ""]
    rows = [["แบบรายงาน"], top, sub, person("หนึ่ง", "0812345678", "ในเวียง", "เมืองแพร่")]
    merges = (((0, 0), (0, 8)), ((1, 6), (1, 7)), *(((1, c), (2, c)) for c in (0, 1, 2, 3, 4, 5, 8)))
    sheet = filled(RawSheet("อาสาสมัคร", False, 1, 0, rows, merged=merges))
    table = build_table("อาสาสมัคร", sheet.rows, 1, schema)
    assert table.header_row == 3 and len(table.columns) == 9 and list(table.cells.index) == [4]


# ---------------------------------------------------------------- the figures

@pytest.mark.parametrize("district", ["5401", "5404", "5402"])
def test_every_row_of_a_merged_village_counts(week, district):
    _, run, report = week
    block = report["districts"][district]
    assert block["volunteers"]["total"] == 5   # two villages of 3 and 2 rows; the third names no real อำเภอ
    submission = block["submission"]
    assert (submission["rows_read"], submission["accepted"], submission["rejected"]) == (8, 5, 3)
    issues = run.result.issues[run.result.issues["district_folder"] == district]
    assert not issues["code"].eq("required_missing").any()
    assert sorted(issues.loc[issues["code"].eq("district_unknown"), "excel_row"]) == [8, 9, 10]


def test_a_merge_across_columns_is_a_warning_and_keeps_its_first_column(week):
    _, run, report = week
    issues = run.result.issues[run.result.issues["district_folder"] == "5407"]
    warning = issues[issues["code"] == "merged_across_columns"]
    assert len(warning) == 1
    assert (warning["excel_row"].iloc[0], warning["column_letter"].iloc[0], warning["severity"].iloc[0]) \
        == (3, "G", "warning")
    assert "G3:H4" in warning["message"].iloc[0] and "อำเภอ" in warning["message"].iloc[0]
    missing = issues[issues["code"] == "required_missing"]
    # ตำบล filled down, อำเภอ left empty
    assert sorted(zip(missing["excel_row"], missing["column_letter"])) == [(3, "H"), (4, "H")]
    assert report["districts"]["5407"]["volunteers"]["total"] == 1
    assert report["districts"]["5407"]["submission"]["rejected"] == 2


def test_title_and_group_merges_give_no_warning(week):
    _, run, _ = week
    codes = run.result.issues["code"]
    assert codes.eq("merged_across_columns").sum() == 1   # only the one in the data block


# ---------------------------------------------------------------- the feedback copy

def feedback_book(run, source: str):
    folder = run.week_dir / "feedback"
    stem = Path(source).stem
    found = [path for path in folder.rglob(f"{stem}.feedback.xlsx") if source.split("/")[0] in path.parent.name]
    assert len(found) == 1, found
    return openpyxl.load_workbook(found[0])


@pytest.mark.parametrize("source", ["5401/หมู่บ้าน.xlsx", "5404/หมู่บ้าน.ods", "5402/หมู่บ้าน.xls"])
def test_a_merged_cell_with_the_same_problem_on_every_row_is_marked_once(week, source):
    _, run, _ = week
    sheet = feedback_book(run, source)["อาสาสมัคร"]
    assert "H8:H10" in {str(merged) for merged in sheet.merged_cells.ranges}
    comments = {cell.coordinate: cell.comment.text for row in sheet.iter_rows() for cell in row if cell.comment}
    assert set(comments) == {"H8"}   # one comment for the three rows of the bad village, none inside the range
    assert comments["H8"].count(BAD_DISTRICT) == 1
    assert sheet["H8"].fill.fgColor.rgb.endswith("FF9C9C")
