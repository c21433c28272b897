"""build_inbox: district folders full of messy files, and the Truth of what they hold."""
from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import numpy as np

from pipeline.synthetic import forms
from pipeline.synthetic.cells import THAI_MONTHS, Drifts, Typist
from pipeline.synthetic.layout import Grid, Row, build_grid, junk_grid
from pipeline.synthetic.population import Factory, Population, Window, generate_population, standard_window
from pipeline.synthetic.problems import DONE, DUPLICATE_KINDS, Problems, injections_for, junk_record
from pipeline.synthetic.truth import (Change, FileTruth, RowTruth, SheetTruth, Truth, entity_key, entity_tables,
                                      resolve_outcomes)
from pipeline.synthetic import writers

Schedule = Collection[str] | Mapping[dt.date, Collection[str]]
FORMATS = ("xlsx", "csv", "ods")
CSV_ENCODINGS = ("cp874", "utf-8", "utf-8-sig")
FOLDER_STYLES = ("code", "name", "both")
UNRELATED_SHEET_NAMES = ("Sheet1", "แผ่นงาน1", "Sheet2", "แผ่นงาน2", "Sheet3")
UNRELATED_FILE_STEMS = ("export", "ข้อมูลส่งจังหวัด", "Book1", "รายงาน")
# Reported columns a district's sheet may lack (FORMS.md §3: the figures they feed are then incomplete).
DROPPABLE = {"unvaccinated": ("wants_vaccine", "reason", "wants_vaccine"), "facilities": ("status",)}
CORRECTION_STEMS = ("แก้ไขข้อมูล", "ข้อมูลแก้ไข", "อัปเดตสถานะ")


def _scheduled(schedule: Schedule, district: str, week: dt.date) -> bool:
    if isinstance(schedule, Mapping):
        return district in schedule.get(week, ())
    return district in schedule


def folder_name(district: str, style: str) -> str:
    """A district folder named by code ('5401'), Thai name ('เมืองแพร่') or both ('5401 เมืองแพร่')."""
    name = forms.province_districts()[district].name
    return {"code": district, "name": name, "both": f"{district} {name}"}[style]


def week_tag(week: dt.date) -> str:
    """A week as districts put it in file names: 24ธค64."""
    return f"{week.day}{THAI_MONTHS[week.month - 1].replace('.', '')}{(week.year + 543) % 100:02d}"


class InboxWriter:
    """Writes one inbox; keeps the round-robin counters that make every problem kind appear."""

    def __init__(self, root: Path, factory: Factory, population: Population, *, drifts: Drifts,
                 problems: Problems, formats: Sequence[str], files_per_week: tuple[int, int],
                 submitted_at: dt.datetime | None, edge_times: bool, last_week: dt.date | None = None):
        self.root, self.factory, self.population = root, factory, population
        self.last_week = last_week
        self.sent: dict[str, set[tuple]] = {}  # district -> (dataset, identity) its folder has sent
        self.plans: dict[str, dict] = {}  # path -> what its first version was written from
        self.changes: list[Change] = []
        self.changed_paths: set[str] = set()
        self.missing_turn = itertools.count()
        self.correction_turn = itertools.count()
        self.timings: dict[tuple[str, dt.date], str] = {}
        self.drifts, self.problems, self.formats = drifts, problems, tuple(formats)
        self.files_per_week, self.fixed_time, self.edge_times = files_per_week, submitted_at, edge_times
        self.files: list[FileTruth] = []
        self.ignored: list[str] = []
        self.used_paths: set[str] = set()
        self.error_turns = {dataset: itertools.count() for dataset in forms.DATASETS}
        self.duplicate_turns = {dataset: itertools.count() for dataset in forms.DATASETS}
        self.encoding_turn = itertools.cycle(CSV_ENCODINGS)
        self.format_turn = itertools.count(int(factory.rng.integers(len(self.formats))))
        self.edges_left = {"on_time", "late"} if edge_times else set()
        self.hidden_written: set[str] = set()

    # -- what a district sends in a week ---------------------------------------------------
    def list_rows(self, district: str, week: dt.date, mode: str, last_sent: dt.date | None) -> dict[str, list[Row]]:
        """The rows of each dataset a district's file holds this week (whole list, or what is new)."""
        result = {}
        for dataset in forms.DATASETS:
            chosen = []
            for entity in self.population.of(dataset, district):
                if entity.week > week or (entity.retracted is not None and entity.retracted <= week):
                    continue
                unsent = last_sent is None or entity.week > last_sent
                if mode == "resend" or unsent or entity.updated_between(last_sent, week):
                    chosen.append(entity)
            result[dataset] = [_record_row(e, e.version_at(week)) for e in chosen]
        return result

    def add_duplicates(self, rows: dict[str, list[Row]], district: str, week: dt.date, mode: str,
                       last_sent: dt.date | None) -> None:
        """Rows for entities already recorded elsewhere: in this file, another district, last week."""
        for dataset, dataset_rows in rows.items():
            if not dataset_rows:
                continue
            for _ in range(self.problems.duplicates_per_sheet):
                for _attempt in range(len(DUPLICATE_KINDS)):
                    kind = DUPLICATE_KINDS[next(self.duplicate_turns[dataset]) % len(DUPLICATE_KINDS)]
                    if kind in self.problems.duplicates and self._add_duplicate(kind, dataset, dataset_rows,
                                                                                district, week, mode, last_sent):
                        break

    def _add_duplicate(self, kind, dataset, rows, district, week, mode, last_sent) -> bool:
        factory = self.factory
        if kind == "same_file":
            originals = [i for i, r in enumerate(rows) if r.kind == "record"]
            if not originals:
                return False
            index = factory.pick(originals)
            original = rows[index]
            rows.insert(int(factory.rng.integers(index + 1, len(rows) + 1)),
                        _record_row(original.entity, original.record, "same_file"))
            return True
        if kind == "resent" and mode == "new_only" and last_sent is not None:
            listed = {id(r.entity) for r in rows}
            candidates = [e for e in self.population.of(dataset, district)
                          if e.week <= last_sent and id(e) not in listed and e.retracted is None]
            if candidates:
                entity = factory.pick(candidates)
                _insert(factory, rows, _record_row(entity, entity.version_at(week), "resent"))
                return True
            return False
        others = [e for e in self.population.entities[dataset] if e.home != district and e.week <= week]
        if kind == "moved" and dataset == "unvaccinated":
            others = [e for e in others if e.version_at(week)["person_id"]]
            if others:
                entity = factory.pick(others)
                moved = {**entity.version_at(week), **factory.place(district), "moo": int(factory.rng.integers(1, 21))}
                _insert(factory, rows, _record_row(entity, moved, "moved"))
                return True
        if kind == "other_district" and others:
            entity = factory.pick(others)
            _insert(factory, rows, _record_row(entity, entity.version_at(week), "other_district"))
            return True
        return False

    def add_errors(self, rows: dict[str, list[Row]], district: str, week: dt.date) -> None:
        """Spoiled rows, each kind in turn, that the pipeline must reject with a known code."""
        for dataset, dataset_rows in rows.items():
            kinds = injections_for(dataset, self.problems.errors)
            if not dataset_rows or not kinds:
                continue
            for _ in range(self.problems.errors_per_sheet):
                injection = kinds[next(self.error_turns[dataset]) % len(kinds)]
                record = junk_record(self.factory, dataset, district, week)
                cells = injection.cells(self.factory, record)
                _insert(self.factory, dataset_rows, Row("error", record=record, cells=cells,
                                                        injection=injection.name, codes=injection.codes))

    # -- files -------------------------------------------------------------------------------
    def submit(self, district: str, folder: str, week: dt.date, timing: str, rows: dict[str, list[Row]]) -> list[FileTruth]:
        """Write this week's files of one district, record their truth, and return them."""
        datasets = [d for d in forms.DATASETS if rows[d]]
        if not datasets:
            return []
        order = [datasets[i] for i in self.factory.rng.permutation(len(datasets))]
        fewest, most = self.files_per_week
        count = int(self.factory.rng.integers(min(fewest, len(order)), min(most, len(order)) + 1))
        kinds = [self.formats[next(self.format_turn) % len(self.formats)] for _ in range(count)]
        workbook_formats = [f for f in self.formats if f != "csv"]
        if not workbook_formats:
            kinds = ["csv"] * len(order)  # a CSV holds one dataset: one file each
        elif kinds.count("csv") == count and count < len(order):
            kinds[-1] = self.factory.pick(workbook_formats)
        groups = self.group_datasets(order, kinds)
        times = self.submission_times(week, timing, len(groups))
        # A subfolder now and then; never when every file has the same time, where the tie-break by
        # path would depend on whether files sort before subfolders.
        subfolder = f"ส่ง {week_tag(week)}" if self.factory.chance(0.15) and self.fixed_time is None else None
        return [self.write_file(district, folder, subfolder, week, timing, submitted_at, file_format, group, rows)
                for (file_format, group), submitted_at in zip(groups, times)]

    def group_datasets(self, order: list[str], kinds: list[str]) -> list[tuple[str, list[str]]]:
        """Datasets per file: one per CSV, the rest shared by the workbooks (each at least one)."""
        csv_count = kinds.count("csv")
        books = len(kinds) - csv_count
        rest = order[csv_count:]
        cuts = []
        if books > 1:
            cuts = sorted(int(c) for c in self.factory.rng.choice(range(1, len(rest)), books - 1, replace=False))
        shares = iter([rest[a:b] for a, b in zip([0, *cuts], [*cuts, len(rest)])])
        singles = iter(order[:csv_count])
        return [(kind, [next(singles)] if kind == "csv" else next(shares)) for kind in kinds]

    def submission_times(self, week: dt.date, timing: str, count: int) -> list[dt.datetime]:
        """Increasing submission times: the first one sets the district's status for the week."""
        if self.fixed_time is not None:
            return [self.fixed_time] * count
        cutoff, deadline = forms.cutoff_of(week), forms.deadline_of(week)
        if timing in self.edges_left:  # exactly at the deadline / cut-off: both still count as in time
            self.edges_left.discard(timing)
            return [deadline if timing == "on_time" else cutoff] * count
        if timing == "on_time":
            first = deadline - dt.timedelta(hours=23) + self.seconds(0, 22 * 3600)  # Thu 13:00 – Fri 11:00
        elif timing == "late":
            first = deadline + self.seconds(60, 2 * 3600)
        else:  # after the cut-off: Friday evening or Saturday
            first = cutoff + self.seconds(60, 20 * 3600)
        # Files of the week come before the week's run (forms.run_moment), which sees them all.
        limit = forms.run_moment(week) - dt.timedelta(minutes=1) if timing != "after_cutoff" \
            else first + dt.timedelta(hours=4)
        later = sorted(first + (limit - first) * float(x) for x in self.factory.rng.random(count - 1))
        return [first, *[t.replace(microsecond=0) for t in later]]

    def seconds(self, low: int, high: int) -> dt.timedelta:
        """A whole number of seconds in [low, high)."""
        return dt.timedelta(seconds=int(self.factory.rng.integers(low, high)))

    def write_file(self, district, folder, subfolder, week, timing, submitted_at, file_format, datasets, rows, *,
                   stem: str | None = None, may_drop: bool = True) -> FileTruth:
        """Write one workbook or CSV, set its mtime, and record every sheet's rows."""
        encoding = next(self.encoding_turn) if file_format == "csv" else None
        typist = Typist(self.factory, self.drifts, encoding)
        relative = self.unique_path(folder, subfolder, stem or self.file_stem(datasets, district, week), file_format)
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        names = self.sheet_names(datasets) if file_format != "csv" else [Path(relative).stem]
        grids = [build_grid(typist, d, n, rows[d], district=district, week=week, mergeable=file_format != "csv",
                            dropped=self.dropped_columns(d, rows[d], district, week) if may_drop else ())
                 for d, n in zip(datasets, names)]
        first_workbook = folder not in self.hidden_written
        if file_format == "xlsx" and self.drifts.hidden_sheet and (first_workbook or self.factory.chance(0.3)):
            grids.append(junk_grid(self.factory.pick(("list", "ข้อมูลอ้างอิง", "Sheet9"))))
            self.hidden_written.add(folder)
        _write_grids(path, file_format, grids, encoding, submitted_at)
        file = FileTruth(path=relative, folder=folder, district=district, format=file_format, encoding=encoding,
                         submitted_at=submitted_at, timing=timing, week=forms.week_of(submitted_at), sent_for=week)
        file.sheets = [_sheet_truth(grid, index, district) for index, grid in enumerate(grids)]
        self.files.append(file)
        self.plans[relative] = {"datasets": list(datasets), "names": names, "rows": {d: rows[d] for d in datasets}}
        self.note_sent(district, grids)
        return file

    def note_sent(self, district: str, grids: list[Grid]) -> None:
        """Remember which records this district's folder has sent (a later sheet lacking a column must not
        hold one of them: whether a missing column changes a known record is not what it tests)."""
        sent = self.sent.setdefault(district, set())
        for grid in grids:
            sent.update((grid.dataset, entity_key(grid.dataset, row.record))
                        for row in grid.rows.values() if row.kind == "record")

    def dropped_columns(self, dataset: str, rows: list[Row], district: str, week: dt.date) -> tuple[str, ...]:
        """A reported column the sheet lacks (every other eligible sheet): only in the inbox's last week and
        only in a sheet none of whose records the folder sent before."""
        if not self.drifts.missing_columns or week != self.last_week or dataset not in DROPPABLE:
            return ()
        records = [r for r in rows if r.kind == "record"]
        sent = self.sent.get(district, set())
        if not records or any((dataset, entity_key(dataset, r.record)) in sent for r in records):
            return ()
        turn = next(self.missing_turn)
        return () if turn % 2 else (DROPPABLE[dataset][turn // 2 % len(DROPPABLE[dataset])],)

    # -- what a district-week may hold besides its list ----------------------------------------
    def write_unusable(self, district: str, folder: str, week: dt.date) -> list[FileTruth]:
        """The district's only files this week: a corrupt workbook, a cover memo without tables, or both."""
        kinds = self.factory.pick((["corrupt"], ["cover"], ["cover", "corrupt"]))
        times = self.submission_times(week, "on_time", len(kinds))
        name = forms.province_districts()[district].name
        written = []
        for kind, submitted_at in zip(kinds, times):
            stem = f"{'หนังสือนำส่ง' if kind == 'cover' else 'แบบรายงาน Jitasa'}_{name}_{week_tag(week)}"
            relative = self.unique_path(folder, None, stem, "xlsx")
            path = self.root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if kind == "corrupt":
                writers.write_corrupt_workbook(path, bytes(self.factory.rng.integers(0, 256, 700, dtype=np.uint8)))
                sheets = []
            else:
                writers.write_cover_letter(path, name)
                sheets = [SheetTruth(name="หนังสือนำส่ง", index=0, dataset=None)]
            stamp = submitted_at.timestamp()
            os.utime(path, (stamp, stamp))
            file = FileTruth(path=relative, folder=folder, district=district, format="xlsx", encoding=None,
                             submitted_at=submitted_at, timing="unusable", week=forms.week_of(submitted_at),
                             sent_for=week, sheets=sheets, usable=False)
            self.files.append(file)
            written.append(file)
        return written

    def add_correction(self, district: str, folder: str, week: dt.date, timing: str, after: dt.datetime) -> None:
        """Later in the week, a small file that moves requests the folder sent to done and gives a facility a
        newer update date (every other district-week where there is something to correct)."""
        first, last = self.factory.window(week)
        rows: dict[str, list[Row]] = {d: [] for d in forms.DATASETS}
        for dataset, limit in (("help_requests", 2), ("facilities", 1)):
            candidates = [e for e in self.correctable(dataset, district, week)
                          if (e.version_at(week)["status"] != DONE if dataset == "help_requests"
                              else e.version_at(week)["updated_on"] < last)]
            for entity in candidates[:limit]:
                current = entity.version_at(week)
                if dataset == "help_requests":
                    record = {**current, "status": DONE,
                              "resolved_on": self.factory.day_in(week, current["requested_on"])}
                else:
                    start = max(first, current["updated_on"] + dt.timedelta(days=1))
                    record = {**current, "updated_on": self.factory.day_between(start, last)}
                entity.versions.append((week, record))
                rows[dataset].append(_record_row(entity, record, "correction"))
        datasets = [d for d in forms.DATASETS if rows[d]]
        start, end = after + dt.timedelta(minutes=1), forms.run_moment(week) - dt.timedelta(minutes=1)
        if not datasets or end <= start:
            return
        submitted_at = (start + (end - start) * float(self.factory.rng.random())).replace(microsecond=0)
        books = [f for f in self.formats if f != "csv"]
        file_format = self.factory.pick(books) if len(datasets) > 1 and books else self.factory.pick(self.formats)
        if file_format == "csv" and len(datasets) > 1:
            datasets = datasets[:1]
        stem = f"{self.factory.pick(CORRECTION_STEMS)}_{forms.province_districts()[district].name}_{week_tag(week)}"
        self.write_file(district, folder, None, week, timing, submitted_at, file_format, datasets, rows,
                        stem=stem, may_drop=False)

    def correctable(self, dataset: str, district: str, week: dt.date) -> list:
        """The district's entities its folder sent, still in its list, with no later version planned."""
        sent = self.sent.get(district, set())
        return [e for e in self.population.of(dataset, district)
                if e.week <= week and e.retracted is None and all(since <= week for since, _ in e.versions)
                and (dataset, entity_key(dataset, e.version_at(week))) in sent]

    # -- changes to files already in the inbox -----------------------------------------------
    def changeable(self, district: str, week: dt.date) -> list[FileTruth]:
        """Files of the district from an earlier week that are usable and were not changed yet."""
        return [f for f in self.files if f.district == district and f.week < week and f.usable
                and f.revision == 0 and f.path not in self.changed_paths]

    def plan_replacement(self, file: FileTruth, week: dt.date) -> dict:
        """Take one or two records out of a file the district will save again this week (listed by mistake)."""
        self.changed_paths.add(file.path)
        plan = self.plans[file.path]
        for dataset in plan["datasets"]:
            own = _unique([r.entity for r in plan["rows"][dataset]
                           if r.kind == "record" and r.source == "list" and r.entity.retracted is None])
            for entity in own[1:][:int(self.factory.rng.integers(1, 3))] if len(own) >= 3 else ():
                entity.retracted = week
        return plan

    def write_replacement(self, file: FileTruth, plan: dict, week: dt.date, after: dt.datetime) -> None:
        """The file's new version later in the week: its records as they stand now, errors fixed by
        leaving them out, the retracted records gone; written to disk only by apply_changes."""
        start, end = after + dt.timedelta(minutes=1), forms.run_moment(week) - dt.timedelta(minutes=1)
        if end <= start:
            return
        submitted_at = (start + (end - start) * float(self.factory.rng.random())).replace(microsecond=0)
        typist = Typist(self.factory, self.drifts, file.encoding)
        grids = []
        for dataset, name in zip(plan["datasets"], plan["names"]):
            entities = _unique([r.entity for r in plan["rows"][dataset]
                                if r.kind == "record" and r.source == "list"
                                and (r.entity.retracted is None or r.entity.retracted > week)])
            rows = [_record_row(e, e.version_at(week)) for e in entities]
            grids.append(build_grid(typist, dataset, name, rows, district=file.district, week=week,
                                    mergeable=file.format != "csv"))
        version = FileTruth(path=file.path, folder=file.folder, district=file.district, format=file.format,
                            encoding=file.encoding, submitted_at=submitted_at, timing=file.timing if file.week == week
                            else self.timing_of(file.district, week), week=forms.week_of(submitted_at),
                            sent_for=week, revision=1)
        version.sheets = [_sheet_truth(grid, index, file.district) for index, grid in enumerate(grids)]
        self.files.append(version)
        self.note_sent(file.district, grids)

        def write(path: Path, grids=grids, file_format=file.format, encoding=file.encoding, moment=submitted_at):
            _write_grids(path, file_format, grids, encoding, moment)
        self.changes.append(Change("replace", file.path, submitted_at, forms.run_moment(week), write))

    def plan_removal(self, file: FileTruth, week: dt.date, previous_run: dt.datetime) -> None:
        """The district deletes the file during the week; the week's run sees it gone."""
        self.changed_paths.add(file.path)
        start, end = previous_run + dt.timedelta(minutes=1), forms.run_moment(week) - dt.timedelta(minutes=1)
        moment = (start + (end - start) * float(self.factory.rng.random())).replace(microsecond=0)
        self.changes.append(Change("remove", file.path, moment, forms.run_moment(week)))

    def timing_of(self, district: str, week: dt.date) -> str:
        """The district's timing in a week (as build_inbox decided it)."""
        return self.timings.get((district, week), "on_time")

    def file_stem(self, datasets: list[str], district: str, week: dt.date) -> str:
        """A file name as districts choose them."""
        if len(datasets) > 1:
            stem = self.factory.pick(("แบบรายงาน Jitasa", "รายงานประจำสัปดาห์", "ข้อมูลอำเภอ"))
        elif _drawn(self.factory, self.drifts.sheet_names, self.drifts.sheet_rate / 2):
            stem = self.factory.pick(forms.sheet_aliases(datasets[0]) + list(UNRELATED_FILE_STEMS))
        else:
            stem = forms.title(datasets[0])
        return f"{stem}_{forms.province_districts()[district].name}_{week_tag(week)}"

    def unique_path(self, folder: str, subfolder: str | None, stem: str, extension: str) -> str:
        """A relative path not used yet in this inbox."""
        for number in itertools.count(1):
            name = f"{stem}.{extension}" if number == 1 else f"{stem} ({number}).{extension}"
            relative = "/".join(p for p in (folder, subfolder, name) if p)
            if relative not in self.used_paths:
                self.used_paths.add(relative)
                return relative
        raise AssertionError("unreachable")

    def sheet_names(self, datasets: list[str]) -> list[str]:
        """Sheet names: the Thai title, or (drift) an alias or a name that says nothing."""
        names: list[str] = []
        unrelated = iter(UNRELATED_SHEET_NAMES)
        for dataset in datasets:
            name = forms.title(dataset)
            if _drawn(self.factory, self.drifts.sheet_names, self.drifts.sheet_rate / 2):
                name = self.factory.pick(forms.sheet_aliases(dataset)) if self.factory.chance(0.5) else next(unrelated)
            names.append(name if name not in names else next(unrelated))
        return names

    def write_junk_files(self) -> None:
        """Editor lock files next to workbooks and a Finder .DS_Store: all must be ignored."""
        folders = sorted({f.path.split("/")[0] for f in self.files})
        for file in [f for f in self.files if f.format == "xlsx"][:2]:  # someone still had these open
            directory, name = file.path.rsplit("/", 1)
            self.ignored.append(f"{directory}/~${name}")
            writers.write_lock_file(self.root / self.ignored[-1])
        if folders:
            self.ignored.append(f"{folders[0]}/.DS_Store")
            writers.write_ds_store(self.root / self.ignored[-1])


def _drawn(factory: Factory, enabled: bool, rate: float) -> bool:
    """A drift draw at a given rate (names of files and sheets drift less often than cells)."""
    return enabled and factory.chance(rate)


def _write_grids(path: Path, file_format: str, grids: list[Grid], encoding: str | None, moment: dt.datetime) -> None:
    """Write grids in a format and give the file its submission time."""
    if file_format == "xlsx":
        writers.write_xlsx(path, grids)
    elif file_format == "ods":
        writers.write_ods(path, grids)
    else:
        writers.write_csv(path, grids[0], encoding)
    stamp = moment.timestamp()
    os.utime(path, (stamp, stamp))


def apply_changes(truth: Truth, until: dt.datetime) -> list[Change]:
    """Make on disk the inbox changes (new versions, deletions) due by `until` not made yet; return them."""
    made = []
    for position, change in enumerate(truth.changes):
        if position in truth.applied or change.at > until:
            continue
        path = truth.root / change.path
        if change.kind == "remove":
            path.unlink()
        else:
            change.write(path)
        truth.applied.add(position)
        made.append(change)
    return made


def _unique(entities: list) -> list:
    """Entities without repeats, in order (an Entity is compared by identity, not by value)."""
    return list({id(e): e for e in entities}.values())


def _record_row(entity, record: dict, source: str = "list") -> Row:
    return Row("record", record=record, entity=entity, cells=dict(entity.raw), codes=entity.warnings, source=source)


def _insert(factory: Factory, rows: list[Row], row: Row) -> None:
    rows.insert(int(factory.rng.integers(0, len(rows) + 1)), row)


def _sheet_truth(grid: Grid, index: int, district: str) -> SheetTruth:
    sheet = SheetTruth(name=grid.name, index=index, dataset=grid.dataset, hidden=grid.hidden,
                       header_row=grid.header_row, columns=list(grid.columns), drifts=tuple(sorted(grid.drifts)),
                       hinted=dict(grid.hinted), merged=[m for m in grid.merges if m[0] > grid.header_row])
    for number, row in grid.rows.items():
        if row.kind in ("blank", "totals"):
            sheet.rows[number] = RowTruth("skipped", row.kind)
        elif row.kind == "error":
            sheet.rows[number] = RowTruth("rejected", "error", row.codes, injection=row.injection, source=row.source)
        else:
            codes = list(row.codes)
            if row.record["district"] != district:
                codes.append("district_not_folder")
            record = {**row.record, **dict.fromkeys(grid.dropped)}  # a missing column reads as blank
            sheet.rows[number] = RowTruth("accepted", "record", tuple(codes), record=record,
                                          entity_key=entity_key(grid.dataset, row.record), source=row.source)
    return sheet


def _styles(districts: Sequence[str], folder_style, factory: Factory) -> dict[str, str]:
    if isinstance(folder_style, Mapping):
        return {d: folder_name(d, folder_style.get(d, "code")) for d in districts}
    if folder_style != "mixed":
        return {d: folder_name(d, folder_style) for d in districts}
    offset = int(factory.rng.integers(len(FOLDER_STYLES)))
    return {d: folder_name(d, FOLDER_STYLES[(i + offset) % 3]) for i, d in enumerate(districts)}


def build_inbox(
    root: Path, *, seed: int, weeks: Sequence[dt.date], districts: Sequence[str] | None = None,
    mode: str | Mapping[str, str] = "resend", late_districts: Schedule = (), missing_districts: Schedule = (),
    after_cutoff_districts: Schedule = (), unusable_districts: Schedule | None = None,
    formats: Sequence[str] = FORMATS, drifts: Drifts = Drifts(),
    problems: Problems = Problems(), sizes: Mapping[str, tuple[int, int]] | None = None,
    folder_style: str | Mapping[str, str] = "mixed", files_per_week: tuple[int, int] = (1, 3),
    submitted_at: dt.datetime | None = None, window: Window = standard_window, edge_times: bool = False,
    junk_files: bool = True,
) -> Truth:
    """Write root/<district folder>/<files> for the given weeks and return what they must yield.

    unusable_districts: district-weeks whose only files are unusable; None lets the unusable_files drift
    pick one (an inbox of two or more weeks with real submission times). Replaced and removed files are
    written by apply_changes(truth, until) as a test's runs reach them (truth.run_at: each week's `now`).
    """
    weeks = sorted(weeks)
    if any(w.weekday() != 4 for w in weeks):
        raise ValueError("weeks are named by their Friday")
    districts = list(districts or forms.province_districts())
    modes = {d: (mode.get(d, "resend") if isinstance(mode, Mapping) else mode) for d in districts}
    factory = Factory(np.random.default_rng(seed), window, not_stated_rate=0.12 if drifts.not_stated else 0.0,
                      stale_rate=0.2 if drifts.stale_facilities else 0.0)
    population = generate_population(factory, districts, weeks, sizes=sizes,
                                     other_district_rate=problems.other_district_rate,
                                     untagged_rate=problems.untagged_rate)
    folders = _styles(districts, folder_style, factory)
    writer = InboxWriter(Path(root), factory, population, drifts=drifts, problems=problems, formats=formats,
                         files_per_week=files_per_week, submitted_at=submitted_at, edge_times=edge_times,
                         last_week=weeks[-1])
    timings = writer.timings
    for week in weeks:
        for district in districts:
            timings[(district, week)] = _timing(district, week, late_districts, missing_districts,
                                                after_cutoff_districts, submitted_at)
    real_times = submitted_at is None and len(weeks) >= 2
    for district, week in _unusable(unusable_districts, timings, weeks, factory, drifts.unusable_files and real_times):
        timings[(district, week)] = "unusable"
    last_sent: dict[str, dt.date | None] = {d: None for d in districts}
    for index, week in enumerate(weeks):
        replaced, removed = _changes_due(writer, districts, week, index, drifts, real_times)
        plan = writer.plan_replacement(replaced, week) if replaced else None
        if removed is not None:
            writer.plan_removal(removed, week, forms.run_moment(weeks[index - 1]))
        for district in districts:
            timing = timings[(district, week)]
            if timing == "missing":
                continue
            if timing == "unusable":  # nothing of it counts: a new-rows-only district sends these next week
                writer.write_unusable(district, folders[district], week)
                continue
            rows = writer.list_rows(district, week, modes[district], last_sent[district])
            writer.add_duplicates(rows, district, week, modes[district], last_sent[district])
            writer.add_errors(rows, district, week)
            written = writer.submit(district, folders[district], week, timing, rows)
            last_sent[district] = week
            if not written or timing not in ("on_time", "late"):
                continue
            after = min(f.submitted_at for f in written)
            if replaced is not None and replaced.district == district:
                writer.write_replacement(replaced, plan, week, after)
            if drifts.corrections and submitted_at is None and next(writer.correction_turn) % 2 == 0:
                writer.add_correction(district, folders[district], week, timing,
                                      max(f.submitted_at for f in writer.files if f.district == district))
    if junk_files:
        writer.write_junk_files()
    resolve_outcomes(writer.files)
    return Truth(
        root=Path(root), seed=seed, weeks=weeks, province_code=forms.PROVINCE_CODE,
        province_name=forms.province_name(), districts={c: d.name for c, d in forms.province_districts().items()},
        submitting=districts, modes=modes, folders=folders, timings=timings, files=writer.files,
        ignored=writer.ignored, entities=entity_tables(writer.files), versions=population.frames(),
        changes=sorted(writer.changes, key=lambda c: c.at), run_at={w: forms.run_moment(w) for w in weeks},
    )


def _unusable(schedule: Schedule | None, timings: dict, weeks: Sequence[dt.date], factory: Factory,
              drawn: bool) -> list[tuple[str, dt.date]]:
    """District-weeks whose files are all unusable: the schedule's, or one the drift draws."""
    if schedule is not None:
        return [(d, w) for (d, w), timing in timings.items() if timing != "missing" and _scheduled(schedule, d, w)]
    if not drawn:
        return []
    previous = dict(zip(weeks[1:], weeks))
    candidates = sorted((d, w) for (d, w), timing in timings.items() if timing in ("on_time", "late")
                        and timings.get((d, previous.get(w))) != "after_cutoff")
    return [factory.pick(candidates)] if candidates else []


def _changes_due(writer: InboxWriter, districts: Sequence[str], week: dt.date, index: int, drifts: Drifts,
                 real_times: bool) -> tuple[FileTruth | None, FileTruth | None]:
    """The file saved again this week (its district submits this week) and the file deleted this week."""
    if index == 0 or not real_times:
        return None, None
    replaced = None
    if drifts.replaced_files:
        submitting = [d for d in districts if writer.timing_of(d, week) in ("on_time", "late")]
        candidates = [f for d in submitting for f in writer.changeable(d, week)
                      if any(r.kind == "record" and r.source == "list"
                             for rows in writer.plans[f.path]["rows"].values() for r in rows)]
        replaced = writer.factory.pick(candidates) if candidates else None
    removed = None
    if drifts.removed_files:
        candidates = [f for d in districts for f in writer.changeable(d, week)
                      if replaced is None or f.district != replaced.district]
        removed = writer.factory.pick(candidates) if candidates else None
    return replaced, removed


def _timing(district, week, late, missing, after_cutoff, submitted_at) -> str:
    if _scheduled(missing, district, week):
        return "missing"
    if submitted_at is not None:
        return "fixed"
    if _scheduled(after_cutoff, district, week):
        return "after_cutoff"
    return "late" if _scheduled(late, district, week) else "on_time"
