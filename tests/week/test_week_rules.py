"""FORMS.md §1 and §3 rules a week is computed by: a file is its newest version, removed files stop
counting, corrections are updates (not duplicates), unusable submissions are not on time, and figures
that depend on a blank or missing column say so."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd

from pipeline.run import run_weekly
from tests.builders import headers, thai_id, write_xlsx
from tests.conftest import PROJECT, bangkok

WEEK1, WEEK2 = "2021-12-24", "2021-12-31"
DISTRICT = "5401 เมืองแพร่"


def _run(inbox: Path, out: Path, week: str, now: dt.datetime | None = None) -> dict:
    run_weekly(PROJECT / "config.yaml", inbox, out, week, now=now, progress=lambda message: None)
    return json.loads((out / week / "report.json").read_text(encoding="utf-8"))


def _issues(out: Path, week: str) -> dict[str, pd.DataFrame]:
    """The issue list sheet of the week's issues workbook (not the per-district counts)."""
    return {"list": pd.read_excel(out / week / f"issues_{week}.xlsx", sheet_name="รายการปัญหา", dtype=str,
                                  engine="openpyxl")}


def _volunteer(number: int) -> list:
    return ["นาย", f"อาสา{number}", "ทดสอบ", f"08100000{number:02d}", "อสม.", "อบต.(moicovid)", "ในเวียง",
            "เมืองแพร่", "20/12/2564"]


def _request(phone: str, status: str, resolved: str = "") -> list:
    return ["20/12/2564", "ขอรับสิ่งของ", "ผู้แจ้ง", phone, 1, "ในเวียง", "เมืองแพร่", "", status, resolved]


def _person(number: int, nationality="ไทย", wish="ประสงค์", reason="ไม่มีเวลา") -> list:
    return [thai_id(f"1{number:011d}"), "นาย", f"คน{number}", "ทดสอบ", "ชาย", "1/1/2520", nationality, "1", "1",
            "ในเวียง", "เมืองแพร่", "", reason, wish, "20/12/2564", "อาสา"]


def _sheet(dataset: str, rows: list[list]) -> list[list]:
    return [headers(dataset), *rows]


def test_a_replaced_file_counts_its_newest_version_only(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    path = inbox / DISTRICT / "อาสา.xlsx"
    write_xlsx(path, {"อาสาสมัคร": _sheet("volunteers", [_volunteer(i) for i in range(1, 4)])}, bangkok(2021, 12, 24, 9))
    assert _run(inbox, out, WEEK1)["totals"]["volunteers"]["total"] == 3
    # The district fixes its list: volunteer 3 was a mistake, volunteer 4 is new.
    write_xlsx(path, {"อาสาสมัคร": _sheet("volunteers", [_volunteer(1), _volunteer(2), _volunteer(4)])},
               bangkok(2021, 12, 30, 9))
    week2 = _run(inbox, out, WEEK2)
    assert week2["totals"]["volunteers"]["total"] == 3
    assert week2["totals"]["volunteers"]["new"] == 1        # volunteer 4; 1 and 2 are not new again
    assert week2["totals"]["submission"]["duplicates"] == 2
    assert _run(inbox, out, WEEK1)["totals"]["volunteers"]["total"] == 3   # the past week still reproduces


def test_a_removed_file_stops_counting_from_the_week_its_removal_was_seen(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    kept = inbox / DISTRICT / "ชุด1.xlsx"
    withdrawn = inbox / DISTRICT / "ชุด2.xlsx"
    write_xlsx(kept, {"อาสาสมัคร": _sheet("volunteers", [_volunteer(1), _volunteer(2)])}, bangkok(2021, 12, 24, 9))
    write_xlsx(withdrawn, {"อาสาสมัคร": _sheet("volunteers", [_volunteer(3)])}, bangkok(2021, 12, 24, 10))
    assert _run(inbox, out, WEEK1, now=bangkok(2021, 12, 24, 15))["totals"]["volunteers"]["total"] == 3
    withdrawn.unlink()
    assert _run(inbox, out, WEEK2, now=bangkok(2021, 12, 30, 9))["totals"]["volunteers"]["total"] == 2
    assert _run(inbox, out, WEEK1, now=bangkok(2021, 12, 30, 9))["totals"]["volunteers"]["total"] == 3


def test_a_correction_is_an_update_not_a_duplicate(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    folder = inbox / DISTRICT
    write_xlsx(folder / "w1.xlsx", {"คำขอความช่วยเหลือ": _sheet("help_requests", [
        _request("0811111111", "รอดำเนินการ"), _request("0822222222", "รอดำเนินการ")])}, bangkok(2021, 12, 24, 9))
    week1 = _run(inbox, out, WEEK1)
    assert week1["totals"]["help_requests"]["open"] == 2
    write_xlsx(folder / "w2.xlsx", {"คำขอความช่วยเหลือ": _sheet("help_requests", [
        _request("0811111111", "ดำเนินการแล้ว", "28/12/2564"), _request("0822222222", "รอดำเนินการ")])},
        bangkok(2021, 12, 31, 9))
    week2 = _run(inbox, out, WEEK2)
    submission = week2["districts"]["5401"]["submission"]
    assert (submission["accepted"], submission["updated"], submission["duplicates"]) == (0, 1, 1)
    assert submission["rows_read"] == submission["accepted"] + submission["updated"] + submission["rejected"] \
        + submission["duplicates"] + submission["skipped"]
    assert week2["totals"]["help_requests"]["open"] == 1
    listed = pd.concat(_issues(out, WEEK2).values(), ignore_index=True).astype(str)
    updates = listed[listed.apply(lambda row: row.str.contains("รอดำเนินการ → ดำเนินการแล้ว").any(), axis=1)]
    assert len(updates) == 1
    # An unchanged repeat in a full resend is counted, not listed as a problem one by one.
    assert not listed.apply(lambda row: row.str.contains("0822222222").any(), axis=1).any()


def test_a_district_whose_files_are_all_unusable_is_not_on_time(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    broken = inbox / DISTRICT / "ข้อมูล.xlsx"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"PK\x03\x04 this is not a workbook")
    other = inbox / "5402 ร้องกวาง" / "notes.xlsx"
    write_xlsx(other, {"Sheet1": [["บันทึกประชุม"], ["ไม่มีข้อมูลแบบฟอร์ม"]]}, bangkok(2021, 12, 24, 8))
    empty_form = inbox / "5403 ลอง" / "ว่าง.xlsx"
    write_xlsx(empty_form, {"อาสาสมัคร": _sheet("volunteers", [])}, bangkok(2021, 12, 24, 8))
    import os
    os.utime(broken, (bangkok(2021, 12, 24, 8).timestamp(),) * 2)
    report = _run(inbox, out, WEEK1)
    assert report["districts"]["5401"]["submission"]["status"] == "unusable"
    assert report["districts"]["5402"]["submission"]["status"] == "unusable"
    assert report["districts"]["5403"]["submission"]["status"] == "on_time"   # nothing new is still a submission
    assert report["totals"]["submission"]["unusable"] == 2
    assert report["totals"]["submission"]["on_time"] == 1


def test_blank_and_missing_columns_are_not_stated_and_incomplete(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    people = [_person(1), _person(2, wish=""), _person(3, nationality="", reason=""), _person(4, nationality="เมียนมา")]
    write_xlsx(inbox / DISTRICT / "คน.xlsx", {"ผู้ยังไม่ได้รับวัคซีน": _sheet("unvaccinated", people)},
               bangkok(2021, 12, 24, 9))
    # ร้องกวาง's file has no wish column at all.
    wish = headers("unvaccinated").index("ประสงค์รับวัคซีน")
    without_wish = [[cell for position, cell in enumerate(row) if position != wish]
                    for row in _sheet("unvaccinated", [_person(5)[:9] + ["ร้องกวาง", "ร้องกวาง"] + _person(5)[11:]])]
    write_xlsx(inbox / "5402 ร้องกวาง" / "คน.xlsx", {"ผู้ยังไม่ได้รับวัคซีน": without_wish}, bangkok(2021, 12, 24, 9))
    report = _run(inbox, out, WEEK1)
    mueang = report["districts"]["5401"]["unvaccinated"]
    assert (mueang["total"], mueang["thai"], mueang["non_thai"], mueang["nationality_unknown"]) == (4, 2, 1, 1)
    assert (mueang["wants_vaccine"], mueang["wants_vaccine_unknown"]) == (3, 1)
    assert mueang["by_reason"]["ไม่ระบุ"] == 1 and mueang["by_reason"]["ไม่มีเวลา"] == 3
    assert report["districts"]["5401"]["incomplete"] == []
    rong_kwang = report["districts"]["5402"]
    assert rong_kwang["unvaccinated"]["wants_vaccine_unknown"] == 1
    assert "unvaccinated.wants_vaccine" in rong_kwang["incomplete"]
    assert "unvaccinated.wants_vaccine" in report["totals"]["incomplete"]
    totals = report["totals"]["unvaccinated"]
    assert totals["thai"] + totals["non_thai"] + totals["nationality_unknown"] == totals["total"] == 5


def test_a_facility_last_updated_before_the_recording_start_counts_and_is_stale(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    row = ["จุดฉีดวัคซีน", "รพ.แพร่", "ในเวียง", "เมืองแพร่", "", "", "", "", "เปิดให้บริการ", "20/11/2564"]
    write_xlsx(inbox / DISTRICT / "สถานที่.xlsx", {"สถานที่": _sheet("facilities", [row])}, bangkok(2021, 12, 24, 9))
    facilities = _run(inbox, out, WEEK1)["districts"]["5401"]["facilities"]
    assert (facilities["total"], facilities["stale"]) == (1, 1)


def test_a_resent_file_is_not_a_list_of_duplicates_and_another_districts_file_is_never_named(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    path = inbox / DISTRICT / "อาสา.xlsx"
    rows = _sheet("volunteers", [_volunteer(1), _volunteer(2)])
    write_xlsx(path, {"อาสาสมัคร": rows}, bangkok(2021, 12, 22, 9))
    _run(inbox, out, WEEK1, now=bangkok(2021, 12, 22, 10))
    write_xlsx(path, {"อาสาสมัคร": rows}, bangkok(2021, 12, 23, 9))   # saved again the next day, same rows
    # ร้องกวาง reports a volunteer เมืองแพร่ already sent (the row names เมืองแพร่: counted there once).
    write_xlsx(inbox / "5402 ร้องกวาง" / "ส่งจังหวัด.xlsx", {"อาสาสมัคร": _sheet("volunteers", [_volunteer(2)])},
               bangkok(2021, 12, 23, 10))
    report = _run(inbox, out, WEEK1)
    assert report["totals"]["volunteers"]["total"] == 2
    listed = pd.concat(_issues(out, WEEK1).values(), ignore_index=True).astype(str)
    duplicates = listed[listed.apply(lambda row: row.str.contains("ข้อมูลซ้ำ").any(), axis=1)]
    assert len(duplicates) == 1                       # only ร้องกวาง's row; the resend lists nothing
    # The province's list names the row repeated, in เมืองแพร่'s file.
    assert "อาสา.xlsx" in " ".join(duplicates.fillna("").astype(str).to_numpy().ravel())
    # ร้องกวาง's feedback says only that another district sent it: never its file, sheet or row.
    import openpyxl
    feedback = next((out / WEEK1 / "feedback").rglob("ส่งจังหวัด.feedback.xlsx"))
    book = openpyxl.load_workbook(feedback)
    shown = " ".join(str(cell.value) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
                     if cell.value is not None)
    shown += " ".join(cell.comment.text for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
                      if cell.comment)
    assert "อำเภออื่น" in shown and "อาสา.xlsx" not in shown and "เมืองแพร่/" not in shown


def test_a_missing_recommended_column_is_said_once_not_on_every_row(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    wish = headers("unvaccinated").index("ประสงค์รับวัคซีน")
    rows = [[cell for position, cell in enumerate(row) if position != wish]
            for row in _sheet("unvaccinated", [_person(n) for n in range(1, 6)])]
    write_xlsx(inbox / DISTRICT / "คน.xlsx", {"ผู้ยังไม่ได้รับวัคซีน": rows}, bangkok(2021, 12, 24, 9))
    done = run_weekly(PROJECT / "config.yaml", inbox, out, WEEK1, progress=lambda message: None)
    issues = done.result.issues
    missing = issues[issues["field"] == "wants_vaccine"]
    assert missing["code"].tolist() == ["column_missing"] and missing["severity"].tolist() == ["warning"]
    assert done.result.report["districts"]["5401"]["unvaccinated"]["wants_vaccine_unknown"] == 5


def test_what_clerks_type_for_not_known_is_not_stated_never_a_value(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    people = [_person(1, nationality="-"), _person(2, nationality="ไม่ทราบ"), _person(3, nationality="N/A"),
              _person(4, nationality="ไม่ระบุสัญชาติ", reason="-"), _person(5, wish="?"),
              _person(6, nationality="เมียนมา")]
    write_xlsx(inbox / DISTRICT / "คน.xlsx", {"ผู้ยังไม่ได้รับวัคซีน": _sheet("unvaccinated", people)},
               bangkok(2021, 12, 24, 9))
    report = _run(inbox, out, WEEK1)
    block = report["districts"]["5401"]["unvaccinated"]
    assert block["total"] == 6 and report["districts"]["5401"]["submission"]["rejected"] == 0
    assert (block["thai"], block["non_thai"], block["nationality_unknown"]) == (1, 1, 4)
    assert block["by_reason"]["ไม่ระบุ"] == 1 and block["wants_vaccine_unknown"] == 1


def test_a_village_number_written_with_its_name_is_the_number(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    moo = headers("unvaccinated").index("หมู่ที่")
    people = [_person(n) for n in range(1, 5)]
    for person, written in zip(people, ["ม.4", "หมู่ 4", "หมู่ที่ ๔", "ม 4"]):
        person[moo] = written
    write_xlsx(inbox / DISTRICT / "คน.xlsx", {"ผู้ยังไม่ได้รับวัคซีน": _sheet("unvaccinated", people)},
               bangkok(2021, 12, 24, 9))
    report = _run(inbox, out, WEEK1)
    assert report["districts"]["5401"]["unvaccinated"]["total"] == 4
    assert report["districts"]["5401"]["submission"]["rejected"] == 0


def test_a_file_saved_again_within_its_week_replaces_the_first_save_entirely(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    path = inbox / DISTRICT / "อาสา.xlsx"
    write_xlsx(path, {"อาสาสมัคร": _sheet("volunteers", [_volunteer(1), _volunteer(2), _volunteer(3)])},
               bangkok(2021, 12, 20, 9))
    _run(inbox, out, WEEK1, now=bangkok(2021, 12, 20, 10))
    write_xlsx(path, {"อาสาสมัคร": _sheet("volunteers", [_volunteer(1), _volunteer(2)])}, bangkok(2021, 12, 23, 14))
    report = _run(inbox, out, WEEK1)
    submission = report["districts"]["5401"]["submission"]
    assert (submission["files"], submission["rows_read"], submission["accepted"], submission["duplicates"]) \
        == (1, 2, 2, 0)
    assert submission["status"] == "on_time" and submission["first_submitted"].startswith("2021-12-20")
    assert report["totals"]["volunteers"]["total"] == 2


def test_a_blank_left_in_a_repeated_row_is_not_an_update(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    write_xlsx(inbox / DISTRICT / "w1.xlsx", {"คำขอความช่วยเหลือ": _sheet("help_requests", [
        _request("0811111111", "รอดำเนินการ")])}, bangkok(2021, 12, 24, 9))
    _run(inbox, out, WEEK1)
    again = _request("0811111111", "รอดำเนินการ")
    again[headers("help_requests").index("ชื่อผู้แจ้ง")] = "ผู้แจ้ง"
    again[headers("help_requests").index("หมู่ที่")] = None
    write_xlsx(inbox / DISTRICT / "w2.xlsx", {"คำขอความช่วยเหลือ": _sheet("help_requests", [again])},
               bangkok(2021, 12, 31, 9))
    submission = _run(inbox, out, WEEK2)["districts"]["5401"]["submission"]
    # หมู่ที่ is required: the row is rejected rather than silently changing the record.
    assert submission["updated"] == 0
