"""The I/O floor: every input cell read, the same number of output rows written, nothing else.

    python -m benchmarks.floor --inputs DIR --outputs DIR --rows N [--columns 11] [--workers 2]

Every xlsx/xlsm/xls/ods file under --inputs is read with python-calamine (every sheet, to_python) and
every CSV with the csv module (decoded as the pipeline does: UTF-8 with or without BOM, else cp874);
the files are shared out over --workers forked processes, like the pipeline's parsing children.
Then --rows rows of --columns short text cells are written with xlsxwriter (constant_memory) into
one workbook: what the pipeline's output workbooks hold. No cell is looked at, no check is made.
This is what any program that reads these inputs and writes those outputs must at least spend.
"""
from __future__ import annotations

import argparse
import csv
import io
import multiprocessing
import os
import sys
import time
from pathlib import Path

import python_calamine
import xlsxwriter

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}


def input_files(root: Path) -> list[Path]:
    """Every data file of an inbox (lock and hidden files skipped, as the pipeline does)."""
    found = []
    for directory, folders, names in os.walk(root):
        folders[:] = sorted(f for f in folders if not f.startswith((".", "~$")))
        for name in sorted(names):
            if not name.startswith((".", "~$")) and Path(name).suffix.lower() in WORKBOOK_SUFFIXES | {".csv"}:
                found.append(Path(directory) / name)
    return found


def read_cells(path: Path) -> int:
    """Read every cell of one file; returns how many cells were read."""
    cells = 0
    if path.suffix.lower() == ".csv":
        data = path.read_bytes()
        for codec in ("utf-8-sig", "cp874"):
            try:
                text = data.decode(codec)
                break
            except UnicodeDecodeError:
                continue
        for row in csv.reader(io.StringIO(text, newline="")):
            cells += len(row)
        return cells
    with python_calamine.CalamineWorkbook.from_path(str(path)) as workbook:
        for name in workbook.sheet_names:
            rows = workbook.get_sheet_by_name(name).to_python()
            cells += sum(map(len, rows))
    return cells


def read_all(paths: list[Path], workers: int) -> int:
    """Read the files on `workers` forked processes (largest first); total cells read."""
    paths = sorted(paths, key=lambda p: p.stat().st_size, reverse=True)
    if workers <= 1:
        return sum(map(read_cells, paths))
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return sum(pool.imap_unordered(read_cells, paths, chunksize=1))


SHEET_ROWS = 1_048_576   # an xlsx sheet holds no more: xlsxwriter silently ignores rows beyond it


def write_rows(path: Path, rows: int, columns: int) -> None:
    """rows x columns short Thai/ASCII text cells, xlsxwriter in constant_memory mode, a new sheet every SHEET_ROWS."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                           "strings_to_formulas": False, "strings_to_urls": False})
    template = ["แถวที่", "ข้อมูล", "ไม่ถูกต้อง", "0812345678", "อำเภอเมือง", "ตำบล", "คำอธิบายปัญหา"]
    for first in range(0, rows, SHEET_ROWS):
        sheet = book.add_worksheet(f"rows{first // SHEET_ROWS + 1}")
        for row in range(min(SHEET_ROWS, rows - first)):
            sheet.write_row(row, 0, [f"{template[c % len(template)]} {first + row}" for c in range(columns)])
    book.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor", description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", type=Path, action="append", required=True, help="an inbox (repeatable)")
    parser.add_argument("--outputs", type=Path, required=True)
    parser.add_argument("--rows", type=int, required=True, help="output rows to write")
    parser.add_argument("--columns", type=int, default=11)
    parser.add_argument("--workers", type=int, default=2)
    arguments = parser.parse_args(argv)
    started = time.perf_counter()
    paths = [p for root in arguments.inputs for p in input_files(root)]
    cells = read_all(paths, arguments.workers)
    read_seconds = time.perf_counter() - started
    arguments.outputs.mkdir(parents=True, exist_ok=True)
    write_rows(arguments.outputs / "floor.xlsx", arguments.rows, arguments.columns)
    print(f"floor: {len(paths)} files, {cells} cells read in {read_seconds:.2f} s; "
          f"{arguments.rows} rows written in {time.perf_counter() - started - read_seconds:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
