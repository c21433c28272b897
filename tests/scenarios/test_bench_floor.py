"""The benchmark's I/O floor writes every output row it is asked for, over as many sheets as that takes."""
from __future__ import annotations

import python_calamine

from benchmarks import floor


def test_floor_writes_every_row_across_sheets(tmp_path, monkeypatch):
    monkeypatch.setattr(floor, "SHEET_ROWS", 3)   # an xlsx sheet's 1,048,576 rows, made small
    path = tmp_path / "floor.xlsx"
    floor.write_rows(path, 7, 4)
    with python_calamine.CalamineWorkbook.from_path(str(path)) as workbook:
        sheets = [workbook.get_sheet_by_name(name).to_python() for name in workbook.sheet_names]
    assert [len(rows) for rows in sheets] == [3, 3, 1]
    assert [len(row) for rows in sheets for row in rows] == [4] * 7
    assert sheets[2][0][0].endswith(" 6")   # numbered across sheets: nothing written twice or dropped
