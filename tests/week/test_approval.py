"""Sign-off: approve a week, rerun it unchanged, then with one input file changed."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import openpyxl
import pytest

from pipeline.__main__ import main
from pipeline.run import run_weekly
from pipeline.sources.inbox import file_sha256
from tests.conftest import PROJECT, bangkok
from tests.scenarios.test_two_weeks import WEEK1, build, facility, volunteer, workbook

APPROVER = "นางสาวผู้ดูแล ระบบจังหวัด"
CHANGED = "5401 เมืองแพร่/week1.xlsx"


def run(inbox: Path, outputs: Path, week: str):
    return run_weekly(PROJECT / "config.yaml", inbox, outputs, week, progress=lambda message: None)


def approve(inbox: Path, outputs: Path, week: str, by: str | None = APPROVER) -> int:
    arguments = ["approve", "--config", str(PROJECT / "config.yaml"), "--inputs", str(inbox), "--outputs", str(outputs),
                 "--week", week]
    return main(arguments + (["--by", by] if by else []))


def cells(path: Path, sheet: str) -> list[list]:
    return [[cell.value for cell in row] for row in openpyxl.load_workbook(path)[sheet].iter_rows()]


def text_of(rows: list[list]) -> str:
    return "\n".join(str(value) for row in rows for value in row if value is not None)


@pytest.fixture(scope="module")
def approved_then_changed(tmp_path_factory):
    """Week 1 run and approved; rerun unchanged; a counted file corrected (time kept inside week 1); rerun."""
    root = tmp_path_factory.mktemp("approval")
    inbox, outputs = root / "inbox", root / "out"
    build(inbox, "new_only")
    run(inbox, outputs, WEEK1)
    assert approve(inbox, outputs, WEEK1) == 0
    record = json.loads((outputs / WEEK1 / "approval.json").read_text(encoding="utf-8"))
    unchanged = run(inbox, outputs, WEEK1)
    unchanged_book = cells(outputs / WEEK1 / f"province_report_{WEEK1}.xlsx", "สรุป")
    corrected = [volunteer(i) for i in range(1, 6)] + [volunteer(9)]
    workbook(inbox / CHANGED, bangkok(2021, 12, 24, 9, 30), corrected,
             facilities=[facility("รพ.แพร่", "20/12/2564"), facility("รพ.สต.ในเวียง", "1/12/2564")])
    refused = approve(inbox, outputs, WEEK1)
    changed = run(inbox, outputs, WEEK1)
    return root, record, unchanged, unchanged_book, refused, changed


def test_approval_records_who_when_and_every_input_hash(approved_then_changed):
    root, record, *_ = approved_then_changed
    assert record["approved_by"] == APPROVER and record["week"] == WEEK1
    assert record["approved_at"].startswith("20") and record["approved_at"].endswith("+07:00")
    # The files counted in week 1 (b.xlsx came after the cut-off) with the SHA-256 of their bytes then.
    assert sorted(f["source_file"] for f in record["files"]) == [CHANGED, "ร้องกวาง/a.xlsx"]
    a_file = next(f for f in record["files"] if f["source_file"] == "ร้องกวาง/a.xlsx")
    assert a_file["sha256"] == file_sha256(root / "inbox" / "ร้องกวาง" / "a.xlsx") and a_file["this_week"]
    assert record["report"]["totals"]["volunteers"]["total"] == 5


def test_approval_hash_is_that_of_the_approved_report_json(tmp_path, capsys):
    build(tmp_path / "inbox", "new_only")
    run(tmp_path / "inbox", tmp_path / "out", WEEK1)
    report_bytes = (tmp_path / "out" / WEEK1 / "report.json").read_bytes()
    assert approve(tmp_path / "inbox", tmp_path / "out", WEEK1) == 0
    out = capsys.readouterr().out
    assert f"อนุมัติรายงานสัปดาห์ {WEEK1} แล้ว โดย {APPROVER}" in out
    record = json.loads((tmp_path / "out" / WEEK1 / "approval.json").read_text(encoding="utf-8"))
    assert record["report_sha256"] == hashlib.sha256(report_bytes).hexdigest()


def test_unchanged_rerun_says_approved(approved_then_changed):
    _, _, unchanged, unchanged_book, *_ = approved_then_changed
    assert len(unchanged.notices) == 1 and unchanged.notices[0].startswith("รายงานสัปดาห์นี้ได้รับอนุมัติแล้ว โดย")
    assert APPROVER in unchanged.notices[0]
    assert "ข้อมูลไม่เปลี่ยนแปลงหลังอนุมัติ" in text_of(unchanged_book)


def test_approving_while_the_inbox_holds_an_uncounted_version_is_refused(approved_then_changed):
    *_, refused, _ = approved_then_changed
    assert refused == 2


def test_refusal_is_one_line_naming_the_file(tmp_path, capsys):
    build(tmp_path / "inbox", "new_only")
    run(tmp_path / "inbox", tmp_path / "out", WEEK1)
    workbook(tmp_path / "inbox" / CHANGED, bangkok(2021, 12, 24, 9, 30), [volunteer(1), volunteer(9)])
    assert approve(tmp_path / "inbox", tmp_path / "out", WEEK1) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("ข้อผิดพลาด: ") and CHANGED in error
    assert not (tmp_path / "out" / WEEK1 / "approval.json").exists()


def test_approving_a_week_never_run_is_refused(tmp_path, capsys):
    build(tmp_path / "inbox", "new_only")
    assert approve(tmp_path / "inbox", tmp_path / "out", WEEK1) == 2
    assert "make weekly WEEK=2021-12-24" in capsys.readouterr().err


def test_approving_an_edited_report_is_refused(tmp_path, capsys):
    build(tmp_path / "inbox", "new_only")
    run(tmp_path / "inbox", tmp_path / "out", WEEK1)
    path = tmp_path / "out" / WEEK1 / "report.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"total": 5', '"total": 50', 1), encoding="utf-8")
    assert approve(tmp_path / "inbox", tmp_path / "out", WEEK1) == 2
    assert "report.json" in capsys.readouterr().err


def test_changed_input_is_reported_on_the_terminal(approved_then_changed):
    *_, changed = approved_then_changed
    notices = changed.notices
    assert notices[0].startswith("!! ข้อมูลเปลี่ยนแปลงหลังอนุมัติ") and APPROVER in notices[0]
    assert "ไฟล์ข้อมูลเปลี่ยน 1 ไฟล์" in notices[0]
    assert any(f"ไฟล์เดิมฉบับแก้ไข {CHANGED}" in line for line in notices)
    assert any("เมืองแพร่ · อาสาสมัคร · สะสม: 5 → 6" in line for line in notices)
    assert any("รวมทั้งจังหวัด · อาสาสมัคร · สะสม: 5 → 6" in line for line in notices)


def test_changed_input_is_reported_in_the_workbook(approved_then_changed):
    root, *_ = approved_then_changed
    path = root / "out" / WEEK1 / f"province_report_{WEEK1}.xlsx"
    summary = text_of(cells(path, "สรุป"))
    assert "ข้อมูลเปลี่ยนแปลงหลังอนุมัติ" in summary and APPROVER in summary
    rows = cells(path, "ตรวจสอบ")
    assert any(row[0] == "ไฟล์เดิมฉบับแก้ไข" and row[1] == CHANGED for row in rows)
    figures = {(row[0], row[1]): row[2:5] for row in rows if row[0] in ("เมืองแพร่", "รวมทั้งจังหวัด")}
    assert figures[("เมืองแพร่", "อาสาสมัคร · สะสม")] == [5, 6, 1]
    assert figures[("รวมทั้งจังหวัด", "อาสาสมัคร · สะสม")] == [5, 6, 1]
    assert figures[("เมืองแพร่", "อาสาสมัคร · อสม.")] == [5, 6, 1]
    # Figures that did not change are not listed.
    assert ("ร้องกวาง", "ผู้ยังไม่ได้รับวัคซีน · สะสม") not in figures


def test_changed_input_is_reported_on_the_page_and_approval_kept(approved_then_changed):
    root, record, *_ = approved_then_changed
    page = (root / "out" / WEEK1 / "index.html").read_text(encoding="utf-8")
    assert "ข้อมูลเปลี่ยนแปลงหลังอนุมัติ" in page and CHANGED in page
    # The run does not touch the approval: it is the administrator's record.
    assert json.loads((root / "out" / WEEK1 / "approval.json").read_text(encoding="utf-8")) == record
