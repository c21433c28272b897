"""A season's inbox for the late-season benchmark: every district resends its full list as a new file each week.

Province 54 (8 districts), ~50,000 rows a week for 20 weeks (~1,000,000 rows once all are stored). A district's
list is drawn once (benchmarks.inboxes, same drifts); week k's file holds the part of it found by then (90 % in
week 1 growing to all of it in week 20) with about 1 % of the rows changed since the week before (a want to be
vaccinated, a request's status, a phone). Each week's file has a new name and its week's Thursday as its time.

Layout: <root>/season/54/config.yaml, <root>/season/54/weeks/<NN>/<district folder>/<file>.xlsx and
<root>/season/manifest.json (regenerated when this file, inboxes.py or schema.yaml change).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from benchmarks import inboxes

PROVINCE = "54"
WEEKS = 20
ROWS_A_WEEK = 50_000
FIRST_FRIDAY = dt.date(2021, 12, 24)
CHANGED_SHARE = 0.01
CHANGED_FIELDS = {"unvaccinated": ("wants_vaccine", "reason"), "help_requests": ("status",),
                  "volunteers": ("volunteer_type",), "facilities": ("status",)}


def friday(week: int) -> dt.date:
    """The reporting Friday of week 1..WEEKS."""
    return FIRST_FRIDAY + dt.timedelta(days=7 * (week - 1))


def source_hash() -> str:
    digest = hashlib.sha256(inboxes.source_hash().encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class DistrictSeason:
    root: str
    district: str
    ordinal: int
    count: int
    rows: int          # the district's whole list (week 20)
    seed: int


def _found_share(week: int) -> float:
    return 0.9 + 0.1 * (week - 1) / (WEEKS - 1)


def _columns(task: DistrictSeason, week: int) -> dict[str, dict[str, list]]:
    """The district's list as of a week: the same people every week (a growing prefix), a few values changed."""
    rng = np.random.default_rng(task.seed)
    box = inboxes.BOXES[PROVINCE]
    makers = {"volunteers": inboxes.volunteers, "unvaccinated": inboxes.unvaccinated,
              "help_requests": inboxes.help_requests}
    forms = {}
    for dataset, share in inboxes.SHARES.items():
        n = max(3, int(round(task.rows * share)))
        if dataset == "facilities":
            columns = inboxes.facilities(rng, PROVINCE, task.district, task.ordinal, task.count, n, box)
        else:
            columns = makers[dataset](rng, PROVINCE, task.district, task.ordinal, task.count, n)
        inboxes.spoil(rng, dataset, columns, n)
        forms[dataset] = columns
    for earlier in range(2, week + 1):   # changes accumulate: week k carries every change made by then
        change = np.random.default_rng([task.seed, earlier])
        for dataset, fields in CHANGED_FIELDS.items():
            columns = forms[dataset]
            n = len(columns[fields[0]])
            for key in fields:
                rows = np.flatnonzero(change.random(n) < CHANGED_SHARE / len(fields))
                donors = change.integers(0, n, len(rows))
                values = columns[key]
                for row, donor in zip(rows.tolist(), donors.tolist()):
                    values[row] = values[donor]
    found = _found_share(week)
    return {dataset: {key: values[:max(3, int(len(values) * found))] for key, values in columns.items()}
            for dataset, columns in forms.items()}


def write_district_week(task: DistrictSeason, week: int) -> dict:
    """Write one district's file of one week; returns its counts."""
    name = inboxes.districts()[PROVINCE][task.district]
    folder = (task.district, name, f"{task.district} {name}")[task.ordinal % 3]
    sheets = []
    for number, (dataset, columns) in enumerate(_columns(task, week).items()):
        layout = np.random.default_rng([task.seed, 0, number])   # the clerk lays each sheet out the same way
        title = inboxes.schema()["datasets"][dataset]["title"]
        sheets.append(inboxes.build_sheet(layout, dataset, title, columns, PROVINCE, task.district))
    directory = Path(task.root) / f"{week:02d}" / folder
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"แบบรายงาน Jitasa_{name}_สัปดาห์ที่ {week}.xlsx"
    inboxes.write_xlsx(path, sheets)
    sent = dt.datetime.combine(friday(week) - dt.timedelta(days=1), dt.time(9, 0), tzinfo=inboxes.TIMEZONE) \
        + dt.timedelta(minutes=37 * task.ordinal)
    os.utime(path, (sent.timestamp(), sent.timestamp()))
    return {"files": 1, "rows": sum(sheet.data_rows for sheet in sheets), "bytes": path.stat().st_size}


def _write(item: tuple[DistrictSeason, int]) -> dict:
    return write_district_week(*item)


def config() -> dict:
    """The province's config (first report on week 1's Friday)."""
    settings = inboxes.province_config(PROVINCE)
    settings["weeks"]["first_report"] = FIRST_FRIDAY.isoformat()
    settings["watch"] = {"interval_seconds": 5}
    return settings


def tasks(root: Path) -> list[DistrictSeason]:
    codes = list(inboxes.districts()[PROVINCE])
    rng = np.random.default_rng(20220506)
    weights = rng.uniform(0.7, 1.3, len(codes))
    # The whole list is ~5 % above a week's average (week 1 holds 90 % of it).
    rows = (weights / weights.sum() * ROWS_A_WEEK / 0.95 / 1.015).astype(int).tolist()
    return [DistrictSeason(str(root / "weeks"), code, ordinal, len(codes), rows[ordinal], int(rng.integers(2**32)))
            for ordinal, code in enumerate(codes)]


def generate(root: Path, workers: int = 2, progress=print) -> dict:
    """Write every week's files and the manifest (replacing an old season)."""
    shutil.rmtree(root, ignore_errors=True)
    (root / "weeks").mkdir(parents=True)
    (root / "config.yaml").write_text(yaml.safe_dump(config(), allow_unicode=True, sort_keys=False), encoding="utf-8")
    work = [(task, week) for week in range(1, WEEKS + 1) for task in tasks(root)]
    started = time.monotonic()
    weeks: dict[int, dict] = {}
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for (task, week), counts in zip(work, pool.imap(_write, work)):
            for key, value in counts.items():
                weeks.setdefault(week, {}).setdefault(key, 0)
                weeks[week][key] += value
            if task.ordinal == len(inboxes.districts()[PROVINCE]) - 1:
                progress(f"  season: week {week} written, {weeks[week]['rows']:,} rows, "
                         f"{time.monotonic() - started:.0f} s")
    manifest = {"source_hash": source_hash(), "weeks": weeks, "rows": sum(w["rows"] for w in weeks.values())}
    (root.parent / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


def ensure(root: Path, progress=print) -> dict:
    """The season's manifest, generating it first when missing or made by another generator."""
    path = root.parent / "manifest.json"
    if path.exists():
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("source_hash") == source_hash():
            return {**manifest, "weeks": {int(k): v for k, v in manifest["weeks"].items()}}
    progress(f"generating the season inbox ({WEEKS} weeks of ~{ROWS_A_WEEK:,} rows) under {root} …")
    return generate(root, progress=progress)
