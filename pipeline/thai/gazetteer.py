"""Thai provinces, districts and subdistricts (vendored DOPA codes) and matching of names to codes."""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pandas as pd
from rapidfuzz import process as fuzzy_process

from pipeline.thai.normalize import clean_text, match_key, to_arabic_digits

DATA_DIR = Path(__file__).resolve().parent / "data" / "thai_admin"

# Administrative prefixes written before names in real files; the gazetteer has none.
# "ต." needs its dot: many subdistrict names start with ต (ต้าผามอก, ตำหนักธรรม).
_PREFIX = re.compile(r"^\s*(?:กิ่งอำเภอ|กิ่ง\s*อ\.|อำเภอ|อ\.|เขต|ตำบล|ต\.|แขวง|amphoe|amphur|tambon|district)\s*",
                     re.IGNORECASE)
_CODE = re.compile(r"(?<!\d)(\d{4}|\d{6})(?!\d)")


@cache
def _table(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / f"{name}.csv", dtype=str, keep_default_na=False)


@cache
def province_names() -> dict[str, str]:
    """Province code -> Thai name, for all 77 provinces."""
    table = _table("provinces")
    return dict(zip(table["provinceCode"].str.zfill(2), table["provinceNameTh"]))


@cache
def districts_of(province_code: str) -> dict[str, str]:
    """District code -> Thai name for one province, in code order."""
    table = _table("districts")
    rows = table[table["provinceCode"].str.zfill(2) == province_code]
    return dict(zip(rows["districtCode"], rows["districtNameTh"]))


@cache
def subdistricts_of(district_code: str) -> dict[str, str]:
    """Subdistrict code -> Thai name for one district, in code order."""
    table = _table("subdistricts")
    rows = table[table["districtCode"] == district_code]
    return dict(zip(rows["subdistrictCode"], rows["subdistrictNameTh"]))


def place_key(text: str) -> str:
    """Match key of a place name written with or without its อำเภอ/อ./ตำบล/ต. prefix."""
    stripped = _PREFIX.sub("", text.strip())
    stripped = _PREFIX.sub("", stripped)  # "อ.อำเภอเมือง" happens
    return match_key(stripped)


@cache
def _district_lookup(province_code: str) -> dict[str, str]:
    """Match key of every way a district is written -> code."""
    province = province_names()[province_code]
    table = _table("districts")
    rows = table[table["provinceCode"].str.zfill(2) == province_code]
    lookup: dict[str, str] = {}
    for code, thai, english in zip(rows["districtCode"], rows["districtNameTh"], rows["districtNameEn"]):
        for spelling in (thai, english, code):
            lookup.setdefault(place_key(spelling), code)
        if thai == f"เมือง{province}":
            lookup.setdefault(place_key("เมือง"), code)  # the capital district is often just เมือง
    return lookup


def resolve_district(text: str, province_code: str) -> str | None:
    """District code for a written name or code, or None."""
    text = to_arabic_digits(str(text))
    lookup = _district_lookup(province_code)
    found = lookup.get(place_key(text))
    if found:
        return found
    code = _CODE.search(text)
    if code and code.group(1)[:4] in districts_of(province_code).keys():
        return code.group(1)[:4]
    return None


def resolve_districts(values: pd.Series, province_code: str) -> pd.Series:
    """District code per cell (None where unknown or blank); same index."""
    texts = clean_text(values)
    unique = {text: (resolve_district(text, province_code) if text else None) for text in texts.unique()}
    return texts.map(unique).astype(object)


@cache
def _subdistrict_lookup(district_code: str) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for code, name in subdistricts_of(district_code).items():
        lookup.setdefault(place_key(name), code)
        lookup.setdefault(code, code)
    return lookup


def resolve_subdistricts(names: pd.Series, district_codes: pd.Series) -> pd.Series:
    """Subdistrict code per row, looked up within that row's district; same index."""
    texts = clean_text(names)
    pairs = pd.DataFrame({"name": texts, "district": district_codes})
    unique = pairs.drop_duplicates().copy()
    unique["code"] = [
        _subdistrict_lookup(district).get(place_key(name)) if name and district else None
        for name, district in zip(unique["name"], unique["district"])
    ]
    merged = pairs.merge(unique, on=["name", "district"], how="left")
    return pd.Series(merged["code"].to_numpy(dtype=object), index=names.index)


def resolve_folder(folder_name: str, districts: dict[str, str], province_code: str) -> str | None:
    """District code for an inbox folder named by code, by name, or both (`5401 เมืองแพร่`)."""
    text = to_arabic_digits(folder_name)
    code = _CODE.search(text)
    if code and code.group(1)[:4] in districts:
        return code.group(1)[:4]
    name = re.sub(r"[\d_\-]+", " ", text).strip()
    found = resolve_district(name, province_code) if name else None
    return found if found in districts else None


def closest_names(text: str, candidates: list[str], limit: int = 3, cutoff: float = 60.0) -> list[str]:
    """Nearest candidate names to a misspelt one, best first (for 'did you mean')."""
    if not text or not candidates:
        return []
    keys = [place_key(c) for c in candidates]
    matches = fuzzy_process.extract(place_key(text), keys, limit=limit, score_cutoff=cutoff)
    return [candidates[index] for _, _, index in matches]
