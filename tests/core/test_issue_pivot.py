"""The province's problems by district and kind: which district needs a call."""
import pandas as pd

from pipeline.core.issues import by_district_and_kind

DISTRICTS = {"5401": "เมืองแพร่", "5402": "ร้องกวาง", "5403": "ลอง"}
SEVERITIES = {"error": "ข้อผิดพลาด", "warning": "คำเตือน"}


def test_every_district_gets_a_row_and_errors_come_first():
    issues = pd.DataFrame({
        "district_folder": ["5401", "5401", "5402", "5402", "5402", None],
        "code": ["id_check_digit", "duplicate_row", "id_check_digit", "id_check_digit", "phone_invalid", "folder_unknown"],
        "severity": ["error", "warning", "error", "error", "error", "error"],
    })
    table = by_district_and_kind(issues, DISTRICTS, {"id_check_digit": "เลขประจำตัวผิด"}, SEVERITIES)
    assert list(table["อำเภอ"]) == ["เมืองแพร่", "ร้องกวาง", "ลอง", "(ไม่ระบุอำเภอ)"]
    assert list(table.columns[:3]) == ["อำเภอ", "รวม", "เลขประจำตัวผิด (ข้อผิดพลาด)"]
    assert table.columns[-1] == "duplicate_row (คำเตือน)"
    assert list(table["รวม"]) == [2, 3, 0, 1]
    assert table.loc[1, "เลขประจำตัวผิด (ข้อผิดพลาด)"] == 2
    assert table.iloc[:, 2:].to_numpy().sum() == len(issues)


def test_no_problems_still_lists_the_districts():
    table = by_district_and_kind(pd.DataFrame(columns=["district_folder", "code", "severity"]), DISTRICTS, {}, SEVERITIES)
    assert list(table["อำเภอ"]) == list(DISTRICTS.values()) and list(table["รวม"]) == [0, 0, 0]


def test_the_issues_workbook_opens_with_the_pivot(tmp_path):
    import openpyxl
    from pipeline.run import run_weekly
    from tests.conftest import PROJECT
    from tests.scenarios.test_weekly_run import WEEK1, build_week_one
    build_week_one(tmp_path / "inbox")
    done = run_weekly(PROJECT / "config.yaml", tmp_path / "inbox", tmp_path / "out", WEEK1, progress=lambda m: None)
    book = openpyxl.load_workbook(tmp_path / "out" / WEEK1 / f"issues_{WEEK1}.xlsx")
    assert book.sheetnames[0] == "ปัญหารายอำเภอ"
    rows = [r for r in book["ปัญหารายอำเภอ"].iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if r[0] == "อำเภอ")
    totals = {r[0]: (r[1] or 0) for r in rows[header + 1:]}
    from_issues = done.result.issues["district_folder"].map({"5401": "เมืองแพร่", "5402": "ร้องกวาง",
                                                             "5405": "เด่นชัย"}).value_counts()
    for name, count in from_issues.items():
        assert totals[name] == count
    assert totals["ลอง"] == 0
