"""A file whose every row carries the same problem stays a small issues table: the first rows one by one,
then one row naming the rest by their Excel row ranges (the feedback copy still marks every cell)."""
from __future__ import annotations

import json

import openpyxl
import pandas as pd

from pipeline.core.issues import ROWS_KEPT_PER_PROBLEM, capped, row_count, row_ranges, rows_of
from pipeline.run import run_weekly
from tests.builders import headers, write_xlsx
from tests.conftest import PROJECT, bangkok

WEEK1 = "2021-12-24"


def test_row_ranges_round_trip():
    numbers = [5, 6, 7, 9, 12, 13, 40]
    assert row_ranges(numbers[::-1]) == "5-7,9,12-13,40"
    assert rows_of("5-7,9,12-13,40") == numbers
    assert row_count(pd.DataFrame({"rows": ["", "5-7,9", None]})).tolist() == [1, 4, 1]


def test_capped_keeps_the_first_rows_and_names_the_rest(schema):
    frame = pd.DataFrame({"source_file": "a.xlsx", "sheet": "s", "column_letter": "H", "code": "district_not_folder",
                          "excel_row": range(2, 2 + 2500), "severity": "warning", "message": "ข้อความ",
                          "value": "ลอง"})
    other = frame.head(3).assign(column_letter="D", code="phone_invalid")
    result = capped(pd.concat([frame, other], ignore_index=True), schema, limit=1000)
    kept = result[result["rows"].fillna("") == ""]
    summary = result[result["rows"].fillna("") != ""]
    assert len(kept) == 1003 and len(summary) == 1
    assert summary["rows"].iloc[0] == "1002-2501" and pd.isna(summary["excel_row"].iloc[0])
    assert "1500" in summary["message"].iloc[0] and row_count(result).sum() == 2503


def volunteers_of_long(count: int) -> list[list[str]]:
    """Volunteer rows that each name the district ลอง."""
    return [["นาย", f"อาสา{n}", "ทดสอบ", f"08{n:08d}", "อสม.", "อบต.(moicovid)", "ห้วยอ้อ", "ลอง", "20/12/2564"]
            for n in range(count)]


def test_a_file_of_many_warnings_is_reported_in_a_bounded_table(tmp_path):
    count = ROWS_KEPT_PER_PROBLEM + 1500
    # Every row names ลอง while the file sits in เมืองแพร่'s folder: one warning per row.
    rows = volunteers_of_long(count)
    write_xlsx(tmp_path / "inbox" / "5401 เมืองแพร่" / "ผิดโฟลเดอร์.xlsx", {"อาสาสมัคร": [headers("volunteers"), *rows]},
               bangkok(2021, 12, 24, 9))
    done = run_weekly(PROJECT / "config.yaml", tmp_path / "inbox", tmp_path / "out", WEEK1, progress=lambda m: None)
    mine = done.result.issues[done.result.issues["code"] == "district_not_folder"]
    assert len(mine) == ROWS_KEPT_PER_PROBLEM + 1 and row_count(mine).sum() == count
    report = json.loads((tmp_path / "out" / WEEK1 / "report.json").read_text(encoding="utf-8"))
    assert report["districts"]["5403"]["volunteers"]["total"] == count
    copy = tmp_path / "out" / WEEK1 / "feedback" / "5401 เมืองแพร่" / "ผิดโฟลเดอร์.feedback.xlsx"
    marked = [cell for row in openpyxl.load_workbook(copy)["อาสาสมัคร"].iter_rows() for cell in row if cell.comment]
    assert len(marked) == count


def test_the_issues_workbook_shows_the_ranges_of_a_grouped_row(tmp_path):
    from tests import hostile_files as hostile
    count = ROWS_KEPT_PER_PROBLEM + 10
    rows = volunteers_of_long(count)
    write_xlsx(tmp_path / "inbox" / "5401" / "a.xlsx", {"อาสาสมัคร": [headers("volunteers"), *rows]},
               bangkok(2021, 12, 24, 9))
    done = run_weekly(PROJECT / "config.yaml", tmp_path / "inbox", tmp_path / "out", WEEK1, progress=lambda m: None)
    listed = [row for row in hostile.issue_rows(done.week_dir) if row["code"] == "district_not_folder"]
    assert len(listed) == ROWS_KEPT_PER_PROBLEM + 1
    assert listed[-1]["row"] == f"{ROWS_KEPT_PER_PROBLEM + 2}-{count + 1}" and "อีก 10 แถว" in listed[-1]["message"]
