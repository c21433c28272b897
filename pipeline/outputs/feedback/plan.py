"""Feedback workbooks: per submitted file, a summary and a copy of the district's own sheets, problems marked in Thai.

This module plans what each workbook says (pure functions of the week); feedback_book renders it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

import pandas as pd
from xlsxwriter.utility import xl_cell_to_rowcol, xl_col_to_name

from pipeline.core.atomic import move_into_place, temporary_beside
from pipeline.core.config import Config
from pipeline.core.issues import expanded
from pipeline.core.outcome import ReadOutcome, cell_count
from pipeline.core.paths import WeekFiles
from pipeline.core.schema import Schema
from pipeline.core.wording import wording
from pipeline.outputs.feedback import book as feedback_book
from pipeline.outputs.feedback.book import WIDTHS, clean
from pipeline.outputs.xlsx import marks as xlsx_marks
from pipeline.outputs.xlsx.sheet_xml import grapheme_boundary
from pipeline.runtime.limits import ReadLimits, address_space_bytes, limits_of
from pipeline.runtime.processes import ChildWork, alongside, file_size
from pipeline.sources import inbox
from pipeline.sources.handoff import HANDOFF_SUFFIX, read_handoff
from pipeline.sources.readers import read_file
from pipeline.sources.sniff import detect_kind
from pipeline.thai.dates import thai_datetime
from pipeline.week.report import WeekResult


SUFFIX = ".feedback.xlsx"
MAX_NAME_BYTES = 255   # the longest file name the usual file systems take, in UTF-8 bytes (Thai: 3 a character)
UNSAFE_NAME = re.compile('[\x00-\x1f\x7f\ud800-\udfff/\\\\:*?"<>|]')
HINTED = {"required_missing", "recommended_missing", "date_unreadable", "date_invalid", "phone_invalid",
          "phone_not_mobile", "id_check_digit", "id_length", "id_invalid_prefix", "id_scientific_notation",
          "id_invalid", "number_invalid", "number_not_whole", "district_unknown", "subdistrict_unknown"}
COUNTS = ["rows_read", "accepted", "updated", "rejected", "duplicates", "skipped"]
RANK = feedback_book.SEVERITY_RANK


def feedback_wording() -> dict:
    """The feedback workbook's Thai wording (core/wording/feedback.yaml)."""
    return wording("feedback")


@dataclass(frozen=True)
class Mark:
    """One cell of a copied sheet to fill and annotate."""

    sheet: str
    row: int
    column: int
    severity: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Line:
    """One row of the summary sheet: cells, look, the target of its column-B link, merged column ranges.

    A cell followed by an empty one is not wrapped: it runs on over its empty neighbours. Body rows rely on that
    instead of merging, which keeps a summary of thousands of problems light to open.
    """

    cells: tuple = ()
    style: str = "body"
    link: str | None = None
    spans: tuple[tuple[int, int], ...] = ()


def safe_name(text: str, tail: str = "") -> str:
    """A file or folder name without separators or control characters, fitting MAX_NAME_BYTES with SUFFIX.

    Only a name that is really too long is cut, and never inside a letter: a Thai vowel or tone mark stays
    with the consonant it sits on.
    """
    name = UNSAFE_NAME.sub("_", text).strip(" .") or "file"
    room = MAX_NAME_BYTES - len((tail + SUFFIX).encode())
    if len(name.encode()) > room:
        fitting = len(name.encode()[:room].decode("utf-8", "ignore"))   # whole characters within the bytes
        name = name[:grapheme_boundary(name, fitting)].rstrip(" .") or "file"
    return name + tail


def feedback_names(folders: dict[str, str]) -> dict[str, str]:
    """Feedback file name of each source file (given its output folder): its stem; where stems clash, its path."""
    def unique(names: dict[str, str]) -> Counter:
        return Counter((folders[source], name.casefold()) for source, name in names.items())

    stems = {source: safe_name(PurePosixPath(source).stem) for source in folders}
    clashes = unique(stems)
    names = {source: stem if clashes[(folders[source], stem.casefold())] == 1
             else safe_name(source.split("/", 1)[-1].replace("/", " - ")) for source, stem in stems.items()}
    clashes = unique(names)   # still the same (say, two inbox folders of one district): add a hash of the path
    return {source: (name if clashes[(folders[source], name.casefold())] == 1 else safe_name(
        source.replace("/", " - "), f" {hashlib.sha1(source.encode()).hexdigest()[:8]}")) + SUFFIX
        for source, name in names.items()}


def format_hint(schema: Schema, dataset: str, field: str, districts: list[str]) -> str:
    """The accepted values or format of a form field, in Thai ('' when there is nothing useful to say)."""
    if dataset not in schema.datasets or field not in schema.datasets[dataset].keys:
        return ""
    labels, formats = feedback_wording()["labels"], feedback_wording()["formats"]
    form_field = schema.datasets[dataset].field(field)
    if form_field.choices or form_field.type == "district":
        values = schema.choice_values(form_field.choices) if form_field.choices else districts
        return labels["accepted_values"].format(values=" · ".join(values))
    hint = formats.get(form_field.type, "")
    if form_field.type == "whole" and None not in (form_field.minimum, form_field.maximum):
        hint = formats["whole_range"].format(minimum=form_field.minimum, maximum=form_field.maximum)
    return labels["accepted_format"].format(hint=hint) if hint else ""


def cell_of(issue, first_columns: dict[str, int]) -> tuple[int, int] | None:
    """(row, column) of an issue; a problem without a column sits in its row's first cell; None for a whole file."""
    if pd.isna(issue.excel_row) or not clean(issue.sheet):
        return None
    letter = clean(issue.column_letter)
    return int(issue.excel_row), xl_cell_to_rowcol(f"{letter}1")[1] + 1 if letter else first_columns.get(issue.sheet, 1)


def plan_marks(issues: pd.DataFrame, first_columns: dict[str, int], schema: Schema,
               districts: list[str]) -> list[Mark]:
    """Every cell to mark: its worst severity, each Thai reason once, then the accepted values or format."""
    cells: dict[tuple, list] = {}
    wanted = ["sheet", "excel_row", "column_letter", "severity", "message", "dataset", "field", "code"]
    for issue in expanded(issues)[wanted].itertuples(index=False):   # a namedtuple per row costs per column
        if place := cell_of(issue, first_columns):
            cells.setdefault((issue.sheet, *place), []).append(issue)
    marks = []
    for (sheet, row, column), found in cells.items():
        reasons = [f"{schema.wording['severity'][i.severity]}: {clean(i.message)}" for i in found]
        hints = [format_hint(schema, clean(i.dataset), clean(i.field), districts) for i in found if i.code in HINTED]
        severity = max((i.severity for i in found), key=RANK.__getitem__)
        marks.append(Mark(sheet, row, column, severity, tuple(dict.fromkeys(reasons + [h for h in hints if h]))))
    return marks


def merged_marks(marks: list[Mark], sheets) -> list[Mark]:
    """Marks inside a range the district merged, made one mark on its top-left cell with each reason once.

    A village's อำเภอ merged over its rows and wrong on every one of them gets one note; reasons that concern
    only some of the rows (or differ between them) are headed by those rows' numbers.
    """
    areas = {sheet.name: feedback_book.merged_areas(sheet) for sheet in sheets if sheet.merged}
    inside: dict[tuple, list[Mark]] = {}
    kept = []
    for mark in marks:
        area = areas.get(mark.sheet, {}).get((mark.row - 1, mark.column - 1))
        if area is None:
            kept.append(mark)
        else:
            inside.setdefault((mark.sheet, area), []).append(mark)
    return kept + [_one_mark(sheet, area, found) for (sheet, area), found in inside.items()]


def _one_mark(sheet: str, area: tuple[int, int, int, int], found: list[Mark]) -> Mark:
    """The one mark of a merged range: its cells' reasons once each, headed by row numbers where rows differ."""
    first_row, first_column, last_row, _ = area
    rows_of: dict[tuple[str, ...], list[int]] = {}
    for mark in sorted(found, key=lambda mark: (mark.row, mark.column)):
        rows_of.setdefault(mark.lines, []).append(mark.row)
    every_row = list(range(first_row + 1, last_row + 2))
    if first_row == last_row or (len(rows_of) == 1 and sorted(set(*rows_of.values())) == every_row):
        groups = [list(reasons) for reasons in rows_of]
    else:
        label = feedback_wording()["labels"]["merged_rows"]
        groups = [[label.format(rows=", ".join(map(str, dict.fromkeys(rows)))), *reasons]
                  for reasons, rows in rows_of.items()]
    lines = [line for index, group in enumerate(groups) for line in (["—"] if index else []) + group]
    severity = max((mark.severity for mark in found), key=RANK.__getitem__)
    return Mark(sheet, first_row + 1, first_column + 1, severity, tuple(lines))


def kind_of(code: str, schema: Schema) -> str:
    """The short Thai name of a kind of problem (a new code without one: its message, placeholders left out)."""
    template = schema.wording["problems"].get(code, {}).get("message", code)
    return feedback_wording()["kinds"].get(code) or re.sub(r"\s*[“(]?\{\w+\}[”)]?", "", template)[:60].strip()


def location(title: str, row: int, column: int) -> str:
    """An internal link target: 'sheet'!C7."""
    return "'" + title.replace("'", "''") + f"'!{xl_col_to_name(column - 1)}{row}"


def district_status(result: WeekResult, version: pd.DataFrame) -> str:
    """The week's submission status of the district that sent this file version ('' when the report has none)."""
    code = version["district_folder"].iloc[0] if len(version) else None
    block = result.report.get("districts", {}).get(code) or {}
    return (block.get("submission") or {}).get("status") or ""


def summary_lines(version: pd.DataFrame, issues: pd.DataFrame, duplicates: pd.DataFrame, titles: dict,
                  first_columns: dict[str, int], config: Config, schema: Schema, note: str,
                  status: str = "") -> list[Line]:
    """The summary sheet row by row: which file and when, rows per sheet, problems by kind, repeated rows.

    When every file the district sent this week was unusable (`status`), the first line says so, and why.
    """
    labels, head, wide = feedback_wording()["labels"], version.iloc[0], ((2, len(WIDTHS)),)
    sent = thai_datetime(head.submitted_at.tz_convert(config.timezone).to_pydatetime(), config.date_digits)
    district = f"{head.district_folder} {config.districts.get(head.district_folder, '')}"
    lines = [Line((labels["title"],), "title"), *(Line(pair, "info", spans=wide) for pair in [
        (labels["file"], head.source_file), (labels["district"], district), (labels["submitted"], sent)])]
    if status == "unusable":   # the file's own problems (unreadable, no sheet of a form) say why
        reasons = " · ".join(dict.fromkeys(clean(m) for m in issues.loc[issues["excel_row"].isna(), "message"]))
        lines.insert(0, Line((labels["unusable"].format(reasons=reasons).rstrip(": "),), "error",
                             spans=((1, len(WIDTHS)),)))
    if isinstance(head.problem, str) and head.problem:
        reasons = "\n".join(dict.fromkeys(clean(m) for m in issues["message"]))
        return lines + [Line((labels["result"], labels["unreadable"]), "error", spans=wide),
                        Line((labels["what_to_do"], reasons), "error", spans=wide)]
    errors, warnings = (int(issues["severity"].eq(s).sum()) for s in ("error", "warning"))
    verdict = labels["found"].format(errors=errors, warnings=warnings) if errors or warnings else labels["clean"]
    if status == "unusable":   # readable, yet no sheet of a form: nothing of it counts, whatever its warnings
        verdict, errors = labels["unusable_result"], max(errors, 1)
    lines += [Line((labels["result"], verdict), "error" if errors else "warning" if warnings else "info", spans=wide),
              Line(("", note or labels["how_to"]), "info", spans=wide), Line(),
              Line((labels["counts_heading"],), "heading"),
              Line((labels["sheet"], *(schema.label(c) for c in COUNTS)), "header")]
    for sheet in version.itertuples(index=False):
        title = schema.datasets[sheet.dataset].title if sheet.dataset in schema.datasets else sheet.sheet
        name = f"{sheet.sheet} ({title})" if title != sheet.sheet else sheet.sheet or "-"
        lines.append(Line((name, *(int(getattr(sheet, c)) for c in COUNTS))))
    lines += [Line((labels["total"], *(int(version[c].sum()) for c in COUNTS)), "total"), Line()]
    information = issues["severity"].eq("info")
    return lines + _problem_lines(issues[~information], titles, first_columns, schema, labels["problems_heading"]) + \
        _problem_lines(issues[information], titles, first_columns, schema, labels["info_heading"]) + \
        _duplicate_lines(duplicates, titles, first_columns)


def _problem_lines(issues: pd.DataFrame, titles: dict, first_columns: dict, schema: Schema,
                   heading: str) -> list[Line]:
    """A group of the summary: a line per kind (errors first), then each place, linked to its cell."""
    labels = feedback_wording()["labels"]
    if issues.empty:
        return []
    lines = [Line((heading,), "heading"), Line(
        (labels["sheet"], labels["cell"], labels["column"], labels["value"], "", "", labels["message"]), "header",
        spans=((4, 6),))]
    ordered = issues.assign(later=-issues["severity"].map(RANK).fillna(0), order=range(len(issues)))
    for code, group in ordered.sort_values(["later", "order"]).groupby("code", sort=False):
        severity = group["severity"].iloc[0]
        lines.append(Line((schema.wording["severity"][severity], kind_of(code, schema), "", "", "", "",
                           labels["places"].format(count=len(group))), severity, spans=((2, 6),)))
        shown = group[["sheet", "excel_row", "column_letter", "column", "value", "message"]]
        for issue in shown.itertuples(index=False):
            place = cell_of(issue, first_columns)
            link = location(titles[issue.sheet], *place) if place and issue.sheet in titles else None
            address = f"{xl_col_to_name(place[1] - 1)}{place[0]}" if place else "-"
            lines.append(Line((clean(issue.sheet) or "-", address, clean(issue.column), clean(issue.value), "", "",
                               clean(issue.message)), "body", link))
    return lines + [Line()]


def _duplicate_lines(duplicates: pd.DataFrame, titles: dict, first_columns: dict) -> list[Line]:
    labels = feedback_wording()["labels"]
    if duplicates.empty:
        return []
    lines = [Line((labels["duplicates_heading"],), "heading"),
             Line((labels["sheet"], labels["cell"], labels["repeats_file"], "", "", "", ""), "header", None, ((3, 6),))]
    for row in duplicates.sort_values(["sheet_order", "excel_row"]).itertuples(index=False):
        place = (int(row.excel_row), first_columns.get(row.sheet, 1))
        link = location(titles[row.sheet], *place) if row.sheet in titles else None
        if row.first_district_folder != row.district_folder:   # never another district's file, sheet or row
            source, where = labels["other_district"], ""
        else:
            source, where = row.first_source_file, labels["repeats_place"].format(sheet=row.first_sheet,
                                                                                   row=int(row.first_excel_row))
        lines.append(Line((row.sheet, f"{xl_col_to_name(place[1] - 1)}{place[0]}", source, "", "", "", where),
                          "body", link))
    return lines


@dataclass(frozen=True)
class Job:
    """One feedback workbook to write: the file version it answers, where it goes, why it has no copy (if so)."""

    version_id: str
    source_file: str
    source: Path | None
    target: Path
    refusal: str | None
    sha256: str | None = None   # of the version checked: an in-place copy is made only of these very bytes


def _newest(result: WeekResult) -> pd.DataFrame:
    """Each file's newest version this week, of the files that still count (a withdrawn one gets no feedback)."""
    newest = result.accounting.sort_values("submitted_at", kind="stable").drop_duplicates("source_file", keep="last")
    return newest[newest["counted"].astype(bool)] if "counted" in newest else newest


def feedback_paths(result: WeekResult, week_dir: Path, config: Config) -> dict[str, Path]:
    """Source file -> its feedback workbook under week_dir/feedback/<district>/."""
    newest = _newest(result)
    folders = {row.source_file: safe_name(f"{row.district_folder} {config.districts.get(row.district_folder, '')}")
               for row in newest.itertuples(index=False)}
    names, root = feedback_names(folders), WeekFiles(week_dir, result.report["week"]).feedback
    return {source: root / folder / names[source] for source, folder in folders.items()}


def plan_jobs(result: WeekResult, inputs_dir: Path, week_dir: Path, config: Config) -> list[Job]:
    """A workbook for each file submitted this week (its newest version), and whether its copy can be made."""
    targets = feedback_paths(result, week_dir, config)
    # The inbox as it is now: a copy is made only of the very version that was checked (same bytes, same time).
    files, _ = inbox.discover(inputs_dir, config, dt.datetime.now(tz=config.timezone))
    on_disk, present = {f.version_id: f for f in files}, {f.source_file for f in files}
    jobs = []
    for head in _newest(result).itertuples(index=False):
        source = on_disk.get(head.version_id)
        refusal = "unreadable" if isinstance(head.problem, str) and head.problem else None if source else \
            "changed" if head.source_file in present else "missing"
        jobs.append(Job(head.version_id, head.source_file, source.path if source else None,
                        targets[head.source_file], refusal, source.sha256 if source else None))
    return jobs


def parts_of(result: WeekResult, job: Job, schema: Schema) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The file version's accounting rows, its problems and its repeated rows."""
    version = result.accounting[result.accounting["version_id"] == job.version_id]
    mine = result.issues["source_file"] == job.source_file
    if "version_id" in result.issues:   # an earlier version of the file this week had its own problems
        mine &= result.issues["version_id"].isna() | result.issues["version_id"].eq(job.version_id)
    duplicates = listed_duplicates(result, job.version_id)
    return version, masked_issues(result.issues[mine], duplicates, schema), duplicates


def masked_issues(issues: pd.DataFrame, duplicates: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The file's problems as its district may read them: a repeat of another district's record says only
    that (the province's issue list names that district's file and row)."""
    elsewhere = duplicates[duplicates["first_district_folder"] != duplicates["district_folder"]]
    if elsewhere.empty:
        return issues
    places = pd.MultiIndex.from_arrays([elsewhere["sheet"], pd.to_numeric(elsewhere["excel_row"]).astype(float)])
    cells = pd.MultiIndex.from_arrays([issues["sheet"], pd.to_numeric(issues["excel_row"], errors="coerce")
                                       .astype(float)])
    hidden = issues["code"].eq("duplicate_row") & cells.isin(places)
    message = schema.problem("duplicate_row")["message"].format(
        reference=schema.wording["labels"]["reported_by_other_district"])
    return issues.assign(message=issues["message"].where(~hidden, message))


def listed_duplicates(result: WeekResult, version_id: str) -> pd.DataFrame:
    """The version's repeats worth a line (week.report.listed); a record another district sent first is listed
    without that district's file, sheet or row."""
    mine = result.duplicates[result.duplicates["version_id"] == version_id]
    return mine[mine["listed"]] if "listed" in mine else mine


@dataclass(frozen=True)
class Copies:
    """The week's feedback workbooks to make: each job, the temporary it is written to, the child work."""

    jobs: list[Job]
    temporaries: dict[Path, Path]
    work: ChildWork
    week_dir: Path


def copy_work(result: WeekResult, inputs_dir: Path, week_dir: Path, config: Config, schema: Schema,
              handoff: Path | None = None) -> Copies:
    """What making the feedback copies takes: one child per file, two at a time (runtime.alongside runs it).

    Each child takes the cells this run already parsed from `handoff` (sources.handoff.save_handoff), or
    parses the file again with the same limits (on a rerun, when the store already held it), and writes its
    workbook into a temporary; finish_copies moves them into place.
    """
    jobs = plan_jobs(result, inputs_dir, week_dir, config)
    temporaries = {job.target: temporary_beside(job.target) for job in jobs}
    copying = [job for job in jobs if job.refusal is None]
    limits = limits_of(config.limits)
    # The child inherits this process's address space (the whole week): the parser's allowance comes on top.
    limits = replace(limits, memory_bytes=limits.memory_bytes + address_space_bytes())
    maximum = config.limits.feedback_max_cells

    def process(index: int, outcome: ReadOutcome) -> str:
        try:
            return _write_copy(temporaries[copying[index].target], copying[index], outcome, maximum, result, config,
                               schema, limits)
        except MemoryError:
            raise
        except Exception:   # a file we cannot copy still gets its summary
            return "failed"

    def parsed(job: Job) -> Path:
        kept = handoff / f"{job.version_id}{HANDOFF_SUFFIX}" if handoff else None
        return kept if kept and kept.exists() else job.source

    work = ChildWork([parsed(job) for job in copying], process, read_handoff, detect_kind, limits,
                     config.limits.workers, [file_size(str(job.source)) for job in copying])
    return Copies(jobs, temporaries, work, week_dir)


def finish_copies(copies: Copies, pairs: list[tuple], result: WeekResult, config: Config,
                  schema: Schema) -> list[Path]:
    """Move the written copies into place (a summary-only workbook where no copy could be made); return them."""
    copying = [job for job in copies.jobs if job.refusal is None]
    verdicts = {job.target: product or ("too_large" if outcome.problem == "file_too_large" else "failed")
                for job, (outcome, product) in zip(copying, pairs)}
    try:
        for job in copies.jobs:
            verdict = verdicts.get(job.target, job.refusal)
            if verdict != "written":
                _write_summary_only(copies.temporaries[job.target], job, verdict, result, config, schema)
            move_into_place(copies.temporaries[job.target], job.target)
    finally:
        for temporary in copies.temporaries.values():
            temporary.unlink(missing_ok=True)
    written = [job.target for job in copies.jobs]
    for stale in set(WeekFiles(copies.week_dir, result.report["week"]).feedback.rglob(f"*{SUFFIX}")) - set(written):
        stale.unlink()   # a rerun of the week leaves exactly this run's workbooks
    return written


def write_feedback(result: WeekResult, inputs_dir: Path, week_dir: Path, config: Config, schema: Schema,
                   handoff: Path | None = None) -> list[Path]:
    """Write a feedback workbook for each file submitted this week (its newest version); return their paths."""
    copies = copy_work(result, inputs_dir, week_dir, config, schema, handoff)
    try:
        pairs = alongside(copies.work, None)
    except BaseException:
        for temporary in copies.temporaries.values():
            temporary.unlink(missing_ok=True)
        raise
    return finish_copies(copies, pairs, result, config, schema)


def _write_copy(path: Path, job: Job, outcome: ReadOutcome, maximum: int, result: WeekResult,
                config: Config, schema: Schema, limits: ReadLimits) -> str:
    """The summary and the marked copy of one file (in the child that has just read it)."""
    if outcome.problem:
        return _gone(job) or ("too_large" if outcome.problem in ("file_too_large", "too_many_cells") else "failed")
    if sum(cell_count(sheet) for sheet in outcome.sheets) > maximum:
        return "too_large"
    original = _checked_bytes(job)
    if not isinstance(original, bytes):
        return original   # deleted or saved over since it was checked: no copy, the summary says why
    if outcome.kind == "xlsx":
        try:
            _write_marked_original(path, original, job, outcome, result, config, schema)
            return "written"
        except MemoryError:
            raise
        except Exception:   # Unpatchable, or a package spelled in a way not foreseen: rebuilt from its cells below
            pass
    if any(sheet.cells is not None for sheet in outcome.sheets):   # handed off without its cells: read them now
        outcome = read_file(str(job.source), limits)
        if outcome.problem:
            return "too_large" if outcome.problem in ("file_too_large", "too_many_cells") else "failed"
    summary_title = feedback_wording()["labels"]["summary_sheet"]
    titles = feedback_book.unique_titles([sheet.name for sheet in outcome.sheets], [summary_title])
    lines, marks = _planned(job, outcome, titles, result, config, schema)
    feedback_book.write_book(path, summary_title, lines, list(outcome.sheets), titles, marks,
                             feedback_wording()["labels"]["author"], config)
    return "written"


def _checked_bytes(job: Job) -> bytes | str:
    """The file's bytes when they are still the version the run checked, else why not: 'missing' or 'changed'.

    The district may delete or save over its file while the run works: that is no error, only no copy.
    """
    try:
        with os.fdopen(inbox.open_regular(job.source), "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return "missing"
    except (inbox.NotAFile, OSError):   # replaced by a link, a folder, a FIFO, or unreadable now
        return "changed"
    return data if hashlib.sha256(data).hexdigest() == job.sha256 else "changed"


def _gone(job: Job) -> str | None:
    """'missing' when the file was deleted after it was checked (its copy then cannot be made), else None."""
    return "missing" if job.source is not None and not os.path.lexists(job.source) else None


def _planned(job: Job, outcome: ReadOutcome, titles: dict[str, str], result: WeekResult, config: Config,
             schema: Schema) -> tuple[list[Line], list[Mark]]:
    """The summary sheet's lines and the cells to mark, for a copy whose sheets are named `titles`."""
    first_columns = {sheet.name: sheet.first_column + 1 for sheet in outcome.sheets}
    version, issues, duplicates = parts_of(result, job, schema)
    marks = merged_marks(plan_marks(issues, first_columns, schema, list(config.districts.values())), outcome.sheets)
    return summary_lines(version, issues, duplicates, titles, first_columns, config, schema, "",
                         district_status(result, version)), marks


def _write_marked_original(path: Path, original: bytes, job: Job, outcome: ReadOutcome, result: WeekResult,
                           config: Config, schema: Schema) -> None:
    """The district's own .xlsx with the summary in front and the problem cells marked (xlsx_marks)."""
    labels = feedback_wording()["labels"]
    titles = {sheet.name: sheet.name for sheet in outcome.sheets}   # the district's sheets keep their names
    lines, marks = _planned(job, outcome, titles, result, config, schema)
    shown = {sheet.name: feedback_book.marked_cells(sheet, [mark for mark in marks if mark.sheet == sheet.name])
             for sheet in outcome.sheets}
    shown = {name: cells for name, cells in shown.items() if cells}
    sheet_marks = {name: xlsx_marks.SheetMarks(
        {(row + 1, column + 1): severity for (row, column), (severity, _) in cells.items()
         if severity in feedback_book.FILLS},   # an info cell gets its note, no colour
        {place: "\n".join(reasons) for place, (_, reasons) in cells.items()}) for name, cells in shown.items()}
    frame, summary = feedback_book.summary_book(labels["summary_sheet"], lines, config)
    path.write_bytes(xlsx_marks.marked_package(original, frame, labels["summary_sheet"], sheet_marks, summary,
                                               labels["author"]))


def _write_summary_only(path: Path, job: Job, refusal: str, result: WeekResult, config: Config,
                        schema: Schema) -> None:
    version, issues, duplicates = parts_of(result, job, schema)
    note = feedback_wording()["no_copy"].get(refusal, "")
    lines = summary_lines(version, issues, duplicates, {}, {}, config, schema, note, district_status(result, version))
    feedback_book.write_book(path, feedback_wording()["labels"]["summary_sheet"], lines, [], {}, [],
                    feedback_wording()["labels"]["author"], config)
