"""A province run of two weeks, shared by the tests that read its charts and its page."""
from __future__ import annotations

import json

import pytest

from pipeline.run import run_weekly
from tests.conftest import PROJECT
from tests.scenarios.test_two_weeks import WEEK1, WEEK2, build


@pytest.fixture(scope="session")
def two_week_run(tmp_path_factory):
    """(project root of the run, report.json of each week) after weeks one and two of the same inbox."""
    root = tmp_path_factory.mktemp("two_week_run")
    build(root / "inbox", "new_only")
    for week in (WEEK1, WEEK2):
        run_weekly(PROJECT / "config.yaml", root / "inbox", root / "out", week, progress=lambda message: None)
    reports = {week: json.loads((root / "out" / week / "report.json").read_text(encoding="utf-8"))
               for week in (WEEK1, WEEK2)}
    return root, reports
