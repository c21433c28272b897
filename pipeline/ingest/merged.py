"""Merged data cells: a value a clerk typed once and merged down over a village's rows belongs to each row.

Pure functions over a sheet's raw cells. `filled` runs before the layout is found: a merged range's value
goes down its first column into every row the range covers (a row holding nothing else stays blank, so a
merge drawn past the data adds no rows). `across_columns` runs once the data block is known: a merged range
that also covers other form columns of data rows keeps its value in its first column only, which the
district is told (its other columns read as empty).
"""
from __future__ import annotations

from dataclasses import replace

from pipeline.core.issues import registered
from pipeline.ingest.layout import SheetTable, column_letter
from pipeline.core.outcome import RawSheet


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def fill_down(rows: list[list], top: int, left: int, merged: tuple) -> list[list]:
    """Rows with each merged range's value copied down its first column (new lists; the given rows untouched).

    `top`, `left`: the 0-based sheet row and column of rows[0][0]; `merged`: ((first row, first column),
    (last row, last column)) 0-based, as readers gives them. Only empty cells of rows holding something are filled.
    """
    changed: dict[int, list] = {}
    for (first_row, first_column), (last_row, _) in merged:
        start, end, offset = first_row - top, min(last_row - top, len(rows) - 1), first_column - left
        if end <= start or not 0 <= start < len(rows) or not 0 <= offset < len(rows[start]):
            continue
        value = rows[start][offset]
        if _blank(value):
            continue
        for index in range(max(start + 1, 0), end + 1):
            original = rows[index]
            if offset < len(original) and _blank(original[offset]) and not all(map(_blank, original)):
                changed.setdefault(index, list(original))[offset] = value
    if not changed:
        return rows
    return [changed.get(index, row) for index, row in enumerate(rows)]


def filled(sheet: RawSheet) -> RawSheet:
    """The sheet with its merged values filled down (the same sheet when nothing is merged)."""
    if not sheet.merged:
        return sheet
    rows = fill_down(sheet.rows, sheet.first_row - 1, sheet.first_column, sheet.merged)
    return sheet if rows is sheet.rows else replace(sheet, rows=rows)


def across_columns(sheet: RawSheet, table: SheetTable, base: dict) -> list[dict]:
    """A warning (issue row, `base` giving its file) for each merged range over several form columns of data.

    Ranges in the header rows (titles, group cells) and over totals or blank rows only are left alone.
    """
    data_rows = table.cells.index   # Excel row numbers, ascending
    headers = {column.position: column for column in table.columns}
    found = []
    for (first_row, first_column), (last_row, last_column) in sheet.merged:
        others = [column for position, column in sorted(headers.items()) if first_column < position <= last_column]
        following = data_rows.searchsorted(first_row + 1)   # the first data row at or below the range's top
        if not others or first_row + 1 <= table.header_row or following == len(data_rows) or \
                data_rows[following] > last_row + 1:
            continue
        start = _value_at(sheet, first_row, first_column)
        first = headers.get(first_column)
        found.append({**base, "sheet": sheet.name, "dataset": table.dataset, "code": registered("merged_across_columns"),
                      "excel_row": first_row + 1,
                      "column_letter": column_letter(first_column), "field": first.key if first else "",
                      "column": first.header if first else column_letter(first_column),
                      "value": "" if start is None else str(start),
                      "expected": f"{column_letter(first_column)}{first_row + 1}:"
                                  f"{column_letter(last_column)}{last_row + 1}",
                      "detail": " ".join(f"“{column.header}”" for column in others)})
    return found


def _value_at(sheet: RawSheet, row: int, column: int):
    """The raw value at a 0-based sheet cell (None outside what was read)."""
    row_offset, column_offset = row - (sheet.first_row - 1), column - sheet.first_column
    if 0 <= row_offset < len(sheet.rows) and 0 <= column_offset < len(sheet.rows[row_offset]):
        return sheet.rows[row_offset][column_offset]
    return None
