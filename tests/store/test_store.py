"""The store: record sets kept compressed, older text payloads still read, rows read back in one order."""
from __future__ import annotations

import json
import shutil
import sqlite3
import zlib
from contextlib import closing

import pandas as pd
import pytest

from pipeline.run import run_weekly
from pipeline.store import database as store
from tests.conftest import PROJECT

WEEK = "2021-12-24"
TABLES = ["versions", "sheets", "issues", "record_sets"]


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    """The store of a run of the bundled sample inbox."""
    out = tmp_path_factory.mktemp("store") / "out"
    run_weekly(PROJECT / "config.yaml", PROJECT / "inputs", out, WEEK, progress=lambda message: None)
    return out / "store.sqlite"


def state_of(path, schema) -> dict[str, pd.DataFrame]:
    with closing(store.connect(path)) as connection:
        return store.load_until(connection, schema, "9999")


def rewritten(source, target, order: str = "ASC", as_text: bool = False) -> None:
    """A copy of the store with the versions saved in `order` of their ids, each version's rows as they were
    (payloads as text, if asked)."""
    shutil.copy(source, target)
    with closing(sqlite3.connect(target, isolation_level=None)) as connection:
        connection.execute("BEGIN")
        for table in TABLES:
            connection.execute(f"CREATE TEMP TABLE kept AS SELECT * FROM {table} ORDER BY version_id {order}, rowid")
            connection.execute(f"DELETE FROM {table}")
            connection.execute(f"INSERT INTO {table} SELECT * FROM kept")
            connection.execute("DROP TABLE kept")
        if as_text:
            rows = connection.execute("SELECT rowid, payload FROM record_sets").fetchall()
            connection.executemany("UPDATE record_sets SET payload = ? WHERE rowid = ?",
                                   [(zlib.decompress(payload).decode(), rowid) for rowid, payload in rows])
        connection.execute("COMMIT")


def test_record_sets_are_kept_compressed_and_decode_to_the_records(sample_store, schema):
    with closing(sqlite3.connect(sample_store)) as connection:
        rows = connection.execute("SELECT version_id, dataset, payload FROM record_sets").fetchall()
    assert rows and all(isinstance(payload, bytes) for _, _, payload in rows)
    state = state_of(sample_store, schema)
    for version_id, dataset, payload in rows:
        text = zlib.decompress(payload)
        assert len(payload) * 3 < len(text)   # JSON of Thai text shrinks several times over
        columns = json.loads(text)
        mine = state[dataset][state[dataset]["version_id"] == version_id]
        assert list(mine["excel_row"]) == columns["excel_row"]


def test_a_store_written_before_compression_reads_the_same(sample_store, schema, tmp_path):
    rewritten(sample_store, tmp_path / "text.sqlite", as_text=True)
    with closing(sqlite3.connect(tmp_path / "text.sqlite")) as connection:
        assert connection.execute("SELECT typeof(payload) FROM record_sets").fetchone()[0] == "text"
    expected, found = state_of(sample_store, schema), state_of(tmp_path / "text.sqlite", schema)
    assert expected.keys() == found.keys()
    for key in expected:
        pd.testing.assert_frame_equal(expected[key], found[key])


def test_rows_read_back_in_the_same_order_whatever_order_versions_were_saved_in(sample_store, schema, tmp_path):
    # Versions are saved as their files finish parsing, which differs from run to run.
    rewritten(sample_store, tmp_path / "reversed.sqlite", order="DESC")
    expected, found = state_of(sample_store, schema), state_of(tmp_path / "reversed.sqlite", schema)
    assert len(expected["versions"]) > 1 and len(expected["issues"]) > 1
    for key in expected:
        pd.testing.assert_frame_equal(expected[key], found[key])
