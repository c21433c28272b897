"""One sheet laid out as a district would: title rows, headers, data rows, blank rows and a totals row."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from pipeline.synthetic import forms
from pipeline.synthetic.cells import THAI_DIGITS, THAI_MONTHS, Typist

EXTRA_NUMBER = "ลำดับ"
EXTRA_NOTE = "หมายเหตุ"
NOTES = ("โทรไม่ติด", "ย้ายที่อยู่", "ข้อมูลจาก อสม.", "ตรวจสอบแล้ว")
GROUPS = {  # merged labels a form prints above related columns
    "title": "ข้อมูลบุคคล", "first_name": "ข้อมูลบุคคล", "last_name": "ข้อมูลบุคคล", "sex": "ข้อมูลบุคคล",
    "birth_date": "ข้อมูลบุคคล", "age": "ข้อมูลบุคคล", "nationality": "ข้อมูลบุคคล",
    "house_no": "ที่อยู่", "moo": "ที่อยู่", "subdistrict": "ที่อยู่", "district": "ที่อยู่",
    "lat": "พิกัด", "lon": "พิกัด",
}
# Hints a form prints in a header cell besides the field's name (FORMS.md §2: stripped before matching).
DATE_HINTS = ("(วว/ดด/ปปปป)", "(ว/ด/ป)", "(วัน/เดือน/ปี พ.ศ.)", "(dd/mm/yyyy)")
UNIT_HINTS = {"age": ("(ปี)",), "capacity": ("(คน)", "(เตียง)")}
CHOICE_HINTS = ("(เลือก)", "(ระบุ)")
NUMBERING = ("{n}.", "{n}. ", "{n})", "{n}) ", "{thai}.", "{thai}. ")
MERGED_KEYS = ("district", "subdistrict", "moo")  # typed once per village and merged down
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
    dropped: tuple[str, ...] = ()  # declared fields the sheet has no column for
    hinted: dict[str, str] = field(default_factory=dict)  # field key -> header written with a hint


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


def hint_for(dataset: str, key: str) -> tuple[str, ...]:
    """Bracketed hints a form may print after this field's name: a date format, a unit, a choice note,
    or the field's English name (only an English spelling that names no other field of the form)."""
    declared = forms.field(dataset, key)
    hints: list[str] = []
    if declared["type"] == "date":
        hints += DATE_HINTS
    hints += UNIT_HINTS.get(key, ())
    if declared["type"] in ("choice", "nationality"):
        hints += CHOICE_HINTS
    english = [s for s in forms.header_spellings(dataset, key) if s.isascii() and s.replace(" ", "").isalpha()]
    hints += [f"({name.title()})" for name in english[:2]]
    return tuple(hints)


def hinted_header(typist: Typist, dataset: str, key: str, text: str, position: int, numbering: str | None) -> str:
    """A header as a government form prints it: numbered, with a bracketed hint, or with a trailing ':'."""
    factory = typist.factory
    # No second bracket, and no English name after a header already in English.
    hints = [h for h in hint_for(dataset, key) if typist.encodable(h) and not (text.isascii() and h[1:2].isascii()
                                                                             and h[1:2].isalpha())] \
        if "(" not in text else []
    styles = (["number"] if numbering else []) + (["hint", "hint"] if hints else []) + ["colon"]
    chosen = set(factory.pick([[s] for s in styles] + ([styles] if len(styles) > 1 else [])))
    if "hint" in chosen:
        text = f"{text}{factory.pick((' ', ' ', '', chr(10)))}{factory.pick(hints)}"
    if "colon" in chosen:
        text = f"{text}{factory.pick((':', ' :'))}"
    if "number" in chosen:
        text = numbering.format(n=position, thai=str(position).translate(THAI_DIGITS)) + text
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


def spoiled_keys(rows: list[Row]) -> set[str]:
    """Fields some row writes raw text into (an injected error, a warned value): their columns may not
    be valid enough for a hinted header to count, so those headers are printed plain."""
    return {key for row in rows for key in row.cells}


def build_grid(typist: Typist, dataset: str, name: str, rows: list[Row], *, district: str, week: dt.date,
               mergeable: bool = False, dropped: tuple[str, ...] = ()) -> Grid:
    """Lay out one dataset's rows as a sheet with the drifts the typist allows (mergeable: xlsx or ods)."""
    drifts, factory = typist.drifts, typist.factory
    present: set[str] = set()
    columns = column_order(typist, [f["key"] for f in sheet_fields(dataset) if f["key"] not in dropped], present)
    if typist.sheet_drift(drifts.extra_columns):
        extras = [EXTRA_NUMBER, EXTRA_NOTE] if factory.chance(0.5) else factory.pick(([EXTRA_NUMBER], [EXTRA_NOTE]))
        columns = ([EXTRA_NUMBER] if EXTRA_NUMBER in extras else []) + columns + ([EXTRA_NOTE] if EXTRA_NOTE in extras else [])
        present.add("extra_columns")
    headers = [key if key in (EXTRA_NUMBER, EXTRA_NOTE) else header_text(typist, dataset, key, present) for key in columns]
    hinted: dict[str, str] = {}
    if typist.sheet_drift(drifts.hinted_headers):
        numbering = factory.pick(NUMBERING) if factory.chance(0.5) else None
        spoiled = spoiled_keys(rows)
        for position, key in enumerate(columns, start=1):
            if key in (EXTRA_NUMBER, EXTRA_NOTE) or key in spoiled or not factory.chance(0.5):
                continue
            plain = _plain(headers[position - 1])
            headers[position - 1] = hinted[key] = hinted_header(typist, dataset, key, plain, position, numbering)
        if hinted:
            present.add("hinted_headers")
    merge = mergeable and typist.sheet_drift(drifts.merged_cells) and any(k in columns for k in MERGED_KEYS)
    if merge:  # a clerk's list runs village by village
        rows = sorted(rows, key=_village)
    grid = Grid(name=name, dataset=dataset, cells=[], columns=columns, dropped=tuple(dropped), hinted=hinted)
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
    if merge and _merge_villages(grid):
        present.add("merged_cells")
    grid.drifts = present
    return grid


def _plain(header: str) -> str:
    """A header without the star, padding and line break messy_headers added (a hint replaces them)."""
    return " ".join(header.replace("*", " ").split())


def _village(row: Row) -> tuple:
    """Sort key a clerk's list follows: district, subdistrict, village (error rows by what they hold)."""
    record = {**(row.record or {}), **row.cells}
    return tuple(str(record.get(key) or "") for key in MERGED_KEYS[:2]) + (str(record.get("moo") or "").zfill(3),)


def _merge_villages(grid: Grid) -> bool:
    """Merge each run of adjacent data rows with the same หมู่/ตำบล/อำเภอ down its column, the value
    kept in the run's first cell only (as a spreadsheet stores a merge). True if any merge was made."""
    merged = False
    for key in [k for k in MERGED_KEYS if k in grid.columns]:
        column = grid.columns.index(key)
        run: list[int] = []
        for number in [*sorted(grid.rows), None]:
            row = grid.rows.get(number) if number is not None else None
            value = _source_value(row, key) if row is not None and row.kind in ("record", "error") else None
            if run and value is not None and number == run[-1] + 1 and value == _source_value(grid.rows[run[0]], key):
                run.append(number)
                continue
            if len(run) >= 2:
                for below in run[1:]:
                    grid.cells[below - 1][column] = None
                grid.merges.append((run[0], column + 1, run[-1], column + 1))
                merged = True
            run = [number] if value is not None else []
    return merged


def _source_value(row: Row, key: str):
    """What a row holds for a field before typing: the raw cell if it has one, else the canonical value."""
    value = row.cells[key] if key in row.cells else (row.record or {}).get(key)
    return None if value is None or value == "" else repr(value)


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
