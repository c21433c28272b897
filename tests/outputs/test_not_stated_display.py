"""Not-stated counts, incomplete figures, updated rows and unusable districts, wherever a person reads them:
the province workbook, the ministry workbook and text, the terminal, index.html and the national roll-up."""
from __future__ import annotations

import copy
import datetime as dt
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipeline import national
from pipeline.outputs import charts
from pipeline.outputs import terminal
from pipeline.outputs.columns import figure_value
from pipeline.run import run_weekly
from pipeline.thai import gazetteer
from pipeline.week import checks
from pipeline.week.history import STATUSES, Timeliness
from tests.builders import headers, thai_id, write_xlsx
from tests.conftest import PROJECT, bangkok

WEEK = "2021-12-24"
XLSX_CHECK = Path(__file__).resolve().parent.parent / "xlsx_check" / "xlsx_check.py"
MARK_FORMAT = '"*"'          # the incomplete mark, in the number format of a marked cell


def person(number: int, nationality: str, reason: str, wish: str, subdistrict: str, district: str) -> list:
    """A row of ผู้ยังไม่ได้รับวัคซีน in the form's column order."""
    return [thai_id(f"1{number:011d}"), "นาย", f"คน{number}", "ทดสอบ", "ชาย", "1/1/2500", nationality, "", 1,
            subdistrict, district, "", reason, wish, "20/12/2564", "อาสา"]


def request(status: str, resolved: str) -> list:
    return ["20/12/2564", "ขอรับวัคซีน", "นายหนึ่ง", "0891111111", 1, "สูงเม่น", "สูงเม่น", "", status, resolved]


def build_inbox(inbox: Path) -> None:
    """5401 leaves some wishes, a nationality and a reason blank; 5402's file has no wish column; 5404
    updates a request in a second file; 5405's only file is damaged."""
    write_xlsx(inbox / "5401" / "ผู้ไม่ได้รับวัคซีน.xlsx", {"ผู้ยังไม่ได้รับวัคซีน": [
        headers("unvaccinated"),
        person(1, "ไทย", "กลัวผลข้างเคียง", "ประสงค์", "ในเวียง", "เมืองแพร่"),
        person(2, "ไทย", "", "", "ในเวียง", "เมืองแพร่"),
        person(3, "", "ไม่มีเวลา", "ไม่ประสงค์", "ในเวียง", "เมืองแพร่"),
        person(4, "ไทย", "อื่น ๆ", "", "ในเวียง", "เมืองแพร่"),
    ]}, bangkok(2021, 12, 24, 10))
    wish = headers("unvaccinated").index("ประสงค์รับวัคซีน")
    without_wish = [[value for index, value in enumerate(row) if index != wish] for row in [
        headers("unvaccinated"),
        person(5, "ไทย", "ไม่มีเวลา", "ประสงค์", "ร้องกวาง", "ร้องกวาง"),
        person(6, "ไทย", "กลัวผลข้างเคียง", "ประสงค์", "ร้องกวาง", "ร้องกวาง")]]
    write_xlsx(inbox / "5402" / "สำรวจ.xlsx", {"ผู้ยังไม่ได้รับวัคซีน": without_wish}, bangkok(2021, 12, 24, 9))
    write_xlsx(inbox / "5404" / "คำขอ1.xlsx", {"คำขอความช่วยเหลือ": [
        headers("help_requests"), request("รอดำเนินการ", "")]}, bangkok(2021, 12, 23, 9))
    write_xlsx(inbox / "5404" / "คำขอ2.xlsx", {"คำขอความช่วยเหลือ": [
        headers("help_requests"), request("ดำเนินการแล้ว", "22/12/2564")]}, bangkok(2021, 12, 24, 9))
    damaged = write_xlsx(inbox / "5405" / "ข้อมูล.xlsx", {"อาสาสมัคร": [headers("volunteers")]})
    damaged.write_bytes(damaged.read_bytes()[:300])
    from tests.builders import set_mtime
    set_mtime(damaged, bangkok(2021, 12, 24, 11))


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    root = tmp_path_factory.mktemp("not_stated")
    build_inbox(root / "inbox")
    done = run_weekly(PROJECT / "config.yaml", root / "inbox", root / "out", WEEK, progress=lambda message: None)
    report = json.loads((done.week_dir / "report.json").read_text(encoding="utf-8"))
    return done, report


def rows_of(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows()]


def find_row(rows: list[list], first: str, column: int = 0) -> list:
    return next(row for row in rows if row[column].value == first)


def header_index(rows: list[list], name: str) -> tuple[int, int]:
    """(row index, column index) of the first header cell with this text."""
    for index, row in enumerate(rows):
        for cell in row:
            if cell.value == name:
                return index, cell.column - 1
    raise AssertionError(name)


def is_marked(cell) -> bool:
    return isinstance(cell.value, int) and MARK_FORMAT in cell.number_format


def sheet_text(sheet) -> str:
    return "\n".join(str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value is not None)


def test_report_holds_what_the_displays_show(week):
    _, report = week
    muang, rong_kwang = report["districts"]["5401"], report["districts"]["5402"]
    block = muang["unvaccinated"]
    assert (block["total"], block["thai"], block["non_thai"], block["nationality_unknown"]) == (4, 3, 0, 1)
    assert (block["wants_vaccine"], block["wants_vaccine_unknown"], block["by_reason"]["ไม่ระบุ"]) == (1, 2, 1)
    assert "unvaccinated.wants_vaccine" in rong_kwang["incomplete"]
    assert "unvaccinated.wants_vaccine" in report["totals"]["incomplete"]
    assert muang["incomplete"] == []
    assert report["districts"]["5405"]["submission"]["status"] == "unusable"
    assert report["districts"]["5404"]["submission"]["updated"] == 1


def test_province_workbook_unvaccinated_sheet_shows_not_stated_and_marks(week, schema):
    done, report = week
    book = openpyxl.load_workbook(done.week_dir / f"province_report_{WEEK}.xlsx")
    sheet = book[schema.datasets["unvaccinated"].title]
    rows = rows_of(sheet)
    top, _ = header_index(rows, "รหัสอำเภอ")
    names = [cell.value for cell in rows[top]]
    columns = {name: names.index(name) for name in ("ไม่ระบุสัญชาติ", "ไม่ระบุความประสงค์", "ประสงค์รับวัคซีน")}
    reason_unknown = len(names) - 1 - names[::-1].index("ไม่ระบุ")      # the reasons' ไม่ระบุ, after the reasons
    assert names[reason_unknown - 1] == schema.choice_values("reasons")[-1]
    muang = find_row(rows[top:], "5401")
    assert muang[columns["ไม่ระบุสัญชาติ"]].value == 1 and muang[columns["ไม่ระบุความประสงค์"]].value == 2
    assert muang[reason_unknown].value == 1 and not is_marked(muang[columns["ประสงค์รับวัคซีน"]])
    rong_kwang = find_row(rows[top:], "5402")
    wants = rong_kwang[columns["ประสงค์รับวัคซีน"]]
    assert is_marked(wants) and wants.value == report["districts"]["5402"]["unvaccinated"]["wants_vaccine"]
    assert is_marked(rong_kwang[columns["ไม่ระบุความประสงค์"]])
    assert not is_marked(rong_kwang[columns["ไม่ระบุสัญชาติ"]])        # its nationality column was there
    total = find_row(rows[top:], "รวมทั้งจังหวัด", 1)
    assert is_marked(total[columns["ประสงค์รับวัคซีน"]]) and total[columns["ไม่ระบุสัญชาติ"]].value == 1
    # The new-this-week table marks the same figures.
    second = find_row(rows[top + 10:], "5402")
    assert is_marked(second[columns["ประสงค์รับวัคซีน"]])
    assert sheet_text(sheet).count(schema.label("incomplete_note")) == 1


def test_province_workbook_summary_submission_and_facilities(week, schema):
    done, report = week
    book = openpyxl.load_workbook(done.week_dir / f"province_report_{WEEK}.xlsx")
    summary = rows_of(book[schema.label("summary_sheet")])
    top, wants = header_index(summary, schema.label("wants_vaccine"))
    assert is_marked(find_row(summary[top:], "5402")[wants]) and not is_marked(find_row(summary[top:], "5401")[wants])
    unusable = find_row(summary[top:], "5405")[2]
    assert unusable.value == "ส่งแล้วแต่ใช้ไม่ได้" and unusable.fill.fgColor.rgb.endswith("CCC0DA")
    headline = find_row(summary, "  ประสงค์รับวัคซีน / ไม่ระบุความประสงค์")
    assert is_marked(headline[1]) and headline[2].value == report["totals"]["unvaccinated"]["wants_vaccine_unknown"]
    assert sheet_text(book[schema.label("summary_sheet")]).count(schema.label("incomplete_note")) == 1
    submission = rows_of(book[schema.label("submission_sheet")])
    top, updated = header_index(submission, "แก้ไขข้อมูลเดิม")
    assert find_row(submission[top:], "5404")[updated].value == 1
    files = [row for row in submission if row[1].value in ("5404/คำขอ1.xlsx", "5404/คำขอ2.xlsx")]
    assert [row[updated].value for row in files] == [0, 1]
    facilities = rows_of(book[schema.datasets["facilities"].title])
    top, _ = header_index(facilities, "รหัสอำเภอ")
    assert [cell.value for cell in facilities[top]][-1] == "ไม่ระบุ"


def test_timeliness_matrix_shows_unusable(week, schema):
    done, _ = week
    sheet = openpyxl.load_workbook(done.week_dir / f"province_report_{WEEK}.xlsx")["ความตรงเวลา"]
    rows = rows_of(sheet)
    top, _ = header_index(rows, "รหัสอำเภอ")
    assert "ใช้ไม่ได้ (สัปดาห์)" in [cell.value for cell in rows[top]]
    cell = find_row(rows[top:], "5405")[2]
    assert cell.value == "ใช้ไม่ได้" and cell.fill.fgColor.rgb.endswith("CCC0DA")
    on_time_rate = find_row(rows[top:], "5405")[2 + 1 + len(STATUSES)]
    assert on_time_rate.value == 0                                  # unusable counts against the rate


def test_ministry_workbook_notes_and_marks(week, schema):
    done, report = week
    book = openpyxl.load_workbook(done.week_dir / "ministry" / f"ministry_report_{WEEK}.xlsx")
    rows = rows_of(book.worksheets[0])
    top, note = header_index(rows, "หมายเหตุ")
    body = [row for row in rows[top + 1:] if isinstance(row[0].value, int)]
    by_item = {}
    for row in body:
        by_item.setdefault(row[2].value, row)
    totals = report["totals"]["unvaccinated"]
    wants = next(row for row in body if row[2].value == "ประสงค์รับวัคซีน")
    assert wants[3].value == totals["wants_vaccine"] and is_marked(wants[3])
    assert wants[note].value == f"ไม่ระบุความประสงค์ {totals['wants_vaccine_unknown']:,}* คน"   # 5402 sent no wish
    thai = next(row for row in body if row[2].value == "สัญชาติไทย")
    assert thai[note].value == "ไม่ระบุสัญชาติ 1 คน" and not is_marked(thai[3])
    reasons = [row for row in body if str(row[2].value).startswith("สาเหตุ:")]
    assert reasons[0][note].value == "ไม่ระบุสาเหตุ 1 คน" and all(not row[note].value for row in reasons[1:])
    unusable = next(row for row in body if row[2].value == "อำเภอที่ส่งแล้วแต่ใช้ไม่ได้")
    assert unusable[3].value == 1
    assert sheet_text(book.worksheets[0]).count(schema.label("incomplete_note")) == 1


def test_ministry_text_notes_marks_and_unusable(week, schema):
    done, report = week
    text = (done.week_dir / "ministry" / f"summary_{WEEK}.txt").read_text(encoding="utf-8")
    totals = report["totals"]["unvaccinated"]
    assert f"ประสงค์รับวัคซีน {totals['wants_vaccine']}* คน (ไม่ระบุ {totals['wants_vaccine_unknown']}* คน)" in text
    assert "ไม่ระบุสัญชาติ 1 คน" in text and "ไม่ระบุสาเหตุที่ยังไม่ได้รับวัคซีน 1 คน" in text
    assert "- ส่งแล้วแต่ใช้ไม่ได้ 1 อำเภอ: เด่นชัย" in text
    assert schema.label("incomplete_note") in text and "อำเภอร้องกวาง: ผู้ยังไม่ได้รับวัคซีน · ประสงค์รับวัคซีน" in text


def test_terminal_marks_incomplete_and_shows_updated_and_unusable(week, schema):
    done, _ = week
    lines = terminal.summary_lines(done.result, done.week_dir)
    header = lines[1]
    assert "แก้ไขข้อมูลเดิม" in header
    assert any(line.startswith("5402 ร้องกวาง *") for line in lines)
    assert any(line.startswith("5405 เด่นชัย") and "ส่งแล้วแต่ใช้ไม่ได้" in line for line in lines)
    assert schema.label("incomplete_note") in lines
    assert any("* 5402 ร้องกวาง: ผู้ยังไม่ได้รับวัคซีน · ประสงค์รับวัคซีน" in line for line in lines)


def test_index_html_marks_incomplete_figures(week):
    done, report = week
    html = (done.week_dir / "index.html").read_text(encoding="utf-8")
    path = json.dumps(["districts", "5402", "unvaccinated", "wants_vaccine"], ensure_ascii=False)
    cell = html[html.index(path.replace('"', "&#34;")):]
    assert cell.split("</td>")[0].count('class="mark"') == 1
    muang = json.dumps(["districts", "5401", "unvaccinated", "wants_vaccine"], ensure_ascii=False)
    assert 'class="mark"' not in html[html.index(muang.replace('"', "&#34;")):].split("</td>")[0]
    assert "ส่งแล้วแต่ใช้ไม่ได้" in html and 'class="status unusable"' in html


@pytest.mark.skipif(importlib.util.find_spec("lxml") is None, reason="xlsx-check needs lxml")
def test_workbooks_open_in_excel_without_repair(week):
    done, _ = week
    books = [done.week_dir / f"province_report_{WEEK}.xlsx", done.week_dir / "ministry" / f"ministry_report_{WEEK}.xlsx"]
    checked = subprocess.run([sys.executable, str(XLSX_CHECK), *map(str, books)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


# ---------------------------------------------------------------- reports made before the new keys

LATER = {"nationality_unknown", "wants_vaccine_unknown", "ไม่ระบุ", "updated", "unusable", "incomplete"}


def older(block):
    """A report as it was written before the not-stated, updated, unusable and incomplete keys."""
    if isinstance(block, dict):
        return {key: older(value) for key, value in block.items() if key not in LATER}
    return block


def test_national_roll_up_with_and_without_the_new_keys(week, tmp_path):
    _, report = week
    old = older(copy.deepcopy(report))
    old["province_code"] = "50"
    # Another province's report holds that province's districts (the roll-up refuses a foreign district).
    old["districts"] = dict(zip(gazetteer.districts_of("50"), old["districts"].values()))
    old["totals"]["submission"]["missing"] += report["totals"]["submission"]["unusable"]
    for district in old["districts"].values():
        if district["submission"]["status"] == "unusable":
            district["submission"]["status"] = "missing"
    reports = national.check_reports([("new.json", report), ("old.json", old)])
    totals = national.national_totals(reports)
    assert totals["unvaccinated"]["nationality_unknown"] == report["totals"]["unvaccinated"]["nationality_unknown"]
    assert totals["unvaccinated"]["by_reason"]["ไม่ระบุ"] == report["totals"]["unvaccinated"]["by_reason"]["ไม่ระบุ"]
    assert totals["submission"]["unusable"] == 1 and totals["submission"]["updated"] == 1
    assert totals["incomplete"] == report["totals"]["incomplete"]
    assert totals["unvaccinated"]["total"] == 2 * report["totals"]["unvaccinated"]["total"]
    path = national.write_national(reports, tmp_path, WEEK)
    book = openpyxl.load_workbook(path)
    sheet = book["ผู้ยังไม่ได้รับวัคซีน"]
    rows = rows_of(sheet)
    top, wants = header_index(rows, "ประสงค์รับวัคซีน")
    new_row, old_row = find_row(rows[top:], "54"), find_row(rows[top:], "50")
    assert is_marked(new_row[wants]) and not is_marked(old_row[wants]) and old_row[wants].value == new_row[wants].value
    assert "ส่งแล้วแต่ใช้ไม่ได้" in [cell.value for cell in rows_of(book["ความตรงเวลา"])[3]]


def test_old_report_figures_read_zero_for_new_keys(week):
    _, report = week
    old = older(report)
    assert figure_value(old["totals"]["unvaccinated"], ("nationality_unknown",)) == 0
    assert figure_value(old["totals"]["unvaccinated"], ("by_reason", "ไม่ระบุ")) == 0
    with pytest.raises(KeyError):
        figure_value(old["totals"]["unvaccinated"], ("thai_people",))


def test_charts_accept_an_older_week(week, config, schema):
    done, report = week
    friday = dt.date.fromisoformat(WEEK)
    reports = {friday - dt.timedelta(days=7): older(report), friday: report}
    matrix = Timeliness([friday], pd.DataFrame({friday: ["unusable"]}, index=["5405"]), {"5405": "เด่นชัย"})
    built = charts.build_charts(older(report), done.result.entities, done.result.window, reports, matrix, config, schema)
    wanting = next(chart for chart in built if chart.key == "wants_vaccine")
    assert [series.name for series in wanting.series] == ["ประสงค์รับวัคซีน", "ไม่ประสงค์", "ไม่ระบุ"]
    assert sum(wanting.series[2].values) == 0                      # an older report states no not-stated count
    timeliness = next(chart for chart in built if chart.key == "timeliness_weeks")
    assert [series.values for series in timeliness.series if series.name == "ใช้ไม่ได้"] == [[1]]
    current = next(chart for chart in charts.build_charts(report, done.result.entities, done.result.window, reports,
                                                          matrix, config, schema) if chart.key == "wants_vaccine")
    assert [sum(series.values) for series in current.series] == [
        report["totals"]["unvaccinated"]["wants_vaccine"],
        report["totals"]["unvaccinated"]["total"] - report["totals"]["unvaccinated"]["wants_vaccine"]
        - report["totals"]["unvaccinated"]["wants_vaccine_unknown"],
        report["totals"]["unvaccinated"]["wants_vaccine_unknown"]]


def test_a_key_earlier_weeks_lack_is_not_a_jump(week):
    _, report = week
    friday = dt.date.fromisoformat(WEEK)
    now = copy.deepcopy(report)
    now["districts"]["5401"]["unvaccinated"]["by_reason"]["ไม่ระบุ"] = 60
    reports = {friday - dt.timedelta(days=7 * back): older(report) for back in range(1, 7)}
    flagged = checks.jump_checks({**reports, friday: now}, friday)
    assert not [path for path in flagged["path"] if "ไม่ระบุ" in path]
    reports = {friday - dt.timedelta(days=7 * back): report for back in range(1, 7)}
    flagged = checks.jump_checks({**reports, friday: now}, friday)     # once every week has it, it is checked
    assert ("unvaccinated", "by_reason", "ไม่ระบุ") in list(flagged["path"])
