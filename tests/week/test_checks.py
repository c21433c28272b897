"""Jump checks: a planted jump is flagged, ordinary noise and zero-heavy districts are not."""
from __future__ import annotations

import datetime as dt
import random

import numpy as np
import openpyxl
import pytest

from pipeline.run import run_weekly
from pipeline.week import checks
from tests.builders import headers, write_xlsx
from tests.conftest import PROJECT, bangkok
from tests.week.test_history import volunteer_row

FIRST = dt.date(2021, 12, 24)


def fake_reports(series: dict[str, list[int]], figure=("volunteers", "total")) -> dict[dt.date, dict]:
    """Minimal weekly reports: district code -> one cumulative figure per week."""
    weeks = len(next(iter(series.values())))
    reports = {}
    for index in range(weeks):
        week = FIRST + dt.timedelta(days=7 * index)
        districts = {code: {"name": code, figure[0]: {figure[1]: values[index]}} for code, values in series.items()}
        reports[week] = {"districts": districts, "totals": {figure[0]: {figure[1]: 0}}}
    return reports


def cumulative(changes: list[int], start: int = 0) -> list[int]:
    return list(np.cumsum([start, *changes]).astype(int))


def test_planted_jump_flagged_noise_and_zero_heavy_not():
    generator = random.Random(7)
    noisy = cumulative([generator.randint(8, 16) for _ in range(10)], 40)        # about 12 a week
    zero_heavy = cumulative([0, 0, 3, 0, 0, 0, 1, 0, 0, 4], 5)                   # mostly nothing, small batches
    steady_big = cumulative([100, 104, 97, 101, 99, 103, 98, 100, 102, 130], 900)  # MAD small, 30 is ordinary
    jumped = cumulative([10, 12, 9, 11, 10, 13, 8, 11, 10, 95], 30)             # planted: 95 after ~10s
    dropped = cumulative([5, 6, 4, 5, 7, 5, 6, 4, 5, -60], 200)                  # planted: records moved away
    reports = fake_reports({"5401": noisy, "5402": zero_heavy, "5403": steady_big, "5404": jumped,
                            "5405": dropped})
    week = max(reports)
    flagged = checks.jump_checks(reports, week)
    assert set(flagged["district"]) == {"5404", "5405"}
    jump = flagged[flagged["district"] == "5404"].iloc[0]
    assert (jump["previous"], jump["current"], jump["change"]) == (jumped[-2], jumped[-1], 95)
    assert jump["usual"] == 10 and jump["score"] > checks.SETTINGS.threshold
    assert jump["label"] == "อาสาสมัคร · สะสม"
    assert flagged.iloc[0]["district"] == "5404"                  # most unusual first
    assert flagged[flagged["district"] == "5405"].iloc[0]["score"] < -checks.SETTINGS.threshold


def test_zero_heavy_district_with_mad_zero_uses_the_floor():
    baseline = np.array([0, 0, 0, 0, 1, 0, 0, 0], dtype=float)
    # A plain z-score would call 4 new records in a quiet district 9.8 standard deviations out.
    assert (4 - baseline.mean()) / baseline.std() > 9
    score, centre, spread = checks.robust_score(4, baseline)
    assert (centre, spread) == (0, checks.SETTINGS.floor_abs) and abs(score) < checks.SETTINGS.threshold
    score, _, _ = checks.robust_score(40, baseline)
    assert score > checks.SETTINGS.threshold


def test_no_checks_without_enough_history():
    reports = fake_reports({"5401": [1, 2, 300, 301]})
    assert checks.jump_checks(reports, max(reports)).empty
    assert checks.history_weeks(reports, max(reports)) == 2 < checks.SETTINGS.min_history


def test_later_weeks_do_not_change_an_earlier_weeks_checks():
    series = cumulative([10, 11, 9, 10, 60, 10, 10], 20)
    reports = fake_reports({"5401": series})
    week = FIRST + dt.timedelta(days=7 * 5)
    early = checks.jump_checks({w: r for w, r in reports.items() if w <= week}, week)
    assert list(early["district"]) == ["5401"]
    assert checks.jump_checks(reports, week).equals(early)


@pytest.fixture(scope="module")
def six_weeks(tmp_path_factory):
    """เมืองแพร่ sends 9-12 new volunteers a week, then 70 in week 6; ร้องกวาง sends a few now and then."""
    root = tmp_path_factory.mktemp("six_weeks")
    generator = random.Random(3)
    number = 0
    for index in range(6):
        friday = FIRST + dt.timedelta(days=7 * index)
        moment = bangkok(friday.year, friday.month, friday.day, 9)
        count = 70 if index == 5 else generator.randint(9, 12)
        rows = [volunteer_row(number + i, "5401") for i in range(1, count + 1)]
        number += count
        write_xlsx(root / "inbox" / "5401" / f"week{index + 1}.xlsx", {"อาสาสมัคร": [headers("volunteers"), *rows]},
                   moment)
        if index in (0, 2, 5):
            rows = [volunteer_row(number + i, "5402") for i in range(1, 3)]
            number += 2
            write_xlsx(root / "inbox" / "5402" / f"week{index + 1}.xlsx",
                       {"อาสาสมัคร": [headers("volunteers"), *rows]}, moment)
    done = run_weekly(PROJECT / "config.yaml", root / "inbox", root / "out", "2022-01-28",
                      progress=lambda message: None)
    return root, done


def test_checks_sheet_lists_the_planted_jump_with_its_file(six_weeks):
    root, done = six_weeks
    sheet = openpyxl.load_workbook(root / "out" / "2022-01-28" / "province_report_2022-01-28.xlsx")["ตรวจสอบ"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    flagged = [row for row in rows if row[0] in ("เมืองแพร่", "ร้องกวาง")]
    assert flagged and {row[0] for row in flagged} == {"เมืองแพร่"}
    total = next(row for row in flagged if row[1] == "อาสาสมัคร · สะสม")
    report = done.result.report["districts"]["5401"]["volunteers"]
    assert total[3] == report["total"] and total[4] == 70 and total[2] == report["total"] - 70
    assert "5401/week6.xlsx (70 รายการ)" in total[8]
    assert any("พบตัวเลขที่เปลี่ยนแปลงผิดปกติ" in line for line in done.notices)
    summary = openpyxl.load_workbook(root / "out" / "2022-01-28" / "province_report_2022-01-28.xlsx")["สรุป"]
    assert any("พบตัวเลขที่เปลี่ยนแปลงผิดปกติ" in str(cell.value) for row in summary.iter_rows() for cell in row)


def test_checks_rule_in_a_clerks_words_and_summary_status_counts_are_numbers(six_weeks):
    root, done = six_weeks
    book = openpyxl.load_workbook(root / "out" / "2022-01-28" / "province_report_2022-01-28.xlsx")
    texts = [str(cell.value) for row in book["ตรวจสอบ"].iter_rows() for cell in row if cell.value]
    method = next(text for text in texts if "เปลี่ยนแปลงมากกว่าปกติของอำเภอนี้มาก" in text)
    # The clerk's sentence first; the formula only in the note after it.
    assert method.index("หมายเหตุ") < method.index("MAD × 1.4826") and "MAD" not in method[:method.index("หมายเหตุ")]
    summary = book["สรุป"]
    row = next(row for row in summary.iter_rows() if str(row[0].value).startswith("อำเภอส่งตรงเวลา"))
    submission = done.result.report["totals"]["submission"]
    assert [cell.value for cell in row[1:5]] == [submission[s] for s in ("on_time", "late", "unusable", "missing")]
    assert row[1].number_format.endswith('" ตรงเวลา"') and row[4].number_format.endswith('" ไม่ส่ง"')
