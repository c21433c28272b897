"""Feedback marked inside the district's own .xlsx: their formatting kept, a sound package, the same marks as a rebuild."""
from __future__ import annotations

import io
import posixpath
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
import xlsxwriter
from openpyxl.comments import Comment
from openpyxl.styles import Font

from pipeline.outputs.feedback.book import FILLS
from pipeline.outputs.xlsx import marks as xlsx_marks
from pipeline.outputs.xlsx import package as xlsx_package
from pipeline.outputs.xlsx import styles as xlsx_styles
from pipeline.run import run_weekly
from tests.builders import headers, set_mtime, xlsx_book
from tests.conftest import PROJECT, bangkok
from tests.outputs.test_feedback import expected_marks, marked_cells, volunteer

WEEK = "2021-12-24"
MOMENT = bangkok(2021, 12, 22, 9)
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"
PACKAGE = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# CT_Worksheet's children in the order the schema requires (Excel repairs a file that breaks it).
WORKSHEET_ORDER = ["sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr",
                   "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate",
                   "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting", "dataValidations",
                   "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
                   "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing",
                   "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems",
                   "tableParts", "extLst"]


def district_book(with_formula: bool = False, with_comments: bool = False) -> openpyxl.Workbook:
    """A district workbook with its own look: a styled merged title, widths, print titles, a selected data tab."""
    rows = [["แบบรายงานอาสาสมัคร อำเภอวังชิ้น"], headers("volunteers"), volunteer("หนึ่ง", "0870000001"),
            volunteer("สอง", "12345"), volunteer(None, "0870000003"), volunteer("สี่", "0870000004")]
    book = xlsx_book({"ปก": [["คำอธิบายการกรอก"]], "อาสาสมัคร": rows})
    sheet = book["อาสาสมัคร"]
    sheet["A1"].font = Font(bold=True, size=18, color="FF1F4E79")
    sheet.merge_cells("A1:I1")
    sheet["D4"].font = Font(italic=True)   # the invalid phone: marked, still italic
    sheet.column_dimensions["B"].width = 31
    sheet.print_title_rows = "2:2"        # a name scoped to this sheet (localSheetId 1)
    book["ปก"].sheet_view.tabSelected = False
    sheet.sheet_view.tabSelected = True
    book.active = 1
    if with_formula:   # a live formula: this package is rebuilt, not marked in place
        book["ปก"]["B1"] = "=1+1"
    if with_comments:   # notes of their own, one on a cell we mark: kept, ours merged in
        book["ปก"]["A1"].comment = Comment("หมายเหตุของอำเภอ", "อำเภอ")
        sheet["D4"].comment = Comment("โทรถามแล้ว", "ผู้กรอก")
        sheet["A2"].comment = Comment("หัวตาราง & <ข้อมูล>", "ผู้กรอก")
    return book


def save(book: openpyxl.Workbook, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    set_mtime(path, MOMENT)
    return path


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    """The district file run through the real pipeline as sent, with a formula, and with notes of its own."""
    root = tmp_path_factory.mktemp("marks")
    runs, copies = {}, {}
    for kind in ("in_place", "rebuilt", "noted"):
        save(district_book(with_formula=kind == "rebuilt", with_comments=kind == "noted"),
             root / kind / "5407" / "อาสา.xlsx")
        runs[kind] = run_weekly(PROJECT / "config.yaml", root / kind, root / f"{kind}-out", WEEK,
                                progress=lambda message: None)
        copies[kind] = next((runs[kind].week_dir / "feedback").rglob("*.feedback.xlsx"))
    return root, runs, copies


def test_marks_are_made_in_their_own_workbook(week):
    root, runs, copies = week
    book = openpyxl.load_workbook(copies["in_place"])
    sheet = book["อาสาสมัคร"]
    assert book.sheetnames == ["สรุป", "ปก", "อาสาสมัคร"] and book.active.title == "สรุป"
    assert [bool(s.sheet_view.tabSelected) for s in book.worksheets] == [True, False, False]
    assert (sheet["A1"].font.b, sheet["A1"].font.sz, sheet["A1"].font.color.rgb) == (True, 18, "FF1F4E79")
    assert sheet.column_dimensions["B"].width == 31 and sheet.print_title_rows == "$2:$2"
    assert sheet["D4"].font.i and sheet["D4"].fill.fgColor.rgb.endswith(FILLS["error"])
    assert sheet["B5"].value is None and sheet["B5"].fill.fgColor.rgb.endswith(FILLS["error"])   # a cell they left out
    assert "ชื่อ" in sheet["B5"].comment.text
    assert marked_cells(book) == expected_marks(runs["in_place"], root / "in_place", "5407/อาสา.xlsx", book)


def test_a_package_with_a_formula_is_rebuilt_with_the_same_marks(week):
    root, runs, copies = week
    in_place, rebuilt = (openpyxl.load_workbook(copies[kind]) for kind in ("in_place", "rebuilt"))
    assert rebuilt["อาสาสมัคร"]["A1"].font.sz != 18   # rebuilt from the cells: their look is not kept
    assert marked_cells(rebuilt) == marked_cells(in_place) == \
        expected_marks(runs["rebuilt"], root / "rebuilt", "5407/อาสา.xlsx", rebuilt)
    assert comments_of(rebuilt["อาสาสมัคร"]) == comments_of(in_place["อาสาสมัคร"]) != {}


def test_notes_of_their_own_are_kept_and_ours_merged_in_place(week):
    root, runs, copies = week
    noted, plain = (openpyxl.load_workbook(copies[kind]) for kind in ("noted", "in_place"))
    sheet = noted["อาสาสมัคร"]
    assert (sheet["A1"].font.sz, sheet.column_dimensions["B"].width) == (18, 31)   # marked in place
    assert marked_cells(noted) == marked_cells(plain)
    assert (noted["ปก"]["A1"].comment.text, noted["ปก"]["A1"].comment.author) == ("หมายเหตุของอำเภอ", "อำเภอ")
    assert sheet["A2"].comment.text == "หัวตาราง & <ข้อมูล>"
    ours, theirs = plain["อาสาสมัคร"]["D4"].comment.text, "โทรถามแล้ว"
    assert sheet["D4"].comment.text == f"{ours}\n—\n{theirs}"   # one note: what to fix, then theirs
    rest = {key: text for key, text in comments_of(sheet).items() if key[1] not in ("A2", "D4")}
    assert rest == {key: text for key, text in comments_of(plain["อาสาสมัคร"]).items() if key[1] != "D4"}
    assert package_problems(copies["noted"]) == []


def comments_of(sheet) -> dict[tuple[str, str], str]:
    return {(sheet.title, cell.coordinate): cell.comment.text for row in sheet.iter_rows() for cell in row if cell.comment}


def package_problems(path: Path) -> list[str]:
    """What Excel would repair in a package: parts without a type, links to nothing, wrong counts, misplaced elements."""
    problems = []
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        types = ElementTree.fromstring(archive.read("[Content_Types].xml"))
        defaults = {e.get("Extension").lower() for e in types.iter(f"{TYPES}Default")}
        overrides = {e.get("PartName")[1:] for e in types.iter(f"{TYPES}Override")}
        problems += [f"no type: {n}" for n in names - {"[Content_Types].xml"}
                     if n not in overrides and n.rsplit(".", 1)[-1].lower() not in defaults]
        problems += [f"type of a missing part: {n}" for n in overrides - names]
        for rels in (n for n in names if n.endswith(".rels")):
            folder = posixpath.dirname(posixpath.dirname(rels))
            found = list(ElementTree.fromstring(archive.read(rels)).iter(f"{PACKAGE}Relationship"))
            if len({e.get("Id") for e in found}) != len(found):
                problems.append(f"repeated id in {rels}")
            problems += [f"{rels} -> nothing at {e.get('Target')}" for e in found
                         if e.get("TargetMode") != "External" and target_of(folder, e.get("Target")) not in names]
        styles = ElementTree.fromstring(archive.read("xl/styles.xml"))
        problems += [f"styles {section.tag} count" for section in styles
                     if section.get("count") is not None and int(section.get("count")) != len(section)]
        sheets = list(ElementTree.fromstring(archive.read("xl/workbook.xml")).iter(f"{MAIN}sheet"))
        for attribute in ("name", "sheetId"):
            if len({s.get(attribute) for s in sheets}) != len(sheets):
                problems.append(f"repeated sheet {attribute}")
        for name in (n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")):
            order = [WORKSHEET_ORDER.index(child.tag.removeprefix(MAIN))
                     for child in ElementTree.fromstring(archive.read(name))]
            if order != sorted(order):
                problems.append(f"elements out of order in {name}")
    return problems


def target_of(folder: str, target: str) -> str:
    """The part a relationship points at (absolute, or relative to its source's folder)."""
    return target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))


def test_every_copy_is_a_sound_package(week):
    _, _, copies = week
    assert copies
    for path in copies.values():
        assert package_problems(path) == [], path


def test_every_copy_of_a_sample_week_is_a_sound_package(tmp_path):
    run = run_weekly(PROJECT / "config.yaml", PROJECT / "inputs", tmp_path / "out", None, progress=lambda m: None)
    copies = sorted((run.week_dir / "feedback").rglob("*.feedback.xlsx"))
    assert len(copies) == len(set(run.result.accounting["source_file"])) >= 8   # one per file of the sample
    for path in copies:
        assert package_problems(path) == [], path


# ---------------------------------------------------------------- the XML itself

def styles_of(package: bytes) -> xlsx_styles.Styles:
    parts = xlsx_package.read_package(package)
    return xlsx_styles.Styles(parts["xl/styles.xml"], xlsx_styles.children(parts["xl/styles.xml"], "cellXfs"),
                             fill_ids={"error": 90, "warning": 91})


def plain_package() -> bytes:
    buffer = io.BytesIO()
    xlsx_book({"ข้อมูล": [["ก", "ข", "ค"]]}).save(buffer)
    return buffer.getvalue()


def test_rows_and_cells_the_file_lacks_are_added_in_order():
    styles = styles_of(plain_package())
    sheet = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             b'<row spans="1:3" r="1"><c t="s" r="A1"><v>0</v></c><c r="C1" s="0"><v>2</v></c></row>'
             b'<row r="4"/></sheetData></worksheet>')
    marked = xlsx_marks._marked_cells(sheet, {(1, 2): "error", (1, 3): "warning", (3, 1): "error", (5, 2): "warning",
                                              (4, 1): "error"}, styles)
    root = ElementTree.fromstring(marked)
    rows = [(row.get("r"), [(c.get("r"), c.get("s")) for c in row]) for row in root.iter(f"{MAIN}row")]
    error, warning = styles.clones[(0, "error")], styles.clones[(0, "warning")]
    assert rows == [("1", [("A1", None), ("B1", str(error)), ("C1", str(warning))]), ("3", [("A3", str(error))]),
                    ("4", [("A4", str(error))]), ("5", [("B5", str(warning))])]
    assert b"spans" not in marked


def test_a_marked_cell_keeps_everything_but_its_fill():
    styles = styles_of(plain_package())
    sheet = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             b'<row r="2" spans="1:2"><c r="A2" s="0" t="s"><v>7</v></c><c r="B2"><v>3</v></c></row>'
             b'</sheetData></worksheet>')
    marked = xlsx_marks._marked_cells(sheet, {(2, 1): "error"}, styles)
    clone = styles.appended_formats[styles.clones[(0, "error")] - len(styles.district_formats)]
    assert f'<c r="A2" t="s" s="{styles.clones[(0, "error")]}"><v>7</v></c>'.encode() in marked
    assert b'fillId="90"' in clone and b'applyFill="1"' in clone
    assert b'<row r="2" spans="1:2">' in marked and b'<c r="B2"><v>3</v></c>' in marked


@pytest.mark.parametrize("change", ["formula", "external link", "chart sheet"])
def test_packages_with_live_content_are_refused(change, tmp_path):
    book = xlsx_book({"ข้อมูล": [["ก", 1], ["ข", 2]]})
    if change == "formula":
        book["ข้อมูล"]["B3"] = "=SUM(B1:B2)"
    elif change == "external link":
        book["ข้อมูล"]["A1"].hyperlink = "https://example.com/"
    else:
        book.create_chartsheet("กราฟ")
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(xlsx_package.Unpatchable):
        xlsx_marks.marked_package(buffer.getvalue(), plain_package(), "สรุป", {})


def summary_book() -> bytes:
    """A marks book as feedback_book makes it: the summary sheet."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.add_worksheet("สรุป").write_string(0, 0, "หัวเรื่อง")
    book.close()
    return buffer.getvalue()


@pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")   # openpyxl reading the data bar
def test_comments_go_among_the_worksheets_own_children_not_inside_a_data_bar():
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("ข้อมูล")
    for row in range(6):
        sheet.write_number(row, 1, row)
    sheet.conditional_format("B1:B6", {"type": "data_bar", "data_bar_2010": True})   # a <cfRule> with its own <extLst>
    book.close()
    marked = xlsx_marks.marked_package(buffer.getvalue(), summary_book(), "สรุป",
                                       {"ข้อมูล": xlsx_marks.SheetMarks({(3, 2): "error"}, {(2, 1): "เหตุผล"})}, author="ระบบ")
    parts = xlsx_package.read_package(marked)
    root = ElementTree.fromstring(parts["xl/worksheets/sheet1.xml"])
    assert [child.tag for child in root].count(f"{MAIN}legacyDrawing") == 1
    copy = io.BytesIO(marked)
    assert openpyxl.load_workbook(copy)["ข้อมูล"]["B3"].comment.text == "เหตุผล"


def test_a_tab_selected_as_true_is_unselected_too():
    package = xlsx_package.read_package(plain_package())
    package["xl/worksheets/sheet1.xml"] = package["xl/worksheets/sheet1.xml"].replace(
        b'<sheetView workbookViewId="0">', b'<sheetView tabSelected="true" workbookViewId="0">')
    assert b'tabSelected="true"' in package["xl/worksheets/sheet1.xml"]   # as LibreOffice writes it
    marked = xlsx_marks.marked_package(xlsx_package.write_package(package), summary_book(), "สรุป", {})
    book = openpyxl.load_workbook(io.BytesIO(marked))
    assert [bool(sheet.sheet_view.tabSelected) for sheet in book.worksheets] == [True, False]


def test_an_empty_shared_string_counts_when_the_summary_strings_are_appended():
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    parts = {"xl/sharedStrings.xml": f'<sst xmlns="{main}" count="2" uniqueCount="2"><si/><si><t>ก</t></si></sst>'.encode()}
    book = xlsx_package.Workbook("xl/workbook.xml", {}, "xl/styles.xml", "xl/sharedStrings.xml",
                                 "xl/_rels/workbook.xml.rels")
    extra = f'<sst xmlns="{main}" count="1" uniqueCount="1"><si><t>สรุป</t></si></sst>'.encode()
    offset = xlsx_styles.merge_strings(parts, xlsx_package.ContentTypes({}, {}), book, extra)
    strings = ElementTree.fromstring(parts["xl/sharedStrings.xml"])
    assert offset == 2 and [si.findtext(f"{MAIN}t") for si in strings] == [None, "ก", "สรุป"]
    assert strings.get("uniqueCount") == "3"
