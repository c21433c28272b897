"""A week's outputs are switched in whole: a failure half way (a full disk) leaves the week as it was."""
from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import pytest

from pipeline.__main__ import main
from pipeline.outputs import ministry
from pipeline.run import run_weekly
from pipeline.runtime import staging
from pipeline.runtime.unchanged import STATE_FILE
from tests.builders import headers, write_xlsx
from tests.conftest import PROJECT, bangkok

WEEK1 = "2021-12-24"


def _volunteer(number: int) -> list:
    return ["นาย", f"อาสา{number}", "ทดสอบ", f"08100000{number:02d}", "อสม.", "อบต.(moicovid)", "ในเวียง",
            "เมืองแพร่", "20/12/2564"]


def _week(inbox: Path, out: Path) -> int:
    return main(["weekly", "--config", str(PROJECT / "config.yaml"), "--inputs", str(inbox), "--outputs", str(out),
                 "--week", WEEK1])


def _files(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


@pytest.fixture
def first_run(tmp_path) -> tuple[Path, Path]:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    write_xlsx(inbox / "5401" / "a.xlsx", {"อาสาสมัคร": [headers("volunteers"), _volunteer(1), _volunteer(2)]},
               bangkok(2021, 12, 24, 9))
    write_xlsx(inbox / "5401" / "b.xlsx", {"อาสาสมัคร": [headers("volunteers"), _volunteer(3)]},
               bangkok(2021, 12, 24, 9))
    assert _week(inbox, out) == 0
    return inbox, out


def test_a_disk_full_half_way_leaves_the_previous_week_whole(first_run, monkeypatch, capsys):
    inbox, out = first_run
    before = _files(out / WEEK1)
    write_xlsx(inbox / "5401" / "c.xlsx", {"อาสาสมัคร": [headers("volunteers"), _volunteer(4)]},
               bangkok(2021, 12, 24, 10))

    def disk_full(*arguments, **keywords):
        raise OSError(errno.ENOSPC, "No space left on device", str(out / WEEK1 / "ministry"))

    monkeypatch.setattr(ministry, "write_ministry", disk_full)
    capsys.readouterr()
    assert _week(inbox, out) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]   # the lines before it are the run's progress
    assert line.startswith("ข้อผิดพลาด:") and "ดิสก์เต็ม" in line and "ภายในโปรแกรม" not in line
    assert _files(out / WEEK1) == before        # report.json, workbooks and feedback all of the previous run
    monkeypatch.undo()
    assert _week(inbox, out) == 0
    assert json.loads((out / WEEK1 / "report.json").read_text(encoding="utf-8"))["totals"]["volunteers"]["total"] == 4
    assert not list(out.glob(f"{staging.STAGING_MARK}*")) and not list(out.glob(f"{staging.PREVIOUS_MARK}*"))


def test_too_little_free_space_is_refused_before_anything_is_written(first_run, monkeypatch, capsys):
    inbox, out = first_run
    (out / WEEK1 / STATE_FILE).unlink()   # a run that has to write the week again (else it writes nothing)
    before = _files(out / WEEK1)
    monkeypatch.setattr(staging.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 10**9 - 1024, 1024))
    capsys.readouterr()
    assert _week(inbox, out) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "ไม่พอ" in line and "MB" in line
    assert _files(out / WEEK1) == before


def test_what_the_run_does_not_write_is_carried_over_and_stale_feedback_is_not(first_run):
    inbox, out = first_run
    (out / WEEK1 / "approval.json").write_text("{}", encoding="utf-8")
    (out / WEEK1 / "บันทึกของจังหวัด.txt").write_text("โทรถามอำเภอแล้ว", encoding="utf-8")
    assert any(p.name == "b.feedback.xlsx" for p in (out / WEEK1 / "feedback").rglob("*"))
    (inbox / "5401" / "b.xlsx").unlink()   # withdrawn before the cut-off: the rerun counts nothing of it
    run_weekly(PROJECT / "config.yaml", inbox, out, WEEK1, now=bangkok(2021, 12, 24, 15), progress=lambda m: None)
    assert (out / WEEK1 / "approval.json").read_text(encoding="utf-8") == "{}"
    assert (out / WEEK1 / "บันทึกของจังหวัด.txt").read_text(encoding="utf-8") == "โทรถามอำเภอแล้ว"
    assert not any(p.name == "b.feedback.xlsx" for p in (out / WEEK1 / "feedback").rglob("*"))


def test_a_switch_killed_between_its_renames_is_put_back(tmp_path):
    out = tmp_path / "out"
    (out / f"{staging.PREVIOUS_MARK}{WEEK1}").mkdir(parents=True)
    (out / f"{staging.PREVIOUS_MARK}{WEEK1}" / "report.json").write_text("old", encoding="utf-8")
    (out / f"{staging.STAGING_MARK}{WEEK1}").mkdir()
    staging.recover(out)
    assert (out / WEEK1 / "report.json").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in out.iterdir()) == [WEEK1]
