"""Turn raw spreadsheet cells into clean typed values.

Cells are what python-calamine or a CSV reader gives: str, float, int, bool, date, datetime, time,
None/NaN or "". Every public Series function keeps the input's index, never mutates its input and
never raises on bad data: problems come back as snake_case codes. Blank cells (None, NaN, "",
whitespace or zero-width only) give value None and problem None. Costly work runs once per distinct
cell (_map_unique), so a 200k-row column with repeats costs only its unique parses.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache, partial

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

# pythainlp's Thai character classes (pythainlp.thai_above_vowels etc.), written out: importing
# pythainlp costs a quarter of a second, and its normalize() is only needed for text that needs it.
thai_above_vowels = "\u0e31\u0e34\u0e35\u0e36\u0e37\u0e4d\u0e47"
thai_below_vowels = "\u0e38\u0e39"
thai_follow_vowels = "\u0e30\u0e32\u0e33\u0e45"
thai_lead_vowels = "\u0e40\u0e41\u0e42\u0e43\u0e44"
thai_tonemarks = "\u0e48\u0e49\u0e4a\u0e4b"


def thai_normalize(text: str) -> str:
    """pythainlp.util.normalize, imported on first use."""
    from pythainlp.util import normalize
    return normalize(text)

# --- text -----------------------------------------------------------------------------------

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
# Invisible format characters: zero-width space/non-joiner/joiner, BOM, word joiner, soft hyphen,
# invisible operators and bidi controls. pythainlp only removes U+200B and U+200C.
_INVISIBLE = "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e" \
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
# Whitespace-like controls and every Unicode space separator (NBSP, figure space, ...) become ' '.
_SPACES = "\t\n\v\f\r\x85\u00a0\u1680\u2028\u2029\u202f\u205f\u3000" \
    + "".join(map(chr, range(0x2000, 0x200B)))
_CLEANING_TABLE = {code: None for code in [*range(0x20), *range(0x7F, 0xA0)]}  # C0, DEL, C1
_CLEANING_TABLE |= {ord(char): None for char in _INVISIBLE}
_CLEANING_TABLE |= {ord(char): " " for char in _SPACES}
# str.translate costs ~3 µs on Thai text; this search finds the rare text that needs it in ~0.4 µs.
_NEEDS_CLEANING = re.compile("[" + "".join(map(chr, _CLEANING_TABLE)) + "]")
# match_key drops these (and all whitespace): punctuation people add or omit around the same word.
MATCH_KEY_DROPPED = ".,:;*'\"`()[]{}<>-_/\\?!\u2018\u2019\u201c\u201d\u2010\u2011\u2012\u2013\u2014\u2015"
_MATCH_KEY_TABLE = {ord(char): None for char in MATCH_KEY_DROPPED}
_NUMBER_TYPES = (int, float, np.integer, np.floating)  # concrete types: ABC checks are slow
_FLOAT_TEXT = re.compile(r"(\d{1,20})\.0*")  # '812345678.0': a float cell written out as text (CSV)

# What pythainlp.util.normalize rewrites, besides spaces and U+200B/C (removed above): nikhahit
# (decomposed sara am), lakkhangyao, เเ, a tone mark or thanthakhat before a vowel or tone mark,
# a follow vowel before a tone mark, a repeated vowel or sign, a mark at the start or after a
# space. It costs ~80 µs a call; text matching none of these comes back unchanged, so skip it.
_THAI_MARKS = f"{thai_above_vowels}{thai_below_vowels}{thai_tonemarks}\u0e3a\u0e4c\u0e4d\u0e4e"
_REPEATABLE = f"{thai_follow_vowels}{thai_lead_vowels}{_THAI_MARKS}"
_NEEDS_THAI_FIX = re.compile(
    f"(?=[{_REPEATABLE}\\s])"  # a cheap first-character filter: ~2x faster on clean text
    f"(?:[\u0e4d\u0e45]|\u0e40\u0e40"
    f"|[{thai_tonemarks}\u0e4c][{thai_above_vowels}{thai_below_vowels}{thai_tonemarks}]"
    f"|[{thai_follow_vowels}][{thai_tonemarks}]|([{_REPEATABLE}]) *\\1|\\s[{_THAI_MARKS}])"
)


def to_arabic_digits(text: str) -> str:
    """Replace Thai digits ๐-๙ with 0-9."""
    return text.translate(_THAI_DIGITS)


def _clean_string(text: str) -> str:
    if _NEEDS_CLEANING.search(text):
        text = text.translate(_CLEANING_TABLE)
    if text.isascii():  # no Thai to fix, nothing for NFC to compose
        return " ".join(text.split())
    if (text and text[0] in _THAI_MARKS) or _NEEDS_THAI_FIX.search(text):
        text = thai_normalize(text)
    # NFC only: NFKC/NFKD would split sara am (ำ) into nikhahit + sara aa.
    return " ".join(unicodedata.normalize("NFC", text).split())


def _cell_to_text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, str):
        return _clean_string(cell)
    if isinstance(cell, (bool, np.bool_)):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, (int, np.integer)):
        return str(int(cell))
    if isinstance(cell, (float, np.floating)):
        number = float(cell)
        if math.isnan(number):
            return ""
        # Excel stores typed digits as floats: 812345678.0 must read back as '812345678'.
        return str(int(number)) if number.is_integer() else repr(number)
    if isinstance(cell, (dt.date, dt.datetime)):  # datetime.isoformat keeps the time part
        return cell.isoformat()
    if isinstance(cell, dt.time):
        return cell.strftime("%H:%M:%S")
    return _clean_string(str(cell))


def cell_text(cell: object) -> str:
    """One cell as clean text, exactly as clean_text gives it ('' for blank)."""
    if cell is None or type(cell) is str:
        return _cell_to_text(cell)
    return "" if pd.isna(cell) is True else _cell_to_text(cell)


def match_key(text: str) -> str:
    """Key for comparing headers and closed-list values: tolerant of spacing, case, dots, '*', brackets, line breaks."""  # noqa: E501
    # Cleans like clean_text, converts Thai digits, casefolds, then drops all whitespace and the
    # characters in MATCH_KEY_DROPPED. Letters, digits, Thai marks, ฯ, ๆ, + % & # @ are kept.
    if type(text) is str:  # headers, sheet names and list values repeat across sheets and files
        return _match_key_of_text(text)
    return _match_key(text)


def _match_key(text: object) -> str:
    key = to_arabic_digits(_cell_to_text(text)).casefold().translate(_MATCH_KEY_TABLE)
    return "".join(key.split())


_match_key_of_text = lru_cache(maxsize=1 << 16)(_match_key)


# --- mapping over unique cells --------------------------------------------------------------


def _unique_cells(values: pd.Series) -> tuple[np.ndarray, list]:
    """Row codes (-1 for NA) and the distinct cells, keeping bools apart from numbers."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    cells = pd.Index(uniques).tolist()
    # pandas hashes True, 1 and 1.0 as one key; split by 'is bool' only when that can happen
    # (infer_dtype scans in C: only 'mixed' columns can hold bools next to numbers; isin hashes in C too).
    if len(cells) and infer_dtype(values, skipna=True) in ("mixed", "mixed-integer") \
            and _holds_bool_among_numbers(values, codes, uniques):
        is_bool = values.map(type).isin([bool, np.bool_]).to_numpy(dtype=np.int64)
        combined = np.where(codes < 0, -1, codes * 2 + is_bool)
        present, first_rows, inverse = np.unique(combined, return_index=True, return_inverse=True)
        offset = int(present.size > 0 and present[0] < 0)
        codes = np.where(combined < 0, -1, inverse.ravel() - offset)
        cells = values.to_numpy(dtype=object)[first_rows[offset:]].tolist()
    return codes, cells


_ZERO_AND_ONE = [0, 1]


def _holds_bool_among_numbers(values: pd.Series, codes: np.ndarray, uniques) -> bool:
    """True when a bool hides among the cells pandas hashes as 0 or 1 (True == 1, False == 0)."""
    zero_or_one = np.flatnonzero(pd.Index(uniques, dtype=object).isin(_ZERO_AND_ONE))
    if not len(zero_or_one):
        return False
    # Only rows coded as a 0 or 1 can hold a bool: look at the types of those rows alone.
    rows = np.flatnonzero(np.isin(codes, zero_or_one))
    return bool(values.iloc[rows].map(type).isin([bool, np.bool_]).any())


def _object_array(items) -> np.ndarray:
    """A 1-d object array of the items (strings, tuples of them or None are never unpacked)."""
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


def _map_unique(values: pd.Series, parse: Callable[[object], tuple], blank: tuple,
                bulk: Callable[[list], list] | None = None) -> list[np.ndarray]:
    """Run parse once per distinct cell; return one object array per result field, in row order.

    `bulk`, when given, parses the common shapes of all distinct cells at once and returns None for
    the cells it leaves to `parse` (which decides every odd cell exactly as before).
    """
    codes, cells = _unique_cells(values)
    if bulk is not None and cells:
        results = [found if found is not None else parse(cell) for found, cell in zip(bulk(cells), cells)]
    else:
        results = [parse(cell) for cell in cells]
    results.append(blank)  # code -1 (NA) picks the last: blank
    if len(blank) == 1:
        return [_object_array([result[0] for result in results])[codes]]
    return [_object_array(column)[codes] for column in zip(*results)]


def _frame(values: pd.Series, names: tuple[str, ...], parse: Callable[[object], tuple],
           bulk: Callable[[list], list] | None = None) -> pd.DataFrame:
    columns = _map_unique(values, parse, (None,) * len(names), bulk)
    # dtype=object: pandas 3 would otherwise turn str/None columns into 'str' with NaN.
    return pd.DataFrame(dict(zip(names, columns)), index=values.index, dtype=object)


def unique_texts(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Row codes and the clean text of each distinct cell, '' for the NA code -1 (the last entry).

    For per-value work on text (lookups, hints): do it once per entry, then take by the codes.
    """
    codes, cells = _unique_cells(values)
    return codes, [_cell_to_text(cell) for cell in cells] + [""]


def clean_text(values: pd.Series) -> pd.Series:
    """Raw cells -> clean str ('' for blank)."""
    codes, texts = unique_texts(values)
    return pd.Series(_object_array(texts)[codes], index=values.index, dtype=object, name=values.name)


def _is_number_cell(cell: object) -> bool:
    return isinstance(cell, _NUMBER_TYPES) and not isinstance(cell, (bool, np.bool_))


def _as_float(cell: float) -> float:
    try:
        return float(cell)
    except OverflowError:  # an int beyond float range
        return math.inf


def _whole_number_digits(cell: float) -> str | None:
    """'812345678' for 812345678.0; None for fractions, negatives, inf."""
    if isinstance(cell, (int, np.integer)):
        return str(int(cell)) if cell >= 0 else None
    number = float(cell)
    return str(int(number)) if math.isfinite(number) and number.is_integer() and number >= 0 else None


def _dispatch(cell: object, number: Callable, text: Callable, other: Callable, blank: tuple) -> tuple:
    """Route a cell to the parser for numbers, for bool/date/time, or for its cleaned text."""
    if _is_number_cell(cell):
        return number(cell)
    if isinstance(cell, (bool, np.bool_, dt.date, dt.time)):
        return other(cell)
    cleaned = to_arabic_digits(_cell_to_text(cell))  # str, and str() of anything else (Decimal)
    return text(cleaned) if cleaned else blank


# --- dates ----------------------------------------------------------------------------------

_MONTH_NAMES = [
    ("มค มกราคม มกรา jan january", 1), ("กพ กุมภาพันธ์ กุมภา feb february", 2),
    ("มีค มีนาคม มีนา mar march", 3), ("เมย เมษายน เมษา apr april", 4),
    ("พค พฤษภาคม พฤษภา may", 5), ("มิย มิถุนายน มิถุนา jun june", 6),
    ("กค กรกฎาคม กรกฎา jul july", 7), ("สค สิงหาคม สิงหา aug august", 8),
    ("กย กันยายน กันยา sep sept september", 9), ("ตค ตุลาคม ตุลา oct october", 10),
    ("พย พฤศจิกายน พฤศจิกา nov november", 11), ("ธค ธันวาคม ธันวา dec december", 12),
]
_MONTHS = {name: month for names, month in _MONTH_NAMES for name in names.split()}
_EXCEL_EPOCH = dt.date(1899, 12, 30)
# Serials below 10000 (1927-05-18) are more likely a bare year (2564) or day than a date.
_SERIAL_WINDOW = (10000, 80000)
_WEEKDAY_PREFIX = re.compile(
    r"^(?:ณ\s*)?วัน(?:อาทิตย์|จันทร์|อังคาร|พุธ|พฤหัสบดี|พฤหัส|ศุกร์|เสาร์)?\s*(?:ที่)?\s*"
)
_ERA = re.compile(r"(พ|ค)\.?\s*ศ\.?|(?<![a-z])(b\.?\s?e|a\.?\s?d|c\.?\s?e)\.?(?![a-z])")
_TIME_SUFFIX = re.compile(
    r"(?:\s*เวลา)?[\st]+\d{1,2}[:.]\d{2}(?:[:.]\d{2}(?:\.\d+)?)?\s*(?:น\.?|am|pm|z)?$"
)
_YEAR_FIRST = re.compile(r"(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})")
_DAY_FIRST = re.compile(r"(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4}|\d{2})")
_DAY_WORD_YEAR = re.compile(
    r"(\d{1,2})(?:st|nd|rd|th)?\s*[-/.,]?\s*([^\d\s][^\d]*?)\s*[-/.,]?\s*(\d{4}|\d{2})"
)
_WORD_DAY_YEAR = re.compile(r"([^\d\s][^\d]*?)\s*[-/.]?\s*(\d{1,2})(?:st|nd|rd|th)?\s*,?\s*(\d{4}|\d{2})")
_DIGITS_TEXT = re.compile(r"(\d{5}|\d{8})(?:\.\d*)?")  # an Excel serial, or yyyymmdd / ddmmyyyy


def _checked_date(value: dt.date) -> tuple:
    return (value, None) if 1900 <= value.year <= 2100 else (None, "date_invalid")


def _year_from_text(year: str, era: str | None) -> int:
    number = int(year)
    if len(year) == 2:  # Thai hands write 2-digit BE years: 64 -> 2564; 21 -> 2021
        buddhist = era == "BE" or (era is None and number >= 43)
        return 2500 + number - 543 if buddhist else 2000 + number
    return number - 543 if era == "BE" or (era is None and number > 2400) else number


def _date_from_parts(year: str, month: int, day: int, era: str | None = None) -> tuple:
    try:
        return _checked_date(dt.date(_year_from_text(year, era), month, day))
    except ValueError:
        return None, "date_invalid"


def _date_from_calendar(cell: dt.date) -> tuple:
    value = cell.date() if isinstance(cell, dt.datetime) else cell
    if value.year > 2400:  # a Thai-locale Excel stores 20/12/2564 with the year 2564
        try:
            value = value.replace(year=value.year - 543)
        except ValueError:  # 29 Feb of a BE year whose CE year is not leap
            return None, "date_invalid"
    return _checked_date(value)


def _date_from_digits(digits: str) -> tuple:
    if len(digits) == 8:  # yyyymmdd or ddmmyyyy: never both valid for years 19xx/20xx/25xx
        year_first = _date_from_parts(digits[:4], int(digits[4:6]), int(digits[6:]))
        if year_first[0]:
            return year_first
        return _date_from_parts(digits[4:], int(digits[2:4]), int(digits[:2]))
    return _date_from_serial(float(digits))


def _date_from_serial(number: float) -> tuple:
    if not _SERIAL_WINDOW[0] <= number < _SERIAL_WINDOW[1] + 1:
        return None, "date_unreadable"
    return _checked_date(_EXCEL_EPOCH + dt.timedelta(days=math.floor(number)))  # fraction = time


def _date_from_text(text: str) -> tuple:
    text = _WEEKDAY_PREFIX.sub("", text.casefold())
    era = None
    if found := _ERA.search(text):
        era = "BE" if (found[1] or found[2])[0] in "พb" else "CE"
        text = text[: found.start()] + " " + text[found.end():]
    text = re.sub(r"[()\[\]{}]", " ", _TIME_SUFFIX.sub("", text)).strip(" .,;:-/'\"")
    text = " ".join(text.split())
    if found := _DIGITS_TEXT.fullmatch(text):
        return _date_from_digits(found[1])
    if found := _YEAR_FIRST.fullmatch(text):
        return _date_from_parts(found[1], int(found[2]), int(found[3]), era)
    if found := _DAY_FIRST.fullmatch(text):
        return _date_from_parts(found[3], int(found[2]), int(found[1]), era)
    for pattern, day_group, word_group in ((_DAY_WORD_YEAR, 1, 2), (_WORD_DAY_YEAR, 2, 1)):
        if (found := pattern.fullmatch(text)) is not None:
            month = _MONTHS.get(re.sub(r"[\s.\-/,]", "", found[word_group]))
            if month:
                return _date_from_parts(found[3], month, int(found[day_group]), era)
    return None, "date_unreadable"


def _date_from_number(cell: float) -> tuple:
    digits = _whole_number_digits(cell)
    return _date_from_digits(digits) if digits and len(digits) == 8 else _date_from_serial(_as_float(cell))


def _date_from_other(cell: object) -> tuple:
    return _date_from_calendar(cell) if isinstance(cell, dt.date) else (None, "date_unreadable")


# Dates as most cells hold them: a date cell, or day/month/year written with '/' only (Thai digits
# allowed). Same answers as _date_from_calendar / _date_from_text, without the general text clean-up.
_PLAIN_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})")
# '20 ธ.ค. 2564', '(20ธ.ค.2564)', '20 ธ.ค.64': a Thai month abbreviation of two consonants.
_THAI_MONTH_DATE = re.compile(r"\(?(\d{1,2}) ?([\u0e01-\u0e2e])\.([\u0e01-\u0e2e])\. ?(\d{4}|\d{2})\)?")


def _dates_bulk(cells: list) -> list:
    found: list = []
    append = found.append
    for cell in cells:
        kind = type(cell)
        if kind is dt.date or kind is dt.datetime:
            append(_date_from_calendar(cell))
            continue
        if kind is str:
            text = cell if cell.isascii() else cell.translate(_THAI_DIGITS)
            if text.isascii():
                if parts := _PLAIN_DATE.fullmatch(text):
                    append(_date_from_parts(parts[3], int(parts[2]), int(parts[1])))
                    continue
            elif (parts := _THAI_MONTH_DATE.fullmatch(text)) and (month := _MONTHS.get(parts[2] + parts[3])):
                append(_date_from_parts(parts[4], month, int(parts[1])))
                continue
        append(None)
    return found


def parse_dates(values: pd.Series) -> pd.DataFrame:
    """Raw cells -> DataFrame(value: datetime.date | None, problem: str | None)."""
    parse = partial(
        _dispatch, number=_date_from_number, text=_date_from_text, other=_date_from_other, blank=(None, None)
    )
    return _frame(values, ("value", "problem"), parse, _dates_bulk)


# --- phones ---------------------------------------------------------------------------------

_MOBILE = re.compile(r"0[689]\d{8}")
_LANDLINE = re.compile(r"0[2-7]\d{7}")
# A cell may hold two numbers or an extension: keep what comes before the first separator.
_PHONE_SEPARATORS = re.compile(r"[,;/|&]|หรือ|และ|ต่อ|\bor\b|\bext\b|#")
# A label ('โทร.'), then digits with - . ( ) spaces and maybe a leading +, then no more digits.
_PHONE_CORE = re.compile(r"\D*?(\+?\d[\d\s\-.()]*)\D*")
_NON_DIGIT = re.compile(r"\D")


def _national_number(digits: str, international: bool) -> str:
    if digits.startswith("0066"):
        digits, international = digits[2:], True
    if digits.startswith("66") and (international or len(digits) in (10, 11)):
        digits = digits[2:]
    elif international:
        return ""  # a foreign number
    return digits if digits.startswith("0") else "0" + digits  # the 0 Excel dropped


def _classify_phone(number: str, mobile_only: bool) -> tuple:
    if _MOBILE.fullmatch(number):
        return number, None
    if _LANDLINE.fullmatch(number):
        return (None, "phone_not_mobile") if mobile_only else (number, None)
    return None, "phone_invalid"


def _first_complete_number(tokens: list[str], international: bool) -> str | None:
    """For '0812345678 0891112222': the shortest run of leading tokens that is a whole number."""
    for end in range(1, len(tokens)):
        number = _national_number(_NON_DIGIT.sub("", "".join(tokens[:end])), international)
        if _MOBILE.fullmatch(number) or _LANDLINE.fullmatch(number):
            return number
    return None


def _phone_from_text(text: str, mobile_only: bool) -> tuple:
    if found := _FLOAT_TEXT.fullmatch(text):
        return _phone_from_number(int(found[1]), mobile_only)
    first = next((part for part in _PHONE_SEPARATORS.split(text.casefold()) if part.strip()), "")
    if not (found := _PHONE_CORE.fullmatch(first)):
        return None, "phone_invalid"
    core = found[1].strip()
    international = core.startswith("+")
    digits = _NON_DIGIT.sub("", core)
    if len(digits) > 11 and (number := _first_complete_number(core.split(), international)):
        return _classify_phone(number, mobile_only)
    return _classify_phone(_national_number(digits, international), mobile_only)


def _phone_from_number(cell: float, mobile_only: bool) -> tuple:
    digits = _whole_number_digits(cell)
    if digits is None:
        return None, "phone_invalid"
    return _classify_phone(_national_number(digits, False), mobile_only)


# The shapes most phones come in, decided without the general parser (same answers, ~10x faster):
# text of digits and dashes starting 0 and not 00 (Thai digits allowed), and numbers of 8-9 digits
# (a number that lost its leading 0). Everything else goes through _phone_from_text/_from_number.
_PLAIN_PHONE = re.compile(r"0[1-9][0-9\-]*[0-9]")


def _national_class(number: str, mobile_only: bool) -> tuple:
    """_classify_phone for a string of digits starting with 0."""
    if len(number) == 10 and number[1] in "689":
        return number, None
    if len(number) == 9 and number[1] in "234567":
        return (None, "phone_not_mobile") if mobile_only else (number, None)
    return None, "phone_invalid"


def _phones_bulk(cells: list, mobile_only: bool) -> list:
    found: list = []
    append = found.append
    for cell in cells:
        kind = type(cell)
        if kind is str:
            text = cell if cell.isascii() else cell.translate(_THAI_DIGITS)
            if text.isascii() and _PLAIN_PHONE.fullmatch(text):
                digits = text.replace("-", "")
                append(_national_class(digits, mobile_only) if len(digits) <= 11 else None)
                continue
        elif (kind is float or kind is int) and 10_000_000 <= cell < 1_000_000_000 and cell == int(cell):
            append(_national_class("0%d" % cell, mobile_only))
            continue
        append(None)
    return found


def parse_phones(values: pd.Series, *, mobile_only: bool) -> pd.DataFrame:
    """Raw cells -> DataFrame(value: '0XXXXXXXXX' str | None, problem: str | None)."""
    parse = partial(
        _dispatch,
        number=partial(_phone_from_number, mobile_only=mobile_only),
        text=partial(_phone_from_text, mobile_only=mobile_only),
        other=lambda cell: (None, "phone_invalid"),
        blank=(None, None),
    )
    return _frame(values, ("value", "problem"), parse, partial(_phones_bulk, mobile_only=mobile_only))


# --- person IDs -----------------------------------------------------------------------------

_DASHES_AND_SPACES = re.compile(r"[\s\-\u2010-\u2015]")
_SCIENTIFIC = re.compile(r"\d(?:\.\d+)?e\+?\d+")
_DOCUMENT = re.compile(r"(?=.*[A-Z])(?=.*\d)[A-Z0-9]{5,20}")


def calc_check_digit(number: str) -> str:
    """The check digit of a 13-digit Thai ID from its first 12 digits (as stdnum.th.pin computes it)."""
    total = sum((2 - i) * int(n) for i, n in enumerate(number[:12])) % 11
    return str((1 - total) % 10)


_CHECK_WEIGHTS = np.arange(2, -10, -1, dtype=np.int64)  # 2, 1, 0, -1, …, -9: stdnum's weights


def check_digits(first_twelve: np.ndarray) -> np.ndarray:
    """Check digits of many IDs at once: (n, 12) digit array -> (n,) digits, as calc_check_digit."""
    return (1 - (first_twelve @ _CHECK_WEIGHTS) % 11) % 10


def _id_from_digits(digits: str, from_number: bool) -> tuple:
    # A numeric cell drops the leading 0 of a non-Thai resident's ID: restore it if that checks out.
    if from_number and len(digits) == 12 and calc_check_digit("0" + digits) == digits[-1]:
        digits = "0" + digits
    if len(digits) != 13:
        return None, None, "id_length"
    if digits[0] == "9":
        return None, None, "id_invalid_prefix"
    if calc_check_digit(digits) != digits[12]:  # not pin.validate: it rejects valid 0-prefixed IDs
        return None, None, "id_check_digit"
    return digits, "thai" if digits[0] in "12345" else "non_thai", None


def _id_from_text(text: str) -> tuple:
    if found := _FLOAT_TEXT.fullmatch(text):
        return _id_from_digits(found[1], from_number=True)
    if _SCIENTIFIC.fullmatch(text.casefold()):
        return None, None, "id_scientific_notation"  # digits were already lost in Excel
    compact = _DASHES_AND_SPACES.sub("", text).upper()
    if re.fullmatch(r"[0-9]+", compact):
        return _id_from_digits(compact, from_number=False)
    if _DOCUMENT.fullmatch(compact):
        return compact, "document", None
    return None, None, "id_invalid"


def _id_from_number(cell: float) -> tuple:
    digits = _whole_number_digits(cell)
    return _id_from_digits(digits, from_number=True) if digits else (None, None, "id_invalid")


# IDs as most cells hold them: 13 digits as text (Thai digits, dashes or single spaces allowed
# between digits) or as a number of 13 digits. Their check digits are computed all at once.
_PLAIN_ID = re.compile(r"[0-9](?:[0-9]| [0-9]|-[0-9])*")
_ID_KINDS = ("non_thai", "thai", "thai", "thai", "thai", "thai", "non_thai", "non_thai", "non_thai")


def _ids_bulk(cells: list) -> list:
    candidates: list[str] = []
    places: list[int] = []
    for place, cell in enumerate(cells):
        kind = type(cell)
        if kind is str:
            text = cell if cell.isascii() else cell.translate(_THAI_DIGITS)
            if len(text) >= 13 and text.isascii() and _PLAIN_ID.fullmatch(text):
                digits = text.replace("-", "").replace(" ", "")
                if len(digits) == 13:
                    candidates.append(digits)
                    places.append(place)
        elif (kind is float or kind is int) and 1_000_000_000_000 <= cell < 10_000_000_000_000 \
                and cell == int(cell):
            candidates.append("%d" % cell)
            places.append(place)
    found: list = [None] * len(cells)
    if not candidates:
        return found
    digits = np.frombuffer("".join(candidates).encode("ascii"), dtype=np.uint8).reshape(-1, 13) - ord("0")
    computed = check_digits(digits[:, :12].astype(np.int64))
    valid = (computed == digits[:, 12]).tolist()
    for place, number, ok in zip(places, candidates, valid):
        if number[0] == "9":
            found[place] = (None, None, "id_invalid_prefix")
        elif not ok:
            found[place] = (None, None, "id_check_digit")
        else:
            found[place] = (number, _ID_KINDS[ord(number[0]) - 48], None)
    return found


def parse_person_ids(values: pd.Series) -> pd.DataFrame:
    """Raw cells -> DataFrame(value: str | None, kind: 'thai'|'non_thai'|'document'|None, problem: str | None)."""  # noqa: E501
    parse = partial(
        _dispatch,
        number=_id_from_number,
        text=_id_from_text,
        other=lambda cell: (None, None, "id_invalid"),
        blank=(None, None, None),
    )
    return _frame(values, ("value", "kind", "problem"), parse, _ids_bulk)


# --- numbers --------------------------------------------------------------------------------

_INTEGER_TEXT = re.compile(r"[+-]?\d+")
_DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?")
_GROUPED_TEXT = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")


def _number_from_text(text: str) -> int | float | None:
    """The text's number (int when written without a fraction), or None when it is not one."""
    text = text.replace("\u2212", "-").casefold()  # U+2212 MINUS SIGN; 'E' exponent
    if len(text) > 400:  # int() refuses > 4300 digits; no count or measure is this long
        return None
    if _GROUPED_TEXT.fullmatch(text):
        text = text.replace(",", "")
    if _INTEGER_TEXT.fullmatch(text):
        return int(text)
    return float(text) if _DECIMAL_TEXT.fullmatch(text) else None


def _number_result(number: int | float | None, whole: bool) -> tuple:
    if number is None or isinstance(number, float) and not math.isfinite(number):
        return None, "number_invalid"
    if not whole:  # an int beyond float range is not a usable decimal
        return (_as_float(number), None) if math.isfinite(_as_float(number)) else (None, "number_invalid")
    if isinstance(number, float) and not number.is_integer():
        return None, "number_not_whole"
    return int(number), None


def _number_parser(whole: bool) -> Callable[[object], tuple]:
    def from_number(cell: float) -> tuple:
        return _number_result(int(cell) if isinstance(cell, (int, np.integer)) else float(cell), whole)

    def from_text(text: str) -> tuple:
        return _number_result(_number_from_text(text), whole)

    invalid = (None, "number_invalid")
    return partial(
        _dispatch, number=from_number, text=from_text, other=lambda cell: invalid, blank=(None, None)
    )


def parse_whole_numbers(values: pd.Series) -> pd.DataFrame:
    """Raw cells -> DataFrame(value: int | None (object dtype), problem)."""
    return _frame(values, ("value", "problem"), _number_parser(whole=True))


def parse_decimals(values: pd.Series) -> pd.DataFrame:
    """Raw cells -> DataFrame(value: float | None, problem)."""
    return _frame(values, ("value", "problem"), _number_parser(whole=False))


# Characters that leave a cell looking empty: whitespace and the invisible format characters.
_BLANK_CHARACTERS = "".join(sorted(set(" " + _SPACES + _INVISIBLE)))


def blank_mask(values: pd.Series | np.ndarray) -> np.ndarray:
    """True where a cell holds nothing: None, NaN, '' or only spaces and invisible characters."""
    cells = values.tolist() if isinstance(values, np.ndarray) else values.to_numpy(dtype=object).tolist()
    # Texts first (most cells are): strip returns a text with nothing to strip as is, without a copy.
    return np.array([not value.strip(_BLANK_CHARACTERS) if value.__class__ is str
                     else value is None or value != value for value in cells], dtype=bool)
