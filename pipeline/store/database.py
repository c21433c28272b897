"""The embedded store (SQLite): every file version ever read, its records and problems.

A weekly report is a function of the file versions submitted by its cut-off, so the store keeps
each version that was ever seen, even after the district overwrote or removed the file: a rerun
of a past week then reproduces its report exactly, and weeks can be run in any order.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
import zlib
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from pipeline.core import faults
from pipeline.core.issues import ISSUE_COLUMNS
from pipeline.core.schema import Schema

STORE_VERSION = "2"
VERSION_COLUMNS = ["version_id", "source_file", "district_folder", "sha256", "size", "submitted_at",
                   "kind", "problem", "detail", "fingerprint"]
SHEET_COLUMNS = ["version_id", "sheet", "sheet_order", "dataset", "header_row", "rows_read", "rejected",
                 "blank_rows", "totals_rows", "missing_fields"]
RECORD_META = ["version_id", "sheet", "sheet_order", "excel_row", "valid", "identity", "district_code",
               "subdistrict_code"]


class StoreError(Exception):
    """The store cannot be used as it is; the message is one line for the user."""


def connect(path: Path) -> sqlite3.Connection:
    """Open (and create) the store; one file under the outputs folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    return connection


def create_tables(connection: sqlite3.Connection, schema: Schema) -> None:
    """Create the tables if missing (columns come from the schema)."""
    text = lambda columns: ", ".join(f'"{c}"' for c in columns)  # noqa: E731
    connection.execute(f"CREATE TABLE IF NOT EXISTS versions ({text(VERSION_COLUMNS)}, PRIMARY KEY (version_id))")
    connection.execute(f"CREATE TABLE IF NOT EXISTS sheets ({text(SHEET_COLUMNS)})")
    _add_missing_columns(connection, "sheets", SHEET_COLUMNS)
    # Files seen gone from the inbox: a week whose cut-off is after recorded_at counts nothing of that path
    # (unless a newer version came after the removal).
    connection.execute("CREATE TABLE IF NOT EXISTS removals (source_file, recorded_at, PRIMARY KEY (source_file, recorded_at))")
    connection.execute(f"CREATE TABLE IF NOT EXISTS issues (version_id, {text(ISSUE_COLUMNS)})")
    _add_missing_columns(connection, "issues", ["version_id", *ISSUE_COLUMNS])
    connection.execute("CREATE TABLE IF NOT EXISTS meta (key PRIMARY KEY, value)")
    found = connection.execute("SELECT value FROM meta WHERE key = 'store_version'").fetchone()
    if found is None:
        connection.execute("INSERT INTO meta VALUES ('store_version', ?)", (STORE_VERSION,))
    elif found[0] != STORE_VERSION:
        raise StoreError(f"the history store was written by another version of the pipeline "
                         f"(store {found[0]}, expected {STORE_VERSION}); move it aside to start a new history")
    # Records are stored as one JSON document per file version and form: columns of plain values
    # (dates as ISO text), written and read in C instead of cell by cell.
    connection.execute("CREATE TABLE IF NOT EXISTS record_sets (version_id, dataset, payload, "
                       "PRIMARY KEY (version_id, dataset))")
    connection.execute("CREATE INDEX IF NOT EXISTS sheets_version ON sheets (version_id)")
    connection.execute("CREATE INDEX IF NOT EXISTS issues_version ON issues (version_id)")
    # Earlier weeks' reports, recomputed from the versions submitted by each cut-off (pipeline/history.py);
    # state_key hashes those versions and the code, so a stale entry is never used.
    connection.execute("CREATE TABLE IF NOT EXISTS week_reports (week PRIMARY KEY, state_key, payload)")


def _add_missing_columns(connection: sqlite3.Connection, table: str, columns: list[str]) -> None:
    """Columns added since a store was created (their values in old rows are NULL)."""
    present = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
    for column in columns:
        if column not in present:
            connection.execute(f'ALTER TABLE {table} ADD COLUMN "{column}"')


def record_removals(connection: sqlite3.Connection, present: set[str], seen_at_utc: str) -> list[str]:
    """Record, at seen_at, every stored inbox file that is no longer in the inbox; returns their paths.

    A path counts as removed once per disappearance: it is recorded again only if a newer version came
    after its last recorded removal. Google Sheets snapshots are not inbox files.
    """
    rows = connection.execute(
        "SELECT v.source_file, MAX(v.submitted_at), (SELECT MAX(r.recorded_at) FROM removals r "
        "WHERE r.source_file = v.source_file) FROM versions v WHERE v.kind IS NOT 'gsheet' "
        "AND v.submitted_at <= ? GROUP BY v.source_file", (seen_at_utc,)).fetchall()
    gone = [path for path, newest, removed in rows
            if path not in present and (removed is None or removed < newest)]
    connection.executemany("INSERT OR IGNORE INTO removals VALUES (?, ?)", [(path, seen_at_utc) for path in gone])
    return gone


def generation(connection: sqlite3.Connection) -> list:
    """Counts that change whenever a run stores what a week is made from (file versions, removals, answers)."""
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return [list(connection.execute(f"SELECT count(*), max(rowid) FROM {table}").fetchone())
            for table in ("versions", "removals", "link_decisions") if table in tables]


def known_versions(connection: sqlite3.Connection) -> dict[str, str]:
    """version_id -> fingerprint of every version already stored."""
    return dict(connection.execute("SELECT version_id, fingerprint FROM versions").fetchall())


def _plain(value):
    """JSON for values json cannot write itself: dates as ISO text, numpy scalars as Python ones."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__}")


def _plain_values(values: pd.Series) -> list:
    """A column as a list of plain values: None for missing, dates as ISO text (once per distinct date)."""
    array = values.to_numpy(dtype=object)
    missing = values.isna().to_numpy()  # on the column's own dtype: no scan for int and bool columns
    if missing.any():
        array = array.copy()
        array[missing] = None
    if infer_dtype(array, skipna=True) in ("date", "datetime"):
        codes, distinct = pd.factorize(array, use_na_sentinel=True)
        iso = np.empty(len(distinct) + 1, dtype=object)
        iso[:-1] = [_plain(value) if isinstance(value, (dt.date, dt.datetime)) else value for value in distinct]
        array = iso[codes]
    return array.tolist()


def records_payload(records: pd.DataFrame, columns: list[str]) -> bytes:
    """A record set as compressed JSON: {column: [values…] or {"values": [...], "codes": [...]}}, missing as null."""
    data = {column: _encoded(_plain_values(records[column])) if column in records else [None] * len(records)
            for column in columns}
    # Compressed: the store keeps every version ever read, week after week, and a commit writes it twice
    # (journal, then file); JSON of Thai text shrinks about sevenfold at the fastest level.
    return zlib.compress(json.dumps(data, ensure_ascii=False, default=_plain, allow_nan=False).encode(), 1)


def _encoded(values: list) -> list | dict:
    """A text column whose values repeat as its distinct values and a code per row (-1: missing); others as they are.

    Read back, each distinct text is one object shared by its rows: a season of weekly full lists (a million
    rows of the same places, choices and names) takes half the memory, and is decoded faster.
    """
    if len(values) < 64:
        return values
    codes, distinct = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    if len(distinct) * 2 > len(values) or infer_dtype(distinct, skipna=False) != "string":
        return values   # mostly distinct (IDs, phones), or not all text (1 and 1.0 would be taken as one)
    return {"values": distinct.tolist(), "codes": codes.tolist()}


def _column(encoded: list | dict) -> np.ndarray:
    """A stored column as an object array (None for missing)."""
    if isinstance(encoded, dict):
        distinct = np.empty(len(encoded["values"]) + 1, dtype=object)
        distinct[:-1] = encoded["values"]
        distinct[-1] = None   # code -1
        return distinct[np.asarray(encoded["codes"], dtype=np.int64)]
    array = np.empty(len(encoded), dtype=object)
    array[:] = encoded
    return array


def _decoded(payload: str | bytes) -> dict:
    """A stored record set's columns (stores written before compression hold the JSON text itself)."""
    return json.loads(payload if isinstance(payload, str) else zlib.decompress(payload))


def records_frame(payload: str | bytes) -> pd.DataFrame:
    """A record set read back (object columns, None for missing)."""
    return _frame(_decoded(payload))


def _frame(columns: dict[str, list | dict]) -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(_column(values), dtype=object) for column, values in columns.items()})


def _records_of(payloads: list[tuple[str, str]], columns: list[str]) -> pd.DataFrame:
    """Record sets of many versions as one frame (object columns, version_id last), as concatenating
    records_frame(payload).assign(version_id=…) would give, without a frame per version."""
    if not payloads:
        return pd.DataFrame(columns=columns, dtype=object)
    decoded = [(version_id, _decoded(payload)) for version_id, payload in payloads]
    keys = list(decoded[0][1])
    if any(list(data) != keys for _, data in decoded):  # sets stored under other forms: let pandas align them
        return pd.concat([_frame(data).assign(version_id=version_id)
                          for version_id, data in decoded], ignore_index=True)
    if not keys:
        return pd.DataFrame({"version_id": pd.Series([], dtype=str)})
    first = [_column(data[keys[0]]) for _, data in decoded]
    counts = [len(part) for part in first]
    merged = {keys[0]: np.concatenate(first),
              **{key: np.concatenate([_column(data[key]) for _, data in decoded]) for key in keys[1:]}}
    frame = pd.DataFrame({key: pd.Series(values, dtype=object) for key, values in merged.items()})
    version_ids = np.repeat(np.array([version_id for version_id, _ in decoded], dtype=object), counts)
    return frame.assign(version_id=pd.Series(version_ids, index=frame.index, dtype=str))


def _sql_rows(frame: pd.DataFrame):
    """Rows of plain values for executemany (NA -> None, numbers as Python numbers)."""
    columns = []
    for name in frame.columns:
        array = frame[name].to_numpy(dtype=object)
        missing = pd.isna(array)
        if missing.any():
            array = array.copy()
            array[missing] = None
        columns.append(array.tolist())
    return zip(*columns)


@contextmanager
def version_writer(connection: sqlite3.Connection, schema: Schema) -> Iterator[Callable]:
    """One transaction for newly read versions, saved one by one as they come in: committed at the end, all
    or nothing (a version stored while others are still being read costs no time after the reading)."""
    with closing(connection.cursor()) as cursor:
        cursor.execute("BEGIN IMMEDIATE")
        try:
            def save(item) -> None:
                faults.checkpoint("store_version")
                _replace_version(cursor, item, schema)
            yield save
            faults.checkpoint("commit")
            cursor.execute("COMMIT")
        except BaseException:
            try:
                cursor.execute("ROLLBACK")
            except sqlite3.Error:   # SQLite may have rolled back itself (a full disk): keep the real cause
                pass
            raise


def _replace_version(cursor: sqlite3.Cursor, item, schema: Schema) -> None:
    version_id = item.version["version_id"]
    for table in ["versions", "sheets", "issues", "record_sets"]:
        cursor.execute(f"DELETE FROM {table} WHERE version_id = ?", (version_id,))
    cursor.execute(f"INSERT INTO versions VALUES ({', '.join('?' * len(VERSION_COLUMNS))})",
                   [item.version[c] for c in VERSION_COLUMNS])
    _insert(cursor, "sheets", item.sheets.reindex(columns=SHEET_COLUMNS))
    _insert(cursor, "issues", item.issues.assign(version_id=version_id).reindex(columns=["version_id", *ISSUE_COLUMNS]))
    for dataset, records in item.records.items():
        cursor.execute("INSERT INTO record_sets VALUES (?, ?, ?)",
                       (version_id, dataset, _stored(records, dataset, schema)))


def _stored(records, dataset: str, schema: Schema) -> str | bytes:
    """A record set as the store keeps it (already so when packed by pack, or read from a store of before)."""
    if isinstance(records, (str, bytes)):
        return records
    return records_payload(records, [*RECORD_META[1:], *schema.datasets[dataset].keys])


def pack(item, schema: Schema):
    """The same ingested version with its record sets already as the compressed JSON the store keeps.

    Meant for the parsing child (both cores): the parent then unpickles bytes instead of record
    frames and does not serialise them again in version_writer, which accepts packed and unpacked items.
    """
    return dataclasses.replace(item, records={dataset: _stored(records, dataset, schema)
                                              for dataset, records in item.records.items()})


def _insert(cursor: sqlite3.Cursor, table: str, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    rows = _sql_rows(frame)
    cursor.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * frame.shape[1])})", rows)


def load_until(connection: sqlite3.Connection, schema: Schema, cutoff_utc: str) -> dict[str, pd.DataFrame]:
    """Everything from versions submitted by the cut-off: versions, sheets, issues, records per dataset.

    Rows come in version order (then as each version stored them), whatever order the versions were saved in.
    """
    query = lambda table: pd.read_sql_query(  # noqa: E731
        f"SELECT t.* FROM {table} t JOIN versions v USING (version_id) WHERE v.submitted_at <= ? "
        "ORDER BY t.version_id, t.rowid", connection, params=(cutoff_utc,), dtype=object)
    versions = pd.read_sql_query("SELECT * FROM versions WHERE submitted_at <= ? ORDER BY version_id",
                                 connection, params=(cutoff_utc,), dtype=object)
    sheets = query("sheets")
    state = {
        "versions": versions.assign(usable=usable_versions(versions, sheets)),
        "sheets": sheets,
        "issues": query("issues"),
        # Removals are applied by the week computed from the state, by their own time (like the office's answers).
        "removals": pd.read_sql_query("SELECT * FROM removals ORDER BY recorded_at, source_file", connection,
                                      dtype=object),
    }
    payloads = connection.execute(
        "SELECT r.version_id, r.dataset, r.payload FROM record_sets r JOIN versions v USING (version_id) "
        "WHERE v.submitted_at <= ? ORDER BY r.version_id", (cutoff_utc,)).fetchall()
    for key, dataset in schema.datasets.items():
        state[key] = _records_of([(version_id, payload) for version_id, name, payload in payloads if name == key],
                                 [*RECORD_META, *dataset.keys])
    return state


def usable_versions(versions: pd.DataFrame, sheets: pd.DataFrame) -> pd.Series:
    """Per version: read without a file problem and holding at least one sheet of a form."""
    readable = versions["problem"].isna() | versions["problem"].eq("")
    return (readable & versions["version_id"].isin(sheets["version_id"])).astype(bool)


def cached_week_report(connection: sqlite3.Connection, week: str, state_key: str) -> str | None:
    """The stored report.json text of an earlier week computed from exactly this state, if any."""
    found = connection.execute("SELECT payload FROM week_reports WHERE week = ? AND state_key = ?",
                               (week, state_key)).fetchone()
    return found[0] if found else None


def save_week_report(connection: sqlite3.Connection, week: str, state_key: str, payload: str) -> None:
    """Keep an earlier week's report text (one per week: a newer state replaces the old one)."""
    connection.execute("INSERT OR REPLACE INTO week_reports VALUES (?, ?, ?)", (week, state_key, payload))
