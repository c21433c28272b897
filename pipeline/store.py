"""The embedded store (SQLite): every file version ever read, its records and problems.

A weekly report is a function of the file versions submitted by its cut-off, so the store keeps
each version that was ever seen, even after the district overwrote or removed the file: a rerun
of a past week then reproduces its report exactly, and weeks can be run in any order.
"""
from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pandas as pd

from pipeline.issues import ISSUE_COLUMNS
from pipeline.schema import Schema

STORE_VERSION = "1"
VERSION_COLUMNS = ["version_id", "source_file", "district_folder", "sha256", "size", "submitted_at",
                   "kind", "problem", "detail", "fingerprint"]
SHEET_COLUMNS = ["version_id", "sheet", "sheet_order", "dataset", "header_row", "rows_read", "rejected",
                 "blank_rows", "totals_rows"]
RECORD_META = ["version_id", "sheet", "sheet_order", "excel_row", "valid", "identity", "district_code",
               "subdistrict_code"]


def _records_table(dataset: str) -> str:
    return f"records_{dataset}"


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
    connection.execute(f"CREATE TABLE IF NOT EXISTS issues (version_id, {text(ISSUE_COLUMNS)})")
    connection.execute("CREATE TABLE IF NOT EXISTS meta (key PRIMARY KEY, value)")
    for key, dataset in schema.datasets.items():
        connection.execute(f"CREATE TABLE IF NOT EXISTS {_records_table(key)} "
                           f"({text(RECORD_META)}, {text(dataset.keys)})")
        connection.execute(f"CREATE INDEX IF NOT EXISTS {_records_table(key)}_version "
                           f"ON {_records_table(key)} (version_id)")
    connection.execute("CREATE INDEX IF NOT EXISTS sheets_version ON sheets (version_id)")
    connection.execute("CREATE INDEX IF NOT EXISTS issues_version ON issues (version_id)")


def known_versions(connection: sqlite3.Connection) -> dict[str, str]:
    """version_id -> fingerprint of every version already stored."""
    return dict(connection.execute("SELECT version_id, fingerprint FROM versions").fetchall())


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Store every value as text (None stays NULL): dates ISO, whole numbers without '.0'."""
    def convert(value):
        if value is None or (isinstance(value, float) and value != value):
            return None
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, bool):
            return int(value)
        return value if isinstance(value, str) else str(value)
    return frame.astype(object).map(convert) if len(frame) else frame


def save_versions(connection: sqlite3.Connection, ingested: list, schema: Schema) -> None:
    """Write newly read file versions in one transaction (all or nothing)."""
    if not ingested:
        return
    with closing(connection.cursor()) as cursor:
        cursor.execute("BEGIN IMMEDIATE")
        try:
            for item in ingested:
                _replace_version(cursor, item, schema)
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise


def _replace_version(cursor: sqlite3.Cursor, item, schema: Schema) -> None:
    version_id = item.version["version_id"]
    for table in ["versions", "sheets", "issues", *(_records_table(k) for k in schema.datasets)]:
        cursor.execute(f"DELETE FROM {table} WHERE version_id = ?", (version_id,))
    cursor.execute(f"INSERT INTO versions VALUES ({', '.join('?' * len(VERSION_COLUMNS))})",
                   [item.version[c] for c in VERSION_COLUMNS])
    _insert(cursor, "sheets", item.sheets.reindex(columns=SHEET_COLUMNS))
    _insert(cursor, "issues", item.issues.assign(version_id=version_id).reindex(columns=["version_id", *ISSUE_COLUMNS]))
    for dataset, records in item.records.items():
        columns = [*RECORD_META, *schema.datasets[dataset].keys]
        _insert(cursor, _records_table(dataset), records.assign(version_id=version_id).reindex(columns=columns))


def _insert(cursor: sqlite3.Cursor, table: str, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    rows = _as_text(frame).itertuples(index=False, name=None)
    cursor.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * frame.shape[1])})", rows)


def load_until(connection: sqlite3.Connection, schema: Schema, cutoff_utc: str) -> dict[str, pd.DataFrame]:
    """Everything from versions submitted by the cut-off: versions, sheets, issues, records per dataset."""
    query = lambda table: pd.read_sql_query(  # noqa: E731
        f"SELECT t.* FROM {table} t JOIN versions v USING (version_id) WHERE v.submitted_at <= ?",
        connection, params=(cutoff_utc,), dtype=object)
    state = {
        "versions": pd.read_sql_query("SELECT * FROM versions WHERE submitted_at <= ?", connection,
                                      params=(cutoff_utc,), dtype=object),
        "sheets": query("sheets"),
        "issues": query("issues"),
    }
    for key in schema.datasets:
        state[key] = query(_records_table(key))
    return state
