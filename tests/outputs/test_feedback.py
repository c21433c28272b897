"""Feedback workbooks: a real inbox, the real pipeline, then each district's marked copy checked cell by cell."""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter

from pipeline.outputs.feedback import plan as feedback
from pipeline.outputs.feedback.plan import (MAX_NAME_BYTES, SUFFIX, Line, Mark, feedback_names, feedback_wording,
                                            format_hint, kind_of, merged_marks, plan_jobs, plan_marks, safe_name,
                                            summary_lines, write_feedback)
from pipeline.core.config import load_config
from pipeline.core.schema import load_schema
from pipeline.outputs.feedback.book import FILLS, clean, write_book
from pipeline.run import run_weekly
from pipeline.sources.readers import read_file
from pipeline.core.outcome import RawSheet
from pipeline.sources.handoff import HANDOFF_SUFFIX, save_handoff
from tests.builders import headers, set_mtime, write_csv, write_xlsx
from tests.conftest import PROJECT, bangkok
from tests.sources.test_readers import compound_file
from tests.scenarios.test_weekly_run import ID_BAD, WEEK1, build_week_one

COUNTS = ["rows_read", "accepted", "updated", "rejected", "duplicates", "skipped"]
INJECTED = "=cmd|' /C calc'!A0"   # DDE-style formula text (the CSV builder does not escape quotes)


def volunteer(first: str, phone: str, last: str = "ทดสอบ") -> list:
    return ["นาย", first, last, phone, "อสม.", "อสม.วังชิ้น(moicovid)", "วังชิ้น", "วังชิ้น", "21/12/2564"]


def build_extras(inbox: Path) -> None:
    """Besides week one: same-stem files in two sub-folders, formula text, an offset ODS, a locked file."""
    moment = bangkok(2021, 12, 22, 9)
    write_xlsx(inbox / "5407" / "a" / "รายงาน.xlsx",
               {"อาสาสมัคร": [headers("volunteers"), volunteer("หนึ่ง", "0870000001"), volunteer("สอง", "12345")]},
               moment)
    write_xlsx(inbox / "5407" / "b" / "รายงาน.xlsx",
               {"อาสาสมัคร": [headers("volunteers"), volunteer("", "0870000003")]}, moment)
    macro = write_xlsx(inbox / "5408" / "macro.xlsm", {"อาสาสมัคร": [
        ["แบบรายงานอาสาสมัคร"], headers("volunteers"), volunteer("ห้า", "0870000005", ""), volunteer("หก", "0870000006")]})
    book = openpyxl.load_workbook(macro)   # a merged title, and a merged pair of cells hiding a missing last name
    book["อาสาสมัคร"].merge_cells("A1:I1")
    book["อาสาสมัคร"].merge_cells("B3:C3")
    book.save(macro)
    write_csv(inbox / "5407" / "อาสา.csv", [headers("volunteers"), volunteer(INJECTED, "0870000004", "ใจ\x07ดี"),
                                            volunteer("สี่", "054-000-000")], "utf-8", moment)
    rows = [["20/12/2564", "ขอรับวัคซีน", "นายหนึ่ง", "0894444444", 1, "หนองม่วงไข่", "หนองม่วงไข่", "", "รอ", ""],
            ["20/12/2564", "ขอเงิน", "นายสอง", "0895555555", 99, "หนองม่วงไข่", "หนองม่วงไข่", "", "รอ", ""]]
    ods = inbox / "5408" / "offset.ods"
    ods.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=headers("help_requests")).to_excel(
        ods, engine="odf", index=False, startrow=3, startcol=2, sheet_name="คำขอความช่วยเหลือ")
    locked = inbox / "5403" / "locked.xlsx"
    locked.parent.mkdir(parents=True, exist_ok=True)
    locked.write_bytes(compound_file([("EncryptionInfo", b"\x04\x00\x04\x00" + b"\0" * 60),
                                      ("EncryptedPackage", b"\x01" * 5000)]))
    for path in (ods, locked, macro):
        set_mtime(path, moment)


@pytest.fixture(scope="module")
def week(tmp_path_factory, config, schema):
    """Week one plus extras, run by the real pipeline, then the feedback written."""
    root = tmp_path_factory.mktemp("feedback")
    build_week_one(root / "inbox")
    build_extras(root / "inbox")
    run = run_weekly(PROJECT / "config.yaml", root / "inbox", root / "out", WEEK1, progress=lambda m: None)
    paths = write_feedback(run.result, root / "inbox", run.week_dir, config, schema)
    report = json.loads((run.week_dir / "report.json").read_text(encoding="utf-8"))
    by_source = {file_named(openpyxl.load_workbook(p).worksheets[0]): p for p in paths}
    return root, run, report, paths, by_source


def file_named(summary) -> str:
    """The source file a summary sheet answers (its ไฟล์ line)."""
    return next(row[1] for row in summary.iter_rows(values_only=True) if row[0] == feedback_wording()["labels"]["file"])


def summary_table(sheet, first_header: str) -> list[tuple]:
    """Rows under the header row whose first cell is first_header, until a blank row."""
    rows = list(sheet.iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row[0] == first_header)
    table = []
    for row in rows[start + 1:]:
        if row[0] is None:
            break
        table.append(row)
    return table


def marked_cells(book) -> dict[tuple[str, str], str]:
    """(sheet, address) -> fill colour of every cell we filled, in the copied sheets."""
    found = {}
    for sheet in book.worksheets[1:]:
        for row in sheet.iter_rows():
            for cell in row:
                colour = cell.fill.fgColor.rgb if cell.fill.fill_type == "solid" else None
                if isinstance(colour, str) and colour[-6:] in FILLS.values():
                    found[(sheet.title, cell.coordinate)] = colour[-6:]
    return found


def shown_at(sheet, address: str) -> str:
    """The cell that shows a cell's fill and comment: itself, or its merged range's top-left cell."""
    merged = next((r for r in sheet.merged_cells.ranges if address in r), None)
    return sheet.cell(merged.min_row, merged.min_col).coordinate if merged else address


def expected_problems(run, inbox: Path, source: str, book) -> dict[tuple[str, str], list]:
    """What the issues table says: (sheet, address) -> its problems; a row problem sits in the row's first cell."""
    first_columns = {s.name: s.first_column + 1 for s in read_file(inbox / source).sheets}
    # As the district reads them: a repeat of another district's record does not name that district's file.
    job = next(j for j in feedback.plan_jobs(run.result, inbox, run.week_dir, load_config(PROJECT / "config.yaml"))
               if j.source_file == source)
    _, issues, _ = feedback.parts_of(run.result, job, load_schema())
    issues = issues[issues["excel_row"].notna()]
    expected: dict[tuple[str, str], list] = {}
    for issue in issues.itertuples():
        letter = issue.column_letter or get_column_letter(first_columns[issue.sheet])
        address = shown_at(book[issue.sheet], f"{letter}{int(issue.excel_row)}")
        expected.setdefault((issue.sheet, address), []).append(issue)
    return expected


def expected_marks(run, inbox: Path, source: str, book) -> dict[tuple[str, str], str]:
    """Each problem cell's colour: red when any of its problems is an error; a cell with only info has none."""
    return {key: FILLS["error" if any(i.severity == "error" for i in found) else "warning"]
            for key, found in expected_problems(run, inbox, source, book).items()
            if any(i.severity != "info" for i in found)}


def readable_sources(run) -> list[str]:
    accounting = run.result.accounting
    return sorted(set(accounting.loc[accounting["problem"].isna(), "source_file"]))


def test_one_workbook_per_submitted_file(week, config):
    root, run, _, paths, by_source = week
    assert set(by_source) == set(run.result.accounting["source_file"])
    assert len(paths) == len(set(paths)) == len(by_source)
    for source, path in by_source.items():
        code = run.result.accounting.set_index("source_file").loc[source, "district_folder"]
        code = code if isinstance(code, str) else code.iloc[0]
        assert path.parent == run.week_dir / "feedback" / f"{code} {config.districts[code]}"
        assert path.name.endswith(SUFFIX) and len(path.name.encode()) <= MAX_NAME_BYTES
    assert by_source["5401 เมืองแพร่/รายงาน.xlsx"].name == "รายงาน.feedback.xlsx"
    assert by_source["5407/a/รายงาน.xlsx"] != by_source["5407/b/รายงาน.xlsx"]   # same stem, two sub-folders
    assert not list((run.week_dir / "feedback").rglob(".partial-*"))
    assert not (root / "out" / ".parsed").exists()   # the cells handed to the copies are gone with the run


def test_marked_cells_are_exactly_the_problem_cells(week):
    root, run, _, _, by_source = week
    for source in readable_sources(run):
        book = openpyxl.load_workbook(by_source[source])
        assert marked_cells(book) == expected_marks(run, root / "inbox", source, book), source


def test_comments_carry_the_thai_reasons(week, schema):
    root, run, _, _, by_source = week
    for source in readable_sources(run):
        book = openpyxl.load_workbook(by_source[source])
        for (sheet, address), found in expected_problems(run, root / "inbox", source, book).items():
            comment = book[sheet][address].comment
            assert comment is not None and comment.author == feedback_wording()["labels"]["author"]
            assert all(issue.message in comment.text for issue in found), (source, address)
    phone = openpyxl.load_workbook(by_source["5401 เมืองแพร่/รายงาน.xlsx"])["อาสาสมัคร"]["E9"].comment.text
    assert phone.startswith(schema.wording["severity"]["error"]) and "0812345678" in phone
    choice = openpyxl.load_workbook(by_source["5408/offset.ods"])["คำขอความช่วยเหลือ"]["D6"].comment.text
    assert "ค่าที่ใช้ได้" in choice and "ขอรับวัคซีน" in choice   # the closed list, once


def test_summary_counts_equal_the_report(week, schema):
    _, run, report, _, by_source = week
    accounting = run.result.accounting
    for code, district in report["districts"].items():
        totals = [0] * len(COUNTS)
        for source in sorted(set(accounting.loc[accounting["district_folder"] == code, "source_file"])):
            summary = openpyxl.load_workbook(by_source[source]).worksheets[0]
            assert summary.title == "สรุป"
            mine = accounting[accounting["source_file"] == source]
            if mine["problem"].notna().any():
                continue
            table = summary_table(summary, feedback_wording()["labels"]["sheet"])
            assert [list(row[1:1 + len(COUNTS)]) for row in table[:-1]] == mine[COUNTS].values.tolist()
            assert table[-1][0] == feedback_wording()["labels"]["total"]
            totals = [a + b for a, b in zip(totals, table[-1][1:1 + len(COUNTS)])]
        assert totals == [district["submission"][key] for key in COUNTS], code


def test_summary_links_point_at_existing_cells(week):
    _, run, _, _, by_source = week
    linked = 0
    for source in readable_sources(run):
        book = openpyxl.load_workbook(by_source[source])
        for row in book.worksheets[0].iter_rows():
            for cell in row:
                if cell.hyperlink is None:
                    continue
                sheet_part, address = cell.hyperlink.location.rsplit("!", 1)
                sheet = book[sheet_part.strip("'").replace("''", "'")]
                target = sheet[address]
                assert target.row <= sheet.max_row and target.column <= sheet.max_column
                assert cell.value == address
                linked += 1
    assert linked >= 10


def test_unreadable_files_get_one_sheet_saying_why(week):
    _, _, _, _, by_source = week
    for source, reason in [("5405 เด่นชัย/ข้อมูล.xlsx", "ไฟล์เสียหรือไม่สมบูรณ์"),
                           ("5403/locked.xlsx", "ไฟล์มีรหัสผ่าน กรุณาบันทึกโดยไม่ใส่รหัสผ่านแล้วส่งใหม่")]:
        book = openpyxl.load_workbook(by_source[source])
        assert book.sheetnames == ["สรุป"]
        texts = [c for row in book.worksheets[0].iter_rows(values_only=True) for c in row if c]
        assert any(reason in text for text in texts), texts


def test_csv_and_ods_rebuilt_at_the_same_places(week):
    _, _, _, _, by_source = week
    unvaccinated = openpyxl.load_workbook(by_source["ร้องกวาง/ผู้ยังไม่ได้รับวัคซีน.csv"])["ผู้ยังไม่ได้รับวัคซีน"]
    assert unvaccinated["A1"].value == "เลขประจำตัวประชาชน" and unvaccinated["A5"].value == ID_BAD
    assert unvaccinated["A5"].fill.fgColor.rgb.endswith(FILLS["error"])
    requests = openpyxl.load_workbook(by_source["5404/คำขอ.ods"])["คำขอความช่วยเหลือ"]
    assert requests["B3"].value == "HI" and requests["J4"].fill.fgColor.rgb.endswith(FILLS["error"])
    offset = openpyxl.load_workbook(by_source["5408/offset.ods"])["คำขอความช่วยเหลือ"]
    assert offset["A1"].value is None and offset["C4"].value == "วันที่แจ้ง" and offset["E5"].value == "นายหนึ่ง"
    assert offset["D6"].value == "ขอเงิน" and offset["D6"].fill.fgColor.rgb.endswith(FILLS["error"])


def test_district_text_never_becomes_a_formula(week):
    _, _, _, _, by_source = week
    book = openpyxl.load_workbook(by_source["5407/อาสา.csv"])
    sheet = book["อาสา"]
    assert sheet["B2"].value == INJECTED and sheet["B2"].data_type == "s"
    assert sheet["C2"].value == "ใจดี"   # the control character is gone
    for row in book.worksheets[0].iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                assert cell.data_type == "s"


def test_a_problem_in_a_merged_cell_marks_the_merged_range(week):
    _, _, _, _, by_source = week
    sheet = openpyxl.load_workbook(by_source["5408/macro.xlsm"])["อาสาสมัคร"]
    assert {str(r) for r in sheet.merged_cells.ranges} == {"A1:I1", "B3:C3"}
    assert sheet["B3"].fill.fgColor.rgb.endswith(FILLS["error"]) and "นามสกุล" in sheet["B3"].comment.text


def test_xlsx_copy_keeps_their_sheets_and_layout(week):
    _, _, _, _, by_source = week
    book = openpyxl.load_workbook(by_source["5401 เมืองแพร่/รายงาน.xlsx"])
    assert book.sheetnames == ["สรุป", "อาสาสมัคร", "Sheet3", "ซ่อน"]
    assert [s.sheet_state for s in book.worksheets] == ["visible", "visible", "visible", "hidden"]
    assert book["อาสาสมัคร"]["A1"].value == "แบบรายงานอาสาสมัครข้อมูล อำเภอเมืองแพร่"
    assert book["อาสาสมัคร"]["E9"].value == "054-511-111"
    assert [bool(s.sheet_view.tabSelected) for s in book.worksheets] == [True, False, False, False]
    assert book.worksheets[0].freeze_panes == "A2"


def test_rerun_removes_stale_workbooks_and_notes_changed_or_missing_files(week, tmp_path, config, schema):
    root, run, _, paths, _ = week
    inbox = tmp_path / "inbox"
    shutil.copytree(root / "inbox", inbox)   # copy2 keeps modification times: same versions
    (inbox / "5404" / "volunteers.csv").write_text("changed", encoding="utf-8")
    (inbox / "5404" / "คำขอ.ods").unlink()
    stale = tmp_path / "week" / "feedback" / "5401 เมืองแพร่" / f"gone{SUFFIX}"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    again = write_feedback(run.result, inbox, tmp_path / "week", config, schema)
    assert not stale.exists()
    assert sorted(p.relative_to(tmp_path / "week") for p in again) == sorted(p.relative_to(run.week_dir) for p in paths)
    notes = feedback_wording()["no_copy"]
    for name, note in [("volunteers", notes["changed"]), ("คำขอ", notes["missing"])]:
        book = openpyxl.load_workbook(tmp_path / "week" / "feedback" / "5404 สูงเม่น" / f"{name}{SUFFIX}")
        assert book.sheetnames == ["สรุป"] and book["สรุป"]["B6"].value == note


def test_safe_names():
    assert safe_name('a/b\\c:d*e?"f<g>h|i\x00j') == "a_b_c_d_e__f_g_h_i_j"
    long_name = safe_name("ข้อมูลอาสาสมัคร" * 20)
    assert len((long_name + SUFFIX).encode()) <= MAX_NAME_BYTES and long_name
    assert safe_name(" .. ") == "file"


@pytest.mark.parametrize("stem", ["รายงานอาสาสมัครประจำสัปดาห์ อำเภอหนองม่วงไข่", "ไข่" * 26, "ผู้ที่ยังไม่ได้รับวัคซีน ตำบลน้ำชำ"])
def test_a_thai_name_that_fits_is_kept_whole(stem):
    assert safe_name(stem) == stem and len((stem + SUFFIX).encode()) <= 255
    assert feedback_names({f"5408/{stem}.xlsx": "5408"})[f"5408/{stem}.xlsx"] == f"{stem}{SUFFIX}"


@pytest.mark.parametrize("unit", ["ไข่", "น้ำ", "ที่", "กำ", "ผู้"])
def test_a_name_too_long_is_cut_between_letters_never_off_a_mark(unit):
    stem = "รายงาน" + unit * 90   # far over 255 bytes
    name = safe_name(stem)
    assert len((name + SUFFIX).encode()) <= MAX_NAME_BYTES == 255
    assert len((name + unit + SUFFIX).encode()) > 255 - len(unit.encode())   # cut only as much as needed
    assert stem.startswith(name) and name.endswith(unit)   # whole letters with their marks
    assert len(name.encode()) > 200


def test_files_deleted_or_saved_over_after_the_check_get_the_summary(week, tmp_path, config, schema, monkeypatch):
    root, run, _, paths, _ = week
    inbox = tmp_path / "inbox"
    shutil.copytree(root / "inbox", inbox)   # copy2 keeps modification times: same versions
    planned = feedback.plan_jobs
    deleted, saved_over = "5401 เมืองแพร่/รายงาน.xlsx", "5407/อาสา.csv"

    def then_changed(*arguments):   # the district deletes one file and saves over another once the run has looked
        jobs = planned(*arguments)
        (inbox / deleted).unlink()
        (inbox / saved_over).write_text("ชื่อ\nอื่น\n", encoding="utf-8")
        return jobs

    monkeypatch.setattr(feedback, "plan_jobs", then_changed)
    again = write_feedback(run.result, inbox, tmp_path / "week", config, schema)
    assert sorted(p.relative_to(tmp_path / "week") for p in again) == sorted(p.relative_to(run.week_dir) for p in paths)
    notes = feedback_wording()["no_copy"]
    by_source = {file_named(openpyxl.load_workbook(path).worksheets[0]): path for path in again}
    for source, note in [(deleted, notes["missing"]), (saved_over, notes["changed"])]:
        book = openpyxl.load_workbook(by_source[source])
        assert book.sheetnames == ["สรุป"] and book["สรุป"]["B6"].value == note
    others = [path for source, path in by_source.items() if source not in (deleted, saved_over)]
    assert any(len(openpyxl.load_workbook(path).sheetnames) > 1 for path in others)   # the rest still copied


def test_feedback_names_never_collide():
    names = feedback_names({"5401/a/รายงาน.xlsx": "x", "5401/b/รายงาน.xlsx": "x", "5401/รายงาน.csv": "x",
                            "เมืองแพร่/ข้อมูล.xlsx": "x", "5401/ข้อมูล.xlsx": "x", "5402/รายงาน.xlsx": "y"})
    assert len({name.casefold() for source, name in names.items() if not source.startswith("5402")}) == 5
    assert names["5402/รายงาน.xlsx"] == f"รายงาน{SUFFIX}"
    assert names["5401/a/รายงาน.xlsx"] == f"a - รายงาน.xlsx{SUFFIX}"


def test_every_problem_code_has_a_thai_kind_and_hints_name_the_format(schema, config):
    thai = re.compile("[\u0e00-\u0e7f]")
    assert all(thai.search(kind_of(code, schema)) for code in schema.wording["problems"])
    assert kind_of("no_such_code", schema) == "no_such_code"
    districts = list(config.districts.values())
    assert "0812345678" in format_hint(schema, "volunteers", "phone", districts)
    assert "เมืองแพร่" in format_hint(schema, "volunteers", "district", districts)
    assert "1–40" in format_hint(schema, "help_requests", "moo", districts)
    assert format_hint(schema, "volunteers", "no_such_field", districts) == ""


def test_files_too_big_to_copy_get_the_summary_with_a_note(week, tmp_path, config, schema):
    root, run, _, _, _ = week
    small = dataclasses.replace(config, limits=dataclasses.replace(config.limits, feedback_max_cells=5))
    write_feedback(run.result, root / "inbox", tmp_path, small, schema)
    book = openpyxl.load_workbook(tmp_path / "feedback" / "5401 เมืองแพร่" / f"รายงาน{SUFFIX}")
    assert book.sheetnames == ["สรุป"] and book["สรุป"]["B6"].value == feedback_wording()["no_copy"]["too_large"]
    assert not any(cell.hyperlink for row in book["สรุป"].iter_rows() for cell in row)


def cells_of(sheet) -> dict[tuple[int, int], object]:
    """(Excel row, column number) -> value of every non-empty cell, text as a workbook can hold it."""
    return {(sheet.first_row + r, sheet.first_column + c + 1): clean(value) if isinstance(value, str) else value
            for r, row in enumerate(sheet.rows) for c, value in enumerate(row) if value not in (None, "")}


def test_copy_holds_every_value_at_its_own_cell(week):
    root, run, _, _, by_source = week
    for source in readable_sources(run):
        copied = {sheet.name: sheet for sheet in read_file(by_source[source]).sheets}
        original = read_file(root / "inbox" / source).sheets
        assert [sheet.name for sheet in original] == list(copied)[1:], source   # the summary first, then theirs
        for sheet in original:
            assert cells_of(copied[sheet.name]) == cells_of(sheet), (source, sheet.name)
            assert copied[sheet.name].hidden == sheet.hidden


def test_cells_the_run_handed_off_are_copied_without_parsing_again(week, tmp_path, config, schema):
    root, run, _, _, _ = week
    job = next(job for job in plan_jobs(run.result, root / "inbox", tmp_path / "week", config)
               if job.source_file == "5407/อาสา.csv")
    outcome = read_file(root / "inbox" / job.source_file)
    rows = [list(row) for row in outcome.sheets[0].rows]
    rows[2][1] = "ค่าที่อ่านไว้แล้ว"   # B3, as if the run had parsed it so
    handoff = tmp_path / "parsed"
    handoff.mkdir()
    save_handoff(dataclasses.replace(outcome, sheets=(dataclasses.replace(outcome.sheets[0], rows=rows),)),
                 handoff / f"{job.version_id}{HANDOFF_SUFFIX}")
    write_feedback(run.result, root / "inbox", tmp_path / "week", config, schema, handoff=handoff)
    assert openpyxl.load_workbook(job.target)["อาสา"]["B3"].value == "ค่าที่อ่านไว้แล้ว"
    again = write_feedback(run.result, root / "inbox", tmp_path / "again", config, schema)   # nothing handed off
    copy = next(path for path in again if path.name == job.target.name and path.parent.name == job.target.parent.name)
    assert openpyxl.load_workbook(copy)["อาสา"]["B3"].value == "สี่"


def test_a_district_whose_files_were_all_unusable_is_told_so_first(week, schema):
    _, _, report, _, by_source = week
    labels = feedback_wording()["labels"]
    opening = labels["unusable"].split(":")[0]
    for source, district, reason in [("5405 เด่นชัย/ข้อมูล.xlsx", "5405", "ไฟล์เสียหรือไม่สมบูรณ์"),
                                     ("5403/locked.xlsx", "5403", "ไฟล์มีรหัสผ่าน")]:
        assert report["districts"][district]["submission"]["status"] == "unusable"
        summary = openpyxl.load_workbook(by_source[source]).worksheets[0]
        first = summary["A1"].value
        assert first.startswith(opening) and reason in first, first
        assert summary["A2"].value == labels["title"]
    usable = openpyxl.load_workbook(by_source["5401 เมืองแพร่/รายงาน.xlsx"]).worksheets[0]
    assert usable["A1"].value == labels["title"]


def info_issue(sheet: str, row: int, message: str) -> dict:
    return {"source_file": "5401/a.xlsx", "district_folder": "5401", "sheet": sheet, "dataset": "volunteers",
            "excel_row": row, "column_letter": "", "column": "", "field": "", "value": "", "code": "row_updated",
            "severity": "info", "message": message}


def test_info_rows_are_listed_after_the_problems_and_never_painted(tmp_path, config, schema):
    rows = [headers("volunteers"), volunteer("หนึ่ง", "0870000001"), volunteer("สอง", "12345")]
    issues = pd.DataFrame([
        info_issue("อาสาสมัคร", 2, "แก้ไขข้อมูลเดิมที่อำเภอนี้เคยส่ง: ชื่อ: เดิม → หนึ่ง"),
        {**info_issue("อาสาสมัคร", 3, ""), "column_letter": "D", "code": "phone_invalid", "severity": "error",
         "message": "เบอร์โทรศัพท์ “12345” ไม่ถูกต้อง"},
        {**info_issue("อาสาสมัคร", 3, "แก้ไขข้อมูลเดิมที่อำเภอนี้เคยส่ง: ประเภท: ครู → อสม.")}])
    version = pd.DataFrame([{"source_file": "5401/a.xlsx", "district_folder": "5401", "sheet": "อาสาสมัคร",
                             "dataset": "volunteers", "submitted_at": pd.Timestamp("2021-12-23T02:00Z"),
                             "problem": None, **{key: 1 for key in COUNTS}}])
    titles, first_columns = {"อาสาสมัคร": "อาสาสมัคร"}, {"อาสาสมัคร": 1}
    lines = summary_lines(version, issues, pd.DataFrame(), titles, first_columns, config, schema, "")
    texts = [line.cells for line in lines]
    labels = feedback_wording()["labels"]
    result = next(cells[1] for cells in texts if cells and cells[0] == labels["result"])
    assert result == labels["found"].format(errors=1, warnings=0)   # info is not counted as a problem
    problems, information = texts.index((labels["problems_heading"],)), texts.index((labels["info_heading"],))
    assert problems < information
    assert [cells[1] for cells in texts[information:] if cells[:1] == ("อาสาสมัคร",)] == ["A2", "A3"]
    assert all(isinstance(line, Line) for line in lines)
    sheet = RawSheet("อาสาสมัคร", False, 1, 0, rows)
    marks = merged_marks(plan_marks(issues, {"อาสาสมัคร": 1}, schema, list(config.districts.values())), [sheet])
    assert {(mark.row, mark.column): mark.severity for mark in marks} == \
        {(2, 1): "info", (3, 4): "error", (3, 1): "info"}
    path = tmp_path / "info.xlsx"
    write_book(path, "สรุป", lines, [sheet], {"อาสาสมัคร": "อาสาสมัคร"}, marks, "ระบบ", config)
    copy = openpyxl.load_workbook(path)["อาสาสมัคร"]
    assert "หนึ่ง" in copy["A2"].comment.text and copy["A2"].fill.fill_type is None   # a note, no colour
    assert copy["D3"].fill.fgColor.rgb.endswith(FILLS["error"])


def test_merged_marks_name_the_rows_only_when_they_differ(schema):
    sheet = RawSheet("s", False, 1, 0, [["a", "x"]] * 6, merged=(((1, 1), (3, 1)), ((4, 0), (4, 1))))
    same = [Mark("s", row, 2, "error", ("ข้อผิดพลาด: ไม่พบอำเภอ",)) for row in (2, 3, 4)]
    assert merged_marks(same, [sheet]) == [Mark("s", 2, 2, "error", ("ข้อผิดพลาด: ไม่พบอำเภอ",))]
    some = [Mark("s", 3, 2, "warning", ("คำเตือน: ก",)), Mark("s", 4, 2, "error", ("ข้อผิดพลาด: ข",)),
            Mark("s", 1, 1, "warning", ("คำเตือน: นอกช่วง",))]
    label = feedback_wording()["labels"]["merged_rows"]
    joined = merged_marks(some, [sheet])
    assert joined[0] == some[2]   # outside any merged range: as it was
    assert joined[1] == Mark("s", 2, 2, "error", (label.format(rows="3"), "คำเตือน: ก", "—", label.format(rows="4"),
                                                  "ข้อผิดพลาด: ข"))
    one_row = [Mark("s", 5, 1, "warning", ("คำเตือน: คร่อม",)), Mark("s", 5, 2, "error", ("ข้อผิดพลาด: ว่าง",))]
    assert merged_marks(one_row, [sheet]) == [Mark("s", 5, 1, "error", ("คำเตือน: คร่อม", "—", "ข้อผิดพลาด: ว่าง"))]
