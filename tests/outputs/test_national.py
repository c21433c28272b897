"""The national roll-up: real provinces run through the weekly pipeline, then merged and checked."""
from __future__ import annotations

import argparse
import copy
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
import yaml

from pipeline.core import messages
from pipeline.thai import gazetteer
from pipeline.week.figures import add_blocks
from pipeline.national import (SUMMARY_SHEET, TIMELINESS_SHEET, TOTAL_LABEL, NationalError, check_reports,
                               main_national, national_table, national_totals, write_national)
from pipeline.run import run_weekly
from pipeline.week.report import BLOCKS
from tests.builders import headers, thai_id, write_xlsx
from tests.conftest import PROJECT, bangkok

WEEK, NEXT_WEEK = "2021-12-24", "2021-12-31"
PROVINCES = {"10": 1, "50": 2, "54": 3, "96": 1}   # province code -> volunteers per district sent
WIDE = {"lat_min": 5.0, "lat_max": 21.0, "lon_min": 97.0, "lon_max": 106.0}


def _config_path(folder: Path, code: str) -> Path:
    raw = yaml.safe_load((PROJECT / "config.yaml").read_text(encoding="utf-8"))
    raw["province"] = {"code": code, "bounds": WIDE}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def _inbox(folder: Path, code: str, per_district: int) -> None:
    """Two districts send: the first on time (Friday 10:00), the second late (Friday 14:00)."""
    for number, (district, name) in enumerate(list(gazetteer.districts_of(code).items())[:2]):
        subdistrict = next(iter(gazetteer.subdistricts_of(district).values()))
        volunteers = [["นาย", f"อาสา{i}", "ทดสอบ", f"08{code}{number}{i:05d}", "อสม.", "อสม.(moicovid)", subdistrict,
                       name, "20/12/2564"] for i in range(per_district)]
        facilities = [["จุดฉีดวัคซีน", f"จุดฉีด {name}", subdistrict, name, "", "", 50, "", "เปิด", "20/12/2564"]]
        requests = [["20/12/2564", "ขอรับวัคซีน", "ผู้แจ้ง", f"09{code}{number}00000", 1, subdistrict, name, "",
                     "รอดำเนินการ", ""]]
        people = [[thai_id(f"1{code}{number}00000{i:03d}"), "นาง", f"คน{i}", "ทดสอบ", "หญิง", "1/1/2500", "ไทย", "1", 1,
                   subdistrict, name, "", "ไม่มีเวลา", "ประสงค์", "20/12/2564", "อาสา"] for i in range(number + 1)]
        write_xlsx(folder / district / "week.xlsx",
                   {"อาสาสมัคร": [headers("volunteers"), *volunteers], "สถานที่": [headers("facilities"), *facilities],
                    "คำขอความช่วยเหลือ": [headers("help_requests"), *requests],
                    "ผู้ยังไม่ได้รับวัคซีน": [headers("unvaccinated"), *people]},
                   bangkok(2021, 12, 24, 10 + 4 * number))


@pytest.fixture(scope="module")
def provinces(tmp_path_factory):
    """Each province run for real; its report.json collected under one folder, named in several ways."""
    root = tmp_path_factory.mktemp("national")
    collected = root / "collected"
    for code, per_district in PROVINCES.items():
        home = root / code
        _inbox(home / "inbox", code, per_district)
        run_weekly(_config_path(home, code), home / "inbox", home / "out", WEEK, progress=lambda m: None)
        run_weekly(_config_path(home, code), home / "inbox", home / "out", NEXT_WEEK, progress=lambda m: None)
        target = collected / f"{code}_{WEEK}.json" if code == "54" else collected / code / "report.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(home / "out" / WEEK / "report.json", target)
    (collected / "notes.json").write_text('{"about": "not a report"}', encoding="utf-8")   # ignored
    (collected / ".partial-x.json").write_text("{", encoding="utf-8")                      # temporary: ignored
    reports = {code: json.loads((root / code / "out" / WEEK / "report.json").read_text(encoding="utf-8"))
               for code in PROVINCES}
    return root, collected, reports


def _run(inputs: Path, outputs: Path, week: str | None = WEEK) -> int:
    return main_national(argparse.Namespace(inputs=inputs, outputs=outputs, week=week))


def _flat(block: dict, prefix: str = "") -> dict[str, int]:
    """Every figure of a nested block by its dotted path."""
    flat = {}
    for key, value in block.items():
        flat.update(_flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return flat


@pytest.fixture(scope="module")
def rolled_up(provinces):
    root, collected, _ = provinces
    assert _run(collected, root / "national") == 0
    document = json.loads((root / "national" / f"national_{WEEK}.json").read_text(encoding="utf-8"))
    return root / "national", document


def test_national_totals_are_the_sum_of_the_provinces(provinces, rolled_up):
    _, _, reports = provinces
    _, document = rolled_up
    for block in [*BLOCKS, "submission"]:
        expected = Counter()
        for report in reports.values():
            expected.update(_flat(report["totals"][block]))
        assert _flat(document["totals"][block]) == dict(expected), block
    assert document["totals"]["volunteers"]["total"] == 2 * sum(PROVINCES.values())
    assert document["totals"]["unvaccinated"]["wants_vaccine"] == 3 * len(PROVINCES)
    assert document["totals"]["submission"]["districts"] == sum(len(gazetteer.districts_of(c)) for c in PROVINCES)
    assert list(document["provinces"]) == sorted(PROVINCES)
    assert len(document["not_reported"]) == 77 - len(PROVINCES)


def test_one_row_per_province_and_timeliness(provinces):
    _, _, reports = provinces
    table = national_table(check_reports(list(reports.items()), WEEK))
    assert list(table["province_code"]) == sorted(PROVINCES)
    for row in table.to_dict("records"):
        submission = reports[row["province_code"]]["totals"]["submission"]
        assert (row["on_time"], row["late"], row["missing"]) == (1, 1, submission["districts"] - 2)
        assert (row["on_time"], row["late"], row["missing"], row["districts"]) == tuple(
            submission[key] for key in ("on_time", "late", "missing", "districts"))
        assert row["on_time_rate"] == pytest.approx(1 / submission["districts"])


def _sheet_rows(book, name: str, first_column: str) -> list[tuple]:
    rows = list(book[name].iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row[0] == first_column)
    return [row for row in rows[start + 1:start + 2 + len(PROVINCES)]]


def test_workbook_rows_and_total_row(provinces, rolled_up):
    _, _, reports = provinces
    folder, document = rolled_up
    book = openpyxl.load_workbook(folder / f"national_{WEEK}.xlsx")
    assert book.sheetnames[:2] == [SUMMARY_SHEET, TIMELINESS_SHEET]
    assert {"อาสาสมัคร", "ผู้ยังไม่ได้รับวัคซีน", "สถานที่", "คำขอความช่วยเหลือ"} <= set(book.sheetnames)
    summary = _sheet_rows(book, SUMMARY_SHEET, "รหัสจังหวัด")
    assert [row[:2] for row in summary] == [(code, gazetteer.province_names()[code]) for code in sorted(PROVINCES)] \
        + [("", TOTAL_LABEL)]
    assert summary[-1][4] == document["totals"]["volunteers"]["total"]          # volunteers (cumulative)
    timeliness = _sheet_rows(book, TIMELINESS_SHEET, "รหัสจังหวัด")
    for row in timeliness[:-1]:
        submission = reports[row[0]]["totals"]["submission"]
        assert row[2:7] == tuple(submission[key] for key in ("districts", "on_time", "late", "unusable", "missing"))
    assert timeliness[-1][2:7] == tuple(document["totals"]["submission"][key]
                                        for key in ("districts", "on_time", "late", "unusable", "missing"))
    volunteers = _sheet_rows(book, "อาสาสมัคร", "รหัสจังหวัด")
    assert [row[2] for row in volunteers] == [2 * PROVINCES[c] for c in sorted(PROVINCES)] \
        + [2 * sum(PROVINCES.values())]


def _refusal(inputs: Path, outputs: Path, capsys, week: str | None = WEEK) -> str:
    capsys.readouterr()
    assert _run(inputs, outputs, week) != 0
    error = capsys.readouterr().err
    assert error.startswith(messages.text("error_prefix") + " ") and error.strip().count("\n") == 0
    assert not outputs.exists() or not list(outputs.glob("national_*"))
    return error


def test_province_sent_twice_is_refused(provinces, tmp_path, capsys):
    _, collected, _ = provinces
    inputs = tmp_path / "in"
    shutil.copytree(collected, inputs)
    shutil.copy(inputs / "50" / "report.json", inputs / "copy of chiang mai.json")
    error = _refusal(inputs, tmp_path / "out", capsys)
    assert "50 เชียงใหม่" in error and "twice" in error


@pytest.mark.parametrize("week", [WEEK, None])
def test_report_of_another_week_is_refused(provinces, tmp_path, capsys, week):
    root, collected, _ = provinces
    inputs = tmp_path / "in"
    shutil.copytree(collected, inputs)
    shutil.copy(root / "10" / "out" / NEXT_WEEK / "report.json", inputs / "10" / "report.json")
    error = _refusal(inputs, tmp_path / "out", capsys, week)
    assert NEXT_WEEK in error and str(inputs / "10" / "report.json") in error


def test_every_report_of_another_week_is_refused(provinces, tmp_path, capsys):
    _, collected, _ = provinces
    assert NEXT_WEEK in _refusal(collected, tmp_path / "out", capsys, NEXT_WEEK)


@pytest.mark.parametrize("content, words", [
    ('{"province_code": "54", "week": "2021-12-24", "districts": {', "not a valid report.json"),
    ('{"province_code": "54", "week": "2021-12-24"}', "no districts, totals"),
    ("\xff\xfe", "not a valid report.json"),
])
def test_invalid_file_is_refused_naming_it(provinces, tmp_path, capsys, content, words):
    _, collected, _ = provinces
    inputs = tmp_path / "in"
    shutil.copytree(collected, inputs)
    (inputs / "broken").mkdir()
    (inputs / "broken" / "report.json").write_bytes(content.encode("latin-1"))
    error = _refusal(inputs, tmp_path / "out", capsys)
    assert str(inputs / "broken" / "report.json") in error and words in error


def test_unknown_province_code_and_tampered_totals(provinces):
    _, _, reports = provinces
    unknown = copy.deepcopy(reports["54"]) | {"province_code": "99"}
    with pytest.raises(NationalError, match="unknown province code '99'"):
        check_reports([("x.json", unknown)])
    tampered = copy.deepcopy(reports["54"])
    tampered["totals"]["volunteers"]["total"] += 1
    with pytest.raises(NationalError, match="totals.volunteers do not add up"):
        check_reports([("y.json", tampered)])
    tampered["totals"]["volunteers"]["total"] = "7"
    with pytest.raises(NationalError, match="totals.volunteers.total is not a whole number"):
        check_reports([("z.json", tampered)])


def test_no_reports_and_bad_week(tmp_path, capsys):
    assert "no province report.json" in _refusal(tmp_path, tmp_path / "out", capsys)
    assert "Friday" in _refusal(tmp_path, tmp_path / "out", capsys, "2021-12-25")


def test_missing_inputs_folder_says_where_it_looked_and_how_to_give_one(tmp_path, capsys):
    error = _refusal(tmp_path / "national-inputs", tmp_path / "out", capsys)
    assert str((tmp_path / "national-inputs").absolute()) in error and "NATIONAL_INPUTS=" in error


def _foreign(report: dict, code: str = "55") -> dict:
    """A province's report relabelled as another province: its districts are still the first one's."""
    return copy.deepcopy(report) | {"province_code": code, "province": gazetteer.province_names()[code]}


def test_districts_of_another_province_refuse_that_file_only(provinces, tmp_path, capsys):
    root, collected, reports = provinces
    inputs = tmp_path / "in"
    shutil.copytree(collected, inputs)
    (inputs / "55").mkdir()
    (inputs / "55" / "report.json").write_text(json.dumps(_foreign(reports["54"]), ensure_ascii=False),
                                               encoding="utf-8")
    capsys.readouterr()
    assert _run(inputs, tmp_path / "out") == 0
    error = capsys.readouterr().err
    assert error.startswith(messages.text("error_prefix")) and error.strip().count("\n") == 0
    assert str(inputs / "55" / "report.json") in error and "55 (น่าน)" in error and "5401" in error
    document = json.loads((tmp_path / "out" / f"national_{WEEK}.json").read_text(encoding="utf-8"))
    assert sorted(document["provinces"]) == sorted(PROVINCES) and "55" in document["not_reported"]
    assert document["refused"] == [error.strip()[len(messages.text("error_prefix")) + 1:]]
    assert document["totals"]["volunteers"]["total"] == sum(r["totals"]["volunteers"]["total"] for r in reports.values())


def test_only_foreign_districts_left_is_a_refusal(provinces, tmp_path, capsys):
    _, _, reports = provinces
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "report.json").write_text(json.dumps(_foreign(reports["50"], "54")), encoding="utf-8")
    assert "5001" in _refusal(tmp_path / "in", tmp_path / "out", capsys)
    with pytest.raises(NationalError, match="5001"):
        check_reports([("x.json", _foreign(reports["50"], "54"))])


def _scaled(value, factor: int):
    if isinstance(value, dict):
        return {key: _scaled(item, factor) for key, item in value.items()}
    return value * factor if type(value) is int else value


def test_seventy_seven_provinces_roll_up(provinces, tmp_path):
    _, _, reports = provinces
    base, names = reports["54"], gazetteer.province_names()
    # Each province's figures in one of its own districts (a district must belong to its report's province).
    merged = {**next(iter(base["districts"].values())),
              **{block: add_blocks([d[block] for d in base["districts"].values()]) for block in BLOCKS}}
    synthetic = [(f"{code}.json", {**base, "province_code": code, "province": name,
                                   "districts": {next(iter(gazetteer.districts_of(code))): _scaled(merged, factor)},
                                   "totals": _scaled(base["totals"], factor)})
                 for factor, (code, name) in enumerate(names.items(), start=1)]
    checked = check_reports(synthetic, WEEK)
    assert len(national_table(checked)) == 77
    totals = national_totals(checked)
    assert totals["volunteers"]["total"] == base["totals"]["volunteers"]["total"] * sum(range(1, 78))
    path = write_national(checked, tmp_path, WEEK)
    book = openpyxl.load_workbook(path, read_only=True)
    assert sum(1 for row in book[SUMMARY_SHEET].iter_rows(values_only=True) if row[0] in names) == 77


def test_command_line_verb(provinces, tmp_path):
    from pipeline.__main__ import _parser
    try:
        _parser().parse_args(["national", "--inputs", "x"])
    except SystemExit:
        pytest.skip("the national verb is not wired into pipeline/__main__.py yet")
    _, collected, _ = provinces
    completed = subprocess.run([sys.executable, "-m", "pipeline", "national", "--inputs", str(collected),
                                "--outputs", str(tmp_path), "--week", WEEK], capture_output=True, text=True,
                               cwd=PROJECT)
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / f"national_{WEEK}.xlsx").exists()
