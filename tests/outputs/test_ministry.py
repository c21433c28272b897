"""The ministry report: figures in the form's order, the pre-filled link and its QR code, form E, the text summary."""
from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import openpyxl
import pytest
import segno

from pipeline.core import ministry_settings
from pipeline.core.errors import ConfigError
from pipeline.core.issues import ISSUE_COLUMNS
from pipeline.ingest import admin_roster
from pipeline.outputs import ministry
from pipeline.run import run_weekly
from tests.builders import write_xlsx
from tests.conftest import PROJECT
from tests.scenarios.test_weekly_run import WEEK1, build_week_one

FORM_URL = "https://docs.google.com/forms/d/e/1FAIpQLSfD3x9Y0bq8mZk7Wq2n5cR1vT4uH6jL8pA0sE2dG4fK6hJ8lQ/viewform"
ADMIN_HEADERS = ["หน่วยงาน", "ชื่อ - นามสกุล", "ตำแหน่ง", "เบอร์มือถือ", "E-mail",
                 "Line ID หรือเบอร์มือถือที่ผูกไว้กับแอป Line"]
ADMIN = ["สำนักงานจังหวัดแพร่", "นายผู้ดูแล ระบบดี", "นักวิเคราะห์นโยบายและแผนชำนาญการ", 812345699,
         "admin@phrae.go.th", "Phrae.Admin"]
ADMIN_PHONE = "0812345699"
# People of the public in build_week_one's inbox: none may reach the ministry.
PUBLIC_NAMES = ["สมชาย", "สมหญิง", "มานะ", "หม่อง", "มาลี", "นายหนึ่ง", "นายสอง", "มาช้า"]
LINKED = {"week": "1001", "province_code": "1002", "volunteers.total": "1003", "volunteers.by_type.อสม.": "1004",
          "unvaccinated.by_reason.ติดเตียง/เดินทางไม่สะดวก": "1005", "facilities.stale": "1006",
          "help_requests.by_status.รอดำเนินการ": "1007", "submission.late": "1008"}


def settings_with(**block) -> ministry_settings.MinistrySettings:
    """Ministry settings from a config.yaml ministry block."""
    return ministry_settings.ministry_config({"ministry": block})


def full_settings(**extra) -> ministry_settings.MinistrySettings:
    """Every default figure in the default order; some carry an entry id; the province name is shown only."""
    defaults = ministry_settings.ministry_config({})
    fields = [{"figure": ".".join(f.path), "entry": LINKED.get(".".join(f.path))} for f in defaults.fields]
    return settings_with(form_url=FORM_URL, fields=[*fields[:2], "province", *fields[2:]], **extra)


def roster_file(folder: Path, *admins: list, name: str = "ผู้ดูแลระบบ.xlsx") -> Path:
    """A form E workbook as an officer makes it: a title row, the headers, the admins."""
    return write_xlsx(folder / name, {"แบบ E": [["แบบรายงานรายชื่อเจ้าหน้าที่ผู้ดูแลระบบ"], ADMIN_HEADERS, *admins]})


def form_e(folder: Path, *admins: list):
    """(admins, problems) of a roster workbook holding these rows."""
    roster_file(folder, *admins)
    return admin_roster.admin_form(settings_with(admin_roster="ผู้ดูแลระบบ.xlsx"), folder)


@pytest.fixture(scope="module")
def week(tmp_path_factory, config):
    """Week one through the real pipeline, then the ministry outputs with a valid admin."""
    root = tmp_path_factory.mktemp("ministry")
    build_week_one(root / "inbox")
    done = run_weekly(PROJECT / "config.yaml", root / "inbox", root / "out", WEEK1, progress=lambda message: None)
    report = json.loads((done.week_dir / "report.json").read_text(encoding="utf-8"))
    settings = full_settings(admin_roster="ผู้ดูแลระบบ.xlsx")
    roster_file(root / "roster", ADMIN)
    admins, problems = admin_roster.admin_form(settings, root / "roster")
    paths = ministry.write_ministry(report, admins, problems, done.week_dir, config, settings)
    return report, settings, paths


def sheet_rows(path: Path, index: int) -> list[tuple]:
    """A sheet's rows as values."""
    return list(openpyxl.load_workbook(path).worksheets[index].iter_rows(values_only=True))


def figure_table(path: Path) -> list[tuple]:
    """The (number, block, item, value, in-link) rows of the figures sheet."""
    rows = sheet_rows(path, 0)
    top = next(i for i, row in enumerate(rows) if row[0] == "ลำดับ")
    return [row[:5] for row in rows[top + 1:] if isinstance(row[0], int)]


def totals_value(report: dict, dotted: str):
    """A figure read straight from report.json."""
    if dotted in ("week", "province_code", "province"):
        return report[dotted]
    block, key, *value = dotted.split(".", 2)
    figure = report["totals"][block][key]
    return figure[value[0]] if value else figure


def test_written_files(week):
    report, _, paths = week
    assert [p.name for p in paths] == [f"ministry_report_{WEEK1}.xlsx", f"summary_{WEEK1}.txt"]
    assert all(p.is_file() and p.parent.name == "ministry" for p in paths)
    assert not [p for p in paths[0].parent.iterdir() if p.name.startswith(".partial-")]


def test_figures_equal_report_totals_in_configured_order(week, schema):
    report, settings, paths = week
    table = figure_table(paths[0])
    expected = ["week", "province_code", "province", *(".".join(p) for p in ministry_settings.figure_paths(schema))]
    assert [".".join(f.path) for f in settings.fields] == expected
    assert [row[0] for row in table] == list(range(1, len(expected) + 1))
    for row, dotted in zip(table, expected):
        if dotted == "week":
            assert row[3] == "๒๔ ธ.ค. ๒๕๖๔"
        else:
            assert row[3] == totals_value(report, dotted), dotted
    items = {".".join(f.path): row[2] for f, row in zip(settings.fields, table)}
    assert items["volunteers.by_type.อสม."] == "ประเภท: อสม." and items["volunteers.total"] == "สะสม"
    assert [row[4] for row in table].count("✓") == len(LINKED)


def test_no_person_level_data(week):
    _, _, paths = week
    book = openpyxl.load_workbook(paths[0])
    texts = [str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row
             if cell is not None] + [paths[1].read_text(encoding="utf-8")]
    for text in texts:
        digits = re.sub(r"(?<=\d)[\s-](?=\d)", "", text)
        assert not re.search(r"(?<!\d)\d{13}(?!\d)", digits), text
        assert set(re.findall(r"(?<!\d)0\d{8,9}(?!\d)", digits)) <= {ADMIN_PHONE}, text
        assert not any(name in text for name in PUBLIC_NAMES), text
    assert any(ADMIN_PHONE in text for text in texts)    # the admin's own contact is what form E asks for


def test_link_carries_exactly_the_configured_entries(week):
    report, settings, _ = week
    link = ministry.prefilled_link(report, settings)
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == FORM_URL
    pairs = parse_qsl(parts.query, strict_parsing=True)
    assert pairs[0] == ("usp", "pp_url")
    assert dict(pairs[1:]) == {f"entry.{entry}": str(totals_value(report, dotted)) for dotted, entry in LINKED.items()}
    assert len(pairs) == len(LINKED) + 1
    assert dict(pairs)["entry.1001"] == "2021-12-24" and dict(pairs)["entry.1002"] == "54"
    assert link.isascii()


def test_link_in_workbook_and_qr_code(week):
    report, settings, paths = week
    link = ministry.prefilled_link(report, settings)
    sheet = openpyxl.load_workbook(paths[0]).worksheets[0]
    targets = [cell.hyperlink.target for row in sheet.iter_rows() for cell in row if cell.hyperlink]
    assert targets == [link, ministry_settings.ADMIN_FORM_LINK]    # form E: its letter's link (no long link configured)
    assert "ลิงก์แบบรายงานของกระทรวง (กรอกตัวเลขไว้ให้แล้ว)" in [cell.value for cell in sheet[ministry_top(sheet)]]
    with zipfile.ZipFile(paths[0]) as archive:
        images = sorted(name for name in archive.namelist() if name.startswith("xl/media/"))
        assert len(images) == 2
        pixels = png_pixels(archive.read(images[0]))
        drawing = archive.read("xl/drawings/drawing1.xml").decode()
    # The QR code is the symbol segno makes for the link, module for module.
    expected = segno.make(link, error="m", micro=False)
    assert qr_modules(pixels, expected.symbol_size(border=0)[0]) == [list(row) for row in expected.matrix]
    # It sits inside one column (offsets in EMU), so viewers with any column metrics keep it square.
    assert re.findall(r"<xdr:col>(\d+)</xdr:col>", drawing) == [str(ministry.LINK_COLUMN)] * 4


def ministry_top(sheet) -> int:
    """The row of the figures sheet's header (ลำดับ …), 1-based as openpyxl counts."""
    return next(row[0].row for row in sheet.iter_rows() if row[0].value == "ลำดับ")


def test_qr_code_decodes_to_the_link(week):
    zxingcpp = pytest.importorskip("zxingcpp")
    numpy = pytest.importorskip("numpy")
    report, settings, _ = week
    link = ministry.prefilled_link(report, settings)
    image = numpy.array(png_pixels(ministry.qr_png(link)), dtype=numpy.uint8) * 255
    assert [result.text for result in zxingcpp.read_barcodes(image)] == [link]


def test_summary_text(week):
    report, settings, paths = week
    text, totals = paths[1].read_text(encoding="utf-8"), report["totals"]
    assert "จังหวัดแพร่" in text and "๒๔ ธ.ค. ๒๕๖๔" in text
    volunteers = totals["volunteers"]
    assert f"อาสาสมัคร: สะสม {volunteers['total']:,} คน (ใหม่สัปดาห์นี้ {volunteers['new']:,} คน)" in text
    assert f"ผู้ยังไม่ได้รับวัคซีน: สะสม {totals['unvaccinated']['total']:,} คน" in text
    assert f"ประสงค์รับวัคซีน {totals['unvaccinated']['wants_vaccine']:,} คน" in text
    assert f"สถานที่: {totals['facilities']['total']:,} แห่ง" in text
    assert f"ยังไม่แล้วเสร็จ {totals['help_requests']['open']:,} รายการ" in text
    assert "- ส่งตรงเวลา 2 อำเภอ: เมืองแพร่, สูงเม่น" in text
    assert "- ส่งช้า 1 อำเภอ: ร้องกวาง" in text and "- ไม่ส่ง 4 อำเภอ:" in text
    assert "- ส่งแล้วแต่ใช้ไม่ได้ 1 อำเภอ: เด่นชัย" in text   # its only file is damaged
    assert ministry.prefilled_link(report, settings) in text.splitlines()
    assert "ผู้รายงาน: นายผู้ดูแล ระบบดี" in text


def test_form_e_sheet_in_ministry_order(week):
    _, _, paths = week
    rows = sheet_rows(paths[0], 1)
    top = next(i for i, row in enumerate(rows) if row[0] == "ลำดับ")
    fields = [(row[1], row[2]) for row in rows[top + 1:top + 7]]
    assert fields == list(zip(ADMIN_HEADERS, ["สำนักงานจังหวัดแพร่", "นายผู้ดูแล ระบบดี",
                                              "นักวิเคราะห์นโยบายและแผนชำนาญการ", ADMIN_PHONE,
                                              "admin@phrae.go.th", "phrae.admin"]))
    assert any("ครบถ้วนถูกต้อง" in str(cell) for row in rows for cell in row)


def test_one_valid_admin_has_no_problem(tmp_path):
    admins, problems = form_e(tmp_path, ADMIN)
    assert problems.empty and len(admins) == 1
    assert admins.loc[0, "mobile"] == ADMIN_PHONE and admins.loc[0, "excel_row"] == 3
    line_by_phone = [*ADMIN[:5], "081-234-5699"]
    admins, problems = form_e(tmp_path, ADMIN, line_by_phone)     # the same person sent the form again
    assert problems.empty and admins.loc[0, "line_id"] == ADMIN_PHONE


@pytest.mark.parametrize(("column", "value", "code"), [
    (3, "05451111", "admin_mobile_invalid"),
    (3, "054-511-111", "admin_mobile_not_mobile"),
    (3, "", "admin_field_missing"),
    (4, "admin@phrae", "admin_email_invalid"),
    (4, "admin phrae.go.th", "admin_email_invalid"),
    (4, "ผู้ดูแล@phrae.go.th", "admin_email_invalid"),
    (5, "ab", "admin_line_invalid"),
    (5, "สมชาย", "admin_line_invalid"),
    (5, "0541234", "admin_line_invalid"),
    (2, None, "admin_field_missing"),
])
def test_invalid_admin_field(tmp_path, column, value, code):
    admin = list(ADMIN)
    admin[column] = value
    _, problems = form_e(tmp_path, admin)
    assert problems["code"].tolist() == [code]
    problem = problems.iloc[0]
    assert problem["header"] == ADMIN_HEADERS[column] and problem["severity"] == "error"
    assert re.search("[\u0e00-\u0e7f]", problem["message"])


def test_roster_problems(tmp_path):
    codes = lambda found: found[1]["code"].tolist()  # noqa: E731
    assert codes(form_e(tmp_path / "none")) == ["admin_missing"]
    assert codes(form_e(tmp_path / "two", ADMIN, ["อำเภอลอง", "นางสอง คน", "ปลัดอำเภอ", "0898765432",
                                                  "two@phrae.go.th", "song.k"])) == ["admin_too_many"]
    settings = settings_with(admin_roster="ผู้ดูแลระบบ.xlsx")
    assert codes(admin_roster.admin_form(settings, tmp_path / "empty")) == ["admin_roster_missing"]
    assert codes(admin_roster.admin_form(settings_with(), tmp_path)) == ["admin_roster_not_configured"]
    write_xlsx(tmp_path / "other" / "ผู้ดูแลระบบ.xlsx", {"Sheet1": [["ก", "ข"], [1, 2]]})
    assert codes(admin_roster.admin_form(settings, tmp_path / "other")) == ["admin_roster_no_header"]
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "ผู้ดูแลระบบ.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    assert codes(admin_roster.admin_form(settings, tmp_path / "broken")) == ["admin_roster_unreadable"]
    inline = dict(zip(["agency", "full_name", "position", "mobile", "email", "line_id"], map(str, ADMIN)))
    admins, problems = admin_roster.admin_form(settings_with(admin=inline), tmp_path)
    assert problems.empty and admins.loc[0, "mobile"] == ADMIN_PHONE


def test_problems_reach_the_workbook_and_the_issues_table(tmp_path, week, config):
    report, settings, _ = week
    bad = list(ADMIN)
    bad[4] = "admin@phrae"
    admins, problems = form_e(tmp_path, bad)
    paths = ministry.write_ministry(report, admins, problems, tmp_path / "w", config, settings)
    cells = [str(c) for row in sheet_rows(paths[0], 1) for c in row if c is not None]
    assert problems.iloc[0]["message"] in cells
    assert problems.iloc[0]["message"] in paths[1].read_text(encoding="utf-8")
    issues = admin_roster.problems_as_issues(problems)
    assert list(issues.columns) == ISSUE_COLUMNS and issues.iloc[0]["code"] == "admin_email_invalid"
    assert issues.iloc[0]["source_file"] == "ผู้ดูแลระบบ.xlsx" and issues.iloc[0]["excel_row"] == 3
    assert admin_roster.problem_lines(problems)[0].startswith("แบบ E ผู้ดูแลระบบ: ")


def test_without_links_the_report_says_so(tmp_path, week, config):
    report, _, _ = week
    settings = settings_with(form_link="", admin_form_link=None)
    assert ministry.prefilled_link(report, settings) == "" and ministry.weekly_link(report, settings) is None
    admins, problems = admin_roster.admin_form(settings, tmp_path)
    paths = ministry.write_ministry(report, admins, problems, tmp_path, config, settings)
    with zipfile.ZipFile(paths[0]) as archive:
        assert not [name for name in archive.namelist() if name.startswith("xl/media/")]
    text = paths[1].read_text(encoding="utf-8")
    assert "ministry.form_link" in text and "ministry.admin_form_link" in text and "https://" not in text
    assert "ยังไม่ได้กำหนดผู้ดูแลระบบ" in text


def test_default_links_are_the_letters_short_links_not_prefilled(tmp_path, week, config, schema):
    """A province that configured nothing gets the letter's links, shown, clickable and as QR codes, each said to
    be the form's own link (no figures in it), every figure marked to be typed in, the figures in the text."""
    report, _, _ = week
    settings = ministry_settings.ministry_config({})
    assert ministry.weekly_link(report, settings) == ministry.FormLink("https://forms.gle/kCMNWIKxQWEw3CPMA", False)
    roster_file(tmp_path / "roster", ADMIN)
    admins, problems = admin_roster.admin_form(settings_with(admin_roster="ผู้ดูแลระบบ.xlsx"), tmp_path / "roster")
    paths = ministry.write_ministry(report, admins, problems, tmp_path, config, settings)
    sheet = openpyxl.load_workbook(paths[0]).worksheets[0]
    targets = [cell.hyperlink.target for row in sheet.iter_rows() for cell in row if cell.hyperlink]
    assert targets == ["https://forms.gle/kCMNWIKxQWEw3CPMA", "https://forms.gle/ox2ZCB5ZtMkCRUBo7"]
    words = [str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value]
    assert "ลิงก์แบบรายงานของกระทรวง (ตามหนังสือกระทรวง ยังไม่มีตัวเลข)" in words
    assert "ลิงก์แบบ E ผู้ดูแลระบบ (ตามหนังสือกระทรวง ยังไม่มีข้อมูล)" in words
    assert {row[4] for row in figure_table(paths[0])} == {"กรอกเอง"}
    with zipfile.ZipFile(paths[0]) as archive:
        images = sorted(name for name in archive.namelist() if name.startswith("xl/media/"))
        symbols = [png_pixels(archive.read(name)) for name in images]
    for pixels, link in zip(symbols, targets, strict=True):
        expected = segno.make(link, error="m", micro=False)
        assert qr_modules(pixels, expected.symbol_size(border=0)[0]) == [list(row) for row in expected.matrix]
    text = paths[1].read_text(encoding="utf-8")
    lines = text.splitlines()
    weekly = lines.index("https://forms.gle/kCMNWIKxQWEw3CPMA")
    assert "ตามหนังสือกระทรวง ยังไม่มีตัวเลข" in lines[weekly - 1] and "กรอกตัวเลขในตารางนี้" not in text
    assert "https://forms.gle/ox2ZCB5ZtMkCRUBo7" in lines


def test_summary_text_lists_every_figure_in_the_forms_order(week, config):
    """The text carries the table it asks to type in: one line per question of the form, in its order."""
    report, settings, paths = week
    text = paths[1].read_text(encoding="utf-8")
    listed = [line for line in text.splitlines() if re.match(r"\d+\. ", line)]
    assert len(listed) == len(settings.fields)
    for line, (number, _, item, value, _) in zip(listed, figure_table(paths[0])):
        shown = f"{value:,}" if isinstance(value, int) else str(value)
        assert line.startswith(f"{number}. ") and f"{item}: {shown}" in line, line
    assert listed[0] == "1. สัปดาห์ที่รายงาน (วันศุกร์): ๒๔ ธ.ค. ๒๕๖๔"
    volunteers = report["totals"]["volunteers"]["total"]
    assert f"อาสาสมัคร · สะสม: {volunteers:,}" in text
    assert "กรอกตัวเลขไว้ให้แล้ว" in text and "กรอกตัวเลขในตารางนี้" not in text


def test_old_form_url_key_is_the_prefill_url(week):
    report, _, _ = week
    old, new = settings_with(form_url=FORM_URL), settings_with(form_prefill_url=FORM_URL)
    assert old.form_prefill_url == new.form_prefill_url == FORM_URL
    assert ministry.weekly_link(report, old).prefilled and ministry.weekly_link(report, old).url.startswith(FORM_URL)


def test_form_e_prefilled_link_carries_the_administrator(tmp_path):
    admin_url = FORM_URL.replace("1FAIpQLSf", "1FAIpQLSe")
    settings = settings_with(admin_roster="ผู้ดูแลระบบ.xlsx", admin_form_prefill_url=admin_url,
                             admin_form_entries={"full_name": "2001", "mobile": "entry.2002"})
    roster_file(tmp_path, ADMIN)
    admins, problems = admin_roster.admin_form(settings, tmp_path)
    link = ministry.admin_link(admins, problems, settings)
    parts = urlsplit(link.url)
    assert link.prefilled and f"{parts.scheme}://{parts.netloc}{parts.path}" == admin_url
    assert parse_qsl(parts.query) == [("usp", "pp_url"), ("entry.2001", "นายผู้ดูแล ระบบดี"), ("entry.2002", ADMIN_PHONE)]
    bad = list(ADMIN)
    bad[4] = "admin@phrae"
    roster_file(tmp_path, bad)
    admins, problems = admin_roster.admin_form(settings, tmp_path)
    assert ministry.admin_link(admins, problems, settings) == ministry.FormLink(ministry_settings.ADMIN_FORM_LINK, False)


def test_default_fields_follow_the_contract(schema):
    fields = [".".join(f.path) for f in ministry_settings.ministry_config({}).fields]
    assert fields[:5] == ["week", "province_code", "volunteers.new", "volunteers.total", "volunteers.by_type.กำนัน"]
    blocks = [name.split(".")[0] for name in fields[2:]]
    assert list(dict.fromkeys(blocks)) == ["volunteers", "unvaccinated", "facilities", "help_requests", "submission"]
    assert f"unvaccinated.by_reason.{schema.choice_values('reasons')[-1]}" in fields


@pytest.mark.parametrize("block", [
    {"form_url": "https://docs.google.com/forms/d/1AbCdEfGhIjKlMnOp/edit"},
    {"form_url": "https://example.com/forms/d/e/1FAIpQLSf/viewform"},
    {"form_prefill_url": "https://forms.gle/kCMNWIKxQWEw3CPMA"},
    {"form_url": FORM_URL, "form_prefill_url": FORM_URL},
    {"form_link": "https://example.com/form"},
    {"admin_form_link": "forms.gle/ox2ZCB5ZtMkCRUBo7"},
    {"admin_form_entries": {"nickname": "1"}},
    {"fields": [{"figure": "volunteers.by_type.หมอ", "entry": "1"}]},
    {"fields": [{"figure": "volunteers.by_type", "entry": "1"}]},
    {"fields": [{"figure": "volunteers.total", "entry": "entry.x1"}]},
    {"fields": [{"figure": "volunteers.total", "entry": "1"}, {"figure": "volunteers.new", "entry": "entry.1"}]},
    {"fields": [{"figure": "province", "entry": "5"}]},
    {"fields": []},
    {"admin_roster": "x.xlsx", "admin": {"full_name": "ก"}},
    {"admin_roster": "../secret.xlsx"},
    {"admin": {"nickname": "ก"}},
])
def test_config_mistakes_are_one_line_errors(block):
    with pytest.raises(ConfigError) as raised:
        settings_with(**block)
    assert str(raised.value).startswith("config: ministry") and "\n" not in str(raised.value)


def test_link_values_are_numbers_and_codes_only():
    assert ministry.link_value(12) == "12" and ministry.link_value("2021-12-24") == "2021-12-24"
    assert ministry.link_value("แพร่") is None and ministry.link_value(True) is None
    assert ministry.link_value("a&b=c") is None


# --- a PNG reader for segno's output (1-bit greyscale, filters None and Up), so tests need no imaging library ---

def png_pixels(data: bytes) -> list[list[int]]:
    """Rows of 0 (dark) / 1 (light) pixels of a 1-bit greyscale PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, compressed = 8, b""
    while position < len(data):
        (length,), kind = struct.unpack(">I", data[position:position + 4]), data[position + 4:position + 8]
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (1, 0)
        compressed += body if kind == b"IDAT" else b""
        position += 12 + length
    raw, stride = zlib.decompress(compressed), (width + 7) // 8
    rows, previous = [], bytes(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)]
        assert kind in (0, 2)
        current = line if kind == 0 else bytes((a + b) & 0xFF for a, b in zip(line, previous))
        rows.append([(current[x // 8] >> (7 - x % 8)) & 1 for x in range(width)])
        previous = current
    return rows


def qr_modules(pixels: list[list[int]], size: int, border: int = 4) -> list[list[int]]:
    """The QR matrix (1 = dark) sampled at the centre of each module."""
    scale = len(pixels) // (size + 2 * border)
    assert len(pixels) == len(pixels[0]) == scale * (size + 2 * border)
    return [[1 - pixels[(y + border) * scale + scale // 2][(x + border) * scale + scale // 2] for x in range(size)]
            for y in range(size)]
