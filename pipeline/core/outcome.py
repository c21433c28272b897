"""What reading a file gives the stages after it: its sheets of raw cells, or why it could not be read."""
from __future__ import annotations

from dataclasses import dataclass
PROBLEM_CODES = (
    'empty_file', 'file_too_large', 'zip_bomb', 'too_many_cells', 'encrypted', 'corrupt',
    'html_not_excel', 'csv_not_excel', 'not_a_spreadsheet', 'unknown_encoding',
    'parser_crashed', 'timeout', 'unsupported_type',
)


@dataclass(frozen=True)
class RawSheet:
    name: str
    hidden: bool
    first_row: int
    first_column: int
    rows: list[list]
    merged: tuple = ()   # ((first row, first column), (last row, last column)), 0-based, as calamine gives them
    cells: int | None = None   # set when a hand-off left the rows out: how many cells they held


@dataclass(frozen=True)
class ReadOutcome:
    path: str
    kind: str
    sheets: tuple[RawSheet, ...]
    problem: str | None
    detail: str
    warnings: tuple[str, ...] = ()


class Refused(Exception):
    """A verdict on the whole file, raised from deep inside the checks."""

    def __init__(self, problem: str, detail: str):
        super().__init__(problem, detail)
        self.problem, self.detail = problem, detail


def failed(path: str, kind: str, problem: str, detail: str) -> ReadOutcome:
    return ReadOutcome(path, kind, (), problem, detail)


def has_cells(sheet: RawSheet) -> bool:
    return any(not (value is None or isinstance(value, str) and not value.strip())
               for row in sheet.rows for value in row)


def cell_count(sheet: RawSheet) -> int:
    """Cells the sheet's rows hold (or held, when a hand-off left them out)."""
    return sheet.cells if sheet.cells is not None else sum(len(row) for row in sheet.rows)
