"""The inbox as hostile ground: what is not a regular file, what vanishes, what cannot be listed.

Each run here has a deadline of its own (a child process killed after it), so a hang fails the test
instead of hanging CI.
"""
from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
from pathlib import Path

import pytest

from pipeline.core.config import load_config
from pipeline.run import run_weekly
from pipeline.sources import inbox as inbox_module
from tests import hostile_files as hostile
from tests.conftest import PROJECT, bangkok

WEEK1 = "2021-12-24"
DEADLINE_SECONDS = 120


def _run_in_child(inbox: Path, out: Path, now: dt.datetime) -> None:
    run_weekly(PROJECT / "config.yaml", inbox, out, WEEK1, now=now, progress=lambda message: None)


def run_with_deadline(inbox: Path, out: Path, now: dt.datetime = bangkok(2021, 12, 24, 15)) -> list[dict]:
    """The weekly run in a child that is killed after the deadline; the week's issue rows."""
    child = multiprocessing.get_context("fork").Process(target=_run_in_child, args=(inbox, out, now))
    child.start()
    child.join(DEADLINE_SECONDS)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail(f"the run hung for {DEADLINE_SECONDS} s")
    assert child.exitcode == 0, f"the run died (exit {child.exitcode})"
    return hostile.issue_rows(out / WEEK1)


@pytest.fixture
def inbox(tmp_path) -> Path:
    """An inbox with one good file in เมืองแพร่."""
    root = tmp_path / "inbox"
    hostile.write_bytes(root / "5401" / "ดี.xlsx", hostile.xlsx_bytes({"อาสาสมัคร": hostile.volunteer_rows(1, 2)}),
                        bangkok(2021, 12, 24, 9))
    return root


def _codes(rows: list[dict], name: str) -> list[str]:
    return [row["code"] for row in rows if str(row.get("file", "")).endswith(name)]


def test_a_fifo_and_a_link_to_a_device_are_reported_not_read(inbox, tmp_path):
    os.mkfifo(inbox / "5401" / "data.csv")
    os.symlink("/dev/zero", inbox / "5401" / "zero.xlsx")
    rows = run_with_deadline(inbox, tmp_path / "out")
    assert _codes(rows, "data.csv") == ["not_a_data_file"] and _codes(rows, "zero.xlsx") == ["not_a_data_file"]
    report = json.loads((tmp_path / "out" / WEEK1 / "report.json").read_text(encoding="utf-8"))
    assert report["totals"]["volunteers"]["total"] == 2


def test_broken_links_and_link_loops_do_not_stop_the_run(inbox, tmp_path):
    os.symlink(inbox / "5401" / "ไม่มีไฟล์นี้.xlsx", inbox / "5401" / "เสีย.xlsx")
    os.symlink(inbox / "5401" / "วน2.csv", inbox / "5401" / "วน1.csv")
    os.symlink(inbox / "5401" / "วน1.csv", inbox / "5401" / "วน2.csv")
    rows = run_with_deadline(inbox, tmp_path / "out")
    assert _codes(rows, "เสีย.xlsx") == ["not_a_data_file"]
    assert _codes(rows, "วน1.csv") == ["not_a_data_file"] and _codes(rows, "วน2.csv") == ["not_a_data_file"]


def test_a_file_that_vanishes_while_it_is_looked_at_is_skipped_and_noted_once(inbox, monkeypatch):
    config = load_config(PROJECT / "config.yaml")
    temporary = inbox / "5401" / "บันทึกชั่วคราว.xlsx"
    hostile.write_bytes(temporary, b"PK\x03\x04 half", bangkok(2021, 12, 24, 9))
    real_sha256 = inbox_module.file_sha256

    def vanishing(path: Path) -> str:   # Excel's temporary save file goes away between listing and reading
        if path == temporary:
            path.unlink()
        return real_sha256(path)

    monkeypatch.setattr(inbox_module, "file_sha256", vanishing)
    files, notes = inbox_module.discover(inbox, config, bangkok(2021, 12, 24, 10))
    assert [f.source_file for f in files] == ["5401/ดี.xlsx"]
    assert [(note["source_file"], note["code"]) for note in notes] == [("5401/บันทึกชั่วคราว.xlsx", "file_vanished")]


def test_a_churn_of_appearing_and_vanishing_files_never_kills_the_run(inbox, tmp_path):
    stop = multiprocessing.get_context("fork").Event()

    def churn() -> None:
        number = 0
        while not stop.is_set():
            path = inbox / "5401" / f"~tmp{number % 7}.xlsx"
            path.write_bytes(b"PK\x03\x04")
            path.rename(inbox / "5401" / f"ชั่วคราว{number % 5}.xlsx")
            try:
                (inbox / "5401" / f"ชั่วคราว{(number + 2) % 5}.xlsx").unlink()
            except FileNotFoundError:
                pass
            number += 1

    churner = multiprocessing.get_context("fork").Process(target=churn)
    churner.start()
    try:
        for attempt in range(3):
            run_with_deadline(inbox, tmp_path / f"out{attempt}")
    finally:
        stop.set()
        churner.join(10)
        churner.kill()


def test_a_folder_too_deep_to_list_is_an_issue_for_its_district(inbox, tmp_path):
    deep = inbox / "5402"
    deep.mkdir()
    descriptor = os.open(deep, os.O_RDONLY)
    try:   # build past PATH_MAX one folder at a time, relative to the last one
        for _ in range(40):
            os.mkdir("x" * 120, dir_fd=descriptor)
            inner = os.open("x" * 120, os.O_RDONLY, dir_fd=descriptor)
            os.close(descriptor)
            descriptor = inner
        with open(os.open("ลึก.csv", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=descriptor), "wb") as handle:
            handle.write(hostile.csv_bytes(hostile.volunteer_rows(10, 1, "ร้องกวาง", "ร้องกวาง")))
    finally:
        os.close(descriptor)
    rows = run_with_deadline(inbox, tmp_path / "out")
    problems = [row for row in rows if row["code"] in ("folder_unreadable", "path_unreadable")]
    assert problems and all(str(row["file"]).startswith("5402") for row in problems)
