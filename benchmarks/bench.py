"""Benchmark: the pipeline against the I/O floor and a hand-written pandas script, at three sizes.

    python -m benchmarks.bench [--sizes province,large,nation] [--repeat N] [--no-baseline]

For each size the synthetic inboxes are generated once (benchmarks.inboxes, cached under bench-data/)
and then, back to back, each in its own child process:

  pipeline  python -m pipeline weekly (fresh outputs folder); for the nation one run per province
            with that province's config, then python -m pipeline national over their report.json
  floor     benchmarks.floor: every input cell read (python-calamine, csv), as many output rows as
            the pipeline wrote (its .xlsx outputs, counted after its run) written with xlsxwriter
  baseline  benchmarks.baseline: pandas read_excel(openpyxl)/read_csv, concat, drop_duplicates,
            to_excel. At the nation size it runs on a sample of provinces and its time is scaled by
            rows (said so in the output), or is skipped with --no-baseline.

Each child is measured from outside: wall seconds, CPU seconds (user+sys of the child and every
process it waited for, from wait4), the peak of the summed resident memory of its process tree
(sampled from /proc every 0.1 s) and the largest single process (ru_maxrss). The machine may be
shared: CPU seconds and the ratios of runs made back to back are the figures to compare.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from benchmarks import inboxes

PYTHON = sys.executable
REPOSITORY = Path(__file__).resolve().parent.parent
WEEK = "2021-12-24"
SEASON = "season"   # benchmarks/season.py: week 20 of a province resending its full lists every week
BASELINE_SAMPLE = 0.06  # share of the nation's rows the baseline runs on (then scaled by rows)
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Measurement:
    wall: float
    cpu: float
    peak_tree_mb: float        # summed RSS of the process tree, sampled
    peak_process_mb: float     # the largest single process (ru_maxrss)
    status: int
    note: str = ""
    peak_tree_pss_mb: float = 0.0   # the tree's proportional set size: pages shared after fork counted once


# ---------------------------------------------------------------- measuring a child process tree

def _process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, resident bytes) of every process."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        table[int(name)] = (int(fields[1]), int(fields[21]) * PAGE)
    return table


def _tree(root: int) -> tuple[list[int], int]:
    """The pids of a process and its descendants, and their summed resident bytes."""
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    pids, total, stack = [], 0, [root]
    while stack:
        pid = stack.pop()
        pids.append(pid)
        total += table.get(pid, (0, 0))[1]
        stack.extend(children.get(pid, ()))
    return pids, total


def _pss(pid: int) -> int:
    """Proportional set size of a process in bytes (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measure(command: list[str], log: Path, cwd: Path = REPOSITORY) -> Measurement:
    """Run a command as a child, sampling its tree's memory; wall, CPU and memory of the whole tree."""
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    with open(log, "wb") as output:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=cwd, stdout=output, stderr=subprocess.STDOUT, env=env)
        peak, peak_pss = [0], [0]
        done = threading.Event()

        def sample():
            while not done.is_set():
                try:
                    pids, rss = _tree(child.pid)
                    peak[0] = max(peak[0], rss)
                    peak_pss[0] = max(peak_pss[0], sum(_pss(pid) for pid in pids))
                except Exception:  # a process ended while being read: the next sample will do
                    pass
                done.wait(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        child.returncode = os.waitstatus_to_exitcode(status)
    return Measurement(wall, usage.ru_utime + usage.ru_stime, peak[0] / 2**20, usage.ru_maxrss / 1024,
                       child.returncode, peak_tree_pss_mb=peak_pss[0] / 2**20)


def count_output_rows(folder: Path) -> int:
    """Rows in every .xlsx the pipeline wrote under a folder (what the floor writes as many of)."""
    import python_calamine
    rows = 0
    for path in folder.rglob("*.xlsx"):
        if path.name.startswith((".", "~$")):
            continue
        with python_calamine.CalamineWorkbook.from_path(str(path)) as workbook:
            for name in workbook.sheet_names:
                rows += workbook.get_sheet_by_name(name).height
    return rows


# ---------------------------------------------------------------- the nation: one run per province

def pipeline_command(config: Path, inputs: Path, outputs: Path, feedback: str) -> list[str]:
    """python -m pipeline weekly …; with feedback 'off', through pipeline_without_feedback."""
    arguments = ["weekly", "--config", str(config), "--inputs", str(inputs), "--outputs", str(outputs), "--week", WEEK]
    if feedback == "off":
        return [PYTHON, "-m", "benchmarks.bench", "--pipeline-without-feedback", *arguments]
    return [PYTHON, "-m", "pipeline", *arguments]


def pipeline_without_feedback(arguments: list[str]) -> int:
    """The pipeline with no feedback workbook planned (benchmark only: what the rest costs)."""
    from pipeline.outputs.feedback import plan as feedback
    from pipeline.__main__ import main as pipeline_main
    feedback.plan_jobs = lambda *_, **__: []   # the week's reports are still written, step by step
    return pipeline_main(arguments)


def config_path(root: Path, code: str, feedback: str) -> Path:
    """The province's config; with feedback 'summaries', a copy that writes feedback summaries only."""
    path = root / code / "config.yaml"
    if feedback in ("copies", "off"):
        return path
    variant = root / code / "config-feedback-summaries.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config.setdefault("limits", {})["feedback_max_cells"] = 0  # no copy of the district's sheets
    variant.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return variant


def nation_pipeline(root: Path, outputs: Path, feedback: str) -> int:
    """Run every province of a nation inbox through the pipeline, then the national roll-up."""
    reports = outputs / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    provinces = sorted(p.name for p in root.iterdir() if (p / "config.yaml").exists())
    for number, code in enumerate(provinces, start=1):
        started = time.perf_counter()
        done = subprocess.run(pipeline_command(config_path(root, code, feedback), root / code / "inputs",
                                               outputs / code, feedback),
                              cwd=REPOSITORY, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if done.returncode:
            print(f"province {code}: exit {done.returncode}: {done.stderr.decode()[-500:]}", flush=True)
            return done.returncode
        shutil.copy(outputs / code / WEEK / "report.json", reports / f"{code}.json")
        print(f"  province {code} ({number}/{len(provinces)}) {time.perf_counter() - started:.1f} s", flush=True)
    done = subprocess.run([PYTHON, "-m", "pipeline", "national", "--inputs", str(reports),
                           "--outputs", str(outputs / "national"), "--week", WEEK], cwd=REPOSITORY)
    return done.returncode


# ---------------------------------------------------------------- one size

def _sample(manifest: dict, share: float) -> list[str]:
    """Every k-th province (k = 1/share): a sample spread over the code range, about `share` of the rows."""
    provinces = sorted(manifest["provinces"])
    return provinces[::max(1, round(1 / share))]


def run_size(size: inboxes.Size, work: Path, repeat: int, baseline: bool, feedback: str, progress) -> dict:
    manifest = inboxes.ensure(size, progress=progress)
    root = inboxes.DEFAULT_ROOT / size.name
    provinces = sorted(manifest["provinces"])
    runs = []
    for attempt in range(1, repeat + 1):
        folder = work / size.name / f"run{attempt}"
        shutil.rmtree(folder, ignore_errors=True)
        load_before = os.getloadavg()
        if size.name == "nation":
            command = [PYTHON, "-m", "benchmarks.bench", "--nation-pipeline", str(root),
                       str(folder / "pipeline"), feedback]
        else:
            code = provinces[0]
            command = pipeline_command(config_path(root, code, feedback), root / code / "inputs",
                                       folder / "pipeline", feedback)
        progress(f"  {size.name} run {attempt}: pipeline …")
        result = {"pipeline": measure(command, folder / "pipeline.log")}
        output_rows = count_output_rows(folder / "pipeline")
        progress(f"  {size.name} run {attempt}: floor ({output_rows:,} output rows) …")
        floor_command = [PYTHON, "-m", "benchmarks.floor", "--outputs", str(folder / "floor"),
                         "--rows", str(output_rows)]
        for code in provinces:
            floor_command += ["--inputs", str(root / code / "inputs")]
        result["floor"] = measure(floor_command, folder / "floor.log")
        if baseline and attempt == 1:  # its ratio is large: one run is enough, repeats time the other two
            sample = _sample(manifest, BASELINE_SAMPLE) if size.name == "nation" else provinces
            sample_rows = sum(manifest["provinces"][code]["rows"] for code in sample)
            progress(f"  {size.name} run {attempt}: baseline ({len(sample)} province(s), {sample_rows:,} rows) …")
            baseline_command = [PYTHON, "-m", "benchmarks.baseline", "--outputs", str(folder / "baseline")]
            for code in sample:
                baseline_command += ["--inputs", str(root / code / "inputs")]
            measured = measure(baseline_command, folder / "baseline.log")
            if sample_rows < manifest["rows"]:
                scale = manifest["rows"] / sample_rows
                measured = Measurement(measured.wall * scale, measured.cpu * scale, measured.peak_tree_mb,
                                       measured.peak_process_mb, measured.status,
                                       f"run on {len(sample)} provinces ({sample_rows:,} rows), times x{scale:.1f}")
            result["baseline"] = measured
        result["load"] = [round(x, 2) for x in (*load_before, *os.getloadavg())]
        result["output_rows"] = output_rows
        runs.append(result)
        shutil.rmtree(folder / "floor", ignore_errors=True)
        shutil.rmtree(folder / "baseline", ignore_errors=True)
    return {"size": size.name, "feedback": feedback, "rows": manifest["rows"], "files": manifest["files"], "districts": manifest["districts"],
            "provinces": len(provinces), "megabytes": round(manifest["bytes"] / 1e6, 1), "runs": runs}


# ---------------------------------------------------------------- reporting

def _median(runs: list[dict], task: str, field: str) -> float:
    return statistics.median(getattr(run[task], field) for run in runs if task in run)


def summary_lines(result: dict) -> list[str]:
    runs, rows = result["runs"], result["rows"]
    lines = [f"{result['size']} (feedback {result['feedback']}): {rows:,} rows in {result['files']} files "
             f"({result['megabytes']} MB), "
             f"{result['districts']} districts in {result['provinces']} province(s); "
             f"{len(runs)} run(s), medians; load average before/after each run: "
             + "; ".join(" ".join(f"{x:.1f}" for x in run["load"]) for run in runs)]
    lines.append(f"  {'':9} {'wall s':>8} {'CPU s':>8} {'tree MB':>8} {'proc MB':>8} {'rows/s (wall)':>14}  exit")
    for task in ("pipeline", "floor", "baseline"):
        if task not in runs[0]:
            continue
        wall, cpu = _median(runs, task, "wall"), _median(runs, task, "cpu")
        peak = max(getattr(run[task], "peak_tree_mb") for run in runs if task in run)
        process = max(getattr(run[task], "peak_process_mb") for run in runs if task in run)
        status = ",".join(str(run[task].status) for run in runs if task in run)
        note = runs[0][task].note
        lines.append(f"  {task:9} {wall:8.1f} {cpu:8.1f} {peak:8.0f} {process:8.0f} {rows / wall:14,.0f}  {status}"
                     + (f"  ({note})" if note else ""))
    ratios = []
    for field in ("wall", "cpu"):
        ratio = [run["pipeline"].__dict__[field] / run["floor"].__dict__[field] for run in runs]
        ratios.append(f"pipeline/floor {field} {statistics.median(ratio):.2f} (runs: "
                      + ", ".join(f"{r:.2f}" for r in ratio) + ")")
    if "baseline" in runs[0]:
        for field in ("wall", "cpu"):
            ratio = runs[0]["baseline"].__dict__[field] / _median(runs, "pipeline", field)
            ratios.append(f"baseline/pipeline {field} {ratio:.1f}")
    lines.append("  " + " · ".join(ratios))
    return lines


def scaling_lines(results: dict[str, dict]) -> list[str]:
    lines = []
    base = results.get("province")
    for name in ("large", "nation"):
        if base and name in results:
            other = results[name]
            row_ratio = other["rows"] / base["rows"]
            for task in ("pipeline", "floor"):
                time_ratio = _median(other["runs"], task, "cpu") / _median(base["runs"], task, "cpu")
                wall_ratio = _median(other["runs"], task, "wall") / _median(base["runs"], task, "wall")
                lines.append(f"scaling {name}/province: rows x{row_ratio:.1f}; {task} CPU x{time_ratio:.1f}, "
                             f"wall x{wall_ratio:.1f} (per row: CPU x{time_ratio / row_ratio:.2f})")
    return lines


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    memory = next((line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")), "0")
    return {"nproc": os.cpu_count(), "cpu": model, "memory_gib": round(int(memory) / 2**20, 1),
            "python": platform.python_version(), "load": os.getloadavg()}


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--pipeline-without-feedback"]:
        return pipeline_without_feedback(argv[1:])
    if argv[:1] == ["--nation-pipeline"]:
        return nation_pipeline(Path(argv[1]), Path(argv[2]), argv[3])
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="province,large",
                        help="comma-separated: province,large,nation,season (season: week 20 of a season, "
                             "see benchmarks/season.py)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each size, back to back (medians shown)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the hand-written pandas baseline")
    parser.add_argument("--feedback", choices=("copies", "summaries", "off"), default="copies",
                        help="copies: the pipeline as configured (feedback workbooks copy each district file); "
                             "summaries: limits.feedback_max_cells=0, feedback workbooks hold the summary only; "
                             "off: no feedback workbook planned (what the rest of the pipeline costs)")
    parser.add_argument("--work", type=Path, default=inboxes.DEFAULT_ROOT / "runs")
    arguments = parser.parse_args(argv)
    chosen = [name.strip() for name in arguments.sizes.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in inboxes.sizes() and name != SEASON]
    if unknown:
        parser.error(f"unknown size(s) {', '.join(unknown)}: choose from {', '.join([*inboxes.sizes(), SEASON])}")
    progress = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    info = machine()
    print(f"machine: {info['nproc']} CPU(s) {info['cpu']}, {info['memory_gib']} GiB, Python {info['python']}, "
          f"load average {' '.join(f'{x:.2f}' for x in info['load'])}", flush=True)
    results = {}
    for name in chosen:
        if name == SEASON:   # late in the season: a Friday run over 20 weeks of history, a rerun, watch
            from benchmarks import season
            results[name] = season.run(arguments.work, progress)
            print("\n".join(season.summary_lines(results[name])), flush=True)
            continue
        results[name] = run_size(inboxes.sizes()[name], arguments.work, arguments.repeat,
                                 not arguments.no_baseline, arguments.feedback, progress)
        print("\n".join(summary_lines(results[name])), flush=True)
    for line in scaling_lines(results):
        print(line)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    saved = arguments.work / f"results-{stamp}.json"
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps({"machine": info, "results": results}, default=asdict, indent=1), encoding="utf-8")
    print(f"results: {saved}")
    failed = [name for name, result in results.items() for run in result.get("runs", [])
              for task in ("pipeline", "floor", "baseline") if task in run and run[task].status]
    failed += [SEASON for task in ("friday", "rerun") if SEASON in results and results[SEASON][task].status]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
