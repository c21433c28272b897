"""One sheet laid out as a district would: title rows, headers, data rows, blank rows and a totals row."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from pipeline.synthetic import forms
from pipeline.synthetic.cells import THAI_MONTHS, Typist

EXTRA_NUMBER = "ลำดับ"
EXTRA_NOTE = "หมายเหตุ"
NOTES = ("โทรไม่ติด", "ย้ายที่อยู่", "ข้อมูลจาก อสม.", "ตรวจสอบแล้ว")
GROUPS = {  # merged labels a form prints above related columns
    "title": "ข้อมูลบุคคล", "first_name": "ข้อมูลบุคคล", "last_name": "ข้อมูลบุคคล", "sex": "ข้อมูลบุคคล",
    "birth_date": "ข้อมูลบุคคล", "age": "ข้อมูลบุคคล", "nationality": "ข้อมูลบุคคล",
    "house_no": "ที่อยู่", "moo": "ที่อยู่", "subdistrict": "ที่อยู่", "district": "ที่อยู่",
    "lat": "พิกัด", "lon": "พิกัด",
}
# Thai characters that cannot start a line (they attach to the previous character).
COMBINING = set(chr(c) for c in (0x0E31, *range(0x0E34, 0x0E3B), *range(0x0E47, 0x0E4F)))
LEADING_VOWELS = set("เแโใไ")


@dataclass
class Row:
    """One planned row of a sheet: an entity's record, a spoiled record, a blank or a totals row."""

    kind: str  # record | error | blank | totals
    record: dict | None = None  # canonical values (for record and error rows)
    entity: object | None = None  # the Entity a record row stands for
    cells: dict = field(default_factory=dict)  # raw cells written instead of the canonical ones
    injection: str | None = None  # Injection name of an error row
    codes: tuple[str, ...] = ()  # problem codes the row must raise (errors and known warnings)
    source: str = "list"  # list | same_file | other_district | moved | resent


@dataclass
class Grid:
    """A sheet's cells, merges and the plan of each row below the header."""

    name: str
    dataset: str | None
    cells: list[list[object]]
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # 1-based r1, c1, r2, c2
    hidden: bool = False
    header_row: int = 0  # 1-based; 0 for a junk sheet
    rows: dict[int, Row] = field(default_factory=dict)  # excel row -> plan
    columns: list[str] = field(default_factory=list)  # field key (or extra name) of each column
    drifts: set[str] = field(default_factory=set)  # drifts really present in this sheet


def sheet_fields(dataset: str) -> list[dict]:
    """Fields written to a sheet: every declared field (the age column too, so age-only rows stay valid)."""
    return forms.fields(dataset)


def header_text(typist: Typist, dataset: str, key: str, present: set[str]) -> str:
    """How the sheet prints one field's header."""
    spellings = [s for s in forms.header_spellings(dataset, key) if typist.encodable(s)]
    text = spellings[0]
    if len(spellings) > 1 and typist.drift(typist.drifts.alias_headers):
        text = typist.factory.pick(spellings[1:])
        present.add("alias_headers")
    if typist.drift(typist.drifts.messy_headers):
        text = _messy(typist, text)
        present.add("messy_headers")
    return text


def _messy(typist: Typist, text: str) -> str:
    style = typist.factory.pick(("star", "spaces", "break", "break_star"))
    if "break" in style and (" " in text.strip() or (len(text) >= 8 and not text.isascii())):
        text = _with_line_break(text)
    if style == "spaces":
        text = f" {text.replace(' ', '  ')}  "
    if "star" in style:
        text = text + typist.factory.pick(("*", " *", "**"))
    return text


def _with_line_break(text: str) -> str:
    """Break the header near its middle, never before a combining mark or after a leading vowel."""
    if " " in text.strip():
        return text.strip().replace(" ", "\n", 1)
    middle = len(text) // 2
    for position in sorted(range(1, len(text)), key=lambda p: abs(p - middle)):
        if text[position] not in COMBINING and text[position - 1] not in LEADING_VOWELS:
            return text[:position] + "\n" + text[position:]
    return text


def column_order(typist: Typist, keys: list[str], present: set[str]) -> list[str]:
    """The declared order, or with a few columns moved elsewhere."""
    keys = list(keys)
    if not typist.sheet_drift(typist.drifts.shuffled_columns):
        return keys
    original = list(keys)
    for _ in range(int(typist.factory.rng.integers(2, 4))):
        column = keys.pop(int(typist.factory.rng.integers(len(keys))))
        keys.insert(int(typist.factory.rng.integers(len(keys) + 1)), column)
    if keys != original:
        present.add("shuffled_columns")
    return keys


def title_lines(dataset: str, district: str, week: dt.date) -> list[str]:
    """The title a district prints above its table."""
    name = forms.province_districts()[district].name
    day = week - dt.timedelta(days=1)
    return [f"แบบรายงาน{forms.title(dataset)} อำเภอ{name} จังหวัด{forms.province_name()}",
            f"ข้อมูล ณ วันที่ {day.day} {THAI_MONTHS[day.month - 1]} {day.year + 543}"]


def build_grid(typist: Typist, dataset: str, name: str, rows: list[Row], *, district: str, week: dt.date) -> Grid:
    """Lay out one dataset's rows as a sheet with the drifts the typist allows."""
    drifts, factory = typist.drifts, typist.factory
    present: set[str] = set()
    columns = column_order(typist, [f["key"] for f in sheet_fields(dataset)], present)
    if typist.sheet_drift(drifts.extra_columns):
        extras = [EXTRA_NUMBER, EXTRA_NOTE] if factory.chance(0.5) else factory.pick(([EXTRA_NUMBER], [EXTRA_NOTE]))
        columns = ([EXTRA_NUMBER] if EXTRA_NUMBER in extras else []) + columns + ([EXTRA_NOTE] if EXTRA_NOTE in extras else [])
        present.add("extra_columns")
    headers = [key if key in (EXTRA_NUMBER, EXTRA_NOTE) else header_text(typist, dataset, key, present) for key in columns]
    grid = Grid(name=name, dataset=dataset, cells=[], columns=columns)
    if typist.sheet_drift(drifts.title_rows):
        lines = title_lines(dataset, district, week)
        grid.cells.append([lines[0]] + [None] * (len(columns) - 1))
        grid.merges.append((1, 1, 1, len(columns)))
        grid.cells.append([lines[1] if factory.chance(0.5) else None] + [None] * (len(columns) - 1))
        present.add("title_rows")
    if typist.sheet_drift(drifts.group_header):
        _add_group_row(grid, columns)
        present.add("group_header")
    grid.cells.append(headers)
    grid.header_row = len(grid.cells)
    _add_data_rows(typist, grid, dataset, rows, present)
    grid.drifts = present
    return grid


def _add_group_row(grid: Grid, columns: list[str]) -> None:
    row_number = len(grid.cells) + 1
    labels: list[object] = [None] * len(columns)
    start = 0
    while start < len(columns):
        group = GROUPS.get(columns[start])
        end = start
        while end + 1 < len(columns) and group and GROUPS.get(columns[end + 1]) == group:
            end += 1
        if group and end > start:
            labels[start] = group
            grid.merges.append((row_number, start + 1, row_number, end + 1))
        start = end + 1
    if not any(labels):  # no two grouped columns side by side: label the first two columns anyway
        labels[0] = "ข้อมูล"
        grid.merges.append((row_number, 1, row_number, 2))
    grid.cells.append(labels)


def _add_data_rows(typist: Typist, grid: Grid, dataset: str, rows: list[Row], present: set[str]) -> None:
    factory, drifts = typist.factory, typist.drifts
    rows = list(rows)
    if typist.sheet_drift(drifts.blank_rows) and len(rows) >= 2:
        for _ in range(int(factory.rng.integers(1, 3))):
            rows.insert(int(factory.rng.integers(1, len(rows))), Row("blank"))
        present.add("blank_rows")
    fields_by_key = {f["key"]: f for f in forms.fields(dataset)}
    number = 0
    for row in rows:
        if row.kind == "blank":
            grid.cells.append([None] * len(grid.columns))
        else:
            number += 1
            grid.cells.append([_cell(typist, fields_by_key, key, row, number, present) for key in grid.columns])
        grid.rows[len(grid.cells)] = row
    if typist.sheet_drift(drifts.totals_row):
        marker = factory.pick(("รวม", "รวม", "รวมทั้งสิ้น"))
        grid.cells.append([marker, number] + [None] * (len(grid.columns) - 2))
        grid.rows[len(grid.cells)] = Row("totals")
        present.add("totals_row")


def _cell(typist: Typist, fields_by_key: dict, key: str, row: Row, number: int, present: set[str]):
    if key == EXTRA_NUMBER:
        return number
    if key == EXTRA_NOTE:
        return typist.factory.pick(NOTES) if typist.factory.chance(0.1) else None
    if key in row.cells:
        value = row.cells[key]
        # A spoiled date given as a date still goes through the typist; text and numbers are written as is.
        return typist.cell(fields_by_key[key], value) if isinstance(value, dt.date) else value
    canonical = row.record.get(key)
    value = typist.cell(fields_by_key[key], canonical)
    _note_value_drift(fields_by_key[key], canonical, value, present)
    return value


def _note_value_drift(field: dict, canonical, value, present: set[str]) -> None:
    """Record which value drifts a cell shows (tests check that drifts are really in the files)."""
    if field["type"] in ("choice", "nationality") and value != canonical:
        present.add("choice_variants")
    if isinstance(value, int) and field["type"] in ("mobile", "phone"):
        present.add("numeric_phones")
    if field["type"] == "person_id" and (isinstance(value, int) or (isinstance(value, str) and ("-" in value or " " in value))):
        present.add("id_formats")
    if isinstance(value, str) and any("๐" <= ch <= "๙" for ch in value):
        present.add("thai_digits")
    if field["type"] == "date" and (isinstance(value, str) or (isinstance(value, dt.date) and value.year > 2400)):
        present.add("buddhist_dates")
    if field["type"] in ("district", "subdistrict") and isinstance(value, str) and (
            value.startswith(("อ.", "อำเภอ", "ต.", "ตำบล")) or value == "เมือง"):
        present.add("place_prefixes")


def junk_grid(name: str) -> Grid:
    """A sheet of leftovers (a dropdown list, scribbles) that matches no form."""
    cells = [["list1", "code"], ["ก", 1], ["ข", 2], ["xx", None], [None, "ไม่ใช้"]]
    return Grid(name=name, dataset=None, cells=cells, hidden=True)
