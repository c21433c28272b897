"""How districts type values: canonical values turned into the cell contents real files hold."""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from pipeline.synthetic import forms

THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
THAI_MONTHS = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.")
BUDDHIST_OFFSET = 543


@dataclass(frozen=True)
class Drifts:
    """Which kinds of real-file drift (FORMS.md §2) the writers produce; each can be switched alone."""

    title_rows: bool = True  # a merged title row (and a subtitle or blank row) above the header
    group_header: bool = True  # merged group cells ('ที่อยู่', 'ข้อมูลบุคคล') in a row above the header
    messy_headers: bool = True  # extra spaces, line breaks, trailing '*'
    alias_headers: bool = True  # English or other spellings from schema.yaml aliases
    shuffled_columns: bool = True
    extra_columns: bool = True  # 'ลำดับ', 'หมายเหตุ' (and อายุ for the unvaccinated)
    thai_digits: bool = True  # ๐–๙ in numbers, phones, IDs and text dates
    buddhist_dates: bool = True  # BE dates in several spellings, BE-year date cells
    numeric_phones: bool = True  # phones stored as numbers (leading 0 lost)
    id_formats: bool = True  # IDs stored as numbers or written with dashes/spaces
    choice_variants: bool = True  # closed-list variants from schema.yaml
    place_prefixes: bool = True  # อ./อำเภอ/ต./ตำบล prefixes, 'เมือง' for เมืองแพร่
    blank_rows: bool = True  # blank rows between the data rows
    totals_row: bool = True  # 'รวม' + a count below the last row
    hidden_sheet: bool = True  # a hidden sheet of junk (xlsx)
    sheet_names: bool = True  # sheets/CSVs named by an alias or something unrelated
    hinted_headers: bool = True  # '3.'/'๓.' numbering, '(วว/ดด/ปปปป)'/'(คน)'/'(เลือก)'/'(Tambon)' hints, a trailing ':'
    merged_cells: bool = True  # หมู่/ตำบล/อำเภอ typed once per run of equal rows and merged down (xlsx, ods)
    everyday_choices: bool = True  # 'ไม่', 'ไม่ ประสงค์', 'YES', 'ร.พ.สนาม': short, spaced, dotted, cased spellings
    not_stated: bool = True  # blank nationality, wish and reason of some people, blank status of some facilities
    missing_columns: bool = True  # an unvaccinated sheet without the wish or reason column, facilities without status
    stale_facilities: bool = True  # facilities last updated in November 2021 (before recording started)
    unusable_files: bool = True  # a district-week whose only files are a corrupt workbook or a cover letter
    corrections: bool = True  # a later file in the week moves a request to done, gives a facility a newer date
    replaced_files: bool = True  # a file saved again under its name a week later, a few records taken out
    removed_files: bool = True  # a file deleted from the inbox a week later
    rate: float = 0.35  # share of eligible cells and headers that drift, when their drift is on
    sheet_rate: float = 0.7  # share of sheets with a sheet-level drift (title, extra columns, …), when on

    @classmethod
    def none(cls) -> "Drifts":
        """Clean files: every drift off."""
        return cls(**{name: False for name in cls.names()})

    @classmethod
    def only(cls, *names: str) -> "Drifts":
        """Only the named drifts on."""
        return dataclasses.replace(cls.none(), **{name: True for name in names})

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Names of the switchable drifts."""
        return tuple(f.name for f in dataclasses.fields(cls) if f.type in (bool, "bool"))


class Typist:
    """Turns canonical values into cell values the way a district clerk would, as drifts allow."""

    def __init__(self, factory, drifts: Drifts, charset: str | None = None):
        self.factory = factory
        self.drifts = drifts
        self.charset = charset  # CSV encoding: variants it cannot encode are not used

    def drift(self, enabled: bool) -> bool:
        """Whether this cell drifts (a drift on, then a draw)."""
        return enabled and self.factory.chance(self.drifts.rate)

    def sheet_drift(self, enabled: bool) -> bool:
        """Whether a whole sheet drifts (a drift on, then a draw at the sheet rate)."""
        return enabled and self.factory.chance(self.drifts.sheet_rate)

    def encodable(self, text: str) -> bool:
        """Whether the target encoding can hold the text."""
        if self.charset is None:
            return True
        try:
            text.encode(self.charset)
        except UnicodeEncodeError:
            return False
        return True

    def thai(self, text: str) -> str:
        """Thai digits, when that drift is on and drawn."""
        return text.translate(THAI_DIGITS) if self.drift(self.drifts.thai_digits) else text

    # -- one function per field type ---------------------------------------------------------
    def cell(self, field: dict, value):
        """The cell for one canonical value of a field."""
        if value is None or value == "":
            return None
        kind = field["type"]
        if kind == "date":
            return self.date(value)
        if kind in ("mobile", "phone"):
            return self.phone(value)
        if kind == "person_id":
            return self.person_id(value)
        if kind == "whole":
            return self.thai(str(value)) if self.drift(self.drifts.thai_digits) else int(value)
        if kind in ("choice", "nationality"):
            return self.choice(field["choices"], value)
        if kind == "district":
            return self.district(value)
        if kind == "subdistrict":
            return self.subdistrict(value)
        return value

    def date(self, day: dt.date):
        """A date as a real cell, a BE-year cell or BE text in one of several spellings."""
        if not self.drift(self.drifts.buddhist_dates):
            return day
        year = day.year + BUDDHIST_OFFSET
        month = THAI_MONTHS[day.month - 1]
        spellings: list = [
            f"{day.day:02d}/{day.month:02d}/{year}",
            f"{day.day}/{day.month}/{year}",
            f"{day.day} {month} {year}",
            f"({day.day}{month}{year})",
        ]
        if not (day.month == 2 and day.day == 29):  # 29 Feb of a CE leap year is no date in the BE year
            spellings.append(dt.date(year, day.month, day.day))  # 20/12/2564 typed into a date cell: year 2564
        if day.year >= 2021:  # a two-digit year is only written for recent dates
            spellings.append(f"{day.day} {month}{year % 100:02d}")
        choice = self.factory.pick(spellings)
        return choice if isinstance(choice, dt.date) else self.thai(choice)

    def phone(self, number: str):
        """A phone as text, with dashes, Thai digits, or a number that lost its leading 0."""
        if self.drift(self.drifts.numeric_phones):
            return int(number)
        if self.factory.chance(0.3):
            number = f"{number[:3]}-{number[3:6]}-{number[6:]}" if len(number) == 10 else f"{number[:3]}-{number[3:]}"
        return self.thai(number)

    def person_id(self, number: str):
        """An ID as text, as a number, or with dashes as printed on the card."""
        if not number.isdigit() or not self.drift(self.drifts.id_formats):
            return number
        if number[0] != "0" and self.factory.chance(0.5):  # a number cell keeps 13 digits unless it starts with 0
            return int(number)
        separator = self.factory.pick(("-", "-", " "))
        parts = (number[0], number[1:5], number[5:10], number[10:12], number[12])
        return self.thai(separator.join(parts))

    def choice(self, list_name: str, value: str) -> str:
        """The canonical value, one of its declared variants, or an everyday spelling of either."""
        if self.drift(self.drifts.everyday_choices):
            spellings = [s for s in everyday_spellings(list_name, value) if self.encodable(s)]
            if spellings:
                return self.factory.pick(spellings)
        if not self.drift(self.drifts.choice_variants):
            return value
        variants = [v for v in forms.choice_variants(list_name, value) if self.encodable(v)]
        return self.factory.pick(variants) if variants else value

    def district(self, code: str) -> str:
        """A district name, maybe with อ./อำเภอ, or เมือง for the capital district."""
        name = forms.province_districts()[code].name
        if not self.drift(self.drifts.place_prefixes):
            return name
        spellings = [f"อ.{name}", f"อำเภอ{name}", f"อำเภอ {name}"]
        if name.startswith("เมือง"):
            spellings += ["เมือง", "อ.เมือง"]
        return self.factory.pick(spellings)

    def subdistrict(self, code: str) -> str:
        """A subdistrict name, maybe with ต./ตำบล."""
        name = forms.province_districts()[code[:4]].subdistricts[code]
        if not self.drift(self.drifts.place_prefixes):
            return name
        return self.factory.pick((f"ต.{name}", f"ตำบล{name}", f"ตำบล {name}"))


# Short forms a clerk types for a closed-list value (schema.yaml declares them as variants).
SHORT_FORMS = {("wants_vaccine", "ไม่ประสงค์"): ("ไม่",)}
# Words after which a clerk may put a space ('ไม่ ประสงค์', 'เปิด ให้บริการ'); spacing is ignored when comparing.
SPACED_AFTER = ("ไม่", "ดำเนินการ", "เปิด", "กลัว", "จุด", "ขอรับ", "รอ", "ไม่มี", "โรงพยาบาล", "แจ้ง")


def everyday_spellings(list_name: str, value: str) -> list[str]:
    """How a clerk writes a closed-list value besides its declared spellings: a short form, a space after
    a leading word, dots in an abbreviation (ร.พ.), English in capitals; all mean the value (schema.yaml)."""
    spellings = list(SHORT_FORMS.get((list_name, value), ()))
    for text in (value, *forms.choice_variants(list_name, value)):
        word = next((w for w in sorted(SPACED_AFTER, key=len, reverse=True)
                     if text.startswith(w) and len(text) > len(w) and text[len(w)] != " "), None)
        if word:
            spellings.append(f"{word} {text[len(word):]}")
        if text.startswith("รพ."):
            spellings.append("ร.พ." + text[3:])
        if text.isascii() and text.isalpha() and len(text) > 1:
            spellings.append(text.upper() if len(text) <= 3 else text.title())
    return list(dict.fromkeys(s for s in spellings if s != value))


def csv_text(value) -> str:
    """A cell as Excel saves it to CSV: a date cell typed with a BE year as 20/12/2564, other dates ISO."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return f"{value.day:02d}/{value.month:02d}/{value.year}" if value.year > 2400 else value.isoformat()
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value).replace("\r", " ").replace("\n", " ")
