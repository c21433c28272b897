"""Late-season benchmark (`make bench BENCH_SIZES=season`): week 20 of a province whose districts resend their
full lists as new files every week (~50,000 rows a week, ~1,000,000 rows stored).

  history   weeks 1..19 run in order with `python -m pipeline weekly` (cached under bench-data/season/history
            while the pipeline's code and the season's files are the same)
  friday    week 20's files dropped, then the Friday run of week 20: wall, CPU and peak memory
  rerun     the same run again with nothing new: wall, and how many files under outputs/ it wrote
  watch     watch on the week-20 inbox (interval 5 s, clock set in week 20): seconds from a file's drop to its
            feedback in the district's folder, and the CPU of the idle looks (benchmarks.season --watch-driver)
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import inboxes
from benchmarks import season_data as data
from benchmarks.bench import PYTHON, REPOSITORY, measure

ROOT = inboxes.DEFAULT_ROOT / "season"
SEASON = ROOT / data.PROVINCE
FEEDBACK_FOLDER = "ผลการตรวจ"
STATUS_FILE = "สถานะ.txt"
DROP_WAIT_SECONDS = 120


def _weekly(config: Path, inputs: Path, outputs: Path, week: int) -> list[str]:
    return [PYTHON, "-m", "pipeline", "weekly", "--config", str(config), "--inputs", str(inputs),
            "--outputs", str(outputs), "--week", data.friday(week).isoformat()]


def _drop_week(week: int, inputs: Path) -> None:
    """Week k's files into the live inbox, with their own times."""
    shutil.copytree(SEASON / "weeks" / f"{week:02d}", inputs, dirs_exist_ok=True, copy_function=shutil.copy2)


def _code_hash() -> str:
    from pipeline.core.digest import files_digest, source_files
    return files_digest(source_files())[:16] + data.source_hash()


def history(progress) -> Path:
    """Weeks 1..19 run in order on a growing inbox; the folder holding inputs/ and outputs/ after week 19."""
    folder = ROOT / "history"
    stamp = folder / "code.txt"
    if stamp.exists() and stamp.read_text() == _code_hash():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "inputs").mkdir(parents=True)
    for week in range(1, data.WEEKS):
        _drop_week(week, folder / "inputs")
        started = time.perf_counter()
        done = subprocess.run(_weekly(SEASON / "config.yaml", folder / "inputs", folder / "outputs", week),
                              cwd=REPOSITORY, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if done.returncode:
            raise SystemExit(f"history week {week}: exit {done.returncode}: {done.stderr.decode()[-800:]}")
        progress(f"  season history: week {week} run in {time.perf_counter() - started:.1f} s")
    stamp.write_text(_code_hash())
    return folder


def _tree(folder: Path) -> dict[str, tuple]:
    """Every file under a folder with its size, modification time and inode (what a write would change)."""
    found = {}
    for path in folder.rglob("*"):
        if path.is_file():
            info = path.stat()
            found[str(path.relative_to(folder))] = (info.st_size, info.st_mtime_ns, info.st_ino)
    return found


def _written(before: dict, after: dict) -> list[str]:
    return sorted(name for name in after.keys() | before.keys() if before.get(name) != after.get(name))


def friday_and_rerun(work: Path, progress) -> dict:
    """Week 20's files dropped on top of the history; the Friday run, then a rerun with nothing new."""
    source = history(progress)
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(source, work, copy_function=shutil.copy2, symlinks=True)
    _drop_week(data.WEEKS, work / "inputs")
    command = _weekly(SEASON / "config.yaml", work / "inputs", work / "outputs", data.WEEKS)
    progress("  season: Friday run of week 20 …")
    friday = measure(command, work / "friday.log")
    before = _tree(work / "outputs")
    progress("  season: rerun with nothing new …")
    rerun = measure(command, work / "rerun.log")
    written = [name for name in _written(before, _tree(work / "outputs")) if name != ".lock"]
    return {"friday": friday, "rerun": rerun, "rerun_written": written}


def watch_drop(work: Path, progress, drops: int = 3) -> dict:
    """Watch on the week-20 inbox: seconds from each of a few drops (at different moments between two looks) to
    its feedback in the district's folder, and the idle looks' CPU."""
    driver = subprocess.Popen([PYTHON, "-m", "benchmarks.season", "--watch-driver", str(work)], cwd=REPOSITORY,
                              stdout=subprocess.PIPE, stderr=open(work / "watch.log", "wb"), text=True,
                              env={**os.environ, "PYTHONPATH": str(REPOSITORY)})
    looks, delivered = [], []
    try:
        first = _until(driver, looks, lambda look: look["passed"])   # the pass over the inbox as it is
        progress(f"  season: watch's first pass {first['wall']:.1f} s; dropping corrected files …")
        for number in range(1, drops + 1):
            clock = json.loads(driver.stdout.readline())   # a look just ended: drop a moment into the interval
            looks.append(clock)
            time.sleep((number - 1) * 2.0)
            dropped, folder = _drop_correction(work / "inputs", clock["clock"], number)
            feedback = folder / FEEDBACK_FOLDER
            while time.perf_counter() - dropped < DROP_WAIT_SECONDS:
                if any(f"แก้ไข {number}" in path.name for path in feedback.glob("*.xlsx")):
                    delivered.append(time.perf_counter() - dropped)
                    break
                time.sleep(0.05)
            else:
                delivered.append(None)
            _until(driver, looks, lambda look: look["passed"])
        for _ in range(6):
            looks.append(json.loads(driver.stdout.readline()))
    finally:
        driver.send_signal(signal.SIGINT)
        driver.wait(30)
    idle = [look["cpu"] for look in looks if not look["passed"]]
    passes = [look["wall"] for look in looks if look["passed"]]
    return {"drop_to_feedback": delivered, "idle_cpu": idle, "passes": passes}


def _until(driver, looks: list, wanted) -> dict:
    while True:
        line = driver.stdout.readline()
        if not line:
            raise SystemExit("the watch driver ended early (see watch.log)")
        look = json.loads(line)
        looks.append(look)
        if wanted(look):
            return look


def _drop_correction(inputs: Path, clock: str, number: int) -> tuple[float, Path]:
    """A corrected copy of the first district's week-20 file, timed at watch's clock, renamed into place."""
    folder = sorted(path for path in inputs.iterdir() if path.is_dir())[0]
    original = sorted(folder.glob(f"*สัปดาห์ที่ {data.WEEKS}.xlsx"))[0]
    temporary = folder / ".กำลังคัดลอก.xlsx"
    shutil.copyfile(original, temporary)
    moment = dt.datetime.fromisoformat(clock).timestamp()
    os.utime(temporary, (moment, moment))
    started = time.perf_counter()
    os.rename(temporary, folder / f"{original.stem} แก้ไข {number}.xlsx")
    return started, folder


def watch_driver(work: Path) -> int:
    """watch's looks in a loop with the clock in week 20 (interval from the config), one JSON line per look."""
    from pipeline.core.config import load_config
    from pipeline.watch import WatchState, look
    config_path = SEASON / "config.yaml"
    config = load_config(config_path)
    start = dt.datetime.combine(data.friday(data.WEEKS) - dt.timedelta(days=1), dt.time(14, 0),
                                tzinfo=config.timezone)
    began = time.perf_counter()
    clock = lambda: start + dt.timedelta(seconds=time.perf_counter() - began)  # noqa: E731
    state = WatchState()
    signal.signal(signal.SIGINT, lambda *_: setattr(state, "stopping", True))
    while not state.stopping:
        processed = state.processed
        cpu, wall = time.process_time(), time.perf_counter()
        look(state, config_path, work / "inputs", work / "outputs", clock(), lambda line: None)
        print(json.dumps({"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall,
                          "passed": state.processed is not processed, "clock": clock().isoformat()}), flush=True)
        time.sleep(config.watch_interval_seconds)
    return 0


def run(work_root: Path, progress) -> dict:
    """The whole late-season benchmark; its figures."""
    manifest = data.ensure(SEASON, progress=progress)
    work = work_root / "season"
    result = friday_and_rerun(work, progress)
    progress("  season: watch, drop to feedback …")
    result.update(watch_drop(work, progress))
    result["rows_week_20"] = manifest["weeks"][data.WEEKS]["rows"]
    result["rows_stored"] = manifest["rows"]
    return result


def summary_lines(result: dict) -> list[str]:
    friday, rerun = result["friday"], result["rerun"]
    idle = result["idle_cpu"]
    delivered = result["drop_to_feedback"]
    return [
        f"season: week 20 of {data.WEEKS}, {result['rows_week_20']:,} rows this week, "
        f"{result['rows_stored']:,} rows in all weeks' files",
        f"  Friday run      {friday.wall:6.1f} s wall {friday.cpu:6.1f} s CPU; peak memory {friday.peak_tree_pss_mb:6.0f} MB "
        f"(process tree, PSS), {friday.peak_process_mb:6.0f} MB largest process, {friday.peak_tree_mb:6.0f} MB summed "
        f"RSS  exit {friday.status}   (targets: 60 s, 2048 MB)",
        f"  rerun, nothing  {rerun.wall:6.2f} s wall {rerun.cpu:6.2f} s CPU, {len(result['rerun_written'])} file(s) "
        f"written besides the run lock's holder line  exit {rerun.status}   (targets: 1 s, none written)"
        + (": " + ", ".join(result["rerun_written"][:5]) if result["rerun_written"] else ""),
        "  drop→feedback   " + ", ".join(f"{seconds:.1f} s" if seconds is not None else "not seen"
                                          for seconds in delivered)
        + " (drops 0, 2 and 4 s after a look) with a 5 s interval; watch passes "
        + ", ".join(f"{p:.1f}" for p in result["passes"]) + " s   (target: 20 s)",
        f"  idle look CPU   median {statistics.median(idle) * 1000:.1f} ms, max {max(idle) * 1000:.1f} ms over "
        f"{len(idle)} looks   (target: 200 ms)" if idle else "  idle look CPU   no idle look measured",
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--watch-driver"]:
        sys.exit(watch_driver(Path(sys.argv[2])))
    figures = run(inboxes.DEFAULT_ROOT / "runs", lambda line: print(line, file=sys.stderr, flush=True))
    print("\n".join(summary_lines(figures)))
