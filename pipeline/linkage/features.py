"""Per-record matching features for linkage: integer codes and small arrays, computed once per frame.

Names, sound keys, house numbers, villages and phones become int64 codes (-1 = missing) so blocking
and comparing are array operations; string work runs once per distinct value (thainames).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.thai import names as thainames
from pipeline.thai.normalize import to_arabic_digits

SEX_CODES = {thainames.MALE: 1, thainames.FEMALE: 2, "m": 1, "f": 2, "male": 1, "female": 2, "ช": 1, "ญ": 2}


@dataclass(frozen=True)
class Features:
    """Matching features of n records, row i = the i-th record of the frame."""

    keys: np.ndarray            # record_key (object)
    rank: np.ndarray            # position of the record_key in sorted order (ties broken by key, not row)
    id13: np.ndarray            # 13-digit ID as int64 (valid or not), -1 when none
    id_valid: np.ndarray        # bool: a 13-digit ID with a correct check digit
    document: np.ndarray        # document number code, -1 when none
    first: np.ndarray           # name-key codes into first_keys
    last: np.ndarray
    first_sound: np.ndarray     # sound-key codes
    last_sound: np.ndarray
    first_char: np.ndarray      # first consonant class of the first name's sound key
    last_char: np.ndarray
    first_keys: np.ndarray      # distinct first-name keys (object), indexed by the codes
    last_keys: np.ndarray
    first_sound_keys: np.ndarray  # distinct sound keys (object), indexed by the sound codes
    last_sound_keys: np.ndarray
    first_weight: np.ndarray    # per record: log2 weight of an exact first-name agreement (term frequency)
    last_weight: np.ndarray
    sex: np.ndarray             # 0 unknown, 1 male, 2 female
    birth: np.ndarray           # birth date as a proleptic ordinal (date.toordinal), -1 unknown
    birth_year: np.ndarray      # its year, month (1-12) and day (1-31), -1 unknown
    birth_month: np.ndarray
    birth_day: np.ndarray
    birth_low: np.ndarray       # earliest and latest birth year the record allows (-1 unknown)
    birth_high: np.ndarray
    village: np.ndarray         # (district, subdistrict, moo) code
    subdistrict: np.ndarray
    district: np.ndarray
    province: np.ndarray        # first two digits of the district code
    house: np.ndarray           # (village, full house number) code
    house_main: np.ndarray      # (village, house number before '/') code
    phone: np.ndarray

    def __len__(self) -> int:
        return len(self.keys)


def _codes(values: pd.Series, canonical=None) -> np.ndarray:
    """Codes of values, equal when canonical(value) is equal (-1 for None/NaN/'')."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    texts = pd.Series([canonical(u) for u in uniques] if canonical else uniques, dtype=object)
    merged = pd.factorize(texts.where(texts != "", None), use_na_sentinel=True)[0] if canonical \
        else np.where(texts == "", -1, np.arange(len(texts)))
    return np.append(merged, -1).astype(np.int64)[codes]


def _per_value(values: pd.Series, function, missing: object, dtype: object = object) -> np.ndarray:
    """function applied once per distinct non-missing value, in row order (missing where absent)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return np.array([function(u) for u in uniques] + [missing], dtype=dtype)[codes]


def combine(*columns: np.ndarray) -> np.ndarray:
    """One code per distinct tuple of codes; -1 where any part is -1."""
    code = columns[0].astype(np.int64)
    for column in columns[1:]:
        missing = (code < 0) | (column < 0)
        joined = code * (int(column.max(initial=0)) + 1) + column
        code = np.where(missing, -1, pd.factorize(np.where(missing, -1, joined))[0])
    return code.astype(np.int64)


def _column(records: pd.DataFrame, name: str) -> pd.Series:
    """The column (missing values as None or NaN), or all None when the frame has no such column."""
    return records[name] if name in records else pd.Series(None, index=records.index, dtype=object)


_WIDTH = 24  # characters of an ID kept for parsing (13 digits, or a document number)


def _ids(records: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(13-digit IDs as int64 or -1, valid check digit, document codes), parsed as a code-point matrix."""
    raw = _column(records, "person_id")
    present = raw.notna().to_numpy()
    text = raw.fillna("").to_numpy().astype(f"U{_WIDTH}")
    points = text.view(np.uint32).reshape(len(text), _WIDTH).copy()
    thai = (points >= 0x0E50) & (points <= 0x0E59)
    points[thai] -= 0x0E50 - 48
    separated = np.flatnonzero(((points == 45) | (points == 32)).any(axis=1))
    for row in separated:  # '1-2345-67890-12-3': squeeze the dashes and spaces out (rare)
        kept = points[row][(points[row] != 45) & (points[row] != 32)]
        points[row] = np.r_[kept, np.zeros(_WIDTH - len(kept), dtype=np.uint32)]
    digit = (points >= 48) & (points <= 57)
    length = (points != 0).sum(axis=1)
    not_document = (_column(records, "id_kind") != "document").to_numpy()
    thirteen = present & not_document & (length == 13) & digit[:, :13].all(axis=1)
    digits = points[thirteen, :13].astype(np.int64) - 48
    id13 = np.full(len(text), -1, dtype=np.int64)
    id13[thirteen] = digits @ (10 ** np.arange(12, -1, -1, dtype=np.int64))
    valid = np.zeros(len(text), dtype=bool)
    check = (11 - (digits[:, :12] * np.arange(13, 1, -1)).sum(axis=1) % 11) % 10
    valid[thirteen] = (check == digits[:, 12]) & (digits[:, 0] != 9)
    other = present & ~thirteen
    cleaned = points.view(f"U{_WIDTH}").ravel()
    document = np.full(len(text), -1, dtype=np.int64)
    document[other] = pd.factorize(np.char.upper(cleaned[other]))[0]
    return id13, valid, document


def _exact_weights(codes: np.ndarray, m: float, low: float, high: float) -> np.ndarray:
    """Per record: log2(m / u) of agreeing on its value, u = the value's share of the frame."""
    present = codes >= 0
    counts = np.bincount(codes[present], minlength=int(codes.max(initial=-1)) + 1)
    share = np.ones(len(codes))
    share[present] = counts[codes[present]] / max(int(present.sum()), 1)
    return np.clip(np.log2(m / share), low, high).astype(np.float32)


def _names(records: pd.DataFrame, column: str) -> dict[str, np.ndarray]:
    """Name-key, sound-key and first-consonant codes per record, all worked out per distinct name."""
    codes, texts = thainames.distinct(_column(records, column))
    parsed = [thainames.parse_name(text) for text in texts]
    key_codes, keys = pd.factorize(pd.Series([p[2] or None for p in parsed], dtype=object), use_na_sentinel=True)
    keys = np.asarray(keys, dtype=object)
    sound_codes, sounds = pd.factorize(np.array([thainames.sound_key(k) for k in keys], dtype=object))
    chars = pd.factorize(np.array([thainames.first_consonant(s) for s in sounds], dtype=object))[0]
    key_of_row = np.append(key_codes, -1)[codes]
    sound_of_row = np.append(sound_codes, -1)[key_of_row]
    return {
        "code": key_of_row.astype(np.int64), "keys": keys, "sound_keys": np.asarray(sounds, dtype=object),
        "sound": sound_of_row.astype(np.int64), "char": np.append(chars, -1)[sound_of_row].astype(np.int64),
        "sex": np.array([SEX_CODES.get(p[1], 0) for p in parsed] + [0], dtype=np.int8)[codes],
    }


def _sex(records: pd.DataFrame, from_name: np.ndarray) -> np.ndarray:
    """Sex code from the sex column, else implied by the title column, else by a title in the first name
    (from_name: the codes implied by titles written in the first name)."""
    given = _per_value(_column(records, "sex"), lambda s: SEX_CODES.get(str(s).strip().casefold(), 0), 0, np.int8)
    codes, texts = thainames.distinct(_column(records, "title"))
    from_title = np.array([SEX_CODES.get(thainames.parse_name(t + " xx")[1], 0) for t in texts] + [0])[codes]
    return np.where(given > 0, given, np.where(from_title > 0, from_title, from_name)).astype(np.int8)


def _dates(values: pd.Series) -> np.ndarray:
    """Dates (ISO text, date or datetime) -> datetime64[D] (NaT when missing or unreadable)."""
    objects = values.to_numpy(dtype=object, na_value=None)
    try:
        return objects.astype("datetime64[D]")
    except (ValueError, TypeError):  # some text is no ISO date: parse per distinct value, unreadable -> NaT
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        parsed = pd.to_datetime(pd.Series([str(u)[:10] for u in uniques], dtype=object), errors="coerce",
                                format="%Y-%m-%d")
        return np.append(parsed.to_numpy(dtype="datetime64[D]"), np.datetime64("NaT"))[codes]


def _births(records: pd.DataFrame, reference: dt.date) -> dict[str, np.ndarray]:
    """Birth date parts (-1 unknown) and the earliest and latest birth year the record allows."""
    born = _dates(_column(records, "birth_date"))
    surveyed = _dates(_column(records, "surveyed_on"))
    on_year = np.where(np.isnat(surveyed), reference.year,
                       surveyed.astype("datetime64[Y]").astype(np.int64) + 1970)
    age = _per_value(_column(records, "age"), lambda a: pd.to_numeric(to_arabic_digits(str(a)), errors="coerce"),
                     np.nan, float)
    has_birth, has_age = ~np.isnat(born), ~np.isnan(age)
    year = np.where(has_birth, born.astype("datetime64[Y]").astype(np.int64) + 1970, -1)
    month = np.where(has_birth, born.astype("datetime64[M]").astype(np.int64) % 12 + 1, -1)
    day = np.where(has_birth, (born - born.astype("datetime64[M]")).astype(np.int64) + 1, -1)
    age_year = on_year - np.nan_to_num(age).astype(np.int64)
    ordinal = born.astype(np.int64) + dt.date(1970, 1, 1).toordinal()  # positive for every real date
    return {"birth": np.where(has_birth, ordinal, -1), "year": year, "month": month, "day": day,
            "low": np.where(has_birth, year, np.where(has_age, age_year - 1, -1)),
            "high": np.where(has_birth, year, np.where(has_age, age_year, -1))}


def _ranks(keys: np.ndarray) -> np.ndarray:
    """Rank of each key in sorted order (fixed-width unicode sorts in C)."""
    rank = np.empty(len(keys), dtype=np.int64)
    rank[np.argsort(keys.astype(str), kind="stable")] = np.arange(len(keys))
    return rank


def prepare(records: pd.DataFrame, reference: dt.date) -> Features:
    """Features of the records (the frame is not modified)."""
    keys = records["record_key"].astype(str).to_numpy(dtype=object)
    id13, id_valid, document = _ids(records)
    first, last = _names(records, "first_name"), _names(records, "last_name")
    births = _births(records, reference)
    moo = _per_value(thainames.village_numbers(_column(records, "moo")), int, -1, np.int64)
    district = _codes(_column(records, "district_code"), str)
    subdistrict = combine(district, _codes(_column(records, "subdistrict_code"), str))
    village = combine(subdistrict, moo)
    houses = thainames.house_keys(_column(records, "house_no"))
    return Features(
        keys=keys, rank=_ranks(keys), id13=id13, id_valid=id_valid, document=document,
        first=first["code"], last=last["code"], first_sound=first["sound"], last_sound=last["sound"],
        first_char=first["char"], last_char=last["char"], first_keys=first["keys"], last_keys=last["keys"],
        first_sound_keys=first["sound_keys"], last_sound_keys=last["sound_keys"],
        first_weight=_exact_weights(first["code"], 0.9, 2.0, 12.0),
        last_weight=_exact_weights(last["code"], 0.9, 2.0, 12.0),
        sex=_sex(records, first["sex"]), birth=births["birth"], birth_year=births["year"],
        birth_month=births["month"], birth_day=births["day"], birth_low=births["low"], birth_high=births["high"],
        village=village, subdistrict=subdistrict, district=district,
        province=_codes(_column(records, "district_code"), lambda d: str(d)[:2]),
        house=combine(village, _codes(houses["house"])), house_main=combine(village, _codes(houses["house_main"])),
        phone=_codes(_column(records, "phone"), lambda p: p if isinstance(p, str) and p.isascii()
                     else to_arabic_digits(str(p))),
    )
