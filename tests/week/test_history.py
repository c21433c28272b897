"""Timeliness history and earlier weeks' figures: from the store's versions, the same in any run order."""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import openpyxl
import pytest

from pipeline.core import weeks
from pipeline.core.config import load_config
from pipeline.core.schema import load_schema
from pipeline.core.weeks import utc_text
from pipeline.run import run_weekly
from pipeline.store import database as store
from pipeline.store import week_cache
from pipeline.week import history
from tests.builders import headers, set_mtime, write_xlsx
from tests.conftest import PROJECT, bangkok

WEEKS = ["2021-12-24", "2021-12-31", "2022-01-07", "2022-01-14"]
PLACES = {"5401": ("เมืองแพร่", "ในเวียง"), "5402": ("ร้องกวาง", "ร้องกวาง"), "5403": ("ลอง", "ห้วยอ้อ"),
          "5404": ("สูงเม่น", "สูงเม่น")}
# What each district sent and when (folder code, file name, submission time, volunteers in the file).
PLAN = [
    ("5401", "w1.xlsx", bangkok(2021, 12, 24, 9), 3),
    ("5401", "w2.xlsx", bangkok(2021, 12, 30, 10), 2),
    ("5401", "w3.xlsx", bangkok(2022, 1, 7, 11, 59), 2),
    ("5401", "w4.xlsx", bangkok(2022, 1, 14, 9), 2),
    ("5402", "w1.xlsx", bangkok(2021, 12, 24, 10), 2),
    ("5402", "w2.xlsx", bangkok(2021, 12, 31, 13), 2),       # after the 12:00 deadline: late
    # nothing from 5402 in week 3: missing
    ("5402", "w4.xlsx", bangkok(2022, 1, 12, 10), 1),
    ("5402", "w4-correction.xlsx", bangkok(2022, 1, 14, 15), 1),   # a later correction does not make it late
    ("5403", "w1-late.xlsx", bangkok(2021, 12, 24, 16, 30), 2),    # after the cut-off: week 2's first file
    ("5403", "w3.xlsx", bangkok(2022, 1, 7, 12, 30), 1),            # late
    ("5404", "broken.xlsx", bangkok(2021, 12, 31, 8), 0),           # unreadable and nothing else: unusable
]


def volunteer_row(number: int, code: str) -> list:
    """One valid volunteer of a district, unique phone per number."""
    district, subdistrict = PLACES[code]
    return ["นาย", f"อาสา{number}", "ทดสอบ", f"08{number:08d}", "อสม.", "อบต.(moicovid)", subdistrict, district,
            "20/12/2564"]


def build_plan(inbox: Path, plan=PLAN) -> None:
    """Write the planned files with their submission times."""
    number = 0
    for code, name, moment, count in plan:
        path = inbox / code / name
        if name == "broken.xlsx":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
            set_mtime(path, moment)
            continue
        rows = []
        for _ in range(count):
            number += 1
            rows.append(volunteer_row(number, code))
        write_xlsx(path, {"อาสาสมัคร": [headers("volunteers"), *rows]}, moment)


def expected_statuses(plan, districts: list[str], weeks: list[str]) -> dict[str, list[str]]:
    """The rule, derived here on its own: a week is (previous Friday 16:00, Friday 16:00]; on time if the
    district's first usable file of the week came by Friday 12:00, late if after, unusable if it sent only
    files that could not be used, missing if none."""
    result = {code: [] for code in districts}
    for index, text in enumerate(weeks):
        friday = dt.date.fromisoformat(text)
        cutoff = bangkok(friday.year, friday.month, friday.day, 16)
        opening = cutoff - dt.timedelta(days=7) if index else None
        deadline = bangkok(friday.year, friday.month, friday.day, 12)
        for code in districts:
            sent = [(m, name) for c, name, m, _ in plan if c == code and m <= cutoff and (opening is None or m > opening)]
            moments = [m for m, name in sent if name != "broken.xlsx"]
            result[code].append(("unusable" if sent else "missing") if not moments
                                else "on_time" if min(moments) <= deadline else "late")
    return result


def run(inbox: Path, outputs: Path, week: str):
    return run_weekly(PROJECT / "config.yaml", inbox, outputs, week, progress=lambda message: None)


def matrix_from_workbook(path: Path) -> dict[str, list[str]]:
    """The timeliness sheet read back: district code -> status words, and the fills behind them."""
    sheet = openpyxl.load_workbook(path)["ความตรงเวลา"]
    header_row = next(r for r in range(1, 10) if sheet.cell(r, 1).value == "รหัสอำเภอ")
    words = {v: k for k, v in history.wording()["status_short"].items()}
    found = {}
    row = header_row + 1
    while sheet.cell(row, 1).value and str(sheet.cell(row, 1).value).isdigit():
        statuses, column = [], 3
        while sheet.cell(row, column).value in words:
            statuses.append(words[sheet.cell(row, column).value])
            column += 1
        found[str(sheet.cell(row, 1).value)] = statuses
        row += 1
    return found


@pytest.fixture(scope="module")
def four_weeks(tmp_path_factory):
    """The planned inbox run out of order: week 4, 2, 3, 1, then week 4 again."""
    root = tmp_path_factory.mktemp("four_weeks")
    build_plan(root / "inbox")
    results = {}
    for week in ["2022-01-14", "2021-12-31", "2022-01-07", "2021-12-24"]:
        results[week] = run(root / "inbox", root / "out", week)
    rerun = run(root / "inbox", root / "out", "2022-01-14")
    return root, results, rerun


def test_matrix_equals_the_rule_applied_independently(four_weeks):
    root, results, _ = four_weeks
    config = load_config(PROJECT / "config.yaml")
    expected = expected_statuses(PLAN, list(config.districts), WEEKS)
    assert expected["5402"][1:3] == ["late", "missing"] and expected["5403"][:3] == ["missing", "on_time", "late"]
    for index, week in enumerate(WEEKS):
        found = matrix_from_workbook(root / "out" / week / f"province_report_{week}.xlsx")
        assert found == {code: statuses[:index + 1] for code, statuses in expected.items()}, week


def test_matrix_last_column_is_the_week_submission_status(four_weeks):
    root, results, _ = four_weeks
    for week in WEEKS:
        report = json.loads((root / "out" / week / "report.json").read_text(encoding="utf-8"))
        found = matrix_from_workbook(root / "out" / week / f"province_report_{week}.xlsx")
        assert {code: statuses[-1] for code, statuses in found.items()} == \
            {code: d["submission"]["status"] for code, d in report["districts"].items()}


def test_matrix_cells_are_coloured_and_rates_computed(four_weeks):
    root, _, _ = four_weeks
    sheet = openpyxl.load_workbook(root / "out" / WEEKS[-1] / f"province_report_{WEEKS[-1]}.xlsx",
                                   data_only=True)["ความตรงเวลา"]
    header_row = next(r for r in range(1, 10) if sheet.cell(r, 1).value == "รหัสอำเภอ")
    fills = {"ตรงเวลา": "C6EFCE", "ช้า": "FFEB9C", "ไม่ส่ง": "FFC7CE"}
    row_5402 = next(r for r in range(header_row, header_row + 10) if sheet.cell(r, 1).value == "5402")
    for column in range(3, 3 + len(WEEKS)):
        cell = sheet.cell(row_5402, column)
        assert cell.fill.fgColor.rgb.endswith(fills[cell.value])
    # 5402: on time, late, missing, on time -> 2 of 4 on time (50%), none unusable, 3 of 4 sent (75%).
    values = [sheet.cell(row_5402, c).value for c in range(3 + len(WEEKS), 9 + len(WEEKS))]
    assert values == [2, 1, 0, 1, 0.5, 0.75]
    week_rates = [sheet.cell(row_5402 + 8 - 1, c).value for c in range(3, 3 + len(WEEKS))]
    # Districts on time each week, of 8: 5401 and 5402; 5401 and 5403 (5404's only file is unusable); 5401; 5401, 5402.
    assert week_rates == [2 / 8, 2 / 8, 1 / 8, 2 / 8]


def test_rerun_gives_the_same_matrix_and_history(four_weeks):
    root, results, rerun = four_weeks
    first, second = results["2022-01-14"], rerun
    assert first.result.report == second.result.report
    path = root / "out" / "2022-01-14" / "report.json"
    assert json.loads(path.read_text(encoding="utf-8")) == second.result.report


def test_earlier_weeks_recomputed_from_the_store_equal_their_own_reports(four_weeks):
    root, _, _ = four_weeks
    config, schema = load_config(PROJECT / "config.yaml"), load_schema()
    week = dt.date.fromisoformat(WEEKS[-1])
    connection = store.connect(root / "out" / "store.sqlite")
    try:
        state = store.load_until(connection, schema, utc_text(weeks.cutoff_of(week, config)))
        past = week_cache.past_reports(connection, state, config, schema, week)
        cached = connection.execute("SELECT week FROM week_reports ORDER BY week").fetchall()
    finally:
        connection.close()
    assert sorted(past) == [dt.date.fromisoformat(w) for w in WEEKS[:-1]]
    for earlier, report in past.items():
        own = json.loads((root / "out" / earlier.isoformat() / "report.json").read_text(encoding="utf-8"))
        assert report == own, earlier
    assert [row[0] for row in cached] == WEEKS[:-1]


def test_history_cache_is_used_and_invalidated_by_a_new_old_version(tmp_path, monkeypatch):
    plan = PLAN[:5]
    build_plan(tmp_path / "inbox", plan)
    run(tmp_path / "inbox", tmp_path / "out", "2021-12-31")
    config, schema = load_config(PROJECT / "config.yaml"), load_schema()
    week = dt.date.fromisoformat("2021-12-31")
    calls = []
    original = week_cache.build_week
    monkeypatch.setattr(week_cache, "build_week", lambda *a, **k: calls.append(a[-1]) or original(*a, **k))

    def past():
        connection = store.connect(tmp_path / "out" / "store.sqlite")
        try:
            state = store.load_until(connection, schema, utc_text(weeks.cutoff_of(week, config)))
            return week_cache.past_reports(connection, state, config, schema, week)
        finally:
            connection.close()

    before = past()
    assert calls == []                       # the run cached week 1; nothing recomputed
    # A file with an old modification time arrives later: week 1's state changed, so it is recomputed.
    write_xlsx(tmp_path / "inbox" / "5401" / "late-copy.xlsx",
               {"อาสาสมัคร": [headers("volunteers"), volunteer_row(90, "5401")]}, bangkok(2021, 12, 23, 9))
    monkeypatch.setattr(week_cache, "build_week", original)
    run(tmp_path / "inbox", tmp_path / "out", "2021-12-31")
    after = past()
    week1 = dt.date.fromisoformat("2021-12-24")
    assert after[week1]["totals"]["volunteers"]["total"] == before[week1]["totals"]["volunteers"]["total"] + 1
    with sqlite3.connect(tmp_path / "out" / "store.sqlite") as connection:
        assert connection.execute("SELECT count(*) FROM week_reports").fetchone()[0] == 1


def test_timeliness_ignores_versions_after_the_cutoff(config):
    import pandas as pd
    versions = pd.DataFrame({
        "version_id": ["a", "b", "c"], "district_folder": ["5401", "5401", "5402"],
        "submitted_at": ["2021-12-24T02:00:00.000000+00:00", "2021-12-31T02:00:00.000000+00:00",
                         "2021-12-24T06:00:00.000000+00:00"]})
    matrix = history.timeliness(versions, config, dt.date(2021, 12, 24))
    assert matrix.statuses[dt.date(2021, 12, 24)].to_dict() == {
        **{code: "missing" for code in config.districts}, "5401": "on_time", "5402": "late"}
    assert list(matrix.statuses.columns) == [dt.date(2021, 12, 24)]


def test_state_key_counts_office_answers_only_as_they_stood_at_the_cutoff(config):
    import pandas as pd
    versions = pd.DataFrame({"version_id": ["a"], "fingerprint": ["f"], "submitted_at": ["2021-12-24T02:00:00.000000+00:00"]})
    cutoff = "2021-12-24T09:00:00.000000+00:00"
    bare = history.state_key({"versions": versions}, config, cutoff)
    empty = pd.DataFrame(columns=["record_key_a", "record_key_b", "decision", "recorded_at"])
    assert history.state_key({"versions": versions, "link_decisions": empty}, config, cutoff) == bare
    later = pd.DataFrame([["x", "y", "same", "2022-01-03T10:00:00+07:00"]], columns=empty.columns)
    assert history.state_key({"versions": versions, "link_decisions": later}, config, cutoff) == bare
    earlier = pd.DataFrame([["x", "y", "same", "2021-12-24T10:00:00+07:00"]], columns=empty.columns)
    assert history.state_key({"versions": versions, "link_decisions": earlier}, config, cutoff) != bare
    other = versions.assign(fingerprint="g")                     # the same file read differently
    assert history.state_key({"versions": other}, config, cutoff) != bare
