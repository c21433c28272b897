"""District templates: generated from the schema, and a template filled in correctly passes with zero problems."""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles.numbers import is_date_format
from stdnum.th.pin import calc_check_digit

from pipeline.outputs.feedback.book import FILLS
from pipeline.run import run_weekly
from pipeline.templates import INSTRUCTIONS_SHEET, LISTS_SHEET, TEMPLATE_ROWS, UNBOUNDED, build_templates, main
from pipeline.thai import gazetteer
from tests.builders import set_mtime
from tests.conftest import PROJECT, bangkok

WEEK = "2021-12-24"
TEXT_TYPES = {"mobile", "phone", "person_id"}


@pytest.fixture(scope="module")
def built(tmp_path_factory, config, schema) -> dict[str, Path]:
    """Every template of the province, by file name."""
    paths = build_templates(tmp_path_factory.mktemp("templates"), config, schema)
    return {path.name: path for path in paths}


@pytest.fixture(scope="module")
def muang(built) -> Path:
    """The template of 5401 เมืองแพร่."""
    return built["แบบฟอร์ม_5401_เมืองแพร่.xlsx"]


@pytest.fixture(scope="module")
def muang_book(muang):
    """The template of 5401 opened with openpyxl (read, never changed)."""
    return openpyxl.load_workbook(muang)


def template_fields(dataset):
    """Fields printed on the form, in schema order."""
    return [f for f in dataset.fields if f.in_template]


def validation_of(sheet, column: int):
    """The data validation covering a column's pre-formatted rows, or None."""
    for rule in sheet.data_validations.dataValidation:
        for cells in rule.sqref.ranges:
            if cells.min_col <= column <= cells.max_col and cells.min_row <= 2 and cells.max_row >= TEMPLATE_ROWS + 1:
                return rule
    return None


def column_width(sheet, column: int) -> float:
    """The width of a column (openpyxl groups neighbours of equal width and style)."""
    return next(d.width for d in sheet.column_dimensions.values() if d.min <= column <= d.max)


def list_values(book, rule) -> list[str]:
    """The values of a list validation: typed into it, or read from its range on the hidden sheet."""
    source = rule.formula1
    if source.startswith('"'):
        return source.strip('"').split(",")
    sheet_name, cells = source.lstrip("=").split("!")
    assert sheet_name.strip("'") == LISTS_SHEET
    return [row[0].value for row in book[LISTS_SHEET][cells.replace("$", "")]]


def thai_id(first_twelve: str) -> str:
    """A 13-digit ID with its check digit."""
    return first_twelve + calc_check_digit(first_twelve)


def validation_under(sheet, header: str):
    """The data validation of the column with this header."""
    return validation_of(sheet, [c.value for c in sheet[1]].index(header) + 1)


def choices_of(book, sheet, header: str) -> list[str]:
    """The drop-down values offered under a header."""
    return list_values(book, validation_under(sheet, header))


def test_one_template_per_district_and_one_for_the_province(built, config):
    expected = {f"แบบฟอร์ม_{code}_{name}.xlsx" for code, name in config.districts.items()}
    assert set(built) == expected | {f"แบบฟอร์ม_จังหวัด{config.province_name}.xlsx"}


def test_sheets_and_headers_equal_the_schema(muang_book, schema):
    book = muang_book
    titles = [d.title for d in schema.datasets.values()]
    assert book.sheetnames == [INSTRUCTIONS_SHEET, *titles, LISTS_SHEET]
    assert book[LISTS_SHEET].sheet_state == "hidden" and book.active.title == INSTRUCTIONS_SHEET
    for dataset in schema.datasets.values():
        sheet = book[dataset.title]
        assert [c.value for c in sheet[1]] == [f.header for f in template_fields(dataset)]
        assert sheet.freeze_panes == "A2" and all(c.font.b for c in sheet[1])
        for column, form_field in enumerate(template_fields(dataset), start=1):
            assert column_width(sheet, column) == pytest.approx(form_field.width, abs=1)
            note = sheet.cell(1, column).comment
            assert note is not None and form_field.header in note.text


def test_header_notes_come_from_the_schema(muang_book, schema):
    sheet = muang_book["ผู้ยังไม่ได้รับวัคซีน"]
    notes = {c.value: c.comment.text for c in sheet[1]}
    assert "ต้องกรอก" in notes["หมู่ที่"] and "1 ถึง 40" in notes["หมู่ที่"]
    assert "20/12/2564" in notes["วันที่สำรวจ"] and "1/12/2564" in notes["วันที่สำรวจ"]
    assert all(value in notes["สาเหตุที่ยังไม่ได้รับวัคซีน"] for value in schema.choice_values("reasons"))
    assert "13 หลัก" in notes["เลขประจำตัวประชาชน"]


def test_closed_lists_are_drop_downs_with_the_schema_values(muang_book, schema):
    book = muang_book
    for dataset in schema.datasets.values():
        sheet = book[dataset.title]
        for column, form_field in enumerate(template_fields(dataset), start=1):
            if form_field.choices:
                rule = validation_of(sheet, column)
                assert rule is not None and rule.type == "list", (dataset.title, form_field.header)
                assert list_values(book, rule) == list(schema.choice_values(form_field.choices))


def test_places_are_drop_downs_of_the_district_and_of_the_province(built, muang_book, config, schema):
    book = muang_book
    for sheet in (book[d.title] for d in schema.datasets.values()):
        assert choices_of(book, sheet, "ตำบล") == list(gazetteer.subdistricts_of("5401").values())
        assert choices_of(book, sheet, "อำเภอ") == ["เมืองแพร่"]
    generic = openpyxl.load_workbook(built[f"แบบฟอร์ม_จังหวัด{config.province_name}.xlsx"])
    assert choices_of(generic, generic["สถานที่"], "อำเภอ") == list(config.districts.values())
    everywhere = choices_of(generic, generic["สถานที่"], "ตำบล")
    assert set(everywhere) == {n for code in config.districts for n in gazetteer.subdistricts_of(code).values()}
    assert len(",".join(everywhere)) > 255   # long lists go through the hidden sheet


def test_numbers_text_and_dates_are_formatted(muang_book, schema):
    book = muang_book
    for dataset in schema.datasets.values():
        sheet = book[dataset.title]
        for column, form_field in enumerate(template_fields(dataset), start=1):
            cell = sheet.cell(2, column)
            if form_field.type in TEXT_TYPES or form_field.key == "house_no":
                assert cell.number_format == "@", form_field.header
                assert sheet.cell(TEMPLATE_ROWS + 1, column).number_format == "@"
            if form_field.type == "date":
                assert is_date_format(cell.number_format), form_field.header
            if form_field.type == "whole":
                rule = validation_of(sheet, column)
                assert rule is not None and rule.type == "whole", form_field.header
    moo = validation_under(book["คำขอความช่วยเหลือ"], "หมู่ที่")
    assert (moo.operator or "between", moo.formula1, moo.formula2) == ("between", "1", "40")  # between: the default
    beds = validation_under(book["สถานที่"], "จำนวนเตียง/ความจุ")
    assert (beds.operator or "between", beds.formula1, int(beds.formula2)) == ("between", "0", UNBOUNDED)


def filled_rows(book) -> dict[str, list[dict]]:
    """Valid rows per sheet, using only values offered by the template's own drop-downs."""
    def offered(sheet_name: str):
        return lambda header, index=0: choices_of(book, book[sheet_name], header)[index]

    people, places, requests = offered("ผู้ยังไม่ได้รับวัคซีน"), offered("สถานที่"), offered("คำขอความช่วยเหลือ")
    volunteers, done = offered("อาสาสมัคร"), "ดำเนินการแล้ว"
    assert done in choices_of(book, book["คำขอความช่วยเหลือ"], "สถานะ")
    where = {"ตำบล": volunteers("ตำบล", 1), "อำเภอ": volunteers("อำเภอ")}
    return {
        "อาสาสมัคร": [
            {"คำนำหน้า": "นาย", "ชื่อ": "สมชาย", "นามสกุล": "ใจดี", "เบอร์โทรศัพท์มือถือ": "0812345678",
             "ประเภทอาสาสมัคร": volunteers("ประเภทอาสาสมัคร", 2), "สังกัด": "รพ.สต.ในเวียง (moicovid)",
             "วันที่ลงทะเบียน": dt.datetime(2021, 12, 20), **where},
            {"ชื่อ": "สมหญิง", "นามสกุล": "ใจงาม", "เบอร์โทรศัพท์มือถือ": "0898765432",
             "ประเภทอาสาสมัคร": volunteers("ประเภทอาสาสมัคร", 1), "สังกัด": "บ้านนาจักร (moicovid)",
             "วันที่ลงทะเบียน": "20/12/2564", **where},
        ],
        "ผู้ยังไม่ได้รับวัคซีน": [
            {"เลขประจำตัวประชาชน": thai_id("110170020345"), "คำนำหน้า": "นาย", "ชื่อ": "มานะ", "นามสกุล": "ทดสอบ",
             "เพศ": people("เพศ"), "วันเกิด": dt.datetime(1960, 5, 1), "สัญชาติ": people("สัญชาติ"),
             "บ้านเลขที่": "12/3", "หมู่ที่": 3, "เบอร์โทรศัพท์": "0812345001",
             "สาเหตุที่ยังไม่ได้รับวัคซีน": people("สาเหตุที่ยังไม่ได้รับวัคซีน"),
             "ประสงค์รับวัคซีน": people("ประสงค์รับวัคซีน"), "วันที่สำรวจ": "20/12/2564", "ผู้สำรวจ": "สมชาย ใจดี",
             **where},
            {"เลขประจำตัวประชาชน": thai_id("310170020345"), "ชื่อ": "หม่อง", "เพศ": people("เพศ", 1),
             "วันเกิด": "2/2/2510", "สัญชาติ": people("สัญชาติ", 1), "บ้านเลขที่": "7", "หมู่ที่": 1,
             "สาเหตุที่ยังไม่ได้รับวัคซีน": people("สาเหตุที่ยังไม่ได้รับวัคซีน", 4),
             "ประสงค์รับวัคซีน": people("ประสงค์รับวัคซีน", 1), "วันที่สำรวจ": dt.datetime(2021, 12, 21), **where},
        ],
        "สถานที่": [
            {"ประเภทสถานที่": places("ประเภทสถานที่", 1), "ชื่อสถานที่": "โรงพยาบาลแพร่", "ละติจูด": 18.144,
             "ลองจิจูด": 100.141, "จำนวนเตียง/ความจุ": 120, "เบอร์ติดต่อ": "054511111", "สถานะ": places("สถานะ"),
             "วันที่ปรับปรุงข้อมูล": dt.datetime(2021, 12, 20), **where},
            {"ประเภทสถานที่": places("ประเภทสถานที่"), "ชื่อสถานที่": "จุดตรวจตลาด", "จำนวนเตียง/ความจุ": 0,
             "สถานะ": places("สถานะ"), "วันที่ปรับปรุงข้อมูล": "22/12/2564", **where},
        ],
        "คำขอความช่วยเหลือ": [
            {"วันที่แจ้ง": dt.datetime(2021, 12, 20), "ประเภทคำขอ": requests("ประเภทคำขอ"),
             "ชื่อผู้แจ้ง": "นางมาลี ดีใจ", "เบอร์โทรศัพท์": "0891111111", "หมู่ที่": 1, "สถานะ": requests("สถานะ"),
             **where},
            {"วันที่แจ้ง": "21/12/2564", "ประเภทคำขอ": requests("ประเภทคำขอ", 3), "ชื่อผู้แจ้ง": "นายสอง ใจกล้า",
             "เบอร์โทรศัพท์": "0892222222", "หมู่ที่": 2, "รายละเอียด": "ผู้ป่วยติดเตียง", "สถานะ": done,
             "วันที่ดำเนินการแล้วเสร็จ": dt.datetime(2021, 12, 23), **where},
        ],
    }


def fill(template: Path, target: Path) -> int:
    """Type valid rows into a copy of the template, as a district officer would; the number of rows."""
    book = openpyxl.load_workbook(template)
    rows = filled_rows(book)
    for sheet_name, records in rows.items():
        sheet = book[sheet_name]
        headers = [c.value for c in sheet[1]]
        for offset, record in enumerate(records, start=2):
            for header, value in record.items():
                sheet.cell(offset, headers.index(header) + 1, value)
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    return sum(len(records) for records in rows.values())


def test_a_template_filled_in_correctly_passes_with_zero_problems(muang, tmp_path):
    filed = tmp_path / "inbox" / "5401 เมืองแพร่" / muang.name
    count = fill(muang, filed)
    set_mtime(filed, bangkok(2021, 12, 24, 10))
    done = run_weekly(PROJECT / "config.yaml", tmp_path / "inbox", tmp_path / "out", WEEK, progress=lambda m: None)
    # The province's own form E (no roster in this inbox) is not the district file's problem.
    district_issues = done.result.issues[done.result.issues["source_file"] == f"5401 เมืองแพร่/{muang.name}"]
    assert district_issues.empty, district_issues[["sheet", "excel_row", "column", "code"]].to_string()
    assert set(done.result.issues["source_file"]) <= {"ผู้ดูแลระบบ.xlsx"}
    report = json.loads((tmp_path / "out" / WEEK / "report.json").read_text(encoding="utf-8"))
    submission = report["districts"]["5401"]["submission"]
    assert submission["status"] == "on_time"
    assert (submission["rows_read"], submission["accepted"], submission["rejected"], submission["duplicates"]) \
        == (count, count, 0, 0)
    muang_figures = report["districts"]["5401"]
    assert [muang_figures[block]["total"] for block in ("volunteers", "unvaccinated", "facilities", "help_requests")] \
        == [2, 2, 2, 2]


def test_command_line_follows_the_configured_districts(tmp_path, capsys):
    text = (PROJECT / "config.yaml").read_text(encoding="utf-8")
    config_path = tmp_path / "config.yaml"
    config_path.write_text(text.replace('code: "54"', 'code: "54"\n  districts: ["5405"]'), encoding="utf-8")
    assert main(["--config", str(config_path), "--outputs", str(tmp_path / "out")]) == 0
    names = {path.name for path in (tmp_path / "out").glob("*.xlsx")}
    assert names == {"แบบฟอร์ม_5405_เด่นชัย.xlsx", "แบบฟอร์ม_จังหวัดแพร่.xlsx"}
    assert "แบบฟอร์ม_5405_เด่นชัย.xlsx" in capsys.readouterr().out
    assert main(["--config", str(tmp_path / "missing.yaml"), "--outputs", str(tmp_path)]) == 2


def test_a_template_sent_back_is_marked_in_place(muang, muang_book, tmp_path):
    filed = tmp_path / "inbox" / "5401 เมืองแพร่" / muang.name
    fill(muang, filed)
    book = openpyxl.load_workbook(filed)
    sheet = book["อาสาสมัคร"]
    for column in range(1, sheet.max_column + 1):   # a third volunteer, like the first but with a landline
        sheet.cell(4, column, sheet.cell(2, column).value)
    headers = [c.value for c in sheet[1]]
    sheet.cell(4, headers.index("ชื่อ") + 1, "สมปอง")
    phone = sheet.cell(4, headers.index("เบอร์โทรศัพท์มือถือ") + 1, "054511111")
    book.save(filed)
    set_mtime(filed, bangkok(2021, 12, 24, 10))
    done = run_weekly(PROJECT / "config.yaml", tmp_path / "inbox", tmp_path / "out", WEEK, progress=lambda m: None)
    copy = done.week_dir / "feedback" / "5401 เมืองแพร่" / f"{muang.stem}.feedback.xlsx"
    marked = openpyxl.load_workbook(copy)
    assert marked.sheetnames == ["สรุป", *muang_book.sheetnames] and marked[LISTS_SHEET].sheet_state == "hidden"
    for title in muang_book.sheetnames[1:-1]:   # their own look, drop-downs and formats, and their header notes
        own, kept = muang_book[title], marked[title]
        assert kept.freeze_panes == "A2"
        assert [(str(rule.sqref), rule.type, rule.formula1) for rule in kept.data_validations.dataValidation] == \
            [(str(rule.sqref), rule.type, rule.formula1) for rule in own.data_validations.dataValidation]
        assert [cell.fill.fgColor.rgb for cell in kept[1]] == [cell.fill.fgColor.rgb for cell in own[1]]
        assert [cell.number_format for cell in kept[TEMPLATE_ROWS]] == [cell.number_format for cell in own[TEMPLATE_ROWS]]
        assert [(cell.comment.text, cell.comment.author) for cell in kept[1]] == \
            [(cell.comment.text, cell.comment.author) for cell in own[1]]
    problem = marked["อาสาสมัคร"][phone.coordinate]
    assert "054511111" in problem.comment.text and problem.fill.fgColor.rgb.endswith(FILLS["error"])
    assert problem.number_format == "@"   # the phone column still keeps a leading 0
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "xlsx_check"))
    try:
        import xlsx_check
    finally:
        sys.path.pop(0)
    findings = xlsx_check.validate_file(str(copy)).findings
    assert [finding for finding in findings if finding[0] in ("CERTAIN", "MIGHT")] == []
