"""Headers and closed-list values written the way district clerks write them: the figures still come out right.

Each district of the inbox is one family of drift (numbering in Thai or Arabic digits, bracketed
format/unit/choice/English hints, a trailing colon, a longer or shorter wording, everyday short forms and
near spellings of list values); one more district shows every guard refusing a wrong reading.
"""
from __future__ import annotations

import json

import openpyxl
import pytest

from pipeline.ingest import layout
from pipeline.ingest.fields import Context, fit_share, read_as_choice
from pipeline.run import run_weekly
from tests.builders import thai_id, write_xlsx
from tests.conftest import PROJECT, bangkok

WEEK = "2021-12-24"
SENT = bangkok(2021, 12, 23, 10)

# ร้องกวาง: Thai-digit numbering, a date format, a choice note and English names in brackets.
THAI_NUMBERED = ["ลำดับที่", "๑. เลขประจำตัวประชาชน", "๒. คำนำหน้า", "๓. ชื่อ", "๔. นามสกุล", "๕. เพศ (ชาย/หญิง)",
                 "๖. วันเกิด (วว/ดด/ปปปป)", "๗. สัญชาติ", "๘. บ้านเลขที่", "๙. หมู่ที่", "๑๐. ตำบล (Tambon)",
                 "๑๑. อำเภอ (Amphoe)", "๑๒. เบอร์โทรศัพท์", "๑๓. สาเหตุที่ยังไม่ได้รับวัคซีน (เลือก)",
                 "ประสงค์รับวัคซีน (เลือก)", "๑๕. วันที่สำรวจ (วว/ดด/ปปปป)", "๑๖. ผู้สำรวจ", "หมายเหตุ"]


def person(number: int, wish: str = "ประสงค์", reason: str = "ไม่มีเวลา", surveyed: str = "20/12/2564") -> list:
    """One person of ร้องกวาง, in THAI_NUMBERED's order."""
    return [number, thai_id(f"1{number:011d}"), "นาย", f"คน{number}", "ทดสอบ", "ชาย", "1/1/2520", "ไทย", "1", "1",
            "ร้องกวาง", "ร้องกวาง", "0891234567", reason, wish, surveyed, "อาสา", ""]


def rong_kwang_rows() -> list[list]:
    """Wishes in everyday words, one survey dated before 1 Dec 2021, one reason the opposite of a listed one."""
    return [
        ["แบบสำรวจผู้ยังไม่ได้รับวัคซีน อำเภอร้องกวาง"], THAI_NUMBERED,
        *(person(n) for n in range(1, 6)),
        person(6, wish="ต้องการฉีด"),                # an everyday short form
        person(7, wish="ไม่"),                        # ไม่ is ไม่ประสงค์
        person(8, wish="ไม่ประสงค์"),
        person(9, wish="ประสงค์รับวัคซีนค่ะ"),         # near a listed spelling: read with a warning
        person(10, surveyed="20/11/2564"),            # before the recording start: rejected
        person(11, reason="ไม่มีโรคประจำตัว"),         # the opposite of มีโรคประจำตัว: never read as it
        person(12, reason="มีโรคประจำตัว"),
    ]


def muang_volunteer_rows() -> list[list]:
    """Arabic numbering, a trailing colon, longer wordings and a bracketed unit of the same header."""
    header = ["ที่", "1. คำนำหน้า:", "2) ชื่อ", "3) นามสกุล", "4. เบอร์โทรศัพท์มือถือ (10 หลัก)",
              "5. ประเภทของอาสาสมัคร",
              "6. สังกัด", "7. ตำบล", "8. อำเภอ", "9. วันที่ลงทะเบียนอาสา (dd/mm/yyyy)"]
    kinds = ["อสม.", "อสม.", "ครู", "ผู้ใหญ่บ้าน", "กำนัน"]
    return [header, *([n, "นาย", f"อาสา{n}", "ทดสอบ", f"08100000{n:02d}", kind, "อบต.(moicovid)", "ในเวียง",
                       "เมืองแพร่", "20/12/2564"] for n, kind in enumerate(kinds, start=1))]


def muang_facility_rows() -> list[list]:
    """A unit and a choice note in brackets, a longer name header, everyday and near status values."""
    header = ["ประเภทสถานที่", "ชื่อสถานที่ให้บริการ", "ตำบล (Tambon)", "อำเภอ (District)", "ความจุ (คน)",
              "สถานะ (เลือก)", "วันที่ปรับปรุงข้อมูลล่าสุด"]
    return [header,
            ["จุดฉีดวัคซีนโควิด19", "รพ.แพร่", "ในเวียง", "เมืองแพร่", 120, "เปิดอยู่", "20/12/2564"],
            ["จุดพักคอย", "ศูนย์พักคอยวัดหลวง", "ในเวียง", "เมืองแพร่", 30, "ให้บริการอยู่", "20/12/2564"],
            ["จุดตรวจโควิด", "จุดตรวจหน้าตลาด", "ในเวียง", "เมืองแพร่", "", "ปิดแล้ว", "20/12/2564"]]


def sung_men_request_rows() -> list[list]:
    """Format hints with a colon, the requester named in a bracket, a second status column, near statuses."""
    header = ["วันที่แจ้ง (วว/ดด/ปปปป):", "ประเภทคำขอ (เลือก)", "ชื่อผู้แจ้ง", "เบอร์โทรศัพท์ (ผู้แจ้ง)", "หมู่ที่",
              "ตำบล", "อำเภอ", "สถานะ", "สถานะการดำเนินการ (เลือก)", "วันที่ดำเนินการแล้วเสร็จ"]
    return [header,
            ["20/12/2564", "ขอรับวัคซีน", "นายหนึ่ง", "0891111111", 1, "สูงเม่น", "สูงเม่น", "เสร็จแล้ว", "",
             "21/12/2564"],
            ["20/12/2564", "ขอถุงยังชีพ", "นายสอง", "0892222222", 2, "สูงเม่น", "สูงเม่น", "รอ ดำเนินการ", "", ""],
            ["21/12/2564", "รับส่งผู้ป่วย", "นายสาม", "0893333333", 3, "สูงเม่น", "สูงเม่น", "กำลังดำเนินกร", "", ""]]


def long_guard_rows() -> list[list]:
    """ลอง: readings a person would refuse — the surveyor's phone, a birth-date column of names, dates as wishes."""
    header = ["เลขประจำตัวประชาชน", "ชื่อ", "นามสกุล", "วันเกิด (วว/ดด/ปปปป)", "หมู่ที่", "ตำบล", "อำเภอ",
              "เบอร์โทรศัพท์ (ผู้สำรวจ)", "ความประสงค์รับวัคซีน", "สาเหตุ"]
    return [header, *([thai_id(f"3{n:011d}"), f"คน{n}", "ทดสอบ", f"นางสมศรี{n}", n, "ห้วยอ้อ", "ลอง", "0811111111",
                       "20/12/2564", "ไม่มีเวลา"] for n in range(1, 5))]


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    """The inbox run through the real pipeline: (report.json, issue rows as dicts by column label)."""
    root = tmp_path_factory.mktemp("header_drift")
    inbox = root / "inbox"
    write_xlsx(inbox / "5402 ร้องกวาง" / "สำรวจ.xlsx", {"ผู้ยังไม่ได้รับวัคซีน": rong_kwang_rows()}, SENT)
    write_xlsx(inbox / "5401 เมืองแพร่" / "รายงาน.xlsx",
               {"อาสาสมัคร": muang_volunteer_rows(), "สถานที่": muang_facility_rows()}, SENT)
    write_xlsx(inbox / "5404 สูงเม่น" / "คำขอ.xlsx", {"คำขอความช่วยเหลือ": sung_men_request_rows()}, SENT)
    write_xlsx(inbox / "5403 ลอง" / "สำรวจ.xlsx", {"ผู้ยังไม่ได้รับวัคซีน": long_guard_rows()}, SENT)
    run_weekly(PROJECT / "config.yaml", inbox, root / "out", WEEK, now=bangkok(2021, 12, 24, 18),
               progress=lambda message: None)
    report = json.loads((root / "out" / WEEK / "report.json").read_text(encoding="utf-8"))
    book = openpyxl.load_workbook(root / "out" / WEEK / f"issues_{WEEK}.xlsx", read_only=True)
    rows = list(book["รายการปัญหา"].iter_rows(values_only=True))
    top = next(i for i, row in enumerate(rows) if "รหัสปัญหา" in row)
    labels = rows[top]
    return report, [dict(zip(labels, row)) for row in rows[top + 1:] if any(row)]


def issues_of(issues: list[dict], file_part: str, code: str) -> list[dict]:
    """The issue rows of one code in files whose name contains file_part."""
    return [row for row in issues if file_part in (row["ไฟล์"] or "") and row["รหัสปัญหา"] == code]


def test_hinted_unvaccinated_headers_give_the_right_figures(week):
    report, issues = week
    block = report["districts"]["5402"]["unvaccinated"]
    # 12 rows: the one surveyed before 1 Dec 2021 and the negated reason are rejected.
    assert block["total"] == 10
    assert report["districts"]["5402"]["submission"]["rejected"] == 2
    # ประสงค์ ×5, ต้องการฉีด, ประสงค์รับวัคซีนค่ะ; ไม่ and ไม่ประสงค์ are not wanting.
    assert block["wants_vaccine"] == 8
    assert block.get("wants_vaccine_unknown", 0) == 0
    assert block["thai"] == 10
    assert block["by_reason"]["มีโรคประจำตัว"] == 1 and block["by_reason"]["ไม่มีเวลา"] == 9
    read_as = {row["ค่าที่กรอก"] for row in issues_of(issues, "ร้องกวาง", "header_read_as")}
    assert {"ประสงค์รับวัคซีน (เลือก)", "๑๕. วันที่สำรวจ (วว/ดด/ปปปป)", "๖. วันเกิด (วว/ดด/ปปปป)", "๓. ชื่อ",
            "๑๐. ตำบล (Tambon)", "๕. เพศ (ชาย/หญิง)"} <= read_as
    assert not issues_of(issues, "ร้องกวาง", "header_unknown")   # ลำดับที่ and หมายเหตุ are not fields
    assert not issues_of(issues, "ร้องกวาง", "header_missing")
    message = next(row["คำอธิบาย"] for row in issues_of(issues, "ร้องกวาง", "header_read_as")
                   if row["ค่าที่กรอก"] == "ประสงค์รับวัคซีน (เลือก)")
    assert "“ประสงค์รับวัคซีน”" in message
    near = issues_of(issues, "ร้องกวาง", "choice_read_as")
    assert [(row["ค่าที่กรอก"], row["แถว"]) for row in near] == [("ประสงค์รับวัคซีนค่ะ", 11)]
    before = issues_of(issues, "ร้องกวาง", "date_before_start")
    assert [row["แถว"] for row in before] == [12]


def test_numbered_volunteers_and_hinted_facilities(week):
    report, issues = week
    volunteers = report["districts"]["5401"]["volunteers"]
    assert volunteers["total"] == 5
    assert volunteers["by_type"]["อสม."] == 2 and volunteers["by_type"]["กำนัน"] == 1
    assert volunteers["by_type"]["ผู้ใหญ่บ้าน"] == 1 and volunteers["by_type"]["ครู"] == 1
    facilities = report["districts"]["5401"]["facilities"]
    assert facilities["total"] == 3
    assert facilities["by_status"]["เปิดให้บริการ"] == 2 and facilities["by_status"]["ปิด"] == 1
    assert facilities["stale"] == 0
    assert report["districts"]["5401"]["submission"]["rejected"] == 0
    read_as = {row["ค่าที่กรอก"] for row in issues_of(issues, "เมืองแพร่", "header_read_as")}
    assert {"5. ประเภทของอาสาสมัคร", "9. วันที่ลงทะเบียนอาสา (dd/mm/yyyy)", "ชื่อสถานที่ให้บริการ", "ความจุ (คน)",
            "สถานะ (เลือก)", "วันที่ปรับปรุงข้อมูลล่าสุด"} <= read_as
    assert not issues_of(issues, "เมืองแพร่", "header_unknown")
    assert facilities["by_type"]["จุดฉีดวัคซีน"] == 1
    assert [row["ค่าที่กรอก"] for row in issues_of(issues, "เมืองแพร่", "choice_read_as")] == ["จุดฉีดวัคซีนโควิด19"]


def test_requests_with_hints_a_second_status_column_and_everyday_statuses(week):
    report, issues = week
    requests = report["districts"]["5404"]["help_requests"]
    assert (requests["total"], requests["open"]) == (3, 2)
    assert requests["by_status"]["ดำเนินการแล้ว"] == 1 and requests["by_status"]["รอดำเนินการ"] == 1
    assert requests["by_status"]["กำลังดำเนินการ"] == 1
    assert requests["by_type"]["ขอรับสิ่งของ"] == 1
    duplicate = issues_of(issues, "สูงเม่น", "header_duplicate")
    assert [row["ค่าที่กรอก"] for row in duplicate] == ["สถานะการดำเนินการ (เลือก)"]
    assert "“สถานะ”" in duplicate[0]["คำอธิบาย"]
    assert "เบอร์โทรศัพท์ (ผู้แจ้ง)" in {row["ค่าที่กรอก"] for row in issues_of(issues, "สูงเม่น", "header_read_as")}


def test_guards_refuse_readings_a_person_would_refuse(week):
    report, issues = week
    block = report["districts"]["5403"]["unvaccinated"]
    assert block["total"] == 4
    # The wish column holds dates: it is not read, so nobody is counted as wanting a vaccine.
    assert block["wants_vaccine"] == 0
    if "incomplete" in report["districts"]["5403"]:
        assert "unvaccinated.wants_vaccine" in report["districts"]["5403"]["incomplete"]
    unknown = {row["ค่าที่กรอก"]: row["คำอธิบาย"] for row in issues_of(issues, "ลอง", "header_unknown")}
    assert set(unknown) == {"วันเกิด (วว/ดด/ปปปป)", "เบอร์โทรศัพท์ (ผู้สำรวจ)", "ความประสงค์รับวัคซีน"}
    assert "“วันเกิด”" in unknown["วันเกิด (วว/ดด/ปปปป)"]          # still suggested, not read
    assert not issues_of(issues, "ลอง", "header_read_as")


def test_surveyor_phone_is_not_the_persons_phone(schema):
    rows = [["ชื่อ", "นามสกุล", "หมู่ที่", "ตำบล", "อำเภอ", "เบอร์โทรศัพท์ (ผู้สำรวจ)", "เบอร์โทร ผู้ปกครอง"],
            ["ก", "ข", 1, "ห้วยอ้อ", "ลอง", "0811111111", "0822222222"]]
    table = layout.build_table("ผู้ยังไม่ได้รับวัคซีน", rows, 1, schema)
    assert "phone" not in table.cells.columns
    assert [column.header for column in table.unknown_headers] == ["เบอร์โทรศัพท์ (ผู้สำรวจ)", "เบอร์โทร ผู้ปกครอง"]
    # In a help request the informant is the row's own subject: their phone is the phone.
    request = [["วันที่แจ้ง", "ประเภทคำขอ", "ชื่อผู้แจ้ง", "เบอร์โทรศัพท์ (ผู้แจ้ง)", "สถานะ"],
               ["20/12/2564", "ขอรับวัคซีน", "ก", "0811111111", "รอดำเนินการ"]]
    assert "phone" in layout.build_table("คำขอ", request, 1, schema).cells.columns


def test_cells_that_do_not_fit_keep_a_column_unknown_and_a_blank_one_is_read(schema, config):
    context = Context(config, schema, "5403", bangkok(2021, 12, 24).date())

    def fit(form_field, cells):
        return fit_share(cells, form_field, context)

    header = ["ชื่อ", "หมู่ที่", "ตำบล", "อำเภอ", "วันเกิด (วว/ดด/ปปปป)", "ประสงค์รับวัคซีน (เลือก)"]
    names = [header, *(["ก", 1, "ห้วยอ้อ", "ลอง", f"สมศรี{n}", ""] for n in range(10))]
    table = layout.build_table("ผู้ยังไม่ได้รับวัคซีน", names, 1, schema, fit=fit)
    assert "birth_date" not in table.cells.columns
    assert [(c.header, c.key) for c in table.unknown_headers] == [("วันเกิด (วว/ดด/ปปปป)", "birth_date")]
    assert "wants_vaccine" in table.cells.columns          # blank: read as not stated, not dropped
    # One cell in ten that is no date still fits (90 %); two do not.
    dates = [header, *(["ก", 1, "ห้วยอ้อ", "ลอง", "1/1/2520" if n else "ไม่ทราบ", "ใช่"] for n in range(10))]
    assert "birth_date" in layout.build_table("ผู้ยังไม่ได้รับวัคซีน", dates, 1, schema, fit=fit).cells.columns
    dates[2][4] = "จำไม่ได้"
    assert "birth_date" not in layout.build_table("ผู้ยังไม่ได้รับวัคซีน", dates, 1, schema, fit=fit).cells.columns


def test_hinted_header_row_is_found_below_title_rows(schema):
    rows = [["แบบรายงาน"], ["อำเภอลอง"],
            ["๑. ประเภทสถานที่ (เลือก)", "๒. ชื่อสถานที่", "๓. ตำบล (Tambon)", "๔. อำเภอ (Amphoe)", "๕. สถานะ (เลือก)"],
            ["จุดฉีด", "รพ.ลอง", "ห้วยอ้อ", "ลอง", "เปิด"]]
    table = layout.build_table("Sheet1", rows, 1, schema)
    assert (table.dataset, table.header_row) == ("facilities", 3)
    assert {c.key: c.how for c in table.columns} == {"facility_type": "stripped", "name": "stripped",
                                                    "subdistrict": "stripped", "district": "stripped",
                                                    "status": "stripped"}


def test_near_values_never_cross_a_negation(schema):
    negations = schema.headers.negations
    for list_name, text, expected in [
        ("reasons", "ไม่มีโรคประจำตัว", None), ("reasons", "มีโรคประจําตัว ", "มีโรคประจำตัว"),
        ("wants_vaccine", "ไม่ประสงค์รับวัคซีนค่ะ", "ไม่ประสงค์"), ("wants_vaccine", "ประสงค์รับวัคซีนค่ะ", "ประสงค์"),
        ("request_statuses", "not completed", None), ("request_statuses", "ยังไม่เสร็จ", None),
        ("facility_statuses", "ไม่เปิดให้บริการ", None), ("sexes", "ชา", None),
        # เปิด and ปิด differ by one letter: a typo between them is no clear reading.
        ("facility_statuses", "เปิดให้บริกร", None), ("request_statuses", "กำลังดำเนินกร", "กำลังดำเนินการ"),
    ]:
        lookup = schema.choice_lookup(list_name)
        assert read_as_choice(text, list(lookup), list(lookup.values()), negations) == expected, text


def test_a_longer_wording_of_one_value_is_read_and_a_hint_never_says_the_opposite(schema):
    negations = schema.headers.negations
    for list_name, text, expected in [
        ("facility_types", "จุดพักคอยชุมชน", "จุดพักคอย"), ("facility_types", "โรงพยาบาลสนามชั่วคราว", "โรงพยาบาลสนาม"),
        ("facility_statuses", "เปิดให้บริการอยู่", "เปิดให้บริการ")]:
        lookup = schema.choice_lookup(list_name)
        assert read_as_choice(text, list(lookup), list(lookup.values()), negations) == expected, text
    from pipeline.ingest.fields import _choice_hint
    for list_name, text, opposite in [("reasons", "ไม่มีโรคประจำตัว", "มีโรคประจำตัว"),
                                      ("facility_statuses", "ยังไม่เปิด", "เปิดให้บริการ"),
                                      ("request_statuses", "ยังไม่เสร็จ", "ดำเนินการแล้ว")]:
        lookup = schema.choice_lookup(list_name)
        assert f"“{opposite}”" not in _choice_hint(text, list(lookup), list(lookup.values()), negations), text


def test_a_choice_note_naming_others_is_a_hint(schema):
    rows = [["ชื่อ", "นามสกุล", "หมู่ที่", "ตำบล", "อำเภอ", "๗. สัญชาติ (ไทย/อื่นๆ)"],
            ["ก", "ข", 1, "ห้วยอ้อ", "ลอง", "ไทย"]]
    table = layout.build_table("ผู้ยังไม่ได้รับวัคซีน", rows, 1, schema)
    assert "nationality" in table.cells.columns
