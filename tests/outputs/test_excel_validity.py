"""Every workbook a two-week run writes opens in Excel without a repair prompt.

Checked with the vendored xlsx-check (tests/xlsx_check, see its SOURCE.md): the ISO/IEC 29500 schemas
plus the wiring Excel checks (relationships, content types, note shapes and their id blocks, styles).
Any CERTAIN or MIGHT finding fails.
"""
from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
from pathlib import Path

import pytest

from pipeline.run import run_weekly
from pipeline.synthetic import build_inbox
from pipeline.templates import build_templates
from tests.builders import xlsx_checker, headers, set_mtime, write_xlsx
from tests.conftest import PROJECT, bangkok

pytestmark = pytest.mark.skipif(importlib.util.find_spec("lxml") is None, reason="xlsx-check needs lxml")
WEEKS = [dt.date(2021, 12, 24), dt.date(2021, 12, 31)]
MANY = 2000



def _bad_volunteers(count: int) -> list[list]:
    """Rows whose phone is a landline: one problem cell each."""
    return [["นาย", f"อาสา{n}", "ทดสอบ", f"0545{n:05d}", "อสม.", "อบต.(moicovid)", "ในเวียง", "เมืองแพร่", "20/12/2564"]
            for n in range(count)]


def _facility_rows() -> list[list]:
    # Blank cells as None: openpyxl writes "" as an inline string without text, which Excel never writes.
    return [["จุดฉีดวัคซีน", f"จุด{n}", "ในเวียง", "เมืองแพร่", None, None, "-5", None, "ผิด", "20/12/2564"]
            for n in range(30)]


@pytest.fixture(scope="module")
def written(tmp_path_factory, config, schema) -> list[Path]:
    """Every .xlsx a two-week run and the templates command write."""
    root = tmp_path_factory.mktemp("excel")
    inbox, out = root / "inbox", root / "out"
    build_inbox(inbox, seed=11, weeks=WEEKS, districts=["5402", "5403", "5404"])
    # One plain workbook with 2,000 problem cells on one sheet and more on a second: marked in place.
    write_xlsx(inbox / "5401 เมืองแพร่" / "มาก.xlsx",
               {"อาสาสมัคร": [headers("volunteers"), *_bad_volunteers(MANY)],
                "สถานที่": [headers("facilities"), *_facility_rows()]}, bangkok(2021, 12, 24, 9))
    # A workbook with a formula: its copy is rebuilt from the cells.
    import openpyxl
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "อาสาสมัคร"
    sheet.append(headers("volunteers"))
    sheet.append(_bad_volunteers(1)[0])
    sheet["J1"] = "=COUNTA(A2:A10)"
    formula = inbox / "5401 เมืองแพร่" / "สูตร.xlsx"
    book.save(formula)
    set_mtime(formula, bangkok(2021, 12, 24, 10))
    # A district template sent back with a row filled in.
    templates = build_templates(root / "templates", config, schema)
    filled = inbox / "5401 เมืองแพร่" / "แบบฟอร์ม.xlsx"
    shutil.copy(next(p for p in templates if "5401" in p.name), filled)
    template_book = openpyxl.load_workbook(filled)
    template_book["อาสาสมัคร"].append(_bad_volunteers(1)[0])
    template_book.save(filled)
    set_mtime(filled, bangkok(2021, 12, 24, 11))
    for week in WEEKS:
        run_weekly(PROJECT / "config.yaml", inbox, out, week.isoformat(), progress=lambda message: None)
    return sorted([*out.rglob("*.xlsx"), *templates])


def test_the_run_wrote_every_kind_of_workbook(written):
    names = [path.name for path in written]
    for prefix in ("province_report_", "issues_", "possible_duplicates_", "ministry_report_", "แบบฟอร์ม_"):
        assert any(name.startswith(prefix) for name in names), prefix
    assert any(name == "มาก.feedback.xlsx" for name in names) and any(name == "สูตร.feedback.xlsx" for name in names)


def test_every_workbook_opens_in_excel_without_repair(written):
    checker = xlsx_checker()
    findings = {}
    for path in written:
        report = checker.validate_file(str(path))
        serious = [f"{severity} {part}: {message}" for severity, part, message in report.findings
                   if severity in ("CERTAIN", "MIGHT")]
        if serious:
            findings[str(path)] = serious[:5]
    assert not findings, findings


def test_the_sheet_with_2000_notes_keeps_every_note(written):
    import openpyxl
    copy = next(path for path in written if path.name == "มาก.feedback.xlsx")
    book = openpyxl.load_workbook(copy)
    notes = [cell for row in book["อาสาสมัคร"].iter_rows() for cell in row if cell.comment]
    assert len(notes) == MANY
    assert any(cell.comment for row in book["สถานที่"].iter_rows() for cell in row)
