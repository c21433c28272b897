"""Building real district files in temporary folders: xlsx (openpyxl), CSV (any encoding), ODS."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import openpyxl
import pandas as pd
from stdnum.th.pin import calc_check_digit

from pipeline.schema import load_schema


def thai_id(first_twelve: str) -> str:
    """A 13-digit ID with a valid check digit."""
    return first_twelve + calc_check_digit(first_twelve)


def headers(dataset: str) -> list[str]:
    """The printed Thai headers of a form, in order."""
    return [f.header for f in load_schema().datasets[dataset].fields if f.in_template]


def set_mtime(path: Path, moment: dt.datetime) -> None:
    """Make a file look submitted at this moment."""
    os.utime(path, (moment.timestamp(), moment.timestamp()))


def write_xlsx(path: Path, sheets: dict[str, list[list]], moment: dt.datetime | None = None,
               hidden: tuple[str, ...] = ()) -> Path:
    """A workbook with one sheet per entry, rows written as given (numbers stay numbers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        if name in hidden:
            sheet.sheet_state = "hidden"
    book.save(path)
    if moment:
        set_mtime(path, moment)
    return path


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
