"""Fast synthetic inboxes for the benchmark, at any scale (a province, a large province, the nation).

pipeline/synthetic writes cell by cell with openpyxl and keeps a truth oracle: right for tests, far
too slow for millions of rows. This generator draws whole columns with numpy, writes workbooks with
xlsxwriter in constant_memory mode (and CSVs with the csv module), one district per task on both
cores, and keeps no truth: only counts (rows, files, bytes) in a manifest.

The files carry the drifts of FORMS.md §2: title rows and merged group labels above the header,
aliased, messy (spaces, line breaks, '*') and shuffled headers, extra columns, Thai digits,
Buddhist-era dates as text in several spellings and as date cells with the BE year, phones stored
as numbers, IDs stored as numbers or with dashes, district and subdistrict prefixes (อ. ต. อำเภอ),
closed-list variants, blank rows and a totals row; about 1% invalid rows, 2% duplicates (in the same
sheet, and the same person or phone sent by a neighbouring district), 3% rows of another district.
Mostly xlsx; some districts send one form as a CSV (cp874, UTF-8 or UTF-8 with BOM).

    python -m benchmarks.inboxes province [--root bench-data]   # writes bench-data/province/...

Layout: <root>/<size>/<province code>/config.yaml and <root>/<size>/<province code>/inputs/<district>/…,
plus <root>/<size>/manifest.json. A size is regenerated when this file, schema.yaml or the gazetteer
changed (the manifest keeps their hash).
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import io
import json
import multiprocessing
import os
import shutil
import sys
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import xlsxwriter
import yaml

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "pipeline"
GAZETTEER_DIR = PACKAGE_DIR / "thai" / "data" / "thai_admin"
DEFAULT_ROOT = Path(__file__).resolve().parent.parent / "bench-data"
TIMEZONE = ZoneInfo("Asia/Bangkok")
WEEK = dt.date(2021, 12, 24)
FIRST_DAY, LAST_DAY = np.datetime64("2021-12-01"), np.datetime64("2021-12-22")
SHARES = {"volunteers": 0.25, "unvaccinated": 0.45, "facilities": 0.05, "help_requests": 0.25}
SLOTS = 100_000  # identity slots per district and form: phones and IDs are unique by construction
THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
THAI_MONTHS = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.")
COUNTRY_BOX = {"lat_min": 5.5, "lat_max": 20.5, "lon_min": 97.3, "lon_max": 105.7}
BOXES = {  # provinces whose facilities get coordinates inside a realistic box
    "54": {"lat_min": 17.60, "lat_max": 18.90, "lon_min": 99.50, "lon_max": 100.65},
    "30": {"lat_min": 14.10, "lat_max": 15.90, "lon_min": 101.20, "lon_max": 103.00},
}
GIVEN = ("สมชาย สมศักดิ์ สมปอง บุญมี บุญช่วย ประเสริฐ วิชัย สุนทร สมบัติ ทองดี อรุณ ณัฐพล ธนากร กิตติพงษ์ อนุชา "
         "คำปัน สุรศักดิ์ ประสิทธิ์ วีระ ชัยวัฒน์ มานพ สมาน บุญเรือง ศักดิ์ชัย พงษ์ศักดิ์ เกรียงไกร ธีรพงษ์ ปิยะ "
         "สมศรี สมหญิง มาลี มาลัย นงลักษณ์ สุภาพ วันเพ็ญ พิมพ์ใจ กัญญา ศรีนวล บัวผัน ดวงใจ สุดารัตน์ จันทร์เพ็ญ "
         "อำไพ คำแปง บุญศรี รัชนี ศิริพร อรทัย ปราณี นิภา สายสุนีย์ เพ็ญศรี ทองใบ จิราพร วิไลวรรณ กาญจนา ลำดวน").split()
SURNAMES = ("ใจดี แสงทอง ศรีสุข บุญมา คำแก้ว อินต๊ะ ปัญญา ทองคำ สุขใจ วงศ์ใหญ่ จันทร์แก้ว ศรีวิชัย ชัยมงคล พรหมมา "
            "ยะเขียว กันทะ ไชยวงค์ สายสุข เรือนคำ มณีวงศ์ ปินตา อุ่นเรือน ธรรมใจ แก้วมูล สิทธิชัย บุญยืน ตาคำ วงค์ชัย "
            "ศรีบุญเรือง คำมา ปัญโญ จันทร์ตา ขันแก้ว อินทรวงศ์ สุวรรณ มูลเมือง ทาแก้ว ใจมา นันทะ เตชะ").split()
TITLES = ("นาย", "นาง", "นางสาว", None)
ORGANISATIONS = ("อบต.{s}", "เทศบาลตำบล{s}", "รพ.สต.{s}", "โรงเรียนบ้าน{s}", "ที่ทำการปกครองอำเภอ{d}")
FACILITY_NAMES = ("{t} รพ.สต.{s}", "{t} วัด{s}", "{t} โรงเรียนบ้าน{s}", "{t} อบต.{s}")
DETAILS = ("ผู้สูงอายุ ต้องการฉีดวัคซีนที่บ้าน", "มีไข้ ไอ ตรวจ ATK ผลบวก", "ขอถุงยังชีพ 1 ชุด", "ขอรถรับส่งไปโรงพยาบาล",
           "สมาชิกในบ้านติดเชื้อ 2 คน", None, None)
NOTES = ("โทรไม่ติด", "ย้ายที่อยู่", "ข้อมูลจาก อสม.", "ตรวจสอบแล้ว")
GROUPS = {"title": "ข้อมูลบุคคล", "first_name": "ข้อมูลบุคคล", "last_name": "ข้อมูลบุคคล", "sex": "ข้อมูลบุคคล",
          "birth_date": "ข้อมูลบุคคล", "age": "ข้อมูลบุคคล", "house_no": "ที่อยู่", "moo": "ที่อยู่",
          "subdistrict": "ที่อยู่", "district": "ที่อยู่", "lat": "พิกัด", "lon": "พิกัด"}
TOTALS = ("รวม", "รวมทั้งสิ้น", "ยอดรวม", "Total")
CSV_ENCODINGS = ("cp874", "utf-8", "utf-8-sig")
UNRELATED_SHEETS = ("Sheet1", "แผ่นงาน1", "Sheet2", "แผ่นงาน2", "Sheet3")


@dataclass(frozen=True)
class Size:
    """One benchmark size: which provinces, how many data rows in all."""

    name: str
    provinces: tuple[str, ...]
    rows: int


def _all_provinces() -> tuple[str, ...]:
    return tuple(sorted(provinces()))


def sizes() -> dict[str, Size]:
    return {
        "province": Size("province", ("54",), 50_000),           # แพร่: 8 districts
        "large": Size("large", ("30",), 500_000),                # นครราชสีมา: 32 districts
        "nation": Size("nation", _all_provinces(), 5_000_000),  # 77 provinces, 928 districts
    }


# ---------------------------------------------------------------- the contract: schema and gazetteer

@cache
def schema() -> dict:
    return yaml.safe_load((PACKAGE_DIR / "core" / "schema.yaml").read_text(encoding="utf-8"))


def _read_csv(name: str) -> list[dict]:
    with open(GAZETTEER_DIR / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def provinces() -> dict[str, str]:
    return {row["provinceCode"].zfill(2): row["provinceNameTh"] for row in _read_csv("provinces.csv")}


@cache
def districts() -> dict[str, dict[str, str]]:
    """Province code -> {district code: name} in code order."""
    found: dict[str, dict[str, str]] = {}
    for row in sorted(_read_csv("districts.csv"), key=lambda r: r["districtCode"]):
        found.setdefault(row["provinceCode"].zfill(2), {})[row["districtCode"]] = row["districtNameTh"]
    return found


@cache
def subdistricts() -> dict[str, list[str]]:
    """District code -> subdistrict names."""
    found: dict[str, list[str]] = {}
    for row in _read_csv("subdistricts.csv"):
        found.setdefault(row["districtCode"], []).append(row["subdistrictNameTh"])
    return found


def _encodable(text: str) -> bool:
    try:
        text.encode("cp874")
        return True
    except UnicodeEncodeError:
        return False


@cache
def header_spellings(dataset: str) -> dict[str, tuple[str, ...]]:
    """Field key -> the printed header and the aliases that name no other field of the form."""
    fields = schema()["datasets"][dataset]["fields"]
    spellings = {f["key"]: [f["header"], *map(str, f.get("aliases", []))] for f in fields}
    loose = lambda text: "".join(text.split()).casefold().strip("*.")  # noqa: E731
    owners: dict[str, set[str]] = {}
    for key, names in spellings.items():
        for name in names:
            owners.setdefault(loose(name), set()).add(key)
    return {key: tuple(n for n in names if owners[loose(n)] == {key} and _encodable(n))
            for key, names in spellings.items()}


@cache
def choice_spellings(list_name: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(canonical value, variants writable in cp874) of each value of a closed list."""
    return tuple((str(c["value"]), tuple(str(v) for v in c.get("variants", []) if _encodable(str(v))))
                 for c in schema()["choices"][list_name])


def source_hash() -> str:
    """What the cached inboxes depend on: this file, the forms and the gazetteer."""
    digest = hashlib.sha256()
    for path in (Path(__file__), PACKAGE_DIR / "core" / "schema.yaml", *sorted(GAZETTEER_DIR.glob("*.csv"))):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# ---------------------------------------------------------------- columns, drawn with numpy

def _scramble(slots: np.ndarray, modulus: int) -> np.ndarray:
    """A bijection of [0, modulus): unique slots give unique, random-looking numbers."""
    return (slots.astype(np.int64) * 79_190_011 + 31_415_926_535) % modulus


def _text_digits(numbers: np.ndarray, width: int) -> list[str]:
    return [f"{n:0{width}d}" for n in numbers.tolist()]


def _thai(rng, cells: list, share: float = 0.1) -> list:
    """Thai digits in a share of the text cells."""
    for i in np.flatnonzero(rng.random(len(cells)) < share).tolist():
        if isinstance(cells[i], str):
            cells[i] = cells[i].translate(THAI_DIGITS)
    return cells


def mobiles(rng, slots: np.ndarray) -> list[str]:
    """Unique Thai mobiles (06/08/09 + 8 digits from the slot)."""
    prefixes = np.array(["06", "08", "09"])[rng.integers(0, 3, len(slots))]
    return [p + s for p, s in zip(prefixes.tolist(), _text_digits(_scramble(slots, 10**8), 8))]


def phone_cells(rng, numbers: list[str]) -> list:
    """As typed: a number that lost its 0 (35%), dashed (15%), Thai digits (5%), plain text."""
    kind = rng.choice(4, size=len(numbers), p=(0.35, 0.15, 0.05, 0.45))
    cells: list = list(numbers)
    for i in np.flatnonzero(kind == 0).tolist():
        cells[i] = int(numbers[i])
    for i in np.flatnonzero(kind == 1).tolist():
        n = numbers[i]
        cells[i] = f"{n[:3]}-{n[3:6]}-{n[6:]}" if len(n) == 10 else f"{n[:2]}-{n[2:5]}-{n[5:]}"
    for i in np.flatnonzero(kind == 2).tolist():
        cells[i] = numbers[i].translate(THAI_DIGITS)
    return cells


def check_digits(twelve: np.ndarray) -> np.ndarray:
    """Thai ID check digits of (n, 12) digit arrays: (1 - (Σ (13 - i)·d_i mod 11)) mod 10."""
    weights = np.arange(13, 1, -1)
    return (1 - (twelve * weights).sum(axis=1) % 11) % 10


def person_ids(rng, slots: np.ndarray) -> list[str]:
    """Unique 13-digit IDs with valid check digits; first digit 1/3 mostly, 0 for some non-Thai residents."""
    first = rng.choice(np.array([1, 3, 5, 8, 0]), size=len(slots), p=(0.4, 0.45, 0.04, 0.06, 0.05))
    body = _scramble(slots, 10**11)
    digits = np.empty((len(slots), 12), dtype=np.int64)
    digits[:, 0] = first
    for position in range(11, 0, -1):
        digits[:, position] = body % 10
        body = body // 10
    full = np.concatenate([digits, check_digits(digits)[:, None]], axis=1)
    text = full.astype(np.uint8) + ord("0")
    return [bytes(row).decode() for row in text]


def id_cells(rng, ids: list) -> list:
    """As typed: a number (30%, never for 0-prefixed IDs), dashed or spaced (20%), Thai digits (5%), text."""
    kind = rng.choice(4, size=len(ids), p=(0.3, 0.2, 0.05, 0.45))
    cells = list(ids)
    for i in np.flatnonzero(kind == 0).tolist():
        if ids[i] and ids[i][0] != "0":
            cells[i] = int(ids[i])
    for i in np.flatnonzero(kind == 1).tolist():
        n = ids[i]
        if n:
            cells[i] = ("-" if i % 3 else " ").join((n[0], n[1:5], n[5:10], n[10:12], n[12]))
    for i in np.flatnonzero(kind == 2).tolist():
        if ids[i]:
            cells[i] = ids[i].translate(THAI_DIGITS)
    return cells


def days_between(rng, first: np.datetime64, last: np.datetime64, n: int) -> np.ndarray:
    span = int((last - first).astype(int)) + 1
    return first + rng.integers(0, span, n).astype("timedelta64[D]")


def date_cells(rng, days: np.ndarray) -> list:
    """As typed: a date cell (45%), a date cell with the BE year (15%), BE text in five spellings (40%)."""
    dates = days.astype("datetime64[D]").astype(object).tolist()
    kind = rng.choice(7, size=len(dates), p=(0.45, 0.15, 0.15, 0.08, 0.08, 0.05, 0.04))
    cells: list = list(dates)
    for i in np.flatnonzero(kind > 0).tolist():
        day = dates[i]
        year, month = day.year + 543, THAI_MONTHS[day.month - 1]
        form = kind[i]
        if form == 1:
            cells[i] = day.replace(year=year) if not (day.month == 2 and day.day == 29) else day
        elif form == 2:
            cells[i] = f"{day.day:02d}/{day.month:02d}/{year}"
        elif form == 3:
            cells[i] = f"{day.day}/{day.month}/{year}"
        elif form == 4:
            cells[i] = f"{day.day} {month} {year}"
        elif form == 5:
            cells[i] = f"({day.day}{month}{year})"
        elif day.year >= 2021:  # a two-digit year is only written for recent dates
            cells[i] = f"{day.day} {month}{year % 100:02d}"
        else:
            cells[i] = f"{day.day} {month} {year}"
    return _thai(rng, cells, 0.08)


def choice_cells(rng, list_name: str, n: int, weights=None, share: float = 0.2) -> tuple[list, np.ndarray]:
    """Canonical values, a share written as a declared variant; returns (cells, value index)."""
    spellings = choice_spellings(list_name)
    p = None if weights is None else np.asarray(weights, float) / np.sum(weights)
    index = rng.choice(len(spellings), size=n, p=p)
    cells = [spellings[i][0] for i in index.tolist()]
    for i in np.flatnonzero(rng.random(n) < share).tolist():
        variants = spellings[index[i]][1]
        if variants:
            cells[i] = variants[int(rng.integers(len(variants)))]
    return cells, index


def pick(rng, options, n: int) -> list:
    return [options[i] for i in rng.integers(0, len(options), n).tolist()]


@dataclass
class Places:
    """Where each row's record counts: its district (mostly the sender) and a subdistrict of it."""

    district_cells: list
    subdistrict_cells: list
    subdistrict_names: list[str]
    district_names: list[str]


def places(rng, province: str, district: str, n: int) -> Places:
    names = districts()[province]
    codes = list(names)
    home = np.full(n, codes.index(district))
    other = rng.random(n) < 0.03  # rows of another district of the province (a warning, still counted)
    if len(codes) > 1:
        home[other] = rng.integers(0, len(codes), int(other.sum()))
    district_names, sub_names = [], []
    for index in home.tolist():
        code = codes[index]
        district_names.append(names[code])
        options = subdistricts().get(code) or [names[code]]
        sub_names.append(options[int(rng.integers(len(options)))])
    prefix = rng.choice(4, size=n, p=(0.7, 0.15, 0.1, 0.05))
    district_cells = [name if k == 0 else ("อ." if k == 1 else "อำเภอ" if k == 2 else "อำเภอ ") + name
                      for name, k in zip(district_names, prefix.tolist())]
    prefix = rng.choice(4, size=n, p=(0.7, 0.15, 0.1, 0.05))
    sub_cells = [name if k == 0 else ("ต." if k == 1 else "ตำบล" if k == 2 else "ตำบล ") + name
                 for name, k in zip(sub_names, prefix.tolist())]
    return Places(district_cells, sub_cells, sub_names, district_names)


# ---------------------------------------------------------------- one form's rows

def _slots(rng, ordinal: int, n: int, neighbours: int) -> np.ndarray:
    """Identity slots of a district's rows; about 0.5% borrow a neighbouring district's (a duplicate)."""
    slots = ordinal * SLOTS + np.arange(n)
    if neighbours > 1:
        shared = np.flatnonzero(rng.random(n) < 0.005)
        neighbour = (ordinal + 1) if ordinal + 1 < neighbours else max(ordinal - 1, 0)
        slots[shared] = neighbour * SLOTS + shared
    return slots


def volunteers(rng, province, district, ordinal, count, n) -> dict[str, list]:
    where = places(rng, province, district, n)
    phones = mobiles(rng, _slots(rng, ordinal, n, count))
    types, _ = choice_cells(rng, "volunteer_types", n, (0.05, 0.2, 0.4, 0.1, 0.08, 0.07, 0.1))
    organisation = pick(rng, ORGANISATIONS, n)
    untagged = rng.random(n) < 0.1
    affiliation = [o.format(s=s, d=d) + ("" if u else " (moicovid)")
                   for o, s, d, u in zip(organisation, where.subdistrict_names, where.district_names, untagged.tolist())]
    return {
        "title": pick(rng, TITLES, n), "first_name": pick(rng, GIVEN, n), "last_name": pick(rng, SURNAMES, n),
        "phone": phone_cells(rng, phones), "volunteer_type": types, "affiliation": affiliation,
        "subdistrict": where.subdistrict_cells, "district": where.district_cells,
        "registered_on": date_cells(rng, days_between(rng, FIRST_DAY, LAST_DAY, n)),
    }


def unvaccinated(rng, province, district, ordinal, count, n) -> dict[str, list]:
    where = places(rng, province, district, n)
    ids = person_ids(rng, _slots(rng, ordinal, n, count))
    no_id = rng.random(n) < 0.08
    id_list: list = [None if blank else value for value, blank in zip(ids, no_id.tolist())]
    nationality, index = choice_cells(rng, "nationalities", n, (0.9, 0.05, 0.02, 0.02, 0.005, 0.005, 0.01))
    foreign_id = np.array([bool(i) and i[0] == "0" for i in ids])
    for i in np.flatnonzero(foreign_id & (index == 0)).tolist():
        nationality[i] = "เมียนมา"
    blank_nationality = rng.random(n) < 0.05
    for i in np.flatnonzero(blank_nationality & ~foreign_id).tolist():
        nationality[i] = None
    born = days_between(rng, np.datetime64("1940-01-01"), np.datetime64("2008-12-31"), n)
    form = rng.choice(3, size=n, p=(0.6, 0.25, 0.15))  # birth date, age only, both
    births = date_cells(rng, born)
    ages_years = np.floor((np.datetime64("2021-12-12") - born).astype(int) / 365.25).astype(int).tolist()
    age_cells = [None if f == 0 else a for f, a in zip(form.tolist(), ages_years)]
    birth_cells = [None if f == 1 else b for f, b in zip(form.tolist(), births)]
    moo = rng.integers(1, 21, n)
    moo_cells = _thai(rng, [int(m) if k else str(m) for m, k in zip(moo.tolist(), (rng.random(n) < 0.8).tolist())], 0.5)
    house = [f"{a}/{b}" if b else str(a) for a, b in zip(rng.integers(1, 400, n).tolist(),
                                                        (rng.integers(0, 30, n) * (rng.random(n) < 0.3)).tolist())]
    has_phone = rng.random(n) < 0.6
    phones = mobiles(rng, _slots(rng, ordinal, n, count))
    sexes, _ = choice_cells(rng, "sexes", n)
    reasons, _ = choice_cells(rng, "reasons", n, (0.3, 0.15, 0.05, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05))
    wants, _ = choice_cells(rng, "wants_vaccine", n, (0.6, 0.4))
    surveyors = pick(rng, GIVEN, n)
    return {
        "person_id": id_cells(rng, id_list), "title": pick(rng, TITLES, n), "first_name": pick(rng, GIVEN, n),
        "last_name": pick(rng, SURNAMES, n), "sex": sexes, "birth_date": birth_cells, "age": age_cells,
        "nationality": nationality, "house_no": _thai(rng, house, 0.05), "moo": moo_cells,
        "subdistrict": where.subdistrict_cells, "district": where.district_cells,
        "phone": [c if h else None for c, h in zip(phone_cells(rng, phones), has_phone.tolist())],
        "reason": reasons, "wants_vaccine": wants,
        "surveyed_on": date_cells(rng, days_between(rng, FIRST_DAY, LAST_DAY, n)),
        "surveyed_by": surveyors,
    }


def facilities(rng, province, district, ordinal, count, n, box) -> dict[str, list]:
    where = places(rng, province, district, n)
    types, index = choice_cells(rng, "facility_types", n, (0.2, 0.25, 0.1, 0.1, 0.15, 0.05, 0.15))
    canonical = [v for v, _ in choice_spellings("facility_types")]
    template = pick(rng, FACILITY_NAMES, n)
    names = [f"{t.format(t=canonical[k], s=s)} {i + 1}" for i, (t, k, s) in
             enumerate(zip(template, index.tolist(), where.subdistrict_names))]
    has_coordinates = rng.random(n) < 0.7
    lat = np.round(box["lat_min"] + rng.random(n) * (box["lat_max"] - box["lat_min"]), 5).tolist()
    lon = np.round(box["lon_min"] + rng.random(n) * (box["lon_max"] - box["lon_min"]), 5).tolist()
    statuses, _ = choice_cells(rng, "facility_statuses", n, (0.85, 0.15))
    phones = mobiles(rng, _slots(rng, ordinal, n, count))
    return {
        "facility_type": types, "name": names, "subdistrict": where.subdistrict_cells,
        "district": where.district_cells,
        "lat": [a if h else None for a, h in zip(lat, has_coordinates.tolist())],
        "lon": [a if h else None for a, h in zip(lon, has_coordinates.tolist())],
        "capacity": rng.integers(0, 300, n).tolist(), "phone": phone_cells(rng, phones), "status": statuses,
        "updated_on": date_cells(rng, days_between(rng, FIRST_DAY, LAST_DAY, n)),
    }


def help_requests(rng, province, district, ordinal, count, n) -> dict[str, list]:
    where = places(rng, province, district, n)
    requested = days_between(rng, FIRST_DAY, LAST_DAY - 3, n)
    resolved = requested + rng.integers(0, 3, n).astype("timedelta64[D]")
    statuses, status_index = choice_cells(rng, "request_statuses", n, (0.3, 0.3, 0.4))
    done = status_index == 2
    resolved_cells = date_cells(rng, resolved)
    types, _ = choice_cells(rng, "request_types", n, (0.25, 0.2, 0.25, 0.15, 0.1, 0.05))
    phones = mobiles(rng, _slots(rng, ordinal, n, count))
    moo = rng.integers(1, 21, n).tolist()
    return {
        "requested_on": date_cells(rng, requested), "request_type": types,
        "requester": [f"{a} {b}" for a, b in zip(pick(rng, GIVEN, n), pick(rng, SURNAMES, n))],
        "phone": phone_cells(rng, phones), "moo": _thai(rng, moo, 0.0),
        "subdistrict": where.subdistrict_cells, "district": where.district_cells,
        "details": pick(rng, DETAILS, n), "status": statuses,
        "resolved_on": [c if d else None for c, d in zip(resolved_cells, done.tolist())],
    }


# Ways to spoil a row (the pipeline must reject it): form -> [(field, bad cell)].
SPOILS = {
    "volunteers": [("phone", "08123"), ("volunteer_type", "ตำรวจ"), ("first_name", None),
                   ("registered_on", "15/11/2564"), ("phone", "054-512345")],
    "unvaccinated": [("person_id", "3100600123451"), ("person_id", "310060012345"), ("moo", 45),
                     ("first_name", None), ("district", "อ.หาดใหญ่ตะวันตก")],
    "facilities": [("facility_type", "ตลาดนัด"), ("name", None)],
    "help_requests": [("requested_on", "ไม่ทราบ"), ("requested_on", "30/02/2565"), ("request_type", "ขอเงินกู้"),
                      ("moo", 45)],
}


def spoil(rng, dataset: str, columns: dict[str, list], n: int) -> None:
    """About 1% of the rows made invalid, one field each."""
    kinds = SPOILS[dataset]
    for i in np.flatnonzero(rng.random(n) < 0.01).tolist():
        key, value = kinds[int(rng.integers(len(kinds)))]
        if key == "person_id" and value == "3100600123451":  # a wrong check digit
            good = columns["person_id"][i]
            text = str(good or "3100600123458").translate(str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789"))
            digits = "".join(ch for ch in text if ch.isdigit())
            value = digits[:12] + str((int(digits[12]) + 1) % 10) if len(digits) == 13 else value
        columns[key][i] = value


# ---------------------------------------------------------------- sheets and files

@dataclass
class Sheet:
    name: str
    dataset: str
    top: list[tuple[list, bool]]     # rows above the header: (cells, merged across the table)
    header: list[str]
    body: list[list]                 # data rows, blank rows, a totals row
    data_rows: int                   # rows holding a record (valid, invalid or duplicate)
    hidden: bool = False


def _header_text(rng, spellings: tuple[str, ...]) -> str:
    text = spellings[0]
    if len(spellings) > 1 and rng.random() < 0.2:
        text = spellings[int(rng.integers(1, len(spellings)))]
    roll = rng.random()
    if roll < 0.1:
        text = text + rng.choice(["*", " *"])
    elif roll < 0.15:
        text = f" {text.replace(' ', '  ')} "
    elif roll < 0.2 and " " in text.strip():
        text = text.strip().replace(" ", "\n", 1)
    return text


def build_sheet(rng, dataset: str, name: str, columns: dict[str, list], province: str, district: str) -> Sheet:
    """Lay a form's columns out as a district would: drifted headers and rows around the data."""
    n = len(next(iter(columns.values())))
    keys = list(columns)
    if rng.random() < 0.4:  # a few columns moved
        for _ in range(int(rng.integers(2, 4))):
            keys.insert(int(rng.integers(len(keys))), keys.pop(int(rng.integers(len(keys)))))
    spellings = header_spellings(dataset)
    header = [_header_text(rng, spellings[key]) for key in keys]
    order = list(range(n))
    for i in np.flatnonzero(rng.random(n) < 0.015).tolist():  # the same row twice in the sheet
        order.insert(int(rng.integers(i, len(order) + 1)), i)
    ordered = [columns[key] for key in keys]
    body = [[column[i] for column in ordered] for i in order]
    extras = rng.random(2) < (0.4, 0.2)
    if extras[0]:
        header.insert(0, "ลำดับ")
        keys.insert(0, "#")
        for number, row in enumerate(body, start=1):
            row.insert(0, number)
    if extras[1]:
        header.append("หมายเหตุ")
        keys.append("note")
        notes = rng.random(len(body)) < 0.05
        for row, noted in zip(body, notes.tolist()):
            row.append(NOTES[int(rng.integers(len(NOTES)))] if noted else None)
    data_rows = len(body)
    width = len(header)
    for at in sorted(np.flatnonzero(rng.random(len(body)) < 0.003).tolist(), reverse=True):
        body.insert(at, [None] * width)  # blank rows between the data
    if rng.random() < 0.5:
        total = [None] * width
        total[0] = TOTALS[int(rng.integers(len(TOTALS)))]
        total[-1 if width > 2 else 1] = data_rows
        body.append(total)
    top: list[tuple[list, bool]] = []
    if rng.random() < 0.5:
        title = f"แบบรายงาน{schema()['datasets'][dataset]['title']} อำเภอ{districts()[province][district]} " \
                f"จังหวัด{provinces()[province]}"
        top.append(([title], True))
        top.append((["ข้อมูล ณ วันที่ 23 ธ.ค. 2564"] if rng.random() < 0.5 else [None], False))
    if rng.random() < 0.2:  # merged group labels above the header (a two-row header)
        top.append(([GROUPS.get(key) for key in keys], False))
    return Sheet(name, dataset, top, header, body, data_rows)


SAFE = {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False,
        "constant_memory": True, "default_date_format": "dd/mm/yyyy"}


def write_xlsx(path: Path, sheets: list[Sheet]) -> None:
    book = xlsxwriter.Workbook(str(path), SAFE)
    bold = book.add_format({"bold": True, "text_wrap": True})
    for sheet in sheets:
        page = book.add_worksheet(sheet.name)
        width = len(sheet.header)
        row = 0
        for cells, merged in sheet.top:
            if merged and width > 1:
                page.merge_range(row, 0, row, width - 1, cells[0], bold)
            else:
                _write_groups(page, row, cells, bold)
            row += 1
        page.write_row(row, 0, sheet.header, bold)
        row += 1
        write_row = page.write_row
        for cells in sheet.body:
            write_row(row, 0, cells)
            row += 1
        if sheet.hidden:
            page.hide()
    book.close()


def _write_groups(page, row: int, cells: list, bold) -> None:
    """A row of group labels, each merged over the run of columns it names."""
    start = 0
    while start < len(cells):
        end = start
        while end + 1 < len(cells) and cells[start] is not None and cells[end + 1] == cells[start]:
            end += 1
        if cells[start] is None:
            pass
        elif end > start:
            page.merge_range(row, start, row, end, cells[start], bold)
        else:
            page.write_string(row, start, cells[start], bold)
        start = end + 1


def _csv_text(value) -> str:
    """A cell as Excel saves it to CSV (a date cell with a BE year as 20/12/2564, other dates ISO)."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return f"{value.day:02d}/{value.month:02d}/{value.year}" if value.year > 2400 else value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value).replace("\r", " ").replace("\n", " ")


def write_csv(path: Path, sheet: Sheet, encoding: str) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    width = len(sheet.header)
    for cells, _ in sheet.top:
        writer.writerow([_csv_text(c) for c in cells] + [""] * (width - len(cells)))
    writer.writerow([_csv_text(c) for c in sheet.header])
    writer.writerows([_csv_text(c) for c in cells] for cells in sheet.body)
    path.write_bytes(buffer.getvalue().encode(encoding, errors="replace"))


def _junk_sheet() -> Sheet:
    return Sheet("list", "", [], ["list1", "code"], [["ก", 1], ["ข", 2]], 0, hidden=True)


# ---------------------------------------------------------------- one district, one province, a size

@dataclass(frozen=True)
class DistrictTask:
    root: str          # the province's inputs folder
    province: str
    district: str
    ordinal: int       # index of the district in its province (identity slots)
    count: int         # districts in the province
    rows: int
    seed: int
    box: tuple


def write_district(task: DistrictTask) -> dict:
    """Draw and write one district's files; returns its counts."""
    rng = np.random.default_rng(task.seed)
    name = districts()[task.province][task.district]
    folder = (task.district, name, f"{task.district} {name}")[task.ordinal % 3]
    box = dict(task.box)
    makers = {
        "volunteers": lambda n: volunteers(rng, task.province, task.district, task.ordinal, task.count, n),
        "unvaccinated": lambda n: unvaccinated(rng, task.province, task.district, task.ordinal, task.count, n),
        "facilities": lambda n: facilities(rng, task.province, task.district, task.ordinal, task.count, n, box),
        "help_requests": lambda n: help_requests(rng, task.province, task.district, task.ordinal, task.count, n),
    }
    sheets = []
    for dataset, share in SHARES.items():
        n = max(3, int(round(task.rows * share * rng.uniform(0.9, 1.1))))
        columns = makers[dataset](n)
        spoil(rng, dataset, columns, n)
        title = schema()["datasets"][dataset]["title"]
        aliases = schema()["datasets"][dataset].get("sheet_aliases", [])
        roll = rng.random()
        sheet_name = title if roll < 0.85 or not aliases else str(aliases[0]) if roll < 0.95 else None
        sheets.append(build_sheet(rng, dataset, sheet_name or "", columns, task.province, task.district))
    spare = iter([name for name in UNRELATED_SHEETS if name not in {sheet.name for sheet in sheets}])
    for sheet in sheets:
        if not sheet.name:  # a sheet named by nothing that says what it holds (found by its headers)
            sheet.name = next(spare)
    directory = Path(task.root) / folder
    directory.mkdir(parents=True, exist_ok=True)
    plan = rng.random()
    tag = f"{name}_23ธค64"
    files = []
    if plan < 0.65:
        files.append(("xlsx", f"แบบรายงาน Jitasa_{tag}.xlsx", sheets + ([_junk_sheet()] if rng.random() < 0.1 else [])))
    elif plan < 0.85:
        single = sheets[int(rng.integers(len(sheets)))]
        files.append(("xlsx", f"ข้อมูลอำเภอ_{tag}.xlsx", [s for s in sheets if s is not single]))
        files.append(("csv", f"{schema()['datasets'][single.dataset]['title']}_{tag}.csv", [single]))
    else:
        files.append(("xlsx", f"รายงานประจำสัปดาห์_{tag}.xlsx", sheets[:2]))
        files.append(("xlsx", f"รายงานประจำสัปดาห์_{tag} (2).xlsx", sheets[2:]))
    late = rng.random() < 0.1
    base = dt.datetime(2021, 12, 24, 12, 30, tzinfo=TIMEZONE) if late else \
        dt.datetime(2021, 12, 23, 8, 0, tzinfo=TIMEZONE) + dt.timedelta(minutes=int(rng.integers(0, 1500)))
    written = {"files": 0, "bytes": 0, "rows": 0, "cells": 0, "xlsx": 0, "csv": 0}
    for number, (kind, file_name, members) in enumerate(files):
        path = directory / file_name
        if kind == "xlsx":
            write_xlsx(path, members)
        else:
            write_csv(path, members[0], CSV_ENCODINGS[(task.ordinal + number) % len(CSV_ENCODINGS)])
        stamp = (base + dt.timedelta(minutes=7 * number)).timestamp()
        os.utime(path, (stamp, stamp))
        written["files"] += 1
        written[kind] += 1
        written["bytes"] += path.stat().st_size
        for sheet in members:
            written["rows"] += sheet.data_rows
            written["cells"] += sum(len(r) for r in sheet.body) + len(sheet.header)
    return written


def province_config(province: str) -> dict:
    box = BOXES.get(province, COUNTRY_BOX)
    return {
        "province": {"code": province, "bounds": box},
        "weeks": {"timezone": "Asia/Bangkok", "recording_start": "2021-12-01", "first_report": "2021-12-24",
                  "cutoff_time": "16:00", "district_deadline": "12:00", "settle_seconds": 0},
        "facilities": {"stale_days": 14},
        "reports": {"date_digits": "thai", "font": "TH Sarabun New", "font_size": 16},
        "limits": {"max_file_megabytes": 50, "max_cells": 20_000_000, "max_rows_per_sheet": 1_100_000,
                   "parser_memory_megabytes": 4096, "parser_seconds": 600, "workers": 2},
        "google_sheets": {},
        "ministry": {"form_url": "", "admin": {
            "agency": f"ที่ทำการปกครองจังหวัด{provinces()[province]}", "full_name": "นายสมชาย ใจดี",
            "position": "เจ้าพนักงานปกครอง", "mobile": "0812345678", "email": "admin@example.go.th",
            "line_id": "0812345678"}},
    }


def _tasks(size: Size, root: Path) -> list[DistrictTask]:
    all_districts = [(p, d) for p in size.provinces for d in districts()[p]]
    rng = np.random.default_rng(20211224)
    weights = rng.uniform(0.7, 1.3, len(all_districts))
    # Rows drawn per district before duplicates (+1.5%) and the per-form jitter: the total lands near size.rows.
    shares = iter((weights / weights.sum() * size.rows / 1.015).astype(int).tolist())
    tasks = []
    for province in size.provinces:
        codes = list(districts()[province])
        box = tuple(BOXES.get(province, COUNTRY_BOX).items())
        for ordinal, district in enumerate(codes):
            rows = next(shares)
            tasks.append(DistrictTask(str(root / province / "inputs"), province, district, ordinal, len(codes),
                                      rows, int(rng.integers(2**32)), box))
    return tasks


def generate(size: Size, root: Path = DEFAULT_ROOT, workers: int = 2, progress=print) -> dict:
    """Write a size's inboxes (replacing any old ones) and its manifest; returns the manifest."""
    target = root / size.name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for province in size.provinces:
        (target / province / "inputs").mkdir(parents=True)
        (target / province / "config.yaml").write_text(
            yaml.safe_dump(province_config(province), allow_unicode=True, sort_keys=False), encoding="utf-8")
    tasks = _tasks(size, target)
    started = time.monotonic()
    totals = {"files": 0, "bytes": 0, "rows": 0, "cells": 0, "xlsx": 0, "csv": 0}
    per_province: dict[str, dict] = {}
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        for done, (task, counts) in enumerate(zip(tasks, pool.imap(write_district, tasks, chunksize=1)), start=1):
            for key, value in counts.items():
                totals[key] += value
                per_province.setdefault(task.province, {k: 0 for k in totals})[key] += value
            if done % 50 == 0 or done == len(tasks):
                progress(f"  {size.name}: {done}/{len(tasks)} districts, {totals['rows']:,} rows, "
                         f"{time.monotonic() - started:.0f} s")
    manifest = {"size": size.name, "source_hash": source_hash(), "target_rows": size.rows,
                "provinces": per_province, "districts": len(tasks), "seconds": round(time.monotonic() - started, 1),
                **totals}
    (target / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


def ensure(size: Size, root: Path = DEFAULT_ROOT, workers: int = 2, progress=print) -> dict:
    """The size's manifest, generating the inboxes first when missing or made by another generator."""
    path = root / size.name / "manifest.json"
    if path.exists():
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("source_hash") == source_hash() and manifest.get("target_rows") == size.rows \
                and set(manifest.get("provinces", {})) == set(size.provinces):
            return manifest
    progress(f"generating the {size.name} inbox ({size.rows:,} rows, {len(size.provinces)} province(s)) "
             f"under {root / size.name} …")
    return generate(size, root, workers, progress)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.inboxes", description=__doc__.split("\n")[0])
    parser.add_argument("sizes", nargs="+", choices=list(sizes()))
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--force", action="store_true", help="regenerate even when the cache is current")
    arguments = parser.parse_args(argv)
    for name in arguments.sizes:
        size = sizes()[name]
        manifest = generate(size, arguments.root) if arguments.force else ensure(size, arguments.root)
        print(f"{name}: {manifest['rows']:,} rows in {manifest['files']} files "
              f"({manifest['bytes'] / 1e6:.1f} MB) in {manifest['districts']} districts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
