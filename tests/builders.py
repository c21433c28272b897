"""Building real district files in temporary folders: xlsx (openpyxl), CSV (any encoding), ODS."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
from stdnum.th.pin import calc_check_digit

from pipeline.core.schema import load_schema


def thai_id(first_twelve: str) -> str:
    """A 13-digit ID with a valid check digit."""
    return first_twelve + calc_check_digit(first_twelve)


def headers(dataset: str) -> list[str]:
    """The printed Thai headers of a form, in order."""
    return [f.header for f in load_schema().datasets[dataset].fields if f.in_template]


def set_mtime(path: Path, moment: dt.datetime) -> None:
    """Make a file look submitted at this moment."""
    os.utime(path, (moment.timestamp(), moment.timestamp()))


def xlsx_book(sheets: dict[str, list[list]], hidden: tuple[str, ...] = ()) -> openpyxl.Workbook:
    """An openpyxl workbook with one sheet per entry, rows appended as given (numbers stay numbers)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        if name in hidden:
            sheet.sheet_state = "hidden"
    return book


def write_xlsx(path: Path, sheets: dict[str, list[list]], moment: dt.datetime | None = None,
               hidden: tuple[str, ...] = ()) -> Path:
    """A workbook with one sheet per entry, rows written as given (numbers stay numbers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    xlsx_book(sheets, hidden).save(path)
    if moment:
        set_mtime(path, moment)
    return path


def run_cli(inbox: Path, out: Path, week: str) -> subprocess.CompletedProcess:
    """`python -m pipeline weekly` on an inbox with the project's config, as the office runs it."""
    from tests.conftest import PROJECT
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "weekly", "--config", str(PROJECT / "config.yaml"),
         "--inputs", str(inbox), "--outputs", str(out), "--week", week],
        capture_output=True, text=True, cwd=PROJECT, timeout=300)


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8", moment: dt.datetime | None = None) -> Path:
    """A CSV file in the given encoding."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\r\n".join(",".join(_csv_cell(v) for v in row) for row in rows) + "\r\n"
    path.write_bytes(text.encode(encoding))
    if moment:
        set_mtime(path, moment)
    return path


def _csv_cell(value) -> str:
    text = "" if value is None else str(value)
    return f'"{text}"' if any(c in text for c in ',"\n') else text


def write_ods(path: Path, sheets: dict[str, list[list]], moment: dt.datetime | None = None) -> Path:
    """An OpenDocument spreadsheet (odfpy through pandas), no header row added."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="odf") as writer:
        for name, rows in sheets.items():
            pd.DataFrame(rows).to_excel(writer, sheet_name=name, header=False, index=False)
    if moment:
        set_mtime(path, moment)
    return path


def xlsx_checker():
    """The vendored xlsx-check (tests/xlsx_check, see its SOURCE.md): validate_file(path).findings."""
    from tests.xlsx_check import xlsx_check   # needs lxml: imported when a test uses it
    return xlsx_check
