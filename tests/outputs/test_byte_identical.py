"""An unchanged week run again rewrites every output file with the very same bytes, and so do the templates.

Nothing a run writes carries the run's own clock: workbooks are stamped with the week's cut-off (the
templates with a fixed moment of the config), zip entries with a fixed time, and the pages and texts
say when the week's data was, not when the run was.
"""
from __future__ import annotations

import datetime as dt
import io
import shutil
import time
import zipfile
from pathlib import Path

import pytest

from pipeline.run import run_weekly
from pipeline.runtime.unchanged import STATE_FILE
from pipeline.synthetic import build_inbox
from pipeline.templates import build_templates
from tests.builders import headers, set_mtime, write_csv, write_xlsx
from tests.conftest import PROJECT, bangkok

WEEK = dt.date(2021, 12, 24)
PAUSE = 1.1   # a second-resolution time of day written by the run would differ between the two runs


def _volunteer(number: int, phone: str) -> list:
    return ["นาย", f"อาสา{number}", "ทดสอบ", phone, "อสม.", "อบต.(moicovid)", "ในเวียง", "เมืองแพร่", "20/12/2564"]


def _inbox(root: Path, config, schema) -> Path:
    """A small week: synthetic districts, a plain workbook (marked in place), one with a formula and a CSV
    (rebuilt), and a template sent back."""
    inbox = root / "inbox"
    build_inbox(inbox, seed=5, weeks=[WEEK], districts=["5402", "5403"], junk_files=False)
    folder = inbox / "5401 เมืองแพร่"
    write_xlsx(folder / "ธรรมดา.xlsx", {"อาสาสมัคร": [headers("volunteers"), _volunteer(1, "054500001"),
                                                      _volunteer(2, "0812345678")]}, bangkok(2021, 12, 24, 9))
    import openpyxl
    book = openpyxl.Workbook()
    book.active.title = "อาสาสมัคร"
    book.active.append(headers("volunteers"))
    book.active.append(_volunteer(3, "054500003"))
    book.active["J1"] = "=COUNTA(A2:A10)"
    book.save(folder / "สูตร.xlsx")
    set_mtime(folder / "สูตร.xlsx", bangkok(2021, 12, 24, 10))
    write_csv(folder / "ส่งเป็นข้อความ.csv", [headers("volunteers"), _volunteer(4, "054500004")],
              moment=bangkok(2021, 12, 24, 10, 30))
    templates = build_templates(root / "templates", config, schema)
    filled = folder / "แบบฟอร์ม.xlsx"
    shutil.copy(next(path for path in templates if "5401" in path.name), filled)
    template_book = openpyxl.load_workbook(filled)
    template_book["อาสาสมัคร"].append(_volunteer(5, "054500005"))
    template_book.save(filled)
    set_mtime(filled, bangkok(2021, 12, 24, 11))
    return inbox


def _contents(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and path.name != STATE_FILE}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, config, schema) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Every file under outputs/<week>/ after a run, and after the same run forced again a moment later (its record
    of what the outputs were made from removed: otherwise nothing would be written)."""
    root = tmp_path_factory.mktemp("rerun")
    inbox, out = _inbox(root, config, schema), root / "out"
    runs = []
    for _ in range(2):
        (out / WEEK.isoformat() / STATE_FILE).unlink(missing_ok=True)
        done = run_weekly(PROJECT / "config.yaml", inbox, out, WEEK.isoformat(), progress=lambda message: None)
        assert not done.unchanged
        runs.append(_contents(out / WEEK.isoformat()))
        time.sleep(PAUSE)
    return runs[0], runs[1]


def test_the_run_wrote_every_kind_of_output(two_runs):
    names = list(two_runs[0])
    for wanted in ("report.json", "index.html", "inputs.json", f"province_report_{WEEK}.xlsx", f"issues_{WEEK}.xlsx",
                   f"possible_duplicates_{WEEK}.xlsx", f"ministry/ministry_report_{WEEK}.xlsx",
                   f"ministry/summary_{WEEK}.txt"):
        assert wanted in names, wanted
    copies = {Path(name).name for name in names if name.startswith("feedback/")}
    assert {"ธรรมดา.feedback.xlsx", "สูตร.feedback.xlsx", "ส่งเป็นข้อความ.feedback.xlsx"} <= copies


def test_an_unchanged_week_rewrites_identical_bytes(two_runs):
    first, second = two_runs
    assert sorted(first) == sorted(second)
    differing = [name for name in first if first[name] != second[name]]
    assert not differing, differing


def _created(package: bytes) -> str:
    core = zipfile.ZipFile(io.BytesIO(package)).read("docProps/core.xml").decode()
    return core.split("<dcterms:created", 1)[1].split(">", 1)[1].split("<", 1)[0]


def test_the_week_workbooks_say_they_were_made_at_the_cutoff(two_runs):
    first, _ = two_runs
    cutoff = "2021-12-24T09:00:00Z"   # Friday 16:00 in Bangkok
    for name in (f"province_report_{WEEK}.xlsx", f"issues_{WEEK}.xlsx", f"possible_duplicates_{WEEK}.xlsx",
                 f"ministry/ministry_report_{WEEK}.xlsx"):
        assert _created(first[name]) == cutoff, name
    for name in (name for name in first if name.endswith(".xlsx")):
        times = {entry.date_time for entry in zipfile.ZipFile(io.BytesIO(first[name])).infolist()}
        assert times == {(1980, 1, 1, 0, 0, 0)}, name


def test_templates_written_twice_are_identical(tmp_path, config, schema):
    first = build_templates(tmp_path / "one", config, schema)
    time.sleep(PAUSE)
    second = build_templates(tmp_path / "two", config, schema)
    assert [path.name for path in first] == [path.name for path in second]
    differing = [path.name for path, again in zip(first, second) if path.read_bytes() != again.read_bytes()]
    assert not differing, differing
    assert _created(first[0].read_bytes()) == "2021-11-30T17:00:00Z"   # recording start, 1 Dec 2564 00:00 Bangkok
