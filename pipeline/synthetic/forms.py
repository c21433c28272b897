"""The forms and places the generator writes, read straight from schema.yaml and the gazetteer.

The generator deliberately does not import the pipeline's own readers (normalize, gazetteer):
its files must be built from the contract, not from the code under test.
"""
from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

PACKAGE_DIR = Path(__file__).resolve().parent.parent
GAZETTEER_DIR = PACKAGE_DIR / "thai" / "data" / "thai_admin"

DATASETS = ("volunteers", "unvaccinated", "facilities", "help_requests")
PROVINCE_CODE = "54"
TIMEZONE = ZoneInfo("Asia/Bangkok")
RECORDING_START = dt.date(2021, 12, 1)
FIRST_REPORT = dt.date(2021, 12, 24)
CUTOFF_TIME = dt.time(16, 0)
DEADLINE_TIME = dt.time(12, 0)


@dataclass(frozen=True)
class District:
    """A district of the province with its subdistricts (code -> Thai name)."""

    code: str
    name: str
    subdistricts: dict[str, str]


@cache
def schema() -> dict:
    """schema.yaml as plain data."""
    return yaml.safe_load((PACKAGE_DIR / "core" / "schema.yaml").read_text(encoding="utf-8"))


def fields(dataset: str) -> list[dict]:
    """The declared fields of a dataset, in form order."""
    return schema()["datasets"][dataset]["fields"]


def field(dataset: str, key: str) -> dict:
    """One declared field."""
    return next(f for f in fields(dataset) if f["key"] == key)


def title(dataset: str) -> str:
    """The Thai sheet title of a dataset."""
    return schema()["datasets"][dataset]["title"]


def sheet_aliases(dataset: str) -> list[str]:
    """Other sheet names the dataset is known by."""
    return [str(a) for a in schema()["datasets"][dataset].get("sheet_aliases", [])]


def choice_values(list_name: str) -> list[str]:
    """Canonical values of a closed list, in declared order."""
    return [str(c["value"]) for c in schema()["choices"][list_name]]


def choice_variants(list_name: str, value: str) -> list[str]:
    """Declared variant spellings of one canonical value."""
    entry = next(c for c in schema()["choices"][list_name] if str(c["value"]) == value)
    return [str(v) for v in entry.get("variants", [])]


def totals_markers() -> list[str]:
    """Values that mark a totals row."""
    return [str(m) for m in schema().get("totals_markers", [])]


def loose(text: str) -> str:
    """A comparison key ignoring case, spacing, dots, '*', brackets and line breaks (as the schema promises)."""
    return re.sub(r"[\s.*()\[\]]+", "", str(text)).casefold()


@cache
def header_spellings(dataset: str, key: str) -> tuple[str, ...]:
    """The printed header and those aliases that name no other field of the dataset."""
    spellings = {f["key"]: [f["header"], *map(str, f.get("aliases", []))] for f in fields(dataset)}
    owners: dict[str, set[str]] = {}
    for owner, names in spellings.items():
        for name in names:
            owners.setdefault(loose(name), set()).add(owner)
    return tuple(name for name in spellings[key] if owners[loose(name)] == {key})


def _read_csv(name: str) -> list[dict]:
    with open(GAZETTEER_DIR / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def province_name(code: str = PROVINCE_CODE) -> str:
    """Thai name of a province."""
    return next(r["provinceNameTh"] for r in _read_csv("provinces.csv") if r["provinceCode"] == code)


@cache
def province_districts(code: str = PROVINCE_CODE) -> dict[str, District]:
    """The districts of a province, by DOPA code, in code order."""
    subdistricts: dict[str, dict[str, str]] = {}
    for row in _read_csv("subdistricts.csv"):
        if row["provinceCode"] == code:
            subdistricts.setdefault(row["districtCode"], {})[row["subdistrictCode"]] = row["subdistrictNameTh"]
    districts = {
        row["districtCode"]: District(row["districtCode"], row["districtNameTh"], subdistricts.get(row["districtCode"], {}))
        for row in _read_csv("districts.csv") if row["provinceCode"] == code
    }
    return dict(sorted(districts.items()))


@cache
def all_subdistrict_names() -> frozenset[str]:
    """Every subdistrict name of the country (to pick names that are surely not in the province)."""
    return frozenset(row["subdistrictNameTh"] for row in _read_csv("subdistricts.csv"))


def cutoff_of(week: dt.date) -> dt.datetime:
    """Friday 16:00 Asia/Bangkok of the week."""
    return dt.datetime.combine(week, CUTOFF_TIME, tzinfo=TIMEZONE)


def run_moment(week: dt.date) -> dt.datetime:
    """When a test runs a week (its `now`): a minute before the cut-off, after every file of the week
    (they come by then), so that changes to the inbox made during the week are seen inside it."""
    return cutoff_of(week) - dt.timedelta(minutes=1)


def deadline_of(week: dt.date) -> dt.datetime:
    """Friday 12:00 Asia/Bangkok of the week (the district deadline)."""
    return dt.datetime.combine(week, DEADLINE_TIME, tzinfo=TIMEZONE)


def week_of(moment: dt.datetime) -> dt.date:
    """The Friday of the reporting week a submission time belongs to."""
    local = moment.astimezone(TIMEZONE)
    friday = local.date() + dt.timedelta(days=(4 - local.weekday()) % 7)
    if friday == local.date() and local.time() > CUTOFF_TIME:
        friday += dt.timedelta(days=7)
    return max(friday, FIRST_REPORT)
