"""Finding the form, the header row and the columns in a sheet's raw rows."""
import pandas as pd

from pipeline.ingest import layout

VOLUNTEER_HEADER = ["ลำดับ", "คำนำหน้า", "ชื่อ *", "นามสกุล\n", "เบอร์โทรศัพท์มือถือ", "ประเภทอาสาสมัคร",
                    "สังกัด", "ตำบล", "อำเภอ", "วันที่ลงทะเบียน", "หมายเหตุเพิ่มเติม"]


def _row(*values):
    return list(values) + [""] * (len(VOLUNTEER_HEADER) - len(values))


def test_title_rows_totals_and_blank_rows(schema):
    rows = [
        _row("แบบรายงานอาสาสมัคร อำเภอลอง"), _row(),
        VOLUNTEER_HEADER,
        _row(1, "นาย", "สมชาย", "ใจดี", 812345678.0, "อสม.", "รพ.สต.(moicovid)", "ห้วยอ้อ", "ลอง", "20/12/2564"),
        _row(),
        _row(2, "นาง", "สมหญิง", "ใจงาม", "0898765432", "ครู", "โรงเรียน", "ต.บ้านปิน", "อ.ลอง", ""),
        _row("รวม 2 คน"),
        _row(), _row(),
    ]
    table = layout.build_table("Sheet1", rows, 1, schema)
    assert table.dataset == "volunteers"
    assert table.header_row == 3
    assert list(table.cells.index) == [4, 6]
    assert table.blank_rows == (5,)
    assert table.totals_rows == (7,)
    assert table.rows_read == 4            # rows 4..7; trailing blank rows are not read
    assert table.cells.at[4, "phone"] == 812345678.0
    assert {c.key: c.letter for c in table.columns}["phone"] == "E"
    assert [c.header for c in table.unknown_headers] == ["หมายเหตุเพิ่มเติม"]
    assert table.missing_fields == ()


def test_two_row_header_with_merged_group_and_shuffled_columns(schema):
    top = ["เลขประจำตัวประชาชน", "ชื่อ", "นามสกุล", "ที่อยู่", "", "", "", "สาเหตุ", "ประสงค์รับวัคซีน"]
    sub = ["", "", "", "บ้านเลขที่", "หมู่ที่", "ตำบล", "อำเภอ", "", ""]
    data = ["1101700203451", "ก", "ข", "12", "3", "ในเวียง", "เมืองแพร่", "ไม่มีเวลา", "ประสงค์"]
    table = layout.build_table("ข้อมูล", [top, sub, data], 5, schema)
    assert table.dataset == "unvaccinated"
    assert table.header_row == 6
    assert list(table.cells.index) == [7]
    assert table.cells.at[7, "moo"] == "3"
    assert table.cells.at[7, "reason"] == "ไม่มีเวลา"


def test_recognised_by_sheet_name_and_english_headers(schema):
    rows = [["Facility type", "Name", "Tambon", "District", "Status"], ["จุดฉีด", "รพ.แพร่", "ในเวียง", "เมือง", "open"]]
    table = layout.build_table("สถานที่", rows, 1, schema)
    assert table.dataset == "facilities"
    assert set(table.cells.columns) == {"facility_type", "name", "subdistrict", "district", "status"}


def test_unrecognised_sheet(schema):
    assert layout.build_table("Sheet2", [["a", "b"], [1, 2]], 1, schema) is None


def test_column_letters():
    assert [layout.column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


def test_name_starting_with_total_marker_is_not_a_totals_row(schema):
    rows = [VOLUNTEER_HEADER, _row(1, "นาย", "รวมพล", "สุขใจ", "0812345678", "อสม.", "x(moicovid)", "ห้วยอ้อ", "ลอง")]
    table = layout.build_table("อาสาสมัคร", rows, 1, schema)
    assert table.totals_rows == ()
    assert list(table.cells.index) == [2]
    assert isinstance(table.cells, pd.DataFrame)
