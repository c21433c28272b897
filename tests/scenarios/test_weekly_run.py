"""End to end: a messy inbox built here, the real pipeline run, exact figures checked."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from pipeline.run import run_weekly
from tests.builders import headers, run_cli, thai_id, write_csv, write_ods, write_xlsx
from tests.conftest import PROJECT, bangkok

WEEK1 = "2021-12-24"
ID_A, ID_B, ID_BAD = thai_id("110170020345"), thai_id("310170020345"), "1101700203450"
ID_FOREIGN = thai_id("000170020345")
if ID_BAD == thai_id("110170020345"):
    ID_BAD = "1101700203451"


def volunteer_rows() -> list[list]:
    """อาสาสมัคร as a district types it: title rows, shuffled and decorated headers, drifts."""
    header = ["ลำดับ", "ชื่อ *", "นามสกุล\n", "คำนำหน้า", "เบอร์โทร", "ประเภท\nอาสาสมัคร", "สังกัด ", "ต.", "อ.",
              "วันที่ลงทะเบียน", "หมายเหตุ"]
    return [
        ["แบบรายงานอาสาสมัครข้อมูล อำเภอเมืองแพร่"], [],
        header,
        [1, "สมชาย", "ใจดี", "นาย", 812345601, "อสม", "รพ.สต.ในเวียง (moicovid)", "ต.ในเวียง", "อ.เมือง",
         dt.datetime(2564, 12, 15), ""],
        [2, "สมหญิง", "ใจงาม", "นาง", "081-234-5602", "ผญบ", "บ้านนาจักร", "นาจักร", "เมืองแพร่", "20 ธ.ค. 2564", ""],
        [],
        [3, "สมศักดิ์", "ดีงาม", "นาย", "๐๘๑๒๓๔๕๖๐๓", "ครู", "โรงเรียนบ้านถิ่น(moicovid)", "บ้านถิ่น", "เมือง",
         "๒๐/๑๒/๒๕๖๔", ""],
        [4, "สมศรี", "มีสุข", "นางสาว", "0812345604", "อาสาอื่นๆ", "อบต.(moicovid)", "ป่าแดง", "เมืองแพร่", "(16ธ.ค.2564)",
         ""],
        [5, "สมปอง", "ผิดเบอร์", "นาย", "054-511-111", "อสม.", "x(moicovid)", "ป่าแดง", "เมืองแพร่", "16/12/2564", ""],
        [6, "สมชาย", "ใจดี", "นาย", "0812345601", "อสม.", "รพ.สต.ในเวียง (moicovid)", "ในเวียง", "เมืองแพร่", "", ""],
        ["รวม 6 คน"],
    ]


def facility_rows() -> list[list]:
    """สถานที่ with English headers on a sheet named Sheet3 (recognised by its headers)."""
    return [
        ["Facility type", "Name", "Tambon", "District", "Lat", "Long", "Capacity", "Status", "Updated"],
        ["จุดฉีด", "โรงพยาบาลแพร่", "ในเวียง", "เมืองแพร่", 18.144, 100.141, "120", "เปิด", "20/12/2564"],
        ["วัด", "วัดหลวง", "ในเวียง", "เมืองแพร่", "", "", "", "เปิด", "1/12/2564"],
        ["รพ.สนาม", "รพ.สนามนอกจังหวัด", "ในเวียง", "เมืองแพร่", 13.75, 100.5, 30, "เปิด", "20/12/2564"],
    ]


def unvaccinated_rows() -> list[list]:
    """ผู้ยังไม่ได้รับวัคซีน for a cp874 CSV: IDs with dashes, no-ID person, foreign resident, another district."""
    dashed = f"{ID_A[0]}-{ID_A[1:5]}-{ID_A[5:10]}-{ID_A[10:12]}-{ID_A[12]}"
    return [
        headers("unvaccinated"),
        [dashed, "นาย", "มานะ", "ทดสอบ", "ชาย", "1/1/2500", "ไทย", "12", "3", "ร้องกวาง", "ร้องกวาง", "", "กลัว",
         "ใช่", "20 ธ.ค. 2564", "สมชาย"],
        [ID_FOREIGN, "", "หม่อง", "", "ชาย", "", "พม่า", "5", "๒", "ร้องกวาง", "ร้องกวาง", "", "ไม่มีเวลา", "N",
         "20/12/64", "สมชาย"],
        ["", "นาง", "มาลี", "ไร้บัตร", "หญิง", "2/2/2510", "ไทย", "7", "1", "ร้องกวาง", "ร้องกวาง", "", "อื่นๆ", "Y",
         "20/12/2564", "สมชาย"],
        [ID_BAD, "นาย", "ผิด", "เลขบัตร", "ชาย", "1/1/2500", "ไทย", "1", "1", "ร้องกวาง", "ร้องกวาง", "", "กลัว",
         "ใช่", "20/12/2564", "สมชาย"],
        [ID_B, "นาย", "ข้าม", "อำเภอ", "ชาย", "1/1/2500", "", "1", "1", "ห้วยอ้อ", "ลอง", "", "มีโรคประจำตัว",
         "ไม่ประสงค์", "20/12/2564", "สมชาย"],
    ]


def request_rows() -> list[list]:
    """คำขอความช่วยเหลือ for an ODS file."""
    return [
        headers("help_requests"),
        ["20/12/2564", "ขอรับวัคซีน", "นายหนึ่ง", "0891111111", 1, "สูงเม่น", "สูงเม่น", "", "รอดำเนินการ", ""],
        ["20/12/2564", "HI", "นายสอง", "0892222222", 2, "สูงเม่น", "สูงเม่น", "", "ดำเนินการแล้ว", "22/12/2564"],
        ["21/12/2564", "รับส่งผู้ป่วย", "นายสาม", "0893333333", 3, "สูงเม่น", "สูงเม่น", "", "ดำเนินการแล้ว", ""],
    ]


def build_week_one(inbox: Path) -> None:
    """The first week's inbox: four districts submit, one file is damaged, one comes after the cut-off."""
    write_xlsx(inbox / "5401 เมืองแพร่" / "รายงาน.xlsx",
               {"อาสาสมัคร": volunteer_rows(), "Sheet3": facility_rows(), "ซ่อน": [["junk"]]},
               bangkok(2021, 12, 24, 10), hidden=("ซ่อน",))
    (inbox / "5401 เมืองแพร่" / "~$รายงาน.xlsx").write_bytes(b"lock")
    write_csv(inbox / "ร้องกวาง" / "ผู้ยังไม่ได้รับวัคซีน.csv", unvaccinated_rows(), "cp874", bangkok(2021, 12, 24, 14))
    write_ods(inbox / "5404" / "คำขอ.ods", {"คำขอความช่วยเหลือ": request_rows()}, bangkok(2021, 12, 23, 9))
    write_csv(inbox / "5404" / "volunteers.csv",
              [headers("volunteers"), ["นาย", "สมชาย", "ใจดี", "0812345601", "อสม.", "อสม.สูงเม่น(moicovid)",
                                       "สูงเม่น", "สูงเม่น", "21/12/2564"]],
              "utf-8-sig", bangkok(2021, 12, 23, 10))
    damaged = inbox / "5405 เด่นชัย" / "ข้อมูล.xlsx"
    write_xlsx(damaged, {"อาสาสมัคร": [headers("volunteers")]})
    damaged.write_bytes(damaged.read_bytes()[:300])
    from tests.builders import set_mtime
    set_mtime(damaged, bangkok(2021, 12, 24, 11))
    write_xlsx(inbox / "5406" / "late.xlsx", {"อาสาสมัคร": [headers("volunteers"), [
        "นาย", "มาช้า", "หลังเวลา", "0861111111", "ครู", "x(moicovid)", "บ้านหนุน", "สอง", "20/12/2564"]]},
        bangkok(2021, 12, 24, 16, 30))


@pytest.fixture(scope="module")
def week_one(tmp_path_factory):
    """Week one run through the command line, as the office runs it."""
    root = tmp_path_factory.mktemp("week_one")
    build_week_one(root / "inbox")
    completed = run_cli(root / "inbox", root / "out", WEEK1)
    assert completed.returncode == 0, completed.stderr
    report = json.loads((root / "out" / WEEK1 / "report.json").read_text(encoding="utf-8"))
    return root, report, completed


def test_report_shape(week_one, schema):
    _, report, _ = week_one
    assert report["province"] == "แพร่" and report["province_code"] == "54"
    assert report["week"] == WEEK1 and report["cutoff"] == "2021-12-24T16:00:00+07:00"
    assert list(report["districts"]) == [f"540{i}" for i in range(1, 9)]
    for block in [*report["districts"].values(), report["totals"]]:
        assert set(block["volunteers"]["by_type"]) == set(schema.choice_values("volunteer_types"))
        assert set(block["unvaccinated"]["by_reason"]) == {*schema.choice_values("reasons"), "ไม่ระบุ"}
        assert set(block["facilities"]["by_type"]) == set(schema.choice_values("facility_types"))
        assert set(block["help_requests"]["by_status"]) == set(schema.choice_values("request_statuses"))


def test_volunteers_counted_once_in_newest_district(week_one):
    _, report, _ = week_one
    muang, sung_men = report["districts"]["5401"]["volunteers"], report["districts"]["5404"]["volunteers"]
    # 5401 sent 0812345601 twice (rows 4 and 10); 5404 sent it earlier (Thursday): the newest record is 5401's.
    assert (muang["total"], sung_men["total"]) == (4, 0)
    assert muang["by_type"]["อสม."] == 1 and muang["by_type"]["ผู้ใหญ่บ้าน"] == 1
    assert muang["by_type"]["ครู"] == 1 and muang["by_type"]["อาสาอื่น ๆ"] == 1
    assert report["totals"]["volunteers"]["total"] == 4
    assert report["districts"]["5406"]["volunteers"]["total"] == 0   # its file came after the cut-off


def test_unvaccinated(week_one):
    _, report, _ = week_one
    rong_kwang, long_ = report["districts"]["5402"]["unvaccinated"], report["districts"]["5403"]["unvaccinated"]
    assert (rong_kwang["total"], rong_kwang["thai"], rong_kwang["non_thai"], rong_kwang["wants_vaccine"]) == (3, 2, 1, 2)
    assert rong_kwang["by_reason"]["กลัวผลข้างเคียง"] == 1 and rong_kwang["by_reason"]["อื่น ๆ"] == 1
    assert (long_["total"], long_["new"]) == (1, 1)   # counted where its own อำเภอ says
    # Its nationality is blank: not stated, never assumed Thai.
    assert (long_["thai"], long_["non_thai"], long_["nationality_unknown"]) == (0, 0, 1)


def test_facilities_and_requests(week_one):
    _, report, _ = week_one
    facilities = report["districts"]["5401"]["facilities"]
    assert (facilities["total"], facilities["stale"]) == (2, 1)        # one outside the province is rejected
    assert facilities["by_type"]["จุดฉีดวัคซีน"] == 1 and facilities["by_type"]["วัดที่รับฌาปนกิจศพโควิด"] == 1
    requests = report["districts"]["5404"]["help_requests"]
    assert (requests["new"], requests["total"], requests["open"]) == (2, 2, 1)
    assert requests["by_type"]["แยกกักตัวที่บ้าน (Home Isolation)"] == 1
    assert requests["by_status"] == {"รอดำเนินการ": 1, "กำลังดำเนินการ": 0, "ดำเนินการแล้ว": 1}


def test_submissions_and_every_row_accounted_for(week_one):
    _, report, _ = week_one
    status = {code: d["submission"]["status"] for code, d in report["districts"].items()}
    assert status == {"5401": "on_time", "5402": "late", "5403": "missing", "5404": "on_time",
                      "5405": "unusable", "5406": "missing", "5407": "missing", "5408": "missing"}
    muang = report["districts"]["5401"]["submission"]
    # อาสาสมัคร rows 4..11: 6 rows, 1 blank, 1 totals; Sheet3 rows 2..4. 0812345601 came first from 5404
    # (Thursday), so 5401's rows 4 and 10 with it are duplicates (row 10 only leaves the registration date
    # blank: an omission, not a change).
    assert (muang["rows_read"], muang["accepted"], muang["updated"], muang["rejected"], muang["duplicates"],
            muang["skipped"]) == (11, 5, 0, 2, 2, 2)
    assert report["districts"]["5402"]["submission"]["rejected"] == 1
    assert report["districts"]["5405"]["submission"]["rows_read"] == 0
    for district in report["districts"].values():
        block = district["submission"]
        assert block["rows_read"] == block["accepted"] + block["updated"] + block["rejected"] + block["duplicates"] \
            + block["skipped"]
    totals = report["totals"]["submission"]
    assert (totals["on_time"], totals["unusable"], totals["missing"]) == (2, 1, 4)


def test_issues_workbook_names_cells_in_thai(week_one):
    root, _, _ = week_one
    book = openpyxl.load_workbook(root / "out" / WEEK1 / f"issues_{WEEK1}.xlsx", read_only=True)
    rows = list(book["รายการปัญหา"].iter_rows(min_row=5, values_only=True))
    found = {(r[1], r[2], r[4], r[9]) for r in rows}
    assert ("5401 เมืองแพร่/รายงาน.xlsx", "อาสาสมัคร", 9, "phone_not_mobile") in found
    assert ("5401 เมืองแพร่/รายงาน.xlsx", "อาสาสมัคร", 10, "duplicate_row") in found
    assert ("5401 เมืองแพร่/รายงาน.xlsx", "Sheet3", 4, "coordinates_outside") in found
    assert ("ร้องกวาง/ผู้ยังไม่ได้รับวัคซีน.csv", "ผู้ยังไม่ได้รับวัคซีน", 5, "id_check_digit") in found
    assert ("ร้องกวาง/ผู้ยังไม่ได้รับวัคซีน.csv", "ผู้ยังไม่ได้รับวัคซีน", 6, "district_not_folder") in found
    assert ("5404/คำขอ.ods", "คำขอความช่วยเหลือ", 4, "resolved_date_missing") in found
    assert any(r[1] == "5405 เด่นชัย/ข้อมูล.xlsx" and r[9] == "file_unreadable" for r in rows)
    assert not any("~$" in (r[1] or "") for r in rows)
    messages = [r[10] for r in rows]
    assert all(any("\u0e00" <= ch <= "\u0e7f" for ch in m) for m in messages)


def test_terminal_table(week_one):
    _, _, completed = week_one
    assert "5401 เมืองแพร่" in completed.stdout and "ส่งตรงเวลา" in completed.stdout
    assert "ไม่ส่ง" in completed.stdout


def test_rerun_is_byte_identical_and_ignores_later_files(week_one, tmp_path):
    root, _, _ = week_one
    first = (root / "out" / WEEK1 / "report.json").read_bytes()
    run_weekly(PROJECT / "config.yaml", root / "inbox", root / "out", WEEK1, progress=lambda m: None)
    assert (root / "out" / WEEK1 / "report.json").read_bytes() == first


def test_bad_week_is_one_clear_line(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "pipeline", "weekly", "--config", str(PROJECT / "config.yaml"),
                                "--inputs", str(tmp_path), "--outputs", str(tmp_path / "o"), "--week", "2021-12-25"],
                               capture_output=True, text=True, cwd=PROJECT)
    assert completed.returncode != 0
    # 25 Dec 2021 is a Saturday: the week that holds it is named by Friday 31 Dec.
    assert completed.stderr.strip().count("\n") == 0 and "วันเสาร์" in completed.stderr
    assert "2021-12-31" in completed.stderr and completed.stderr.startswith("ข้อผิดพลาด:")
