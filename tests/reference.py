"""An independent oracle: the weekly report figures a synthetic inbox must give, from its Truth alone.

Uses no pipeline code: only the generator's Truth (file versions, submission times, removals, canonical
records of valid rows, the columns each sheet had) and schema.yaml's closed lists, field keys and the
figures each field feeds (`reported:`). It re-derives identities, the versions a week counts, first and
newest records, updates and duplicates and submission status itself, following FORMS.md §1, §3 and §4.
"""
from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path, PurePosixPath

import yaml

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "pipeline" / "core" / "schema.yaml"
BANGKOK = dt.timezone(dt.timedelta(hours=7))  # Asia/Bangkok has no daylight saving
FIRST_REPORT = dt.date(2021, 12, 24)
CUTOFF = dt.time(16, 0)
DEADLINE = dt.time(12, 0)
STALE_DAYS = 14
DONE = "ดำเนินการแล้ว"
WANTS = "ประสงค์"
THAI = "ไทย"
NOT_STATED = "ไม่ระบุ"
DATASETS = ("volunteers", "unvaccinated", "facilities", "help_requests")
VALID_KINDS = ("record",)
COUNT_NAMES = {"accepted": "accepted", "updated": "updated", "duplicate": "duplicates", "rejected": "rejected",
               "skipped": "skipped"}
COUNT_KEYS = ("files", "rows_read", "accepted", "updated", "rejected", "duplicates", "skipped")


@cache
def _schema() -> dict:
    return yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))


def closed_list(name: str) -> tuple[str, ...]:
    """Canonical values of a closed list from schema.yaml."""
    return tuple(str(c["value"]) for c in _schema()["choices"][name])


def form_keys(dataset: str) -> tuple[str, ...]:
    """The keys of a form's declared fields."""
    return tuple(f["key"] for f in _schema()["datasets"][dataset]["fields"])


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


# -- which versions a week sees, and which it counts ------------------------------------------------
def submitted_by(truth, cutoff: dt.datetime) -> list:
    """Every file version submitted by the cut-off (superseded and removed ones too)."""
    return [f for f in truth.files if f.submitted_at <= cutoff]


def counted_versions(truth, cutoff: dt.datetime) -> set[int]:
    """ids of the versions the week counts: per path its newest version by the cut-off, unless the path's
    removal was seen after that version and by the cut-off (FORMS.md §1)."""
    newest: dict[str, object] = {}
    for file in submitted_by(truth, cutoff):
        if file.path not in newest or file.submitted_at > newest[file.path].submitted_at:
            newest[file.path] = file
    removed = [(path, seen) for path, seen in truth.removals() if seen <= cutoff]
    return {id(file) for path, file in newest.items()
            if not any(p == path and file.submitted_at < seen for p, seen in removed)}


def valid_rows(files) -> list[dict]:
    """Valid rows of the given versions in recording order (time, path, sheet, row)."""
    rows = []
    for file in files:
        for sheet in file.sheets:
            for number, row in sheet.rows.items():
                if sheet.dataset and row.kind in VALID_KINDS:
                    order = (file.submitted_at, PurePosixPath(file.path).parts, sheet.index, number)
                    rows.append({"order": order, "file": file, "dataset": sheet.dataset, "record": row.record,
                                 "identity": identity(sheet.dataset, row.record), "number": number,
                                 "sheet": sheet.index})
    return sorted(rows, key=lambda r: r["order"])


def entities(rows: list[dict], dataset: str, first_times: dict) -> list[dict]:
    """Per counted entity: its newest counted record (facilities: latest updated_on first) and the time of
    its first valid row over every version submitted by the cut-off."""
    grouped: dict[tuple, dict] = {}
    for row in rows:
        if row["dataset"] != dataset:
            continue
        entry = grouped.setdefault(row["identity"], {"newest": row,
                                                     "first_at": first_times[(dataset, row["identity"])]})
        if _newness(dataset, row) > _newness(dataset, entry["newest"]):
            entry["newest"] = row
    return list(grouped.values())


def _newness(dataset: str, row: dict) -> tuple:
    if dataset == "facilities":
        return (row["record"]["updated_on"] or dt.date.min, row["order"])
    return (row["order"],)


def _counts(values, choices: tuple[str, ...], not_stated: bool = False) -> dict[str, int]:
    counts = dict.fromkeys(choices + ((NOT_STATED,) if not_stated else ()), 0)
    for value in values:
        counts[NOT_STATED if value is None else value] += 1
    return counts


def dataset_blocks(rows: list[dict], first_times: dict, district: str, opening, cutoff) -> dict:
    """The volunteers/unvaccinated/facilities/help_requests blocks of one district."""
    def mine(dataset):
        return [e for e in entities(rows, dataset, first_times) if e["newest"]["record"]["district"] == district]

    def new(found):
        return sum(1 for e in found if in_window(e["first_at"], opening, cutoff))

    def newest(found, key):
        return [e["newest"]["record"][key] for e in found]

    volunteers, people, places, requests = (mine(d) for d in DATASETS)
    nationalities, wishes = newest(people, "nationality"), newest(people, "wants_vaccine")
    return {
        "volunteers": {"new": new(volunteers), "total": len(volunteers),
                       "by_type": _counts(newest(volunteers, "volunteer_type"), closed_list("volunteer_types"))},
        "unvaccinated": {"new": new(people), "total": len(people),
                         "thai": nationalities.count(THAI), "nationality_unknown": nationalities.count(None),
                         "non_thai": len(people) - nationalities.count(THAI) - nationalities.count(None),
                         "wants_vaccine": wishes.count(WANTS), "wants_vaccine_unknown": wishes.count(None),
                         "by_reason": _counts(newest(people, "reason"), closed_list("reasons"), not_stated=True)},
        "facilities": {"total": len(places),
                       "stale": sum(1 for d in newest(places, "updated_on")
                                    if d is not None and (cutoff.date() - d).days > STALE_DAYS),
                       "by_type": _counts(newest(places, "facility_type"), closed_list("facility_types")),
                       "by_status": _counts(newest(places, "status"), closed_list("facility_statuses"),
                                            not_stated=True)},
        "help_requests": {"new": new(requests), "total": len(requests),
                          "open": sum(1 for s in newest(requests, "status") if s != DONE),
                          "by_type": _counts(newest(requests, "request_type"), closed_list("request_types")),
                          "by_status": _counts(newest(requests, "status"), closed_list("request_statuses"))},
    }


# -- every row accounted for ---------------------------------------------------------------------
def row_outcomes(truth, cutoff: dt.datetime) -> dict[tuple, str]:
    """(version id, sheet index, excel row) -> accepted/updated/duplicate/rejected/skipped, over every
    version submitted by the cut-off: the first row of an identity is accepted; a later one is updated when
    a form value differs from the newest earlier row of the identity sent from the same district folder,
    else a duplicate (also when the identity was only ever sent from other folders)."""
    outcomes, seen, by_folder = {}, set(), {}
    for row in valid_rows(submitted_by(truth, cutoff)):
        dataset, file = row["dataset"], row["file"]
        key = (dataset, row["identity"])
        values = tuple(row["record"].get(k) for k in form_keys(dataset))
        earlier = by_folder.get((file.district, key))
        by_folder[(file.district, key)] = values
        if key not in seen:
            outcome = "accepted"
        else:
            outcome = "updated" if earlier is not None and earlier != values else "duplicate"
        seen.add(key)
        outcomes[(id(file), row["sheet"], row["number"])] = outcome
    for file in truth.files:
        for sheet in file.sheets:
            for number, row in sheet.rows.items():
                if row.kind not in VALID_KINDS:
                    outcomes[(id(file), sheet.index, number)] = row.outcome  # rejected | skipped
    return outcomes


def version_counts(file, outcomes: dict) -> dict[str, int]:
    """rows_read, accepted, updated, rejected, duplicates, skipped of one file version."""
    counts = dict.fromkeys(COUNT_KEYS[1:], 0)
    for sheet in file.sheets:
        for number in sheet.rows if sheet.dataset else ():
            counts["rows_read"] += 1
            counts[COUNT_NAMES[outcomes[(id(file), sheet.index, number)]]] += 1
    return counts


def submission(truth, district: str, week: dt.date, outcomes: dict) -> dict:
    """File versions a district folder sent this week, its status, and the row counts of those versions."""
    opening, cutoff = window(week)
    files = [f for f in truth.files if f.district == district and in_window(f.submitted_at, opening, cutoff)]
    deadline = dt.datetime.combine(week, DEADLINE, tzinfo=BANGKOK)
    first = min((f.submitted_at for f in files if f.usable), default=None)
    if first is not None:
        status = "on_time" if first <= deadline else "late"
    else:
        status = "unusable" if files else "missing"
    counts = dict.fromkeys(COUNT_KEYS[1:], 0)
    for file in files:
        for key, value in version_counts(file, outcomes).items():
            counts[key] += value
    last = max((f.submitted_at for f in files), default=None)
    return {"status": status, "files": len(files), "last_submitted": last.isoformat() if last else None, **counts}


def incomplete(truth, district: str, week: dt.date) -> list[str]:
    """Figure paths that depend on a column some sheet the district's folder sent this week lacked."""
    opening, cutoff = window(week)
    paths = set()
    for file in truth.files:
        if file.district != district or not in_window(file.submitted_at, opening, cutoff):
            continue
        for sheet in file.sheets:
            if not sheet.dataset:
                continue
            declared = _schema()["datasets"][sheet.dataset]
            for field in declared["fields"]:
                if field["key"] in sheet.columns:
                    continue
                paths.update(declared.get("reported", {}).get(field["key"], ()))
                if field.get("required") is True:
                    paths.update((f"{sheet.dataset}.new", f"{sheet.dataset}.total"))
    return sorted(paths)


def _add(total: dict, block: dict) -> None:
    for key, value in block.items():
        if isinstance(value, dict):
            _add(total.setdefault(key, {}), value)
        elif isinstance(value, int):
            total[key] = total.get(key, 0) + value


def expected_accounting(truth, week: dt.date | str) -> dict[tuple[str, dt.datetime], dict[str, int]]:
    """(path, submitted_at) -> row counts of every file version submitted inside the week."""
    week = dt.date.fromisoformat(week) if isinstance(week, str) else week
    opening, cutoff = window(week)
    outcomes = row_outcomes(truth, cutoff)
    return {(f.path, f.submitted_at): version_counts(f, outcomes) for f in truth.files
            if in_window(f.submitted_at, opening, cutoff)}


def expected_report(truth, week: dt.date | str) -> dict:
    """report.json's districts and totals blocks (FORMS.md §4) the pipeline must produce for a week."""
    week = dt.date.fromisoformat(week) if isinstance(week, str) else week
    opening, cutoff = window(week)
    seen = submitted_by(truth, cutoff)
    first_times = {}
    for row in valid_rows(seen):
        first_times.setdefault((row["dataset"], row["identity"]), row["file"].submitted_at)
    counted = counted_versions(truth, cutoff)
    rows = valid_rows([f for f in seen if id(f) in counted])
    outcomes = row_outcomes(truth, cutoff)
    districts, totals = {}, {}
    statuses = {"on_time": 0, "late": 0, "unusable": 0, "missing": 0}
    for code, name in sorted(truth.districts.items()):
        block = {"name": name, "submission": submission(truth, code, week, outcomes),
                 **dataset_blocks(rows, first_times, code, opening, cutoff),
                 "incomplete": incomplete(truth, code, week)}
        districts[code] = block
        statuses[block["submission"]["status"]] += 1
        _add(totals, {k: v for k, v in block.items() if k not in ("name", "incomplete")})
    totals["submission"] = {**statuses, **{k: v for k, v in totals["submission"].items() if k in COUNT_KEYS}}
    totals["incomplete"] = sorted({path for block in districts.values() for path in block["incomplete"]})
    return {"province": truth.province_name, "province_code": truth.province_code, "week": week.isoformat(),
            "cutoff": cutoff.isoformat(), "districts": districts, "totals": totals}
