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
from pipeline.synthetic.problems import DUPLICATE_KINDS, Problems, injections_for, junk_record
from pipeline.synthetic.truth import (FileTruth, RowTruth, SheetTruth, Truth, entity_key, entity_tables,
                                      resolve_outcomes)
from pipeline.synthetic import writers

Schedule = Collection[str] | Mapping[dt.date, Collection[str]]
FORMATS = ("xlsx", "csv", "ods")
CSV_ENCODINGS = ("cp874", "utf-8", "utf-8-sig")
FOLDER_STYLES = ("code", "name", "both")
UNRELATED_SHEET_NAMES = ("Sheet1", "แผ่นงาน1", "Sheet2", "แผ่นงาน2", "Sheet3")
UNRELATED_FILE_STEMS = ("export", "ข้อมูลส่งจังหวัด", "Book1", "รายงาน")


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
                 submitted_at: dt.datetime | None, edge_times: bool):
        self.root, self.factory, self.population = root, factory, population
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
                if entity.week > week:
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
            candidates = [e for e in self.population.of(dataset, district) if e.week <= last_sent and id(e) not in listed]
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
    def submit(self, district: str, folder: str, week: dt.date, timing: str, rows: dict[str, list[Row]]) -> None:
        """Write this week's files of one district and record their truth."""
        datasets = [d for d in forms.DATASETS if rows[d]]
        if not datasets:
            return
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
        for (file_format, group), submitted_at in zip(groups, times):
            self.write_file(district, folder, subfolder, week, timing, submitted_at, file_format, group, rows)

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
        limit = cutoff if timing != "after_cutoff" else first + dt.timedelta(hours=4)
        later = sorted(first + (limit - first) * float(x) for x in self.factory.rng.random(count - 1))
        return [first, *[t.replace(microsecond=0) for t in later]]

    def seconds(self, low: int, high: int) -> dt.timedelta:
        """A whole number of seconds in [low, high)."""
        return dt.timedelta(seconds=int(self.factory.rng.integers(low, high)))

    def write_file(self, district, folder, subfolder, week, timing, submitted_at, file_format, datasets, rows) -> None:
        """Write one workbook or CSV, set its mtime, and record every sheet's rows."""
        encoding = next(self.encoding_turn) if file_format == "csv" else None
        typist = Typist(self.factory, self.drifts, encoding)
        relative = self.unique_path(folder, subfolder, self.file_stem(datasets, district, week), file_format)
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        names = self.sheet_names(datasets) if file_format != "csv" else [Path(relative).stem]
        grids = [build_grid(typist, d, n, rows[d], district=district, week=week) for d, n in zip(datasets, names)]
        first_workbook = folder not in self.hidden_written
        if file_format == "xlsx" and self.drifts.hidden_sheet and (first_workbook or self.factory.chance(0.3)):
            grids.append(junk_grid(self.factory.pick(("list", "ข้อมูลอ้างอิง", "Sheet9"))))
            self.hidden_written.add(folder)
        if file_format == "xlsx":
            writers.write_xlsx(path, grids)
        elif file_format == "ods":
            writers.write_ods(path, grids)
        else:
            writers.write_csv(path, grids[0], encoding)
        stamp = submitted_at.timestamp()
        os.utime(path, (stamp, stamp))
        file = FileTruth(path=relative, folder=folder, district=district, format=file_format, encoding=encoding,
                         submitted_at=submitted_at, timing=timing, week=forms.week_of(submitted_at), sent_for=week)
        file.sheets = [_sheet_truth(grid, index, district) for index, grid in enumerate(grids)]
        self.files.append(file)

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


def _record_row(entity, record: dict, source: str = "list") -> Row:
    return Row("record", record=record, entity=entity, cells=dict(entity.raw), codes=entity.warnings, source=source)


def _insert(factory: Factory, rows: list[Row], row: Row) -> None:
    rows.insert(int(factory.rng.integers(0, len(rows) + 1)), row)


def _sheet_truth(grid: Grid, index: int, district: str) -> SheetTruth:
    sheet = SheetTruth(name=grid.name, index=index, dataset=grid.dataset, hidden=grid.hidden,
                       header_row=grid.header_row, columns=list(grid.columns), drifts=tuple(sorted(grid.drifts)))
    for number, row in grid.rows.items():
        if row.kind in ("blank", "totals"):
            sheet.rows[number] = RowTruth("skipped", row.kind)
        elif row.kind == "error":
            sheet.rows[number] = RowTruth("rejected", "error", row.codes, injection=row.injection, source=row.source)
        else:
            codes = list(row.codes)
            if row.record["district"] != district:
                codes.append("district_not_folder")
            sheet.rows[number] = RowTruth("accepted", "record", tuple(codes), record=row.record,
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
    after_cutoff_districts: Schedule = (), formats: Sequence[str] = FORMATS, drifts: Drifts = Drifts(),
    problems: Problems = Problems(), sizes: Mapping[str, tuple[int, int]] | None = None,
    folder_style: str | Mapping[str, str] = "mixed", files_per_week: tuple[int, int] = (1, 3),
    submitted_at: dt.datetime | None = None, window: Window = standard_window, edge_times: bool = False,
    junk_files: bool = True,
) -> Truth:
    """Write root/<district folder>/<files> for the given weeks and return what they must yield."""
    weeks = sorted(weeks)
    if any(w.weekday() != 4 for w in weeks):
        raise ValueError("weeks are named by their Friday")
    districts = list(districts or forms.province_districts())
    modes = {d: (mode.get(d, "resend") if isinstance(mode, Mapping) else mode) for d in districts}
    factory = Factory(np.random.default_rng(seed), window)
    population = generate_population(factory, districts, weeks, sizes=sizes,
                                     other_district_rate=problems.other_district_rate,
                                     untagged_rate=problems.untagged_rate)
    folders = _styles(districts, folder_style, factory)
    writer = InboxWriter(Path(root), factory, population, drifts=drifts, problems=problems, formats=formats,
                         files_per_week=files_per_week, submitted_at=submitted_at, edge_times=edge_times)
    timings: dict[tuple[str, dt.date], str] = {}
    last_sent: dict[str, dt.date | None] = {d: None for d in districts}
    for week in weeks:
        for district in districts:
            timing = _timing(district, week, late_districts, missing_districts, after_cutoff_districts, submitted_at)
            timings[(district, week)] = timing
            if timing == "missing":
                continue
            rows = writer.list_rows(district, week, modes[district], last_sent[district])
            writer.add_duplicates(rows, district, week, modes[district], last_sent[district])
            writer.add_errors(rows, district, week)
            writer.submit(district, folders[district], week, timing, rows)
            last_sent[district] = week
    if junk_files:
        writer.write_junk_files()
    resolve_outcomes(writer.files)
    return Truth(
        root=Path(root), seed=seed, weeks=weeks, province_code=forms.PROVINCE_CODE,
        province_name=forms.province_name(), districts={c: d.name for c, d in forms.province_districts().items()},
        submitting=districts, modes=modes, folders=folders, timings=timings, files=writer.files,
        ignored=writer.ignored, entities=entity_tables(writer.files), versions=population.frames(),
    )


def _timing(district, week, late, missing, after_cutoff, submitted_at) -> str:
    if _scheduled(missing, district, week):
        return "missing"
    if submitted_at is not None:
        return "fixed"
    if _scheduled(after_cutoff, district, week):
        return "after_cutoff"
    return "late" if _scheduled(late, district, week) else "on_time"
