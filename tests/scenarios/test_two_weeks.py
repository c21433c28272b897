"""Two weeks: resend-all and new-rows-only agree, late and after-cut-off files, reruns reproduce."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from pipeline.run import run_weekly
from tests.builders import headers, thai_id, write_xlsx
from tests.conftest import PROJECT, bangkok

WEEK1, WEEK2 = "2021-12-24", "2021-12-31"
FIGURES = ["volunteers", "unvaccinated", "facilities", "help_requests"]


def volunteer(number: int, district: str = "เมืองแพร่", subdistrict: str = "ในเวียง", kind: str = "อสม.") -> list:
    """One valid volunteer row with a unique phone."""
    return ["นาย", f"อาสา{number}", "ทดสอบ", f"08100000{number:02d}", kind, "อบต.(moicovid)", subdistrict, district,
            "20/12/2564"]


def person(number: int, reason: str = "ไม่มีเวลา") -> list:
    """One valid unvaccinated person in ร้องกวาง."""
    return [thai_id(f"1{number:011d}"), "นาย", f"คน{number}", "ทดสอบ", "ชาย", "1/1/2520", "ไทย", "1", "1",
            "ร้องกวาง", "ร้องกวาง", "", reason, "ประสงค์", "20/12/2564", "อาสา"]


def facility(name: str, updated: str, status: str = "เปิดให้บริการ") -> list:
    """One facility in เมืองแพร่."""
    return ["จุดฉีดวัคซีน", name, "ในเวียง", "เมืองแพร่", "", "", "", "", status, updated]


def request(phone: str, status: str, resolved: str = "") -> list:
    """One help request in ร้องกวาง."""
    return ["20/12/2564", "ขอรับสิ่งของ", "ผู้แจ้ง", phone, 1, "ร้องกวาง", "ร้องกวาง", "", status, resolved]


def workbook(path: Path, moment, volunteers=(), people=(), facilities=(), requests=()) -> None:
    """A district workbook with the four sheets (only those given)."""
    sheets = {}
    for title, dataset, rows in [("อาสาสมัคร", "volunteers", volunteers), ("ผู้ยังไม่ได้รับวัคซีน", "unvaccinated", people),
                                 ("สถานที่", "facilities", facilities), ("คำขอความช่วยเหลือ", "help_requests", requests)]:
        if rows:
            sheets[title] = [headers(dataset), *rows]
    write_xlsx(path, sheets, moment)


def build(inbox: Path, mode: str) -> None:
    """Week 1 and week 2 for two districts; 5401 resends everything or sends only new rows."""
    week1_volunteers = [volunteer(i) for i in range(1, 6)]
    week2_volunteers = [volunteer(i) for i in range(6, 9)]
    week1_facilities = [facility("รพ.แพร่", "20/12/2564"), facility("รพ.สต.ในเวียง", "1/12/2564")]
    week2_facilities = [facility("รพ.แพร่", "30/12/2564", "ปิด")]
    folder = inbox / "5401 เมืองแพร่"
    workbook(folder / "week1.xlsx", bangkok(2021, 12, 24, 9), week1_volunteers, facilities=week1_facilities)
    if mode == "resend":
        workbook(folder / "week2.xlsx", bangkok(2021, 12, 31, 9), week1_volunteers + week2_volunteers,
                 facilities=[week1_facilities[1], *week2_facilities])
    else:
        workbook(folder / "week2.xlsx", bangkok(2021, 12, 31, 9), week2_volunteers, facilities=week2_facilities)
    rong_kwang = inbox / "ร้องกวาง"
    workbook(rong_kwang / "a.xlsx", bangkok(2021, 12, 24, 13), people=[person(1), person(2)],
             requests=[request("0891111111", "รอดำเนินการ")])
    # a.xlsx came at 13:00 on the first Friday: late. b.xlsx came at 16:30, after the cut-off: it is the
    # second week's first file, well before that week's deadline, so on time there.
    workbook(rong_kwang / "b.xlsx", bangkok(2021, 12, 24, 16, 30), people=[person(3, "กลัวผลข้างเคียง")],
             requests=[request("0891111111", "ดำเนินการแล้ว", "24/12/2564")])


def run(inbox: Path, outputs: Path, week: str) -> dict:
    """Run a week and return its report.json."""
    run_weekly(PROJECT / "config.yaml", inbox, outputs, week, progress=lambda message: None)
    return json.loads((outputs / week / "report.json").read_text(encoding="utf-8"))


def figures_of(report: dict) -> dict:
    """The entity figures (not the row accounting) per district and in total."""
    return {code: {k: district[k] for k in FIGURES} for code, district in
            {**report["districts"], "totals": report["totals"]}.items()}


def test_resend_all_and_new_rows_only_give_the_same_figures(tmp_path):
    reports = {}
    for mode in ("resend", "new_only"):
        build(tmp_path / mode / "inbox", mode)
        reports[mode] = [run(tmp_path / mode / "inbox", tmp_path / mode / "out", week) for week in (WEEK1, WEEK2)]
    for week_index in (0, 1):
        assert figures_of(reports["resend"][week_index]) == figures_of(reports["new_only"][week_index])
    week2 = reports["new_only"][1]["districts"]["5401"]
    assert (week2["volunteers"]["new"], week2["volunteers"]["total"]) == (3, 8)
    assert week2["facilities"]["total"] == 2
    assert week2["facilities"]["by_status"] == {"เปิดให้บริการ": 1, "ปิด": 1, "ไม่ระบุ": 0}   # the newer row updated it
    assert week2["facilities"]["stale"] == 1    # รพ.สต.ในเวียง: last updated 1 Dec, 30 days before 31 Dec
    resend = reports["resend"][1]["districts"]["5401"]["submission"]
    # 5 volunteers and 2 facilities were known already: 6 unchanged repeats, 1 update (รพ.แพร่ closed), 3 new rows.
    assert (resend["rows_read"], resend["accepted"], resend["updated"], resend["duplicates"]) == (10, 3, 1, 6)


def test_file_after_cutoff_belongs_to_next_week(tmp_path):
    build(tmp_path / "inbox", "new_only")
    first = run(tmp_path / "inbox", tmp_path / "out", WEEK1)["districts"]["5402"]
    second = run(tmp_path / "inbox", tmp_path / "out", WEEK2)["districts"]["5402"]
    assert first["submission"]["status"] == "late" and first["submission"]["files"] == 1
    assert (first["unvaccinated"]["total"], first["help_requests"]["open"]) == (2, 1)
    assert second["submission"]["status"] == "on_time" and second["submission"]["files"] == 1
    assert (second["unvaccinated"]["new"], second["unvaccinated"]["total"]) == (1, 3)
    assert second["help_requests"]["new"] == 0
    assert (second["help_requests"]["total"], second["help_requests"]["open"]) == (1, 0)


def test_week_one_rerun_after_week_two_is_byte_identical_even_if_files_were_overwritten(tmp_path):
    build(tmp_path / "inbox", "new_only")
    run(tmp_path / "inbox", tmp_path / "out", WEEK1)
    original = (tmp_path / "out" / WEEK1 / "report.json").read_bytes()
    run(tmp_path / "inbox", tmp_path / "out", WEEK2)
    # The district overwrites its week-1 file in week 2: the store still holds the version week 1 saw.
    workbook(tmp_path / "inbox" / "5401 เมืองแพร่" / "week1.xlsx", bangkok(2021, 12, 31, 10), [volunteer(40)])
    run(tmp_path / "inbox", tmp_path / "out", WEEK2)
    run(tmp_path / "inbox", tmp_path / "out", WEEK1)
    assert (tmp_path / "out" / WEEK1 / "report.json").read_bytes() == original


def test_weeks_out_of_order_give_the_same_reports(tmp_path):
    build(tmp_path / "inbox", "new_only")
    in_order = [run(tmp_path / "inbox", tmp_path / "a", week) for week in (WEEK1, WEEK2)]
    reversed_order = [run(tmp_path / "inbox", tmp_path / "b", week) for week in (WEEK2, WEEK1)][::-1]
    assert in_order == reversed_order


def test_a_corrupt_file_beside_good_ones_changes_nothing_else(tmp_path):
    build(tmp_path / "clean", "new_only")
    shutil.copytree(tmp_path / "clean", tmp_path / "dirty")
    damaged = tmp_path / "dirty" / "5401 เมืองแพร่" / "broken.xlsx"
    damaged.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    from tests.builders import set_mtime
    set_mtime(damaged, bangkok(2021, 12, 24, 8))
    clean, dirty = run(tmp_path / "clean", tmp_path / "o1", WEEK1), run(tmp_path / "dirty", tmp_path / "o2", WEEK1)
    assert figures_of(clean) == figures_of(dirty)
    assert dirty["districts"]["5401"]["submission"]["files"] == clean["districts"]["5401"]["submission"]["files"] + 1
    for key in ("rows_read", "accepted", "updated", "rejected", "duplicates", "skipped"):
        assert dirty["districts"]["5401"]["submission"][key] == clean["districts"]["5401"]["submission"][key]
