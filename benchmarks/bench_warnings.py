"""Benchmark: one huge district workbook whose every row carries a warning, against the same rows without.

    python -m benchmarks.bench_warnings [--rows 1180000]

The workbook (volunteers, split into sheets of at most 1,000,000 rows, about 48 MB at 1.18 million rows)
is written once with xlsxwriter into bench-data/warnings/. It is sent twice: from the folder of the
district its rows name (no warnings), and from another district's folder (a `district_not_folder`
warning on every row). Each run is `python -m pipeline weekly` in a child, measured from outside
(benchmarks.bench.measure): wall and CPU seconds, the largest single process and the summed peak of the
process tree. Problems are bounded by design (pipeline.core.issues.capped), so the two should stay close.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
from pathlib import Path

import xlsxwriter

from benchmarks.bench import REPOSITORY, measure, pipeline_command
from pipeline.core.schema import load_schema

WORK = REPOSITORY / "bench-data" / "warnings"
SHEET_ROWS = 1_000_000


def write_workbook(path: Path, rows: int) -> Path:
    """Volunteers of ลอง (5403), valid, unique phones; cached by size."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    headers = [f.header for f in load_schema().datasets["volunteers"].fields if f.in_template]
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    for start in range(0, rows, SHEET_ROWS):
        sheet = book.add_worksheet("อาสาสมัคร" if start == 0 else f"อาสาสมัคร{start // SHEET_ROWS + 1}")
        sheet.write_row(0, 0, headers)
        for offset, number in enumerate(range(start, min(rows, start + SHEET_ROWS)), start=1):
            sheet.write_row(offset, 0, ["นาย", f"อาสา{number}", "ทดสอบ", f"08{number:08d}", "อสม.",
                                        "อบต.ห้วยอ้อ(moicovid)", "ห้วยอ้อ", "ลอง", "20/12/2564"])
    book.close()
    return path


def run_case(name: str, folder: str, workbook: Path) -> dict:
    """The weekly run on an inbox holding the workbook in `folder`."""
    inbox, outputs = WORK / name / "inbox", WORK / name / "outputs"
    shutil.rmtree(WORK / name, ignore_errors=True)
    (inbox / folder).mkdir(parents=True)
    target = inbox / folder / workbook.name
    shutil.copy(workbook, target)
    moment = dt.datetime(2021, 12, 24, 9, tzinfo=dt.timezone(dt.timedelta(hours=7))).timestamp()
    os.utime(target, (moment, moment))
    measured = measure(pipeline_command(REPOSITORY / "config.yaml", inbox, outputs, "on"), WORK / f"{name}.log")
    return {"case": name, **measured.__dict__}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_warnings")
    parser.add_argument("--rows", type=int, default=1_180_000)
    arguments = parser.parse_args(argv)
    workbook = write_workbook(WORK / f"volunteers_{arguments.rows}.xlsx", arguments.rows)
    print(f"workbook: {workbook.stat().st_size / 1e6:.1f} MB, {arguments.rows:,} rows")
    for name, folder in (("without_warnings", "5403"), ("with_warnings", "5401")):
        result = run_case(name, folder, workbook)
        print(f"{name:18s} wall {result['wall']:.1f} s · CPU {result['cpu']:.1f} s · largest process "
              f"{result['peak_process_mb']:.0f} MB · tree {result['peak_tree_mb']:.0f} MB · exit {result['status']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
