"""The weekly run, wired in order: inbox -> read -> ingest -> store -> week -> outputs."""
from __future__ import annotations

import datetime as dt
import gc
import hashlib
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import pandas as pd

from pipeline.core import atomic
from pipeline.core import faults
from pipeline.core import messages
from pipeline.core import weeks
from pipeline.core.config import Config, load_config
from pipeline.core.digest import files_digest, source_files
from pipeline.core.issues import finish, problem
from pipeline.core.paths import STORE, WeekFiles, week_files
from pipeline.core.schema import load_schema
from pipeline.core.screen import redact, visible
from pipeline.core.weeks import utc_text
from pipeline.ingest import admin_roster
from pipeline.ingest.ingest import ingest
from pipeline.outputs import delivery, ministry
from pipeline.outputs import province as outputs
from pipeline.outputs import review as review_io
from pipeline.outputs.feedback import plan as feedback
from pipeline.runtime import locking
from pipeline.runtime import staging
from pipeline.runtime import unchanged
from pipeline.runtime.limits import ReadLimits, limits_of
from pipeline.runtime.processes import alongside, read_and_process
from pipeline.sources import inbox
from pipeline.sources import readers
from pipeline.sources.handoff import HANDOFF_SUFFIX, save_handoff
from pipeline.sources.sniff import detect_kind
from pipeline.store import database as store
from pipeline.store import week_cache
from pipeline.week.dashboard import prepare_dashboard
from pipeline.week.figures import window_of
from pipeline.week.history import code_digest
from pipeline.week.report import WeekResult, build_week
from pipeline.outputs.terminal import summary_lines
from pipeline.sources.inbox import FEEDBACK_FOLDER


# What the outputs' bytes depend on besides the code: their versions are part of what a week is made from.
LIBRARIES = ("pandas", "numpy", "openpyxl", "xlsxwriter", "python-calamine", "odfpy", "jinja2", "pythainlp")

HANDOFF = ".parsed"   # under outputs/: cells parsed this run, kept for the feedback copies, removed at its end

# The stages a stored reading of a file depends on (their code, forms and wording): a change to any re-reads the inbox.
READING_PACKAGES = ("thai", "core", "runtime", "sources", "ingest")


def fingerprint(config: Config) -> str:
    """What a stored reading depends on besides the file: forms, wording, code and province settings."""
    digest = hashlib.sha256(files_digest(source_files(READING_PACKAGES)).encode())
    digest.update(repr((config.province_code, sorted(config.districts), config.bounds,
                        config.recording_start)).encode())
    return digest.hexdigest()[:16]


def read_limits(config: Config) -> ReadLimits:
    """Parser limits from config.yaml."""
    return limits_of(config.limits)


@dataclass(frozen=True)
class RunResult:
    """Where the week's outputs went, and the week itself (None when nothing was new: the outputs were kept)."""

    week_dir: Path
    result: WeekResult | None
    notices: tuple[str, ...] = ()   # sign-off and jump-check lines, printed after the summary
    summary: tuple[str, ...] = ()   # the terminal summary of the week
    unchanged: bool = False         # nothing new since the last complete run: nothing was written


def _read_and_ingest(todo: list, config: Config, schema, stamp: str, progress, handoff: Path, save,
                     now: dt.datetime) -> list[dict]:
    """Parse and ingest new file versions in worker processes (both cores), saving each with `save` as it comes in.

    Each parsed file's cells are also left in `handoff` for its feedback copy later in the run. A file that
    cannot be read while it is still arriving (modified within settle_seconds, or gone since) is not stored:
    it is returned as a note and read again next run.
    """
    arriving: list[dict] = []
    workers = config.limits.workers
    step = max(workers * 4, len(todo) // 20)
    count = 0

    def process(index: int, outcome):
        product = ingest(todo[index], outcome, schema, config, stamp)
        if not outcome.problem:   # an .xlsx is marked in its own package: its copy needs the layout, not the cells
            save_handoff(outcome, handoff / f"{todo[index].version_id}{HANDOFF_SUFFIX}",
                                 with_cells=outcome.kind != "xlsx")
        return store.pack(product, schema)   # records as the store's JSON, made here on the second core

    def finished(index: int, outcome, product) -> None:
        nonlocal count
        # A child that died never processed its file: its failed outcome is ingested here.
        item = product if product is not None else ingest(todo[index], outcome, schema, config, stamp)
        if item.version["problem"] and inbox.still_arriving(todo[index], config, now):
            arriving.append(problem("still_arriving", todo[index].source_file, todo[index].district_code,
                                    submitted_at=now))
        else:
            save(item)
        faults.checkpoint("read")
        count += 1
        if len(todo) > step and (count % step == 0 or count == len(todo)):
            progress(f"  อ่านแล้ว {count}/{len(todo)} ไฟล์")

    # One pool for every file (no batches): a worker is never left idle waiting for a batch's slowest file.
    # The reader is looked up now, not at import: the children fork from this process as it is.
    read_and_process([f.path for f in todo], process, read_limits(config), workers, reader=readers.read_file,
                     kind_of=detect_kind, finished=finished)
    return arriving


def _settled_inbox(inputs: Path, config: Config, now: dt.datetime, cutoff: dt.datetime, clock=time.monotonic,
                   sleep=time.sleep) -> tuple[list, list[dict]]:
    """The inbox's files once they stopped changing, and notes on those that did not.

    A run started within settle_seconds after the week's cut-off waits for files still being written
    just before it (a district saving at 15:59), looking again until they settle or that time is up.
    """
    started = clock()
    while True:
        elapsed = dt.timedelta(seconds=clock() - started)
        files, notes = inbox.discover(inputs, config, now + elapsed)
        files, arriving = inbox.second_look(files, config, now + elapsed)
        waited = (now + dt.timedelta(seconds=clock() - started) - cutoff).total_seconds()
        if not arriving or not 0 <= waited < config.settle_seconds:
            return files, notes + arriving
        sleep(config.look_again_seconds)


def _progress(message: str) -> None:
    print(visible(redact(message)), file=sys.stderr, flush=True)  # form E problems quote the admin's phone


def run_weekly(config_path: Path, inputs: Path, outputs_dir: Path, week_text: str | None,
               now: dt.datetime | None = None, progress=_progress, *, sheets_adapter=None,
               deliver: bool | None = None) -> RunResult:
    """Run one reporting week end to end and write its outputs (sheets_adapter: a test transport for Google;
    deliver: feedback into the districts' inbox folders, by default as config.yaml says)."""
    config = load_config(config_path)
    if deliver is not None:
        config = replace(config, deliver_to_inbox=deliver)
    with atomic.file_mask(config.umask):   # outputs hold personal data: who may read them is the office's setting
        try:
            return _run_week(config, config_path, inputs, outputs_dir, week_text, now, progress, sheets_adapter)
        finally:
            gc.unfreeze()   # watch runs pass after pass in one process: what this pass froze may be collected


def _run_week(config: Config, config_path: Path, inputs: Path, outputs_dir: Path, week_text: str | None,
                now: dt.datetime | None, progress, sheets_adapter) -> RunResult:
    sheet_settings = None
    if config.google_sheets:   # imported only when used: gspread and google-auth take ~0.7 s to load
        from pipeline.sources import gsheets
        sheet_settings = gsheets.parse_settings(config.google_sheets, Path(config_path).parent, config.districts)
    ministry_settings = config.ministry
    schema = load_schema()
    now = now or dt.datetime.now(tz=config.timezone)
    week = weeks.parse_week(week_text, config, now)
    with locking.outputs_lock(outputs_dir, "weekly", config.lock_wait_seconds):
        staging.recover(outputs_dir)   # a week a killed run was switching in, staging folders it left
        atomic.sweep_temporaries(outputs_dir)  # half-written files of a killed run, whatever week it wrote
        handoff = outputs_dir / HANDOFF
        shutil.rmtree(handoff, ignore_errors=True)   # parsed cells a killed run left behind
        handoff.mkdir(parents=True)
        try:
            return _run(config, sheet_settings, ministry_settings, schema, week, now, inputs, outputs_dir, handoff,
                        progress, sheets_adapter)
        finally:
            shutil.rmtree(handoff, ignore_errors=True)


def _run(config: Config, sheet_settings, ministry_settings, schema, week, now: dt.datetime, inputs: Path,
         outputs_dir: Path, handoff: Path, progress, sheets_adapter) -> RunResult:
    connection = store.connect(outputs_dir / STORE)
    try:
        store.create_tables(connection, schema)
        files, notes = _settled_inbox(inputs, config, now, weeks.cutoff_of(week, config))
        present = {f.source_file for f in files} | {n["source_file"] for n in notes}
        # Form E (the provincial administrator) lives in the inbox root, not in a district folder.
        notes = [note for note in notes if note["source_file"] != ministry_settings.admin_roster]
        week_dir = week_files(outputs_dir, week.isoformat()).folder
        sheets = []
        if sheet_settings is not None:
            from pipeline.sources import gsheets
            sheets, sheet_notes = gsheets.fetch_district_sheets(sheet_settings, week_dir, now,
                                                                cutoff=weeks.cutoff_of(week, config),
                                                                adapter=sheets_adapter)
            notes += sheet_notes
        made_from = _made_from(config, week, now, files, notes, sheets, inputs, outputs_dir, ministry_settings)
        if (kept := _kept(connection, made_from, week_dir, inputs, config, progress)) is not None:
            return kept
        # A stored file no longer in the inbox was removed by its district: weeks after now count nothing of it.
        store.record_removals(connection, present, utc_text(now))
        stamp = fingerprint(config)
        known = store.known_versions(connection)
        todo = [f for f in files if known.get(f.version_id) != stamp]
        progress(f"สัปดาห์ {week} · พบ {len(files)} ไฟล์ในกล่องรับ · อ่านไฟล์ใหม่ {len(todo)} ไฟล์")
        # Versions are stored while the others are still being read; committed together, all or nothing.
        with store.version_writer(connection, schema) as save:
            unread = _read_and_ingest(todo, config, schema, stamp, progress, handoff, save, now)
            notes += unread
            # Snapshots are the pipeline's own JSON, not untrusted workbooks: read and ingest them here.
            for sheet in sheets:
                if known.get(sheet.version_id) != stamp:
                    save(ingest(sheet, sheet.read(), schema, config, stamp))
        # The office's answers on possible duplicates, typed into earlier review workbooks, are kept first.
        review_io.save_answers(connection, review_io.read_answers(outputs_dir))
        state = store.load_until(connection, schema, utc_text(weeks.cutoff_of(week, config)))
        # Millions of loaded cells are not garbage: kept out of the cyclic collector's scans, and out of the pages
        # it would touch (copied) in the children forked for the feedback copies.
        gc.freeze()
        state["link_decisions"] = review_io.load_answers(connection)
        past = week_cache.past_reports(connection, state, config, schema, week)
        made_from["store"] = store.generation(connection)   # as the next run will find it if nothing comes
    finally:
        connection.close()
    result = build_week(state, notes, config, schema, week)
    admins, admin_problems = admin_roster.admin_form(ministry_settings, inputs, read_limits(config))
    problem_lines = admin_roster.problem_lines(admin_problems)
    for line in problem_lines:
        progress(line)
    if not admin_problems.empty:
        result = replace(result, issues=finish(pd.concat(
            [result.issues, admin_roster.problems_as_issues(admin_problems)], ignore_index=True)))
    dashboard = prepare_dashboard(result, past, state["versions"], config, schema, outputs_dir)
    faults.checkpoint("built")
    staging.check_space(outputs_dir, week_dir, sum(f.size for f in files))
    # Everything is written into a staging folder and switched in whole: a failure leaves the old week as it was.
    staged = staging.staging_dir(outputs_dir, week.isoformat())

    copies = feedback.copy_work(result, inputs, staged, config, schema, handoff)
    # The district feedback copies are made in child processes while this process writes the week's reports.
    pairs = alongside(copies.work, _report_steps(result, dashboard, admins, admin_problems, staged, config, schema))
    feedback.finish_copies(copies, pairs, result, config, schema)
    staging.switch_in(staged, week_dir)
    if config.deliver_to_inbox:   # the districts see their feedback where they drop their files
        delivery.deliver(result, inputs, week_dir, now, config)
    summary = tuple(summary_lines(result, week_dir))
    if not unread:   # a file that could not be read yet is read by the next run, whatever else is the same
        unchanged.remember(week_dir, unchanged.run_key(made_from), _written_folders(week_dir, inputs, config),
                           {"problems": list(problem_lines), "summary": list(summary),
                            "notices": list(dashboard.notices)})
    return RunResult(week_dir, result, dashboard.notices, summary)


def _kept(connection, made_from: dict, week_dir: Path, inputs: Path, config: Config, progress) -> RunResult | None:
    """The week as its last run left it, when nothing it is made from has changed since (nothing is written)."""
    key = unchanged.run_key({**made_from, "store": store.generation(connection)})
    record = unchanged.is_unchanged(week_dir, key, _written_folders(week_dir, inputs, config))
    if record is None:
        return None
    progress(messages.text("run_unchanged", week=made_from["week"], path=week_dir, state=unchanged.STATE_FILE))
    for line in record.get("problems", []):
        progress(line)
    return RunResult(week_dir, None, tuple(record["notices"]), tuple(record["summary"]), unchanged=True)


def _made_from(config: Config, week: dt.date, now: dt.datetime, files: list, notes: list[dict], sheets: list,
               inputs: Path, outputs_dir: Path, ministry_settings) -> dict:
    """What the week's outputs are made from, besides the store: the inbox's file versions and notes, the
    sheets' snapshots, code and configuration, the office's answers in other weeks' review workbooks, form E,
    and which of the deadline and the cut-off had passed (the status of a district depends on it)."""
    answers = [path for path in review_io.answer_files(outputs_dir) if path.parent.name != week.isoformat()]
    roster = [inputs / ministry_settings.admin_roster] if ministry_settings.admin_roster else []
    return {
        "code": code_digest(), "libraries": _library_versions(), "config": repr(config), "week": week.isoformat(),
        "passed": [now > weeks.deadline_of(week, config), now > weeks.cutoff_of(week, config)],
        "files": sorted(f.version_id for f in files), "sheets": sorted(s.version_id for s in sheets),
        "notes": _note_keys(notes, window_of(week, config)),
        "answers": unchanged.file_stamps(answers), "roster": unchanged.file_stamps(roster),
    }


def _note_keys(notes: list[dict], window) -> list[list[str]]:
    """The notes as the week's issues see them: every field, and whether it falls in the week (not its time,
    which for some notes is the run's own)."""
    moments = pd.to_datetime(pd.Series([note.get("submitted_at") for note in notes], dtype=object), utc=True)
    inside = window.contains(moments).tolist()
    return sorted([f"{name}={note[name]}" for name in sorted(note) if name != "submitted_at"] + [f"in_week={flag}"]
                  for note, flag in zip(notes, inside))


@cache
def _library_versions() -> str:
    """Python's and the readers' and writers' versions: an upgrade writes the weeks again."""
    from importlib.metadata import PackageNotFoundError, version

    def found(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "-"
    return " ".join([sys.version.split()[0], *(f"{name}={found(name)}" for name in LIBRARIES)])


def _written_folders(week_dir: Path, inputs: Path, config: Config) -> list[Path]:
    """Where a run writes: the week's folder and, when feedback is delivered, the districts' feedback folders."""
    delivered = sorted(inputs.glob(f"*/{FEEDBACK_FOLDER}")) if config.deliver_to_inbox else []
    return [week_dir, *delivered]


def _report_steps(result: WeekResult, dashboard, admins: pd.DataFrame, admin_problems: pd.DataFrame, staged: Path,
                  config: Config, schema) -> Iterator[None]:
    """The week's reports, one file per step: report.json, the issues, province and ministry workbooks, index.html,
    the possible duplicates."""
    yield from outputs.week_outputs(result, staged, config, schema, dashboard)
    ministry.write_ministry(result.report, admins, admin_problems, staged, config, config.ministry)
    yield
    week = result.report["week"]
    with atomic.atomic_path(WeekFiles(staged, week).review_workbook) as path:
        review_io.write_review_workbook(path, result.review, result.report, config)
