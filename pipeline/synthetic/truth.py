"""What an inbox holds, known in advance: every file, sheet and row, and the outcome each must get."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pandas as pd

from pipeline.synthetic import forms

VALID_KINDS = ("record",)  # row kinds that pass validation (possibly with warnings)


@dataclass
class RowTruth:
    """The expected fate of one row below a header."""

    outcome: str  # accepted | updated | rejected | duplicate | skipped
    kind: str  # record | error | blank | totals
    problems: tuple[str, ...] = ()  # codes the pipeline must report for the row (it may report more)
    record: dict | None = None  # canonical values of a valid row
    entity_key: tuple | None = None  # identity of the entity a valid row stands for
    source: str = "list"  # list | same_file | other_district | moved | resent
    injection: str | None = None  # the injected error, for rejected rows
    duplicate_of: tuple[str, str, int] | None = None  # (file, sheet, excel_row) of the first record
    changed: tuple[str, ...] = ()  # an updated row: the fields that differ from the folder's newest earlier row


@dataclass
class SheetTruth:
    """One sheet of a workbook, or the one table of a CSV (named by the file's stem)."""

    name: str
    index: int  # position in the workbook (0 for a CSV)
    dataset: str | None  # None: junk that must not be imported
    hidden: bool = False
    header_row: int = 0  # 1-based row of the field names
    columns: list[str] = field(default_factory=list)  # field key (or 'ลำดับ'/'หมายเหตุ') of each column
    rows: dict[int, RowTruth] = field(default_factory=dict)  # excel row -> expectation
    drifts: tuple[str, ...] = ()  # drifts really present (Drifts field names)
    hinted: dict[str, str] = field(default_factory=dict)  # field key -> header printed with a hint
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # data cells merged down (r1, c1, r2, c2)

    def count(self, outcome: str) -> int:
        """Rows with this outcome."""
        return sum(1 for row in self.rows.values() if row.outcome == outcome)

    @property
    def read(self) -> int:
        """Rows below the header up to the last non-empty row."""
        return len(self.rows)


@dataclass
class FileTruth:
    """One submitted file."""

    path: str  # relative to the inbox root, '/'-separated
    folder: str  # the district folder's name
    district: str  # DOPA code of the folder's district
    format: str  # xlsx | csv | ods
    encoding: str | None  # CSV encoding
    submitted_at: dt.datetime  # its mtime, Asia/Bangkok
    timing: str  # on_time | late | after_cutoff | fixed
    week: dt.date  # the week it belongs to (after the cut-off: the next week)
    sent_for: dt.date  # the week the district meant it for (differs from `week` after the cut-off)
    sheets: list[SheetTruth] = field(default_factory=list)
    revision: int = 0  # 0: written by build_inbox; n: the n-th later version of the path (written by apply_changes)
    usable: bool = True  # False: corrupt, or no sheet of any form

    def count(self, outcome: str) -> int:
        """Rows with this outcome over all sheets."""
        return sum(sheet.count(outcome) for sheet in self.sheets)

    @property
    def read(self) -> int:
        """Rows read over all sheets."""
        return sum(sheet.read for sheet in self.sheets)

    @property
    def order(self) -> tuple:
        """Processing order: submission time, then path (by parts)."""
        return (self.submitted_at, PurePosixPath(self.path).parts)


@dataclass
class Change:
    """A later change to the inbox: a file saved again under its path, or deleted."""

    kind: str  # replace | remove
    path: str
    at: dt.datetime  # when the district did it
    seen_at: dt.datetime  # the run that first sees it (Truth.run_at of its week): a removal is recorded then
    write: object = None  # replace: a callable writing the new version to a path


@dataclass
class Truth:
    """Everything build_inbox wrote and what the pipeline must make of it."""

    root: Path
    seed: int
    weeks: list[dt.date]
    province_code: str
    province_name: str
    districts: dict[str, str]  # every district of the province: code -> Thai name
    submitting: list[str]  # districts build_inbox wrote folders for
    modes: dict[str, str]  # district -> resend | new_only
    folders: dict[str, str]  # district -> folder name
    timings: dict[tuple[str, dt.date], str]  # (district, week) -> on_time | late | after_cutoff | missing | fixed
    files: list[FileTruth]
    ignored: list[str]  # lock files and Finder junk that must be ignored
    entities: dict[str, pd.DataFrame]  # per dataset: one row per entity, newest record, first_week, district
    versions: dict[str, pd.DataFrame]  # per dataset: every canonical version of every entity
    changes: list[Change] = field(default_factory=list)  # replacements and removals, in time order
    run_at: dict[dt.date, dt.datetime] = field(default_factory=dict)  # week -> when its run must happen (`now`)
    applied: set[int] = field(default_factory=set)  # positions in `changes` already made on disk

    def file(self, path: str) -> FileTruth:
        """The first version of the file with this relative path."""
        return next(f for f in self.files if f.path == path)

    def written(self) -> list[FileTruth]:
        """The file versions build_inbox itself wrote (later versions are written by apply_changes)."""
        return [f for f in self.files if f.revision == 0]

    def removals(self) -> list[tuple[str, dt.datetime]]:
        """(path, time its removal is seen) of every deleted file."""
        return [(c.path, c.seen_at) for c in self.changes if c.kind == "remove"]

    def row_table(self) -> pd.DataFrame:
        """Every row's expectation as one table (file, sheet, excel_row, outcome, problems, …)."""
        rows = [{"file": f.path, "folder": f.folder, "district_folder": f.district, "submitted_at": f.submitted_at,
                 "week": f.week, "sheet": s.name, "sheet_index": s.index, "dataset": s.dataset, "excel_row": number,
                 "outcome": r.outcome, "kind": r.kind, "problems": r.problems, "source": r.source,
                 "injection": r.injection, "entity_key": r.entity_key, "revision": f.revision,
                 "district": (r.record or {}).get("district")}
                for f in self.files for s in f.sheets for number, r in s.rows.items()]
        return pd.DataFrame(rows)


def entity_key(dataset: str, record: dict) -> tuple:
    """The identity FORMS.md gives each dataset, on canonical values."""
    if dataset == "volunteers":
        return (record["phone"],)
    if dataset == "unvaccinated":
        if record.get("person_id"):
            return (record["person_id"],)
        return ("", record["first_name"], record.get("last_name") or "", str(record["birth_date"]),
                int(record["moo"]), record["subdistrict"])
    if dataset == "facilities":
        return (record["facility_type"], " ".join(record["name"].split()), record["district"])
    return (record["phone"], record["request_type"], str(record["requested_on"]))


def valid_rows_in_order(files: list[FileTruth]):
    """(file, sheet, excel_row, row) of every valid row, in the order the pipeline records them."""
    ordered = sorted(files, key=lambda f: f.order)
    for file in ordered:
        for sheet in sorted(file.sheets, key=lambda s: s.index):
            for number in sorted(sheet.rows):
                row = sheet.rows[number]
                if row.kind in VALID_KINDS:
                    yield file, sheet, number, row


def form_values(dataset: str, record: dict) -> dict:
    """The record's values of the form's own fields (not the names derived from codes)."""
    return {f["key"]: record.get(f["key"]) for f in forms.fields(dataset)}


def resolve_outcomes(files: list[FileTruth]) -> None:
    """Mark each valid row accepted (first record of its entity), updated (its values differ from the
    newest earlier row of the entity sent from the same district folder) or duplicate (any other repeat)."""
    first: dict[tuple, tuple[str, str, int]] = {}
    by_folder: dict[tuple, dict] = {}
    for file, sheet, number, row in valid_rows_in_order(files):
        key = (sheet.dataset, row.entity_key)
        values = form_values(sheet.dataset, row.record)
        earlier = by_folder.get((file.district, *key))
        by_folder[(file.district, *key)] = values
        if key not in first:
            row.outcome = "accepted"
            first[key] = (file.path, sheet.name, number)
            continue
        row.duplicate_of = first[key]
        changed = tuple(k for k in values if earlier is not None and values[k] != earlier[k])
        if changed:
            row.outcome, row.changed = "updated", changed
            row.problems = tuple(dict.fromkeys((*row.problems, "row_updated")))
        else:
            row.outcome = "duplicate"
            row.problems = tuple(dict.fromkeys((*row.problems, "duplicate_row")))


def entity_tables(files: list[FileTruth]) -> dict[str, pd.DataFrame]:
    """Per dataset, one row per entity over every version written: its newest record, the week it first
    appeared, where it counts (replaced and removed files included: tests/reference.py knows the weeks)."""
    seen: dict[str, dict[tuple, dict]] = {dataset: {} for dataset in forms.DATASETS}
    for position, (file, sheet, number, row) in enumerate(valid_rows_in_order(files)):
        entry = seen[sheet.dataset].setdefault(row.entity_key, {
            "first_week": file.week, "first_submitted_at": file.submitted_at, "first_file": file.path, "records": 0})
        entry["records"] += 1
        newest = (row.record.get("updated_on") if sheet.dataset == "facilities" else None, position)
        if "newest" not in entry or newest > entry["newest"]:
            entry.update(newest=newest, record=row.record)
    tables = {}
    for dataset, entries in seen.items():
        rows = [{**entry["record"], "entity_key": key, "first_week": entry["first_week"],
                 "first_submitted_at": entry["first_submitted_at"], "first_file": entry["first_file"],
                 "records": entry["records"], "counted_district": entry["record"]["district"]}
                for key, entry in entries.items()]
        tables[dataset] = pd.DataFrame(rows)
    return tables
