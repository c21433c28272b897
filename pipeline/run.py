"""The weekly run, wired in order: inbox -> read -> ingest -> store -> week -> outputs."""
from __future__ import annotations

import datetime as dt
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

from pipeline import inbox, outputs, readers, store, weeks
from pipeline.inbox import utc_text
from pipeline.config import Config, load_config
from pipeline.ingest import ingest
from pipeline.report import WeekResult, build_week
from pipeline.schema import PACKAGE_DIR, load_schema

def fingerprint(config: Config) -> str:
    """What a stored reading depends on besides the file: forms, wording, code and province settings."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.glob("*.py")) + sorted(PACKAGE_DIR.glob("*.yaml")):
        digest.update(path.read_bytes())
    digest.update(repr((config.province_code, sorted(config.districts), config.bounds,
                        config.recording_start)).encode())
    return digest.hexdigest()[:16]


def read_limits(config: Config) -> readers.ReadLimits:
    """Parser limits from config.yaml."""
    limits = config.limits
    return readers.ReadLimits(
        max_file_bytes=int(limits.get("max_file_megabytes", 50) * 1024**2),
        max_cells=int(limits.get("max_cells", 20_000_000)),
        max_rows_per_sheet=int(limits.get("max_rows_per_sheet", 1_100_000)),
        memory_bytes=int(limits.get("parser_memory_megabytes", 4096) * 1024**2),
        seconds=float(limits.get("parser_seconds", 120)),
    )


@dataclass(frozen=True)
class RunResult:
    """Where the week's outputs went, and the week itself."""

    week_dir: Path
    result: WeekResult


def _read_and_ingest(todo: list, config: Config, schema, stamp: str, progress) -> list:
    """Parse and ingest new file versions in worker processes (both cores), with progress on long runs."""
    workers = int(config.limits.get("workers", 2))
    step = max(workers * 4, len(todo) // 20)

    def process(index: int, outcome):
        return ingest(chunk[index], outcome, schema, config, stamp)

    ingested = []
    for start in range(0, len(todo), step):
        chunk = todo[start:start + step]
        pairs = readers.read_and_process([f.path for f in chunk], process, read_limits(config), workers)
        for file, (outcome, product) in zip(chunk, pairs):
            # A child that died never processed its file: its failed outcome is ingested here.
            ingested.append(product if product is not None else ingest(file, outcome, schema, config, stamp))
        if len(todo) > step:
            progress(f"  อ่านแล้ว {len(ingested)}/{len(todo)} ไฟล์")
    return ingested


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_weekly(config_path: Path, inputs: Path, outputs_dir: Path, week_text: str | None,
               now: dt.datetime | None = None, progress=_progress) -> RunResult:
    """Run one reporting week end to end and write its outputs."""
    config = load_config(config_path)
    schema = load_schema()
    now = now or dt.datetime.now(tz=config.timezone)
    week = weeks.parse_week(week_text, config, now)
    connection = store.connect(outputs_dir / "store.sqlite")
    try:
        store.create_tables(connection, schema)
        files, notes = inbox.discover(inputs, config, now)
        stamp = fingerprint(config)
        known = store.known_versions(connection)
        todo = [f for f in files if known.get(f.version_id) != stamp]
        progress(f"สัปดาห์ {week} · พบ {len(files)} ไฟล์ในกล่องรับ · อ่านไฟล์ใหม่ {len(todo)} ไฟล์")
        ingested = _read_and_ingest(todo, config, schema, stamp, progress)
        store.save_versions(connection, ingested, schema)
        state = store.load_until(connection, schema, utc_text(weeks.cutoff_of(week, config)))
    finally:
        connection.close()
    result = build_week(state, notes, config, schema, week)
    week_dir = outputs.write_week(result, outputs_dir, config, schema)
    return RunResult(week_dir, result)
