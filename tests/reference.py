"""An independent oracle: the weekly report figures a synthetic inbox must give, from its Truth alone.

Uses no pipeline code: only the generator's Truth (files, submission times, canonical records of
valid rows) and the closed lists of schema.yaml. It re-derives identities, first and newest records,
duplicates and submission status itself, following FORMS.md §1, §3 and §4.
"""
from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path, PurePosixPath

import yaml

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "pipeline" / "schema.yaml"
BANGKOK = dt.timezone(dt.timedelta(hours=7))  # Asia/Bangkok has no daylight saving
FIRST_REPORT = dt.date(2021, 12, 24)
CUTOFF = dt.time(16, 0)
DEADLINE = dt.time(12, 0)
STALE_DAYS = 14
DONE = "ดำเนินการแล้ว"
WANTS = "ประสงค์"
THAI = "ไทย"
VALID_OUTCOMES = ("accepted", "duplicate")


@cache
def closed_list(name: str) -> tuple[str, ...]:
    """Canonical values of a closed list from schema.yaml."""
    schema = yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))
    return tuple(str(c["value"]) for c in schema["choices"][name])


def identity(dataset: str, record: dict) -> tuple:
    """FORMS.md identities on canonical values (a person without an ID: name, birth date and address)."""
    if dataset == "volunteers":
        return (record["phone"],)
    if dataset == "unvaccinated":
        if record.get("person_id"):
            return ("id", record["person_id"])
        return ("person", record["first_name"], record.get("last_name") or "", record["birth_date"],
                int(record["moo"]), record["subdistrict"])
    if dataset == "facilities":
        return (record["facility_type"], " ".join(str(record["name"]).split()), record["district"])
    return (record["phone"], record["request_type"], record["requested_on"])


def window(week: dt.date) -> tuple[dt.datetime | None, dt.datetime]:
    """(opening, cut-off] of a reporting week; no opening for the first report."""
    cutoff = dt.datetime.combine(week, CUTOFF, tzinfo=BANGKOK)
    return (None if week <= FIRST_REPORT else cutoff - dt.timedelta(days=7)), cutoff


def in_window(moment: dt.datetime, opening: dt.datetime | None, cutoff: dt.datetime) -> bool:
    """Whether a submission time falls in (opening, cut-off]."""
    return (opening is None or moment > opening) and moment <= cutoff


def valid_rows(truth, cutoff: dt.datetime) -> list[dict]:
    """Valid rows of files submitted by the cut-off, in recording order (time, path, sheet, row)."""
    rows = []
    for file in truth.files:
        if file.submitted_at > cutoff:
            continue
        for sheet in file.sheets:
            for number, row in sheet.rows.items():
                if sheet.dataset and row.outcome in VALID_OUTCOMES:
                    order = (file.submitted_at, PurePosixPath(file.path).parts, sheet.index, number)
                    rows.append({"order": order, "file": file, "dataset": sheet.dataset, "record": row.record,
                                 "identity": identity(sheet.dataset, row.record)})
    return sorted(rows, key=lambda r: r["order"])


def entities(rows: list[dict], dataset: str) -> list[dict]:
    """Per entity: its first record (by order) and its newest (facilities: latest updated_on first)."""
    grouped: dict[tuple, dict] = {}
    for row in rows:
        if row["dataset"] != dataset:
            continue
        entry = grouped.setdefault(row["identity"], {"first": row, "newest": row})
        if _newness(dataset, row) > _newness(dataset, entry["newest"]):
            entry["newest"] = row
    return list(grouped.values())


def _newness(dataset: str, row: dict) -> tuple:
    if dataset == "facilities":
        return (row["record"]["updated_on"], row["order"])
    return (row["order"],)


def _counts(values, choices: tuple[str, ...]) -> dict[str, int]:
    counts = dict.fromkeys(choices, 0)
    for value in values:
        counts[value] += 1
    return counts


def dataset_blocks(rows: list[dict], district: str, opening, cutoff) -> dict:
    """The volunteers/unvaccinated/facilities/help_requests blocks of one district."""
    def mine(dataset):
        return [e for e in entities(rows, dataset) if e["newest"]["record"]["district"] == district]

    def new(found):
        return sum(1 for e in found if in_window(e["first"]["file"].submitted_at, opening, cutoff))

    def newest(found, key):
        return [e["newest"]["record"][key] for e in found]

    volunteers, people, places, requests = (mine(d) for d in ("volunteers", "unvaccinated", "facilities", "help_requests"))
    nationalities = newest(people, "nationality")
    return {
        "volunteers": {"new": new(volunteers), "total": len(volunteers),
                       "by_type": _counts(newest(volunteers, "volunteer_type"), closed_list("volunteer_types"))},
        "unvaccinated": {"new": new(people), "total": len(people),
                         "thai": nationalities.count(THAI), "non_thai": len(people) - nationalities.count(THAI),
                         "wants_vaccine": newest(people, "wants_vaccine").count(WANTS),
                         "by_reason": _counts(newest(people, "reason"), closed_list("reasons"))},
        "facilities": {"total": len(places),
                       "stale": sum(1 for d in newest(places, "updated_on") if (cutoff.date() - d).days > STALE_DAYS),
                       "by_type": _counts(newest(places, "facility_type"), closed_list("facility_types"))},
        "help_requests": {"new": new(requests), "total": len(requests),
                          "open": sum(1 for s in newest(requests, "status") if s != DONE),
                          "by_type": _counts(newest(requests, "request_type"), closed_list("request_types")),
                          "by_status": _counts(newest(requests, "status"), closed_list("request_statuses"))},
    }


def row_outcomes(truth, cutoff: dt.datetime) -> dict[tuple[str, str, int], str]:
    """accepted/duplicate/rejected/skipped of every row by the cut-off, duplicates re-derived here."""
    outcomes, seen = {}, set()
    for row in valid_rows(truth, cutoff):
        key = (row["dataset"], row["identity"])
        outcomes[(row["file"].path, row["order"][2], row["order"][3])] = "duplicate" if key in seen else "accepted"
        seen.add(key)
    for file in truth.files:
        for sheet in file.sheets:
            for number, row in sheet.rows.items():
                if row.outcome in ("rejected", "skipped"):
                    outcomes[(file.path, sheet.index, number)] = row.outcome
    return outcomes


def submission(truth, district: str, week: dt.date, outcomes: dict) -> dict:
    """Files a district folder sent this week, its status, and the row counts of those files."""
    opening, cutoff = window(week)
    files = [f for f in truth.files if f.district == district and in_window(f.submitted_at, opening, cutoff)]
    deadline = dt.datetime.combine(week, DEADLINE, tzinfo=BANGKOK)
    first = min((f.submitted_at for f in files), default=None)
    status = "missing" if first is None else ("on_time" if first <= deadline else "late")
    counts = {"rows_read": 0, "accepted": 0, "rejected": 0, "duplicates": 0}
    names = {"accepted": "accepted", "rejected": "rejected", "duplicate": "duplicates"}  # skipped: only read
    for file in files:
        for sheet in file.sheets:
            for number in sheet.rows if sheet.dataset else ():
                counts["rows_read"] += 1
                outcome = outcomes[(file.path, sheet.index, number)]
                if outcome in names:
                    counts[names[outcome]] += 1
    last = max((f.submitted_at for f in files), default=None)
    return {"status": status, "files": len(files), "last_submitted": last.isoformat() if last else None, **counts}


def _add(total: dict, block: dict) -> None:
    for key, value in block.items():
        if isinstance(value, dict):
            _add(total.setdefault(key, {}), value)
        elif isinstance(value, int):
            total[key] = total.get(key, 0) + value


def expected_report(truth, week: dt.date | str) -> dict:
    """report.json's districts and totals blocks (FORMS.md §4) the pipeline must produce for a week."""
    week = dt.date.fromisoformat(week) if isinstance(week, str) else week
    opening, cutoff = window(week)
    rows = valid_rows(truth, cutoff)
    outcomes = row_outcomes(truth, cutoff)
    districts, totals = {}, {}
    statuses = {"on_time": 0, "late": 0, "missing": 0}
    for code, name in sorted(truth.districts.items()):
        block = {"name": name, "submission": submission(truth, code, week, outcomes),
                 **dataset_blocks(rows, code, opening, cutoff)}
        districts[code] = block
        statuses[block["submission"]["status"]] += 1
        _add(totals, {k: v for k, v in block.items() if k != "name"})
    totals["submission"] = {**statuses, **{k: v for k, v in totals["submission"].items()
                                          if k in ("files", "rows_read", "accepted", "rejected", "duplicates")}}
    return {"province": truth.province_name, "province_code": truth.province_code, "week": week.isoformat(),
            "cutoff": cutoff.isoformat(), "districts": districts, "totals": totals}
