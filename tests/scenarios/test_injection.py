"""Nothing leaked: district text never becomes a formula, link or number; outputs hold no one's ID or phone."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml

from tests import hostile_files as hostile
from tests.builders import headers, run_cli, thai_id, write_xlsx
from tests.conftest import PROJECT, bangkok
from tests.scenarios.test_two_weeks import build

WEEK1 = "2021-12-24"
MOMENT = bangkok(2021, 12, 24, 10)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LONG_TEXT = "ก" * 40_000                     # over Excel's 32,767 characters a cell
URL = "https://evil.example/steal?x=1"
NUMERIC_LOOKING = ["00123", "1e5", "12/12/2564", "0812"]
# Text a district controls, each placed where a problem echoes it back into the issues workbook.
HOSTILE_TEXT = ['=HYPERLINK("https://evil.example","คลิก")', "+66-1-555", "-2+3", "@SUM(A1:A9)", "\t=1+1",
                "\r=1+1", URL, *NUMERIC_LOOKING]
LIVE_FILE = "สูตรและลิงก์"                   # a district workbook with real formulas and an external link
PERSON_ID = thai_id("110170020345")
PHONES = ["0812345678", "0898765432", "0541234567"]
ID_PATTERN = re.compile(r"(?<!\d)\d(?:[ -]?\d){12}(?!\d)")      # 13 digits, dashes or spaces allowed
PHONE_PATTERN = re.compile(r"(?<!\d)0(?:[ -]?\d){8,9}(?!\d)")   # a Thai phone, 9 or 10 digits


def hostile_rows() -> list[list]:
    """Volunteers whose cells carry hostile text where a problem echoes it into the issues workbook."""
    rows = [headers("volunteers")]
    for number, text in enumerate(HOSTILE_TEXT):
        row = hostile.volunteer(600 + number, "วังชิ้น", "สรอย")
        row[3] = text                                   # an invalid phone: echoed as written
        rows.append(row)
    typed = hostile.volunteer(640, "วังชิ้น", "สรอย")
    typed[4], typed[7] = URL, "@SUM(A1:A9)"             # an unknown type and an unknown district
    dated = hostile.volunteer(641, "วังชิ้น", "สรอย")
    dated[8] = LONG_TEXT                                # an unreadable date, 40,000 characters long
    rows += [typed, dated, ["นาย", "=cmd|' /C calc'!A0", "@x", "0870000651", "อสม.", "อบต.(moicovid)", "สรอย",
                            "วังชิ้น", "20/12/2564"]]
    return rows


def build_hostile_inbox(inbox: Path) -> None:
    """A good inbox plus files whose names, sheets, headers and cells are hostile text."""
    build(inbox, "new_only")
    folder = inbox / "5407 วังชิ้น"
    hostile.write_bytes(folder / "=HYPERLINK(1).xlsx", hostile.text_xlsx_bytes(
        {"=SUM(1)": [["=แผ่นงานไม่รู้จัก"], ["x"]], "อาสาสมัคร": hostile_rows()}), MOMENT)
    hostile.write_bytes(folder / f"{LIVE_FILE}.xlsx", hostile.formulas_and_links_xlsx(hostile.wang_chin(720, 2)),
                        MOMENT)
    hostile.write_bytes(folder / "+cmd.csv", hostile.csv_bytes(
        [[*headers("volunteers"), "@ผิด", "-หัวคอลัมน์", URL], *hostile_rows()[1:]]), MOMENT)
    hostile.write_bytes(inbox / "=1+2" / "x.csv", hostile.csv_bytes(hostile.wang_chin(700, 1)), MOMENT)
    people = [headers("unvaccinated"),
              [PERSON_ID, "นาย", "มานะ", "ทดสอบ", "ชาย", "1/1/2500", "ไทย", "1", "1", "สรอย", "วังชิ้น", PHONES[0],
               "กลัว", "ใช่", "20/12/2564", PHONES[1]],
              [PERSON_ID[:-1] + str((int(PERSON_ID[-1]) + 1) % 10), "นาง", "ผิด", "เลข", "หญิง", "1/1/2500", "ไทย",
               "1", "1", "สรอย", "วังชิ้น", PHONES[2], "กลัว", "ใช่", "20/12/2564", ""]]
    write_xlsx(folder / "คน.xlsx", {"ผู้ยังไม่ได้รับวัคซีน": people}, MOMENT)
    write_xlsx(inbox / "ผู้ดูแลระบบ.xlsx", {"แบบ E": [
        ["หน่วยงาน", "ชื่อ - นามสกุล", "ตำแหน่ง", "เบอร์มือถือ", "E-mail", "Line ID"],
        ["ที่ทำการปกครองจังหวัดแพร่", "นายผู้ดูแล ระบบ", "ปลัดจังหวัด", PHONES[2], "admin@", PHONES[2]]]})


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """The hostile inbox run through the command line, as the office runs it."""
    root = tmp_path_factory.mktemp("injection")
    build_hostile_inbox(root / "inbox")
    completed = run_cli(root / "inbox", root / "out", WEEK1)
    assert completed.returncode == 0, completed.stderr
    return root / "out", completed


def output_workbooks(out: Path) -> list[Path]:
    """Every workbook the run wrote."""
    return sorted(path for path in out.rglob("*.xlsx") if not path.name.startswith(".partial-"))


# The only links out a workbook may hold: the ministry's own forms, as config.yaml names them.
MINISTRY_LINKS = {str(value) for key, value in
                  yaml.safe_load((PROJECT / "config.yaml").read_text(encoding="utf-8"))["ministry"].items()
                  if key.endswith(("form_link", "prefill_url")) and value}


def assert_no_formula_and_no_external_link(path: Path) -> None:
    """No formula cell, no link leaving the workbook but the ministry's forms (its own links stay inside it)."""
    with zipfile.ZipFile(path) as archive:   # an external link is a relationship with TargetMode="External"
        targets = [target.decode() for name in archive.namelist() if name.endswith(".rels")
                   for target in re.findall(rb'Target="([^"]*)"[^>]*TargetMode="External"', archive.read(name))]
    assert set(targets) <= MINISTRY_LINKS, (path.name, targets)
    book = openpyxl.load_workbook(path)   # not read-only: hyperlinks are loaded too
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (path.name, sheet.title, cell.coordinate, cell.value)
                assert cell.hyperlink is None or not cell.hyperlink.target \
                    or cell.hyperlink.target in MINISTRY_LINKS, (path.name, cell.coordinate)


def test_district_text_never_becomes_a_formula_or_a_link(cli_run):
    out, _ = cli_run
    checked = [path for path in output_workbooks(out) if LIVE_FILE not in path.name]
    assert len(checked) >= 3
    for path in checked:
        assert_no_formula_and_no_external_link(path)


def test_district_formulas_and_links_are_not_copied_live(cli_run):
    out, _ = cli_run
    copies = [path for path in output_workbooks(out) if LIVE_FILE in path.name]
    assert copies
    for path in copies:
        assert_no_formula_and_no_external_link(path)


def issue_values(out: Path) -> list:
    """Every cell of the issues table (all its columns, every row)."""
    return [value for row in hostile.issue_rows(out / WEEK1) for value in row.values()]


def test_district_text_comes_back_as_text(cli_run):
    out, _ = cli_run
    values = issue_values(out)
    texts = {value for value in values if isinstance(value, str)}
    for text in ["+66-1-555", "-2+3", "@SUM(A1:A9)", URL, *NUMERIC_LOOKING]:
        assert text in texts, text                            # kept, as a string
    assert "=1+2" in texts                                    # the folder name, echoed as text
    assert any(value.startswith("5407 วังชิ้น/=HYPERLINK") for value in texts)
    assert "=SUM(1)" in texts                                 # the unrecognised sheet's name
    numbers = [value for value in values if isinstance(value, (int, float))]
    assert all(float(value).is_integer() and 0 < value < 100_000 for value in numbers)   # Excel rows only


def test_text_over_the_cell_limit_is_cut_not_fatal(cli_run):
    out, _ = cli_run
    longest = max((value for value in issue_values(out) if isinstance(value, str)), key=len)
    assert len(longest) <= 32_767 and "กกกก" in longest


def test_any_csv_output_quotes_formula_starts(cli_run):
    out, _ = cli_run
    for path in out.rglob("*.csv"):
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))):
            assert not any(cell.startswith(FORMULA_STARTS) for cell in row), (path.name, row)


# ---------------------------------------------------------------- personal data

def personal_numbers(text: str) -> list[str]:
    """13-digit IDs and Thai phone numbers found in a text."""
    return ID_PATTERN.findall(text) + PHONE_PATTERN.findall(text)


def test_province_report_and_report_json_hold_aggregates_only(cli_run):
    out, _ = cli_run
    report_text = (out / WEEK1 / "report.json").read_text(encoding="utf-8")
    assert personal_numbers(report_text) == []
    assert "มานะ" not in report_text and "ผู้ดูแล" not in report_text
    book = openpyxl.load_workbook(out / WEEK1 / f"province_report_{WEEK1}.xlsx", read_only=True)
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                if isinstance(value, str):
                    assert personal_numbers(value) == [] and "มานะ" not in value, (sheet.title, value)
                elif isinstance(value, (int, float)):
                    assert abs(value) < 10**8, (sheet.title, value)    # a phone stored as a number would be larger
    book.close()
    json.loads(report_text)


def test_outputs_are_readable_by_the_owner_only(cli_run):
    out, _ = cli_run
    paths = [out, *out.rglob("*")]
    assert len(paths) > 5
    for path in paths:
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode & 0o077 == 0, (path.relative_to(out.parent), oct(mode))


def test_terminal_never_shows_an_id_or_a_phone(cli_run):
    _, completed = cli_run
    terminal = completed.stdout + completed.stderr
    assert "5401 เมืองแพร่" in completed.stdout                  # the summary was printed
    assert personal_numbers(terminal) == [], terminal


def test_internal_error_line_shows_no_data(tmp_path, monkeypatch, capsys):
    from pipeline import __main__ as command
    import pipeline.run

    def failing_run(*arguments, **keywords):
        raise ValueError(f"cannot parse {PHONES[0]} of {PERSON_ID}")   # as a library might word it

    monkeypatch.setattr(pipeline.run, "run_weekly", failing_run)
    (tmp_path / "inbox").mkdir()
    previous = os.umask(0o022)   # main() sets umask 077 for this process: put pytest's back afterwards
    try:
        code = command.main(["weekly", "--config", str(PROJECT / "config.yaml"), "--inputs",
                             str(tmp_path / "inbox"), "--outputs", str(tmp_path / "out"), "--week", WEEK1])
    finally:
        os.umask(previous)
    captured = capsys.readouterr()
    assert code == 1 and "ภายในโปรแกรม" in captured.err
    assert personal_numbers(captured.out + captured.err) == [], captured.err
    log = tmp_path / "out" / "last-error.log"
    assert stat.S_IMODE(log.stat().st_mode) & 0o077 == 0
