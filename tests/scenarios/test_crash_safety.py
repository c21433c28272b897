"""Crash safety: the run killed with SIGKILL while reading, storing and writing loses nothing and leaks nothing.

Each kill runs the real CLI (pipeline.__main__.main) in a forked child that SIGKILLs itself at a named
checkpoint (pipeline/faults.py, PIPELINE_KILL_AT=name:n). Until run.py, store.py and outputs.py call
checkpoint() themselves (the diff of issue 7), install_checkpoints() places the same points from outside.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
import traceback
from pathlib import Path

import openpyxl
import pytest

from pipeline.core import atomic
from pipeline.core import faults
from pipeline.runtime.unchanged import STATE_FILE
from pipeline.run import run_weekly
from pipeline.runtime import staging
from tests import hostile_files as hostile
from tests.conftest import PROJECT, bangkok
from tests.scenarios.test_two_weeks import build, workbook

WEEK1, WEEK2 = "2021-12-24", "2021-12-31"
CONFIG = PROJECT / "config.yaml"
NEW_FILES = 3
SOURCES = {path.stem: path for path in sorted((PROJECT / "pipeline").rglob("*.py"))
           if "synthetic" not in path.parts}


# ---------------------------------------------------------------- checkpoints

def checkpoint_in_source(name: str) -> bool:
    """True when the pipeline itself calls checkpoint(name)."""
    call = f'checkpoint("{name}")'
    return any(call in path.read_text(encoding="utf-8") for path in SOURCES.values())


def install_checkpoints() -> None:
    """In a forked child only: checkpoints the pipeline does not call yet, and one inside xlsxwriter's packaging."""
    from pipeline import run
    from pipeline.runtime import processes
    from pipeline.store import database as store
    import xlsxwriter.workbook

    def after(function, name):
        def wrapper(*arguments, **keywords):
            result = function(*arguments, **keywords)
            faults.checkpoint(name)
            return result
        return wrapper

    def before(function, name):
        def wrapper(*arguments, **keywords):
            faults.checkpoint(name)
            return function(*arguments, **keywords)
        return wrapper

    if not checkpoint_in_source("read"):
        processes.finish_child = after(processes.finish_child, "read")
    if not checkpoint_in_source("store_version"):
        store._replace_version = before(store._replace_version, "store_version")
    if not checkpoint_in_source("commit"):
        store.closing = committing_cursor
    if not checkpoint_in_source("built"):
        run.build_week = after(run.build_week, "built")
    if not checkpoint_in_source("written") and not checkpoint_in_source("replaced"):
        real, hooked = atomic.atomic_path, checkpointed_atomic_path(atomic.atomic_path)
        for module in [module for name, module in sys.modules.items() if name.startswith("pipeline.")]:
            if getattr(module, "atomic_path", None) is real:   # modules that imported the name
                module.atomic_path = hooked

    class PackagingZipFile(xlsxwriter.workbook.ZipFile):
        """xlsxwriter's zip: a checkpoint before each part goes in (temporary part files exist then)."""

        def write(self, *arguments, **keywords):
            faults.checkpoint("packaging")
            return super().write(*arguments, **keywords)

        def writestr(self, *arguments, **keywords):
            faults.checkpoint("packaging")
            return super().writestr(*arguments, **keywords)

    xlsxwriter.workbook.ZipFile = PackagingZipFile


@contextlib.contextmanager
def committing_cursor(cursor):
    """store.py's closing(cursor), with the commit checkpoint just before COMMIT."""
    class Cursor:
        def __getattr__(self, name):
            return getattr(cursor, name)

        def execute(self, sql, *arguments):
            if sql.strip().upper() == "COMMIT":
                faults.checkpoint("commit")
            return cursor.execute(sql, *arguments)

    try:
        yield Cursor()
    finally:
        cursor.close()


def checkpointed_atomic_path(real_atomic_path):
    """atomic.atomic_path with 'written' (temporary complete, not yet replaced) and 'replaced' points."""
    @contextlib.contextmanager
    def atomic_path(target):
        with real_atomic_path(target) as path:
            yield path
            faults.checkpoint("written")
        faults.checkpoint("replaced")
    return atomic_path


# ---------------------------------------------------------------- the states a kill starts from

def new_week_two_files(inbox: Path) -> None:
    """Friday's files: three workbooks from three districts, about 90 rows in all."""
    for index in range(NEW_FILES):
        folder = ["5401 เมืองแพร่", "ร้องกวาง", "5404"][index % 3]
        district, subdistrict = [("เมืองแพร่", "ในเวียง"), ("ร้องกวาง", "ร้องกวาง"), ("สูงเม่น", "สูงเม่น")][index % 3]
        rows = hostile.volunteer_rows(500 + index * 30, 30, district, subdistrict)[1:]
        rows[3][3] = "0812"          # a rejected row in each file
        rows[4] = list(rows[2])      # and a duplicate
        workbook(inbox / folder / f"ศุกร์-{index}.xlsx", bangkok(2021, 12, 31, 9 + index), rows)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under a folder, by relative path (the record of what the outputs were made from left out: it
    lists the files' times)."""
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*")
            if path.is_file() and path.name != STATE_FILE}


def cell_values(path: Path) -> list:
    """Every cell value of a workbook, sheet by sheet."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return [(sheet.title, list(sheet.iter_rows(values_only=True))) for sheet in book.worksheets]
    finally:
        book.close()


def contents(week_dir: Path) -> dict[str, object]:
    """What a week's outputs say: bytes of report.json and other files, cell values of workbooks."""
    return {name: cell_values(week_dir / name) if name.endswith(".xlsx") else content
            for name, content in snapshot(week_dir).items()}


def run(state: Path, week: str):
    """An uninterrupted run, in this process."""
    return run_weekly(CONFIG, state / "inbox", state / "out", week, progress=hostile.quiet)


@pytest.fixture(scope="module")
def states(tmp_path_factory):
    """'fresh': Friday's files not read yet; 'stored': read and committed, outputs still Wednesday's."""
    root = tmp_path_factory.mktemp("crash")
    fresh = root / "fresh"
    build(fresh / "inbox", "new_only")
    run(fresh, WEEK1)
    run(fresh, WEEK2)                       # Wednesday's run of week two: the outputs a kill must not lose
    new_week_two_files(fresh / "inbox")
    reference = root / "reference"
    shutil.copytree(fresh, reference)
    run(reference, WEEK2)
    stored = root / "stored"
    shutil.copytree(reference, stored)
    shutil.rmtree(stored / "out" / WEEK2)
    shutil.copytree(fresh / "out" / WEEK2, stored / "out" / WEEK2)
    return {"fresh": fresh, "stored": stored, "week_one": snapshot(fresh / "out" / WEEK1),
            "old": contents(fresh / "out" / WEEK2), "new": contents(reference / "out" / WEEK2)}


def killed_run(state: Path, point: str, scratch: Path) -> tuple[int, int]:
    """Run week two in a forked child that SIGKILLs itself at `point`; returns its pid and wait status."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        status = 99
        try:
            os.setpgid(0, 0)  # its own process group: the test can see whether any reader outlives it
            quiet = os.open(os.devnull, os.O_WRONLY)
            os.dup2(quiet, 1)
            os.dup2(quiet, 2)
            os.environ[faults.ENVIRONMENT] = point
            faults.reset()
            tempfile.tempdir = str(scratch)
            install_checkpoints()
            from pipeline.__main__ import main
            status = 100 + main(["weekly", "--config", str(CONFIG), "--inputs", str(state / "inbox"),
                                 "--outputs", str(state / "out"), "--week", WEEK2])
        finally:
            os._exit(status)
    return pid, os.waitpid(pid, 0)[1]


def group_members(group: int) -> list[int]:
    """Live processes of a process group (zombies excluded)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == group and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def wait_until_gone(group: int, seconds: float = 5.0) -> list[int]:
    """Wait for the killed run's readers to die with it; returns those still alive."""
    deadline = time.monotonic() + seconds
    while (alive := group_members(group)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def store_counts(out: Path) -> tuple[str, int]:
    """The store's integrity verdict and how many file versions it holds."""
    with contextlib.closing(sqlite3.connect(out / "store.sqlite")) as connection:
        verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
        return verdict, connection.execute("SELECT count(*) FROM versions").fetchone()[0]


# ---------------------------------------------------------------- kills

# Reading (a file's child finished), storing (inside the transaction, then just before COMMIT),
# writing (week built, temporary written, temporary replaced, xlsxwriter packaging its parts).
FRESH_POINTS = [f"read:{n}" for n in range(1, NEW_FILES + 1)] + \
               [f"store_version:{n}" for n in range(1, NEW_FILES + 1)] + ["commit"]
# Outputs written in turn: report.json, the province and issues workbooks, the ministry's, then feedback.
STORED_POINTS = ["built", *(f"written:{n}" for n in range(1, 6)), *(f"replaced:{n}" for n in range(1, 6)),
                 "packaging:1", "packaging:12", "packaging:24", "switching"]
# xlsxwriter writes each part to a temporary file first: killed while packaging, they stay behind.
LEAK_MESSAGE = "files left in the temporary folder"


class LeftBehind(AssertionError):
    """Files a killed run left in the temporary folder (the only failure the packaging points expect)."""


SCENARIOS = [("fresh", point) for point in FRESH_POINTS] + [("stored", point) for point in STORED_POINTS]
KILL_POINTS = SCENARIOS
WORKERS = 2   # scenarios run two at a time: each is a kill and a rerun in its own folder


def kill_scenario(states: dict, start: str, point: str, folder: Path) -> list[str]:
    """Kill a run at one point, check what it left, rerun; returns what went wrong (empty when nothing)."""
    failures: list[str] = []
    check = lambda condition, message: condition or failures.append(message)  # noqa: E731
    state, scratch = folder / "state", folder / "scratch"
    shutil.copytree(states[start], state)
    scratch.mkdir()
    versions_before = store_counts(state / "out")[1]
    pid, status = killed_run(state, point, scratch)
    if not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL):
        return [f"the run was not killed at {point} (exit status {os.WEXITSTATUS(status)})"]
    check(wait_until_gone(pid) == [], "a reader process outlived the killed run")

    # What a kill leaves: week one untouched, week two's outputs each whole (old or new), the store all-or-nothing.
    check(snapshot(state / "out" / WEEK1) == states["week_one"], "week one's outputs changed")
    # Killed between the two renames of the switch, the previous outputs wait whole in .previous-<week>.
    week_two = state / "out" / WEEK2
    if not week_two.exists():
        week_two = state / "out" / f"{staging.PREVIOUS_MARK}{WEEK2}"
    left = {name: content for name, content in snapshot(week_two).items()
            if not Path(name).name.startswith(atomic.TEMPORARY_MARK)}
    for name in left:
        try:
            value = cell_values(week_two / name) if name.endswith(".xlsx") else left[name]
            if name.endswith(".json"):
                json.loads(value)
        except Exception as error:  # noqa: BLE001 - any failure to open is the finding
            failures.append(f"{name} unreadable after the kill: {error!r}")
            continue
        check(value in (states["old"].get(name), states["new"].get(name)), f"{name} is neither old nor new")
    check(set(left) >= set(states["old"]), "an output of the previous run disappeared")
    verdict, versions = store_counts(state / "out")
    check(verdict == "ok", f"store integrity: {verdict}")
    check(versions in (versions_before, versions_before + NEW_FILES * (start == "fresh")),
          f"store holds {versions - versions_before} new versions: not all or nothing")

    # The next uninterrupted run: the same outputs as if nothing had happened, and nothing left behind.
    tempfile.tempdir = str(scratch)
    run(state, WEEK2)
    check(contents(state / "out" / WEEK2) == states["new"], "the rerun's outputs differ from an uninterrupted run's")
    check(not list((state / "out").rglob(f"{atomic.TEMPORARY_MARK}*")), "temporaries left in outputs/")
    leaked = [path.name for path in scratch.rglob("*") if path.is_file()]
    check(leaked == [], f"{LEAK_MESSAGE}: {leaked[:5]}")
    return failures


@pytest.fixture(scope="module")
def kill_verdicts(states, tmp_path_factory) -> dict[tuple[str, str], list[str]]:
    """Every kill scenario, run in forked workers two at a time: (start, point) -> failures."""
    root = tmp_path_factory.mktemp("kills")
    waiting, running, verdicts = list(SCENARIOS), {}, {}
    while waiting or running:
        while waiting and len(running) < WORKERS:
            start, point = waiting.pop(0)
            folder = root / f"{start}-{point.replace(':', '-')}"
            folder.mkdir()
            pid = os.fork()
            if pid == 0:
                try:
                    failures = kill_scenario(states, start, point, folder)
                except BaseException:  # noqa: BLE001 - reported, never raised into the forked pytest
                    failures = [traceback.format_exc()]
                (folder / "verdict.json").write_text(json.dumps(failures), encoding="utf-8")
                os._exit(0)
            running[pid] = (start, point, folder)
        pid, _ = os.wait()
        start, point, folder = running.pop(pid)
        verdict = folder / "verdict.json"
        verdicts[(start, point)] = json.loads(verdict.read_text(encoding="utf-8")) if verdict.exists() \
            else ["the scenario process died"]
    return verdicts


def test_at_least_twenty_kill_points_over_reading_storing_and_writing():
    phases = {point.split(":")[0] for point in FRESH_POINTS + STORED_POINTS}
    assert len(SCENARIOS) >= 20 and {"read", "store_version", "commit", "written", "replaced"} <= phases


@pytest.mark.parametrize("start, point", KILL_POINTS)
def test_killed_run_loses_nothing_and_the_next_run_reproduces_the_outputs(kill_verdicts, start, point):
    failures = kill_verdicts[(start, point)]
    assert [failure for failure in failures if not failure.startswith(LEAK_MESSAGE)] == []
    if failures:
        raise LeftBehind(failures)


# ---------------------------------------------------------------- how outputs are written

def test_outputs_are_replaced_from_a_temporary_in_the_same_folder(states, tmp_path, monkeypatch):
    shutil.copytree(states["stored"], tmp_path / "state")
    replaced = []
    real_replace = os.replace

    def recording_replace(source, target):
        replaced.append((Path(source), Path(target)))
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", recording_replace)
    run(tmp_path / "state", WEEK2)
    moved = {target: source for source, target in replaced}
    week_dir = tmp_path / "state" / "out" / WEEK2
    # The week folder is switched in whole from its staging folder, each file of which came from a temporary
    # beside it.
    staged = moved[week_dir]
    assert staged.parent == week_dir.parent and staged.name.startswith(staging.STAGING_MARK)
    # The record of what the outputs were made from is written last, after the switch and the delivery, by
    # its own atomic replace: a run killed before it leaves none, and the next run writes the week again.
    written = [path for path in week_dir.rglob("*") if path.is_file() and path.name != STATE_FILE]
    assert written
    for path in written:
        in_staging = staged / path.relative_to(week_dir)
        assert in_staging in moved, path
        assert moved[in_staging].parent == in_staging.parent, path
        assert moved[in_staging].name.startswith(atomic.TEMPORARY_MARK), path


def test_atomic_path_leaves_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with atomic.atomic_path(target) as temporary:
            temporary.write_text("half", encoding="utf-8")
            raise RuntimeError("disk full")
    assert target.read_text(encoding="utf-8") == "old"
    assert [path.name for path in tmp_path.iterdir()] == ["report.json"]


def test_stale_temporaries_of_every_week_are_swept_at_start(states, tmp_path):
    shutil.copytree(states["stored"], tmp_path / "state")
    out = tmp_path / "state" / "out"
    stale = [out / WEEK1 / f"{atomic.TEMPORARY_MARK}abc.xlsx", out / WEEK2 / f"{atomic.TEMPORARY_MARK}def.json",
             out / f"{atomic.TEMPORARY_MARK}ghi.json"]
    for path in stale:
        path.write_bytes(b"half-written personal data")
    run(tmp_path / "state", WEEK2)
    assert [path for path in stale if path.exists()] == []


def test_scratch_of_a_killed_reader_is_swept(tmp_path):
    from pipeline.runtime import processes
    dead = tmp_path / f"readers-{2**22 + 17}-x"   # above the default pid_max: no such process
    dead.mkdir()
    (dead / "snapshot.xlsx").write_bytes(b"a copy of a district file")
    alive = tmp_path / f"readers-{os.getpid()}-y"
    alive.mkdir()
    assert processes.sweep_scratch(str(tmp_path)) == 1
    assert not dead.exists() and alive.exists()


# ---------------------------------------------------------------- reruns

def test_reruns_and_weeks_out_of_order_give_identical_outputs(states, tmp_path):
    shutil.copytree(states["stored"], tmp_path / "again")
    run(tmp_path / "again", WEEK2)
    assert contents(tmp_path / "again" / "out" / WEEK2) == states["new"]  # the same week again
    for week in (WEEK2, WEEK1):                                            # week two first, then week one
        run_weekly(CONFIG, tmp_path / "again" / "inbox", tmp_path / "backwards", week, progress=hostile.quiet)
    assert contents(tmp_path / "backwards" / WEEK2) == states["new"]
    assert snapshot(tmp_path / "backwards" / WEEK1).keys() == states["week_one"].keys()
    assert contents(tmp_path / "backwards" / WEEK1) == contents(states["fresh"] / "out" / WEEK1)
