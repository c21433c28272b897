"""Thai person names for matching: titles split off, spacing and marks normalised, a sound key.

The Series functions return Series/DataFrames indexed like their input, never mutate it, and do
their string work once per distinct value (a 1M-row column of names has ~100k distinct spellings);
parse_name, sound_key and first_consonant work on one cleaned string. Never NFKC: it splits sara
am (PITFALLS.md).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from pipeline.thai.normalize import clean_text, to_arabic_digits

MALE, FEMALE = "ชาย", "หญิง"

# Titles as written, canonical spelling first, with the sex they imply (None: either).
# 'word' titles may be glued to the name ("นายสมชาย"); 'abbr' titles must carry a dot or a space
# unless listed in _GLUED_ABBREVIATIONS ("ดร" would otherwise eat "ดรุณี").
_WORD_TITLES = {
    "นาย": MALE, "นาง": FEMALE, "นางสาว": FEMALE, "เด็กชาย": MALE, "เด็กหญิง": FEMALE,
    "พระครู": MALE, "พระมหา": MALE, "พระอธิการ": MALE,
}
_ABBREVIATED_TITLES = {
    "น.ส.": FEMALE, "ด.ช.": MALE, "ด.ญ.": FEMALE, "ส.ณ.": MALE,
    "mr.": MALE, "mrs.": FEMALE, "ms.": FEMALE, "miss": FEMALE, "master": MALE, "dr.": None,
    "ดร.": None, "นพ.": MALE, "พญ.": FEMALE, "ทพ.": MALE, "ทพญ.": FEMALE, "ภก.": MALE, "ภญ.": FEMALE,
    "ผศ.": None, "รศ.": None, "ศ.": None, "ม.ร.ว.": None, "ม.ล.": None, "ม.จ.": None,
    "หม่อมราชวงศ์": None, "หม่อมหลวง": None, "คุณ": None, "แม่ชี": FEMALE, "สามเณร": MALE,
    "พระ": MALE,
}
# Military and police ranks; each may follow 'ว่าที่' (acting) and precede 'หญิง' (a woman officer).
_RANKS = (
    "พล.ต.อ. พล.ต.ท. พล.ต.ต. พ.ต.อ. พ.ต.ท. พ.ต.ต. ร.ต.อ. ร.ต.ท. ร.ต.ต. ด.ต. จ.ส.ต. ส.ต.อ. ส.ต.ท. ส.ต.ต. "
    "พล.อ. พล.ท. พล.ต. พ.อ. พ.ท. พ.ต. ร.อ. ร.ท. ร.ต. จ.ส.อ. จ.ส.ท. ส.อ. ส.ท. ส.ต. พลฯ พลทหาร "
    "น.อ. น.ท. น.ต. พ.จ.อ. จ.อ. จ.ท. จ.ต. พ.อ.อ. "
    "ร้อยตำรวจเอก ร้อยตำรวจโท ร้อยตำรวจตรี ดาบตำรวจ จ่าสิบตำรวจ สิบตำรวจเอก สิบตำรวจโท สิบตำรวจตรี "
    "ร้อยเอก ร้อยโท ร้อยตรี จ่าสิบเอก จ่าสิบโท จ่าสิบตรี สิบเอก สิบโท สิบตรี"
).split()
_GLUED_ABBREVIATIONS = {"นส", "ดช", "ดญ"}
# First names that begin with a title word and are names, not titles ("นางนวล").
NAMES_NOT_TITLES = frozenset({"นางนวล", "นางฟ้า", "นางแย้ม", "นายก"})

_SEP = r"[.\s]*"


def _loose(title: str) -> str:
    """A title's pattern: dots and spaces optional between and after its letters."""
    letters = [c for c in title.casefold() if c not in ". "]
    return _SEP.join(map(re.escape, letters))


def _title_table() -> tuple[re.Pattern, dict[str, tuple[str, str | None]]]:
    canon: dict[str, tuple[str, str | None]] = {}
    for title, sex in {**_WORD_TITLES, **_ABBREVIATED_TITLES}.items():
        canon[_compact(title)] = (title, sex)
    for rank in _RANKS:
        canon[_compact(rank)] = (rank, None)
    canon[_compact("นส")] = ("น.ส.", FEMALE)
    alternation = "|".join(_loose(t) for t in sorted(canon, key=len, reverse=True))
    pattern = re.compile(rf"\s*(?P<acting>ว่าที่{_SEP})?(?P<title>{alternation})(?P<sep>{_SEP})")
    return pattern, canon


def _compact(text: str) -> str:
    return "".join(c for c in text.casefold() if c not in ". \u00a0")


_TITLE_PATTERN, _TITLE_CANON = _title_table()
_WORD_COMPACTS = {_compact(t) for t in _WORD_TITLES}
_RANK_COMPACTS = {_compact(t) for t in _RANKS}
_WOMAN = re.compile(f"หญิง{_SEP}")


def _split_title(name: str) -> tuple[str | None, str | None, str]:
    """(canonical title, implied sex, rest of the name) for one cleaned name."""
    folded = name.casefold()
    found = _TITLE_PATTERN.match(folded) if len(folded) == len(name) else None  # 'ß' would shift positions
    if not found:
        return None, None, name
    compact, rest = _compact(found["title"]), name[found.end():]
    separated = bool(found["sep"]) or "." in found["title"] or found["acting"] is not None
    glued_ok = compact in _WORD_COMPACTS or compact in _GLUED_ABBREVIATIONS
    woman = _WOMAN.match(rest) if compact in _RANK_COMPACTS else None  # ร.ต.อ.หญิง: a woman officer
    if woman:
        rest = rest[woman.end():]
    if not separated and (not glued_ok or _compact(name) in NAMES_NOT_TITLES) or len(rest.strip()) < 2:
        return None, None, name
    title, sex = _TITLE_CANON[compact]
    if woman:
        title, sex = title + "หญิง", FEMALE
    if found["acting"]:
        title = "ว่าที่" + title
    return title, sex, rest.strip()


# Text that may need clean_text: anything but Thai letters, digits and marks, ASCII letters, digits,
# '.', '/', '-' (spaces, zero-width and control characters...), or Thai marks out of order, doubled
# or decomposed (what pythainlp normalize fixes). Other text is already clean: skipping clean_text
# for it saves most of the per-name cost on large frames.
_MARKS = "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e"
_SUSPECT = re.compile(
    "[^\u0e01-\u0e3a\u0e40-\u0e4e\u0e50-\u0e59A-Za-z0-9./-]"
    f"|[\u0e48-\u0e4c][\u0e31\u0e34-\u0e3a\u0e47-\u0e4b]|[\u0e30\u0e32\u0e33][\u0e48-\u0e4b]"
    f"|([\\u0e30-\\u0e3a\\u0e40-\\u0e4e]) *\\1|[\u0e4d\u0e45]|\u0e40\u0e40|[\u0e38\u0e39]\u0e3a|^[{_MARKS}]"
)


def _clean_all(values: list) -> list[str]:
    """clean_text of each value, called only for values that may need it."""
    suspects = [i for i, v in enumerate(values) if not isinstance(v, str) or _SUSPECT.search(v)]
    texts = list(values)
    if suspects:
        cleaned = clean_text(pd.Series([values[i] for i in suspects], dtype=object))
        for i, text in zip(suspects, cleaned):
            texts[i] = text
    return texts


def distinct(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """(code per row, -1 when missing; the distinct values, cleaned): the unit of string work."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, _clean_all(list(uniques))


def _per_unique(values: pd.Series, function, names: tuple[str, ...]) -> pd.DataFrame:
    """Apply function(cleaned str) -> tuple once per distinct value; a frame indexed like values."""
    codes, texts = distinct(values)
    results = [function(text) for text in texts] + [function("")]  # code -1 (missing) takes the last
    columns = {}
    for position, name in enumerate(names):
        column = np.array([r[position] for r in results], dtype=object)
        columns[name] = column[codes]
    return pd.DataFrame(columns, index=values.index, dtype=object)


def split_titles(names: pd.Series) -> pd.DataFrame:
    """Names as written -> DataFrame(title: canonical title or None, sex: implied sex or None, name)."""
    return _per_unique(names, _split_title, ("title", "sex", "name"))


def canonical_titles(titles: pd.Series) -> pd.DataFrame:
    """A title column as written ('น. ส.', 'นางสาว', 'Mrs') -> DataFrame(title, sex); unknown -> None."""
    def one(text: str) -> tuple:
        if not text:
            return None, None
        title, sex, rest = _split_title(text + " xx")
        return (title, sex) if rest == "xx" else (text, None)
    return _per_unique(titles, one, ("title", "sex"))


_KEY_DROPPED = re.compile(r"[\s.,:;'\"`()\[\]{}<>\-_/\\?!*\u2018\u2019\u201c\u201d\u0e2f\u0e46]+")
_THAI_DIGIT = re.compile("[\u0e50-\u0e59]")


def _name_key(text: str) -> str:
    if _KEY_DROPPED.search(text):
        text = _KEY_DROPPED.sub("", text)
    if _THAI_DIGIT.search(text):
        text = to_arabic_digits(text)
    return text.casefold()


def parse_name(text: str) -> tuple[str | None, str | None, str]:
    """(canonical title, sex it implies, matching key) of one cleaned name ('' when blank)."""
    title, sex, rest = _split_title(text)
    return title, sex, _name_key(rest)


def name_keys(names: pd.Series) -> pd.Series:
    """Name -> matching key: title removed, no spaces/zero-width/punctuation, marks in order, Thai digits as 0-9."""
    return parse_names(names)["key"].rename(names.name)


def parse_names(names: pd.Series) -> pd.DataFrame:
    """Names as written -> DataFrame(title, sex implied by the title, key) in one pass per distinct name."""
    return _per_unique(names, parse_name, ("title", "sex", "key"))


# --- the sound key --------------------------------------------------------------------------
# Consonants that sound alike (or look alike: ด/ต, บ/ป) share a class; vowel length is dropped;
# tone marks, ไม้ไต่คู้ (็), การันต์ (์) and other silent signs go. A one-letter slip of these
# kinds leaves the key unchanged; different names keep different keys.
_SOUND_CLASSES = {
    "ค": "ขฃคฅฆ", "ช": "ฉชฌ", "ส": "ซศษส", "ย": "ญย", "ด": "ฎฏดต", "ท": "ฐฑฒถทธ", "น": "ณน",
    "บ": "บป", "พ": "ผพภ", "ฟ": "ฝฟ", "ร": "รลฬฤฦ", "ห": "หฮ",
}
_VOWELS = {"า": "ะาั", "ี": "ิี", "ื": "ึื", "ู": "ุู", "ไ": "ใไ"}
_SILENT = "\u0e48\u0e49\u0e4a\u0e4b\u0e47\u0e4c\u0e4d\u0e4e\u0e3a\u0e45\u0e2f\u0e46"
_SOUND_TABLE = {ord(c): k for k, cs in (_SOUND_CLASSES | _VOWELS).items() for c in cs}
_SOUND_TABLE |= {ord(c): None for c in _SILENT} | {ord("ำ"): "าม"}
_LEADING_VOWELS = "เแโใไ"


def sound_key(key: str) -> str:
    """The sound key of a name key ('ศักดิ์ชัย' and 'สักดิชัย' give the same key)."""
    return key.translate(_SOUND_TABLE)


def sound_keys(keys: pd.Series) -> pd.Series:
    """Name keys (from name_keys) -> sound keys."""
    codes, uniques = pd.factorize(keys.fillna(""))
    sounds = np.array([sound_key(u) for u in uniques] + [""], dtype=object)
    return pd.Series(sounds[codes], index=keys.index, dtype=object, name=keys.name)


def first_consonant(sound: str) -> str:
    """The first consonant of a sound key (a leading vowel skipped): a coarse blocking class."""
    stripped = sound.lstrip(_LEADING_VOWELS)
    return stripped[:1]


# --- house numbers and village numbers ------------------------------------------------------

_HOUSE_PREFIX = re.compile(r"^(?:บ้าน\s*เลข\s*ที่|เลข\s*ที่|บ้าน\s*เลข|บ\.?\s*ล\.?\s*ท\.?|no\.?|บ้าน)\s*", re.I)
_HOUSE_TAIL = re.compile(r"\s*(?:ม\.|หมู่|หมู่ที่|ถ\.|ถนน|ซ\.|ซอย|ต\.|ตำบล).*$")
_HOUSE_NUMBER = re.compile(r"\d+(?:[/\-]\d+)*[ก-ฮa-z]?")
_NO_HOUSE = {"", "-", "--", "ไม่มี", "ไม่ทราบ", "ไม่ระบุ", "0"}


def _house(text: str) -> tuple[str | None, str | None]:
    text = to_arabic_digits(text).casefold().strip()
    text = _HOUSE_TAIL.sub("", _HOUSE_PREFIX.sub("", text))
    text = re.sub(r"\s*([/\-])\s*", r"\1", text)
    if text in _NO_HOUSE:
        return None, None
    found = _HOUSE_NUMBER.search(text)
    if not found:
        return "".join(text.split()), None
    full = found[0].replace("-", "/")
    return full, full.split("/")[0]


def house_keys(house_numbers: pd.Series) -> pd.DataFrame:
    """House numbers as written ('12/3', '๑๒/๓', '12 / 3', 'บ้านเลขที่ 12/3 ม.4') -> DataFrame(house, house_main)."""
    return _per_unique(house_numbers, _house, ("house", "house_main"))


def village_numbers(moo: pd.Series) -> pd.Series:
    """หมู่ที่ as int, Thai digits or text ('ม.๓') -> nullable Int64."""
    def one(text: str) -> tuple:
        digits = re.search(r"\d+", to_arabic_digits(text))
        return (int(digits[0]) if digits else None,)
    numbers = _per_unique(moo, one, ("moo",))["moo"]
    return pd.to_numeric(numbers, errors="coerce").astype("Int64")
