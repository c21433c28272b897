"""A rerun with nothing new writes nothing and says so; anything the outputs depend on makes it run in full."""
from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
import yaml

from pipeline.run import run_weekly
from pipeline.runtime.unchanged import STATE_FILE
from pipeline.synthetic import build_inbox
from tests.builders import headers, run_cli, write_xlsx
from tests.conftest import PROJECT, bangkok

WEEK = dt.date(2021, 12, 24)
AFTER = bangkok(2021, 12, 24, 17)
QUIET = {"progress": lambda message: None}


def _tree(folder: Path) -> dict[str, tuple]:
    """Every file with its size, modification time and inode; the run lock (held by every run) left out."""
    return {str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns, path.stat().st_ino)
            for path in folder.rglob("*") if path.is_file() and path.name != ".lock"}


@pytest.fixture
def week_run(tmp_path):
    """A small inbox run once; (inbox, outputs)."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    build_inbox(inbox, seed=11, weeks=[WEEK], districts=["5401", "5402"], junk_files=False)
    done = run_weekly(PROJECT / "config.yaml", inbox, out, WEEK.isoformat(), now=AFTER, **QUIET)
    assert not done.unchanged and (out / WEEK.isoformat() / STATE_FILE).exists()
    return inbox, out


def test_a_rerun_with_nothing_new_writes_nothing_and_prints_the_same_summary(week_run):
    inbox, out = week_run
    first = run_weekly(PROJECT / "config.yaml", inbox, out, WEEK.isoformat(), now=AFTER, **QUIET)
    assert first.unchanged and first.result is None
    before = _tree(out)
    said = run_cli(inbox, out, WEEK.isoformat())
    assert said.returncode == 0, said.stderr
    assert _tree(out) == before
    assert STATE_FILE in said.stderr and "ไม่มีอะไรใหม่" in said.stderr
    assert said.stdout.strip() == "\n".join(first.summary).strip()
    assert "5401" in said.stdout
    assert "แบบ E" in said.stderr   # form E's problem (no roster file in this inbox) is said again too


def _folder(inbox: Path, code: str, name: str) -> Path:
    """The district's folder, however the synthetic inbox named it (code, name or both)."""
    return next(path for path in sorted(inbox.iterdir()) if code in path.name or name in path.name)


def _new_file(inbox: Path, out: Path, config: Path) -> None:
    folder = _folder(inbox, "5401", "เมืองแพร่")
    write_xlsx(folder / "ส่งเพิ่ม.xlsx", {"อาสาสมัคร": [headers("volunteers"), [
        "นาย", "อาสา", "ส่งเพิ่ม", "0812345670", "อสม.", "อบต.(moicovid)", "ในเวียง", "เมืองแพร่", "20/12/2564"]]},
        bangkok(2021, 12, 23, 9))


def _replaced_file(inbox: Path, out: Path, config: Path) -> None:
    path = sorted(_folder(inbox, "5401", "เมืองแพร่").glob("*.xlsx"))[0]
    import openpyxl
    book = openpyxl.load_workbook(path)
    book.worksheets[0].append(["แถวแก้ไข"])
    stamp = path.stat().st_mtime
    book.save(path)
    os.utime(path, (stamp + 60, stamp + 60))


def _removed_file(inbox: Path, out: Path, config: Path) -> None:
    sorted(_folder(inbox, "5402", "ร้องกวาง").glob("*.*"))[0].unlink()


def _output_deleted(inbox: Path, out: Path, config: Path) -> None:
    (out / WEEK.isoformat() / f"province_report_{WEEK}.xlsx").unlink()


def _output_edited(inbox: Path, out: Path, config: Path) -> None:
    path = out / WEEK.isoformat() / f"possible_duplicates_{WEEK}.xlsx"
    os.utime(path, (path.stat().st_mtime + 5, path.stat().st_mtime + 5))   # saved again by the office


def _config_changed(inbox: Path, out: Path, config: Path) -> None:
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["facilities"]["stale_days"] = int(settings["facilities"]["stale_days"]) + 1
    config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")


def _store_lost(inbox: Path, out: Path, config: Path) -> None:
    for path in out.glob("store.sqlite*"):
        path.unlink()


@pytest.mark.parametrize("change", [_new_file, _replaced_file, _removed_file, _output_deleted, _output_edited,
                                    _config_changed, _store_lost])
def test_anything_the_outputs_depend_on_makes_the_run_whole(week_run, tmp_path, change):
    inbox, out = week_run
    config = tmp_path / "config.yaml"
    shutil.copy(PROJECT / "config.yaml", config)
    assert run_weekly(config, inbox, out, WEEK.isoformat(), now=AFTER, **QUIET).unchanged   # same config text
    change(inbox, out, config)
    done = run_weekly(config, inbox, out, WEEK.isoformat(), now=AFTER, **QUIET)
    assert not done.unchanged and done.result is not None
    assert (out / WEEK.isoformat() / f"province_report_{WEEK}.xlsx").exists()
    assert run_weekly(config, inbox, out, WEEK.isoformat(), now=AFTER, **QUIET).unchanged


def test_the_deadline_passing_makes_the_run_whole(tmp_path):
    """Before the deadline a district that sent nothing is not late yet; after it, the same inbox says so."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    build_inbox(inbox, seed=11, weeks=[WEEK], districts=["5401"], junk_files=False)
    morning = bangkok(2021, 12, 24, 10)
    assert not run_weekly(PROJECT / "config.yaml", inbox, out, WEEK.isoformat(), now=morning, **QUIET).unchanged
    assert run_weekly(PROJECT / "config.yaml", inbox, out, WEEK.isoformat(),
                      now=morning + dt.timedelta(minutes=30), **QUIET).unchanged
    assert not run_weekly(PROJECT / "config.yaml", inbox, out, WEEK.isoformat(), now=AFTER, **QUIET).unchanged


def test_a_file_not_readable_yet_is_read_by_the_next_run(tmp_path):
    """A file that fails to read while it may still be arriving is noted, not remembered as done: the next run
    reads it (here: reports it damaged once it has settled)."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    build_inbox(inbox, seed=11, weeks=[WEEK], districts=["5401"], junk_files=False)
    thursday = bangkok(2021, 12, 23, 10)
    run_weekly(PROJECT / "config.yaml", inbox, out, WEEK.isoformat(), now=thursday, **QUIET)
    broken = _folder(inbox, "5401", "เมืองแพร่") / "ส่งช้า.xlsx"
    broken.write_bytes(b"PK\x03\x04 half a zip")
    moment = thursday - dt.timedelta(seconds=20)
    os.utime(broken, (moment.timestamp(), moment.timestamp()))
    first = run_weekly(PROJECT / "config.yaml", inbox, out, WEEK.isoformat(), now=thursday, **QUIET)
    assert not first.unchanged and "still_arriving" in set(first.result.issues["code"])
    later = run_weekly(PROJECT / "config.yaml", inbox, out, WEEK.isoformat(),
                       now=thursday + dt.timedelta(minutes=10), **QUIET)
    assert not later.unchanged
    codes = set(later.result.issues.loc[later.result.issues["source_file"].str.endswith("ส่งช้า.xlsx"), "code"])
    assert codes and "still_arriving" not in codes


def test_a_note_that_changes_makes_the_run_whole(tmp_path):
    """A file of an unsupported type replaced in place: last week's (not listed) becomes this week's (listed)."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    build_inbox(inbox, seed=11, weeks=[WEEK], districts=["5401"], junk_files=False)
    week, after = "2021-12-31", bangkok(2021, 12, 31, 17)
    stray = _folder(inbox, "5401", "เมืองแพร่") / "รายงาน.pdf"
    stray.write_bytes(b"%PDF-1.4")
    for moment in (bangkok(2021, 12, 22, 9), bangkok(2021, 12, 30, 9)):
        os.utime(stray, (moment.timestamp(), moment.timestamp()))
        done = run_weekly(PROJECT / "config.yaml", inbox, out, week, now=after, **QUIET)
        assert not done.unchanged
        listed = done.result.issues["source_file"].str.endswith("รายงาน.pdf").any()
        assert listed == (moment.day == 30)
