"""Every row accounted for, as a property: random small inboxes, the real run, the books must balance."""
from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.outputs import ministry
from pipeline.outputs import province as outputs
from pipeline.outputs.feedback import plan as feedback
from pipeline.run import run_weekly
from tests import hostile_files as hostile
from tests.builders import headers, write_csv, write_xlsx
from tests.conftest import PROJECT, bangkok

WEEKS = [dt.date(2021, 12, 24), dt.date(2021, 12, 31)]
DISTRICTS = {"5401 เมืองแพร่": ("เมืองแพร่", "ในเวียง"), "ร้องกวาง": ("ร้องกวาง", "ร้องกวาง")}
KINDS = ["valid", "invalid", "duplicate", "blank", "totals"]
COUNTS = ["rows_read", "accepted", "updated", "rejected", "duplicates", "skipped"]


@dataclass
class Truth:
    """What the generator knows each sheet must be counted as."""

    phones: list[str] = field(default_factory=list)          # valid phones sent so far, in submission order
    phone_files: dict[str, str] = field(default_factory=dict)  # valid phone -> the file that first sent it
    last_sent: dict[tuple[str, str], tuple] = field(default_factory=dict)  # (folder, phone) -> its newest row there
    sheets: dict[tuple[str, str], dict] = field(default_factory=dict)
    week_of_file: dict[str, dt.date] = field(default_factory=dict)


def sheet_rows(kinds: list[str], district: tuple[str, str], truth: Truth, choose, source_file: str
               ) -> tuple[list[list], dict]:
    """Data rows of one sheet from row kinds, and the counts they must produce: a repeat that changes the
    newest row its folder sent for the phone is an update, any other repeat a duplicate."""
    folder = source_file.split("/")[0]
    counts = dict.fromkeys(COUNTS, 0)
    rows: list[list] = []
    for kind in kinds:
        if kind == "duplicate" and not truth.phones:
            kind = "valid"          # nothing sent yet to repeat
        if kind == "valid":
            row = hostile.volunteer(len(truth.phones) + 800, *district)
            truth.phones.append(row[3])
            truth.phone_files[row[3]] = source_file
            truth.last_sent[(folder, row[3])] = tuple(row)
            counts["accepted"] += 1
        elif kind == "duplicate":
            row = hostile.volunteer(0, *district)
            row[3] = choose(truth.phones)
            earlier = truth.last_sent.get((folder, row[3]))
            counts["updated" if earlier is not None and earlier != tuple(row) else "duplicates"] += 1
            truth.last_sent[(folder, row[3])] = tuple(row)
        elif kind == "invalid":
            row = hostile.volunteer(0, *district)
            row[3] = "0812"         # not a phone number: rejected
            counts["rejected"] += 1
        elif kind == "blank":
            row = [None] * 9
            counts["skipped"] += 1
        else:
            row = ["รวม", None, None, None, None, None, None, None, None]
            counts["skipped"] += 1
        rows.append(row)
    while rows and rows[-1][0] is None:   # trailing blank rows are not rows of the table
        rows.pop()
        counts["skipped"] -= 1
    counts["rows_read"] = len(rows)
    return rows, counts


@st.composite
def inboxes(draw):
    """A plan of 1-3 files over 1-2 weeks: format, district, submission time, and row kinds per sheet."""
    files = []
    for index in range(draw(st.integers(1, 3))):
        week = draw(st.sampled_from(WEEKS))
        moment = bangkok(week.year, week.month, week.day - draw(st.integers(0, 3)), 9 + index)
        files.append({
            "name": f"{index}-{draw(st.sampled_from(['xlsx', 'csv']))}",
            "folder": draw(st.sampled_from(sorted(DISTRICTS))),
            "moment": moment,
            "sheets": draw(st.lists(st.lists(st.sampled_from(KINDS), min_size=0, max_size=7), min_size=1, max_size=2)),
        })
    return sorted(files, key=lambda plan: (plan["moment"], plan["folder"], plan["name"]))


def write_inbox(plan: list[dict], inbox: Path, choose) -> Truth:
    """Write the planned files (in submission order, so every duplicate repeats an earlier row)."""
    truth = Truth()
    for file in plan:
        name, extension = file["name"].rsplit("-", 1)
        path = inbox / file["folder"] / f"{name}.{extension}"
        sheets = {}
        for order, kinds in enumerate(file["sheets"][:1] if extension == "csv" else file["sheets"]):
            source_file = f"{file['folder']}/{path.name}"
            rows, counts = sheet_rows(kinds, DISTRICTS[file["folder"]], truth, choose, source_file)
            sheet = path.stem if extension == "csv" else ("อาสาสมัคร" if order == 0 else "อาสาสมัคร ชุดสอง")
            sheets[sheet] = [headers("volunteers"), *rows]
            truth.sheets[(source_file, sheet)] = counts
        if extension == "csv":
            write_csv(path, next(iter(sheets.values())), moment=file["moment"])
        else:
            write_xlsx(path, sheets, file["moment"])
        truth.week_of_file[f"{file['folder']}/{path.name}"] = next(w for w in WEEKS if file["moment"].date() <= w)
    return truth


def numbers_summed(blocks: list[dict]) -> dict:
    """Every numeric figure of several blocks, summed key by key (nested maps too)."""
    total: dict = {}
    for block in blocks:
        for key, value in block.items():
            if isinstance(value, dict):
                total[key] = numbers_summed([total.get(key, {}), value])
            elif isinstance(value, int) and not isinstance(value, bool):
                total[key] = total.get(key, 0) + value
    return total


def numbers_only(block: dict) -> dict:
    """A block without its text and time values."""
    return {key: numbers_only(value) if isinstance(value, dict) else value for key, value in block.items()
            if isinstance(value, dict) or (isinstance(value, int) and not isinstance(value, bool))}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=inboxes(), data=st.data())
def test_every_row_is_accounted_for_and_totals_are_sums(plan, data):
    week = max(file["moment"] for file in plan).date()
    week = next(w for w in WEEKS if week <= w)
    with tempfile.TemporaryDirectory() as folder, skipped_writing():
        inbox = Path(folder) / "inbox"
        truth = write_inbox(plan, inbox, lambda phones: data.draw(st.sampled_from(phones)))
        done = run_weekly(PROJECT / "config.yaml", inbox, Path(folder) / "out", week.isoformat(),
                          progress=hostile.quiet)
    accounting, report = done.result.accounting, done.result.report
    for row in accounting.itertuples(index=False):
        assert row.rows_read == row.accepted + row.updated + row.rejected + row.duplicates + row.skipped, row
    this_week = {key: counts for key, counts in truth.sheets.items() if truth.week_of_file[key[0]] == week}
    found = {(row.source_file, row.sheet): {key: int(getattr(row, key)) for key in COUNTS}
             for row in accounting.itertuples(index=False)}
    assert found == this_week
    districts = list(report["districts"].values())
    for block in ["volunteers", "unvaccinated", "facilities", "help_requests"]:
        assert numbers_only(report["totals"][block]) == numbers_summed([d[block] for d in districts]), block
    submission = report["totals"]["submission"]
    for key in ["files", *COUNTS]:
        assert submission[key] == sum(d["submission"][key] for d in districts), key
    sent = {phone for phone, source in truth.phone_files.items() if truth.week_of_file[source] <= week}
    assert report["totals"]["volunteers"]["total"] == len(sent)


class skipped_writing:
    """Outputs are not what this property is about: skip writing workbooks to keep each example small."""

    WRITERS = [(outputs, "week_outputs", lambda *arguments, **keywords: iter(())),
               (ministry, "write_ministry", lambda *arguments, **keywords: None),
               (feedback, "plan_jobs", lambda *arguments, **keywords: [])]

    def __enter__(self):
        self.patch = pytest.MonkeyPatch()
        for module, name, replacement in self.WRITERS:
            self.patch.setattr(module, name, replacement, raising=False)
        return self

    def __exit__(self, *exception):
        self.patch.undo()
        return False
