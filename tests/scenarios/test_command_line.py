"""What the office types: make with Thai paths holding spaces, sign-off that needs a name, weeks named
by their Friday, one Thai line when a command cannot be done, and who may read outputs/."""
from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.__main__ import main
from pipeline.run import run_weekly
from tests.builders import headers, write_xlsx
from tests.conftest import PROJECT, bangkok

WEEK1 = "2021-12-24"


def _inbox(root: Path) -> Path:
    row = ["นาย", "อาสา1", "ทดสอบ", "0810000001", "อสม.", "อบต.(moicovid)", "ในเวียง", "เมืองแพร่", "20/12/2564"]
    write_xlsx(root / "5401 เมืองแพร่" / "อาสา สมัคร.xlsx", {"อาสาสมัคร": [headers("volunteers"), row]},
               bangkok(2021, 12, 24, 9))
    return root


def _cli(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", *arguments], capture_output=True, text=True,
                          cwd=PROJECT, timeout=300)


@pytest.mark.skipif(not (PROJECT / ".venv" / ".installed").exists(), reason="make needs the project's virtualenv")
def test_make_weekly_takes_thai_paths_with_spaces(tmp_path):
    inbox = _inbox(tmp_path / "กล่อง รับ")
    outputs = tmp_path / "รายงาน ประจำสัปดาห์"
    completed = subprocess.run(["make", "--no-print-directory", "weekly", f"INPUTS={inbox}", f"OUTPUTS={outputs}",
                                f"WEEK={WEEK1}"], capture_output=True, text=True, cwd=PROJECT, timeout=600)
    assert completed.returncode == 0, completed.stderr
    report = json.loads((outputs / WEEK1 / "report.json").read_text(encoding="utf-8"))
    assert report["totals"]["volunteers"]["total"] == 1


def test_approve_without_a_name_is_refused_in_one_thai_line(tmp_path, capsys):
    inbox = _inbox(tmp_path / "inbox")
    run_weekly(PROJECT / "config.yaml", inbox, tmp_path / "out", WEEK1, progress=lambda message: None)
    code = main(["approve", "--config", str(PROJECT / "config.yaml"), "--inputs", str(inbox),
                 "--outputs", str(tmp_path / "out"), "--week", WEEK1])
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1
    assert error.startswith("ข้อผิดพลาด:") and "ชื่อผู้อนุมัติ" in error and "BY=" in error
    assert not (tmp_path / "out" / WEEK1 / "approval.json").exists()
    blank = main(["approve", "--config", str(PROJECT / "config.yaml"), "--inputs", str(inbox),
                  "--outputs", str(tmp_path / "out"), "--week", WEEK1, "--by", "   "])
    assert blank == 2 and not (tmp_path / "out" / WEEK1 / "approval.json").exists()


@pytest.mark.parametrize("given, weekday, friday", [("2021-12-25", "วันเสาร์", "2021-12-31"),
                                                    ("2021-12-23", "วันพฤหัสบดี", "2021-12-24"),
                                                    ("2022-01-03", "วันจันทร์", "2022-01-07")])
def test_a_day_that_is_not_a_friday_names_the_friday_of_its_week(tmp_path, given, weekday, friday):
    completed = _cli("weekly", "--config", str(PROJECT / "config.yaml"), "--inputs", str(tmp_path),
                     "--outputs", str(tmp_path / "o"), "--week", given)
    assert completed.returncode == 2
    line = completed.stderr.strip()
    assert "\n" not in line and line.startswith("ข้อผิดพลาด:") and weekday in line and f"WEEK={friday}" in line


def test_a_week_after_the_current_one_is_refused(tmp_path):
    completed = _cli("weekly", "--config", str(PROJECT / "config.yaml"), "--inputs", str(tmp_path),
                     "--outputs", str(tmp_path / "o"), "--week", "2099-01-02")
    assert completed.returncode == 2 and "ยังมาไม่ถึง" in completed.stderr
    assert not (tmp_path / "o" / "2099-01-02").exists()


def test_a_missing_inbox_is_named_in_thai(tmp_path):
    completed = _cli("weekly", "--config", str(PROJECT / "config.yaml"), "--inputs", str(tmp_path / "ไม่มี"),
                     "--outputs", str(tmp_path / "o"), "--week", WEEK1)
    assert completed.returncode == 2 and "ไม่พบโฟลเดอร์กล่องรับ" in completed.stderr and "ไม่มี" in completed.stderr


def _modes(folder: Path) -> set[int]:
    return {stat.S_IMODE(path.stat().st_mode) for path in folder.rglob("*") if path.is_file()}


@pytest.mark.parametrize("mode, expected", [("private", {0o600}), ("group", {0o640})])
def test_outputs_are_private_unless_the_office_shares_them_with_its_group(tmp_path, mode, expected):
    config = (PROJECT / "config.yaml").read_text(encoding="utf-8").replace("  mode: private", f"  mode: {mode}")
    (tmp_path / "config.yaml").write_text(config, encoding="utf-8")
    inbox = _inbox(tmp_path / "inbox")
    completed = _cli("weekly", "--config", str(tmp_path / "config.yaml"), "--inputs", str(inbox),
                     "--outputs", str(tmp_path / "out"), "--week", WEEK1)
    assert completed.returncode == 0, completed.stderr
    assert _modes(tmp_path / "out" / WEEK1) == expected


def test_a_second_run_on_the_same_outputs_waits_then_says_who_is_running(tmp_path):
    import os
    import time
    from pipeline.runtime.locking import outputs_lock
    config = (PROJECT / "config.yaml").read_text(encoding="utf-8").replace(
        "lock_wait_seconds: 600", "lock_wait_seconds: 1")
    (tmp_path / "config.yaml").write_text(config, encoding="utf-8")
    inbox = _inbox(tmp_path / "inbox")
    with outputs_lock(tmp_path / "out", "weekly", 0):
        started = time.monotonic()
        completed = _cli("weekly", "--config", str(tmp_path / "config.yaml"), "--inputs", str(inbox),
                         "--outputs", str(tmp_path / "out"), "--week", WEEK1)
        waited = time.monotonic() - started
    assert completed.returncode == 2 and waited >= 1
    line = completed.stderr.strip()
    assert "\n" not in line and "กำลังถูกใช้" in line and f"PID {os.getpid()}" in line and "weekly" in line
    assert not (tmp_path / "out" / WEEK1).exists()
    # The lock is gone with its holder: the same run now goes through.
    again = _cli("weekly", "--config", str(tmp_path / "config.yaml"), "--inputs", str(inbox),
                 "--outputs", str(tmp_path / "out"), "--week", WEEK1)
    assert again.returncode == 0, again.stderr


def test_a_lock_left_by_a_killed_run_is_taken_over(tmp_path):
    import signal
    holder = subprocess.Popen([sys.executable, "-c", (
        "import time, pathlib; from pipeline.runtime.locking import outputs_lock\n"
        f"with outputs_lock(pathlib.Path({str(tmp_path / 'out')!r}), 'weekly', 0):\n"
        "    print('held', flush=True); time.sleep(60)")], cwd=PROJECT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    inbox = _inbox(tmp_path / "inbox")
    completed = _cli("weekly", "--config", str(PROJECT / "config.yaml"), "--inputs", str(inbox),
                     "--outputs", str(tmp_path / "out"), "--week", WEEK1)
    assert completed.returncode == 0, completed.stderr


def test_an_outputs_folder_that_cannot_be_written_is_named_with_its_cause(tmp_path):
    blocker = tmp_path / "ไฟล์"
    blocker.write_text("not a folder")
    completed = _cli("weekly", "--config", str(PROJECT / "config.yaml"), "--inputs", str(_inbox(tmp_path / "inbox")),
                     "--outputs", str(blocker / "out"), "--week", WEEK1)
    line = completed.stderr.strip()
    assert completed.returncode == 2 and "\n" not in line
    assert "เขียนลงโฟลเดอร์ผลลัพธ์" in line and str(blocker / "out") in line and "internal" not in line
