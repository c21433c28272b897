"""What reaches the terminal: the summary table's legend and paths, and never a raw control character of a name."""
from __future__ import annotations

import re
import sys

import pytest

from pipeline.__main__ import main
from pipeline.core import screen
from pipeline.outputs import terminal
from pipeline.run import run_weekly
from tests.builders import headers, write_csv
from tests.conftest import PROJECT, bangkok
from tests.scenarios.test_weekly_run import WEEK1, build_week_one

# Everything a terminal acts on instead of showing (a line break only between printed lines).
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
FORGED = "อนุมัติแล้ว ไม่มีการเปลี่ยนแปลง"
# A name that clears the screen and sets the window's title; one that forges a line of its own.
ESCAPE_NAME = "\x1b]0;pwned\x07\x1b[2J\x1b[Hรายงาน\u202eslx.csv"
FORGED_NAME = f"a\r\n{FORGED}\nb.csv"


def test_visible_shows_controls_as_escapes_and_keeps_thai():
    assert screen.visible("ก\x1b[2Jข\r\nค\x85\u202e\u2066ง\udcff") == "ก\\x1b[2Jข\\x0d\\x0aค\\x85\\u202e\\u2066ง\\udcff"
    assert screen.visible("หนองม่วงไข่ 5408 ✓ \\x1b") == "หนองม่วงไข่ 5408 ✓ \\x1b"
    assert screen.visible(screen.visible("\x1b\n")) == "\\x1b\\x0a"


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    root = tmp_path_factory.mktemp("terminal")
    build_week_one(root / "inbox")
    return root, run_weekly(PROJECT / "config.yaml", root / "inbox", root / "out", WEEK1, progress=lambda m: None)


def test_total_row_status_has_a_legend_and_the_table_ends_with_the_issues_and_feedback_paths(week):
    _, done = week
    lines = terminal.summary_lines(done.result, done.week_dir)
    total = next(line for line in lines if line.startswith("รวมทั้งจังหวัด"))
    assert " 2/1/1/4 " in total     # on time / late / unusable / missing
    legend = lines[lines.index(total) + 1]
    assert "2/1/1/4" in legend
    assert "ส่งตรงเวลา 2 · ส่งช้า 1 · ส่งแล้วแต่ใช้ไม่ได้ 1 · ไม่ส่ง 4" in legend
    assert lines[-2].endswith(str(done.week_dir / f"issues_{WEEK1}.xlsx"))
    assert lines[-1].endswith(str(done.week_dir / "feedback"))
    assert (done.week_dir / f"issues_{WEEK1}.xlsx").is_file() and (done.week_dir / "feedback").is_dir()


@pytest.mark.skipif(sys.platform == "win32", reason="control characters in file names")
def test_hostile_file_names_never_reach_the_terminal_raw(tmp_path, capsys):
    """A real run, a sign-off by a name with escapes, then files named to attack the terminal: the run's
    summary, the approval's lines and the notices of what changed since show every name escaped."""
    inbox, outputs = tmp_path / "inbox", tmp_path / "out"
    build_week_one(inbox)
    paths = ["--config", str(PROJECT / "config.yaml"), "--inputs", str(inbox), "--outputs", str(outputs),
             "--week", WEEK1]
    assert main(["weekly", *paths]) == 0
    assert main(["approve", *paths, "--by", "ผู้ดูแล\x1b]0;title\x07 ระบบ"]) == 0
    row = ["นาย", "ชื่อใหม่", "ทดสอบ", "0812349999", "อสม.", "x(moicovid)", "ในเวียง", "เมืองแพร่", "20/12/2564"]
    for name in (ESCAPE_NAME, FORGED_NAME):
        write_csv(inbox / "5401 เมืองแพร่" / name, [headers("volunteers"), row], "utf-8", bangkok(2021, 12, 24, 11))
    capsys.readouterr()
    assert main(["weekly", *paths]) == 0
    printed = capsys.readouterr()
    for stream in (printed.out, printed.err):
        assert not RAW.search(stream), repr(RAW.search(stream))
        assert not [line for line in stream.splitlines() if line.lstrip().startswith(FORGED)]
    assert "\\x1b]0;pwned\\x07\\x1b[2J" in printed.out and f"a\\x0d\\x0a{FORGED}\\x0ab.csv" in printed.out
    assert "ผู้ดูแล\\x1b]0;title\\x07 ระบบ" in printed.out     # the approver's name, in the changed-since notice
