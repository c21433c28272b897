"""watch: districts see what to fix in their own folder minutes after they drop a file (injected clock)."""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest

from pipeline.core.errors import ConfigError
from pipeline.run import run_weekly
from pipeline.runtime.locking import watch_lock
from pipeline.watch import watch
from tests.builders import headers, write_xlsx
from tests.conftest import PROJECT, bangkok

FOLDER = "5401 เมืองแพร่"
DELIVERED = "ผลการตรวจ"


def _volunteer(number: int, phone: str | None = None) -> list:
    return ["นาย", f"อาสา{number}", "ทดสอบ", phone or f"08100000{number:02d}", "อสม.", "อบต.(moicovid)", "ในเวียง",
            "เมืองแพร่", "20/12/2564"]


class Clock:
    """A clock that moves only when watch sleeps; `on_sleep` runs between two looks (a district at work)."""

    def __init__(self, start: dt.datetime):
        self.now, self.on_sleep = start, []

    def __call__(self) -> dt.datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)
        while self.on_sleep and self.on_sleep[0][0] <= self.now:
            self.on_sleep.pop(0)[1]()


@pytest.fixture
def config_path(tmp_path) -> Path:
    text = (PROJECT / "config.yaml").read_text(encoding="utf-8").replace("interval_seconds: 60", "interval_seconds: 5")
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _drop(path: Path, rows: list[list], moment: dt.datetime) -> None:
    write_xlsx(path, {"อาสาสมัคร": [headers("volunteers"), *rows]}, moment)


def _status(inbox: Path) -> str:
    return (inbox / FOLDER / DELIVERED / "สถานะ.txt").read_text(encoding="utf-8")


def test_a_dropped_file_gets_feedback_in_its_folder_and_a_fix_clears_it(tmp_path, config_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    clock = Clock(bangkok(2021, 12, 21, 9))
    (inbox / FOLDER).mkdir(parents=True)
    path = inbox / FOLDER / "อาสา.xlsx"
    # 09:00:20 the district drops a file with a landline in the mobile column; 09:01 it saves a fix over it.
    clock.on_sleep = [(bangkok(2021, 12, 21, 9, 0) + dt.timedelta(seconds=20),
                       lambda: _drop(path, [_volunteer(1), _volunteer(2, "054511111")], bangkok(2021, 12, 21, 9))),
                      (bangkok(2021, 12, 21, 9, 1),
                       lambda: _drop(path, [_volunteer(1), _volunteer(2)], bangkok(2021, 12, 21, 9, 1)))]
    seen = []
    watch(config_path, inbox, out, clock=clock, sleep=clock.sleep, looks=20, progress=seen.append)
    delivered = sorted(p.name for p in (inbox / FOLDER / DELIVERED).iterdir())
    assert delivered == ["สถานะ.txt", "อาสา.feedback.xlsx"]
    assert "ไม่มีปัญหาที่ต้องแก้" in _status(inbox) and "ส่งตรงเวลา" in _status(inbox)
    # A pass when watch starts (the inbox as it is), one for the drop, one for the fix: nothing in between.
    assert sum("ประมวลผลสัปดาห์" in line for line in seen) == 3
    report = json.loads((out / "2021-12-24" / "report.json").read_text(encoding="utf-8"))
    assert report["totals"]["volunteers"]["total"] == 2


def test_a_file_still_being_copied_is_not_read_half_written(tmp_path, config_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    clock = Clock(bangkok(2021, 12, 21, 9))
    (inbox / FOLDER).mkdir(parents=True)
    whole = tmp_path / "whole.xlsx"
    _drop(whole, [_volunteer(n) for n in range(1, 6)], bangkok(2021, 12, 21, 9))
    content = whole.read_bytes()
    target = inbox / FOLDER / "ช้า.xlsx"

    def piece(size: int):
        def write() -> None:
            with open(target, "ab") as handle:
                handle.write(content[handle.tell():size])
            os.utime(target, (clock.now.timestamp(), clock.now.timestamp()))   # written now, by the clock
        return write

    steps = [len(content) // 4, len(content) // 2, 3 * len(content) // 4, len(content)]
    clock.on_sleep = [(bangkok(2021, 12, 21, 9) + dt.timedelta(seconds=3 + 5 * n), piece(size))
                      for n, size in enumerate(steps)]
    watch(config_path, inbox, out, clock=clock, sleep=clock.sleep, looks=8, progress=lambda line: None)
    report = json.loads((out / "2021-12-24" / "report.json").read_text(encoding="utf-8"))
    assert report["totals"]["volunteers"]["total"] == 5
    issues = (inbox / FOLDER / DELIVERED / "สถานะ.txt").read_text(encoding="utf-8")
    assert "ไม่มีปัญหาที่ต้องแก้" in issues


def test_a_removed_file_loses_its_delivered_feedback(tmp_path, config_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    clock = Clock(bangkok(2021, 12, 21, 9))
    _drop(inbox / FOLDER / "ก.xlsx", [_volunteer(1)], bangkok(2021, 12, 21, 8))
    _drop(inbox / FOLDER / "ข.xlsx", [_volunteer(2)], bangkok(2021, 12, 21, 8))
    clock.on_sleep = [(bangkok(2021, 12, 21, 9, 0, ) + dt.timedelta(seconds=30),
                       lambda: (inbox / FOLDER / "ข.xlsx").unlink())]
    watch(config_path, inbox, out, clock=clock, sleep=clock.sleep, looks=12, progress=lambda line: None)
    assert {p.name for p in (inbox / FOLDER / DELIVERED).iterdir()} == {"สถานะ.txt", "ก.feedback.xlsx"}


def test_after_the_cutoff_the_closed_week_gets_its_final_pass(tmp_path, config_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    clock = Clock(bangkok(2021, 12, 24, 15, 59))
    _drop(inbox / FOLDER / "ก.xlsx", [_volunteer(1)], bangkok(2021, 12, 24, 9))
    seen = []
    watch(config_path, inbox, out, clock=clock, sleep=clock.sleep, looks=40, progress=seen.append)
    assert any("ปิดรับแล้ว" in line and "2021-12-24" in line for line in seen)
    assert sum("ประมวลผลสัปดาห์ 2021-12-31" in line for line in seen) == 0   # nothing new for the next week
    finals = [line for line in seen if "ปิดรับแล้ว" in line]
    assert len(finals) == 1   # once, not on every look after the cut-off
    report = json.loads((out / "2021-12-24" / "report.json").read_text(encoding="utf-8"))
    assert report["totals"]["volunteers"]["total"] == 1


def test_a_second_watch_on_the_same_outputs_is_refused(tmp_path, config_path):
    with watch_lock(tmp_path / "out"):
        with pytest.raises(ConfigError) as refused:
            watch(config_path, tmp_path, tmp_path / "out", looks=1, progress=lambda line: None)
    assert "watch" in str(refused.value) and str(os.getpid()) in str(refused.value)


def test_watch_passes_during_the_week_give_the_figures_of_one_run_at_the_cutoff(tmp_path, config_path):
    watched, single = tmp_path / "watched", tmp_path / "single"
    clock = Clock(bangkok(2021, 12, 20, 9))
    inbox = watched / "inbox"
    (inbox / FOLDER).mkdir(parents=True)
    plan = [(bangkok(2021, 12, 20, 9, 0, ) + dt.timedelta(seconds=20), "จันทร์.xlsx", [_volunteer(1), _volunteer(2)]),
            (bangkok(2021, 12, 20, 9, 2), "อังคาร.xlsx", [_volunteer(2), _volunteer(3)]),
            (bangkok(2021, 12, 20, 9, 4), "จันทร์.xlsx", [_volunteer(1)])]   # a fix: volunteer 2 was sent twice
    clock.on_sleep = [(moment, (lambda name=name, rows=rows, moment=moment: _drop(inbox / FOLDER / name, rows, moment)))
                      for moment, name, rows in plan]
    watch(config_path, inbox, watched / "out", clock=clock, sleep=clock.sleep, looks=80, progress=lambda line: None)
    shutil.copytree(inbox, single / "inbox", ignore=shutil.ignore_patterns(DELIVERED))
    for path in (single / "inbox" / FOLDER).iterdir():   # copytree keeps the times the watched files had
        assert path.stat().st_mtime == (inbox / FOLDER / path.name).stat().st_mtime
    run_weekly(config_path, single / "inbox", single / "out", "2021-12-24", now=bangkok(2021, 12, 24, 16),
               progress=lambda line: None)
    run_weekly(config_path, inbox, watched / "out", "2021-12-24", now=bangkok(2021, 12, 24, 16),
               progress=lambda line: None)
    figures = lambda root: {key: value for key, value in json.loads(  # noqa: E731
        (root / "out" / "2021-12-24" / "report.json").read_text(encoding="utf-8"))["totals"].items()
        if key != "submission"}
    assert figures(watched) == figures(single)
    assert figures(single)["volunteers"]["total"] == 3


def test_a_google_sheet_edited_triggers_a_pass_and_idle_looks_fetch_no_values(tmp_path, config_path):
    """Watch asks Drive for each sheet's modified time on every look (no values); a new time is a pass."""
    import yaml
    from tests.sheets_server import FakeGoogle, FakeSpreadsheet, RedirectAdapter, service_account_file
    key = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE25401"
    google = FakeGoogle(max_seconds=60).start()
    try:
        sheet = google.add(FakeSpreadsheet(key, "อาสาสมัคร เมืองแพร่", {"อาสาสมัคร": [headers("volunteers"), _volunteer(1),
                                                                                   _volunteer(2)]},
                                           modified_time="2021-12-21T01:00:00.000Z"))
        credentials, _ = service_account_file(tmp_path, "reader@jitasa-test.iam.gserviceaccount.com")
        settings = yaml.safe_load(config_path.read_text(encoding="utf-8"))
        settings["google_sheets"] = {"credentials_file": str(credentials), "retry_delays": [0.01], "timeout_seconds": 5,
                                     "districts": {"5401": [{"url_or_key": key}]}}
        config_path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        inbox, out = tmp_path / "inbox", tmp_path / "out"
        (inbox / "5402 ร้องกวาง").mkdir(parents=True)
        clock = Clock(bangkok(2021, 12, 21, 9))

        def edit() -> None:   # 09:00:20 the district types a third volunteer into its sheet
            sheet.worksheets["อาสาสมัคร"].append(_volunteer(3))
            sheet.modified_time = "2021-12-21T02:00:20.000Z"

        clock.on_sleep = [(bangkok(2021, 12, 21, 9) + dt.timedelta(seconds=20), edit)]
        seen = []
        watch(config_path, inbox, out, clock=clock, sleep=clock.sleep, looks=12, progress=seen.append,
              sheets_adapter=RedirectAdapter(google.port))
        report = json.loads((out / "2021-12-24" / "report.json").read_text(encoding="utf-8"))
        assert report["totals"]["volunteers"]["total"] == 3
        assert sum("ประมวลผลสัปดาห์" in line for line in seen) == 2   # at the start, and after the edit
        asked = google.requests_for(key)
        values = [entry for entry in asked if "values" in entry["path"]]
        drive = [entry for entry in asked if "/drive/" in entry["path"]]
        assert len(values) == 2 and len(drive) >= 12
        # Google Sheets districts have no folder: nothing is delivered into the inbox for them.
        assert not list(inbox.rglob("ผลการตรวจ"))
        # Fetched again with nothing changed, the sheet's snapshot is not rewritten, and so neither is the week.
        before = {path: path.stat().st_mtime_ns for path in out.rglob("*") if path.is_file() and path.name != ".lock"}
        again = run_weekly(config_path, inbox, out, "2021-12-24", now=clock.now, progress=lambda line: None,
                           deliver=True, sheets_adapter=RedirectAdapter(google.port))
        assert again.unchanged
        assert {path: path.stat().st_mtime_ns for path in out.rglob("*") if path.is_file() and path.name != ".lock"} \
            == before
    finally:
        google.stop()


def test_watch_started_again_with_nothing_new_writes_nothing(tmp_path, config_path):
    """A restart (a reboot, the service restarted) runs the week once: with nothing new, nothing is written."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    _drop(inbox / FOLDER / "ก.xlsx", [_volunteer(1), _volunteer(2, "054511111")], bangkok(2021, 12, 21, 8))
    watch(config_path, inbox, out, clock=Clock(bangkok(2021, 12, 21, 9)), sleep=lambda seconds: None, looks=3,
          progress=lambda line: None)
    written = {path: (path.stat().st_mtime_ns, path.stat().st_ino) for root in (out, inbox)
               for path in root.rglob("*") if path.is_file() and path.name not in {".lock", ".watch.lock"}}
    assert any(DELIVERED in str(path) for path in written)
    seen = []
    watch(config_path, inbox, out, clock=Clock(bangkok(2021, 12, 21, 10)), sleep=lambda seconds: None, looks=3,
          progress=seen.append)
    assert any("ไม่มีอะไรใหม่" in line for line in seen)
    assert {path: (path.stat().st_mtime_ns, path.stat().st_ino) for root in (out, inbox)
            for path in root.rglob("*") if path.is_file() and path.name not in {".lock", ".watch.lock"}} == written


def test_watch_runs_the_week_at_its_first_look(tmp_path, config_path):
    """Started (or restarted), watch does not wait an interval to bring the week up to date."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    _drop(inbox / FOLDER / "ก.xlsx", [_volunteer(1)], bangkok(2021, 12, 21, 8))
    seen = []
    watch(config_path, inbox, out, clock=Clock(bangkok(2021, 12, 21, 9)), sleep=lambda seconds: None, looks=1,
          progress=seen.append)
    assert sum("ประมวลผลสัปดาห์" in line for line in seen) == 1
    assert (inbox / FOLDER / DELIVERED / "ก.feedback.xlsx").exists()
