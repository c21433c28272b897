"""Shared fixtures: the project's config and a clock."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline.core.config import load_config
from pipeline.core.schema import load_schema

PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared"
BANGKOK = dt.timezone(dt.timedelta(hours=7))


@pytest.fixture(scope="session")
def config():
    """The project's config.yaml (Phrae)."""
    return load_config(PROJECT / "config.yaml")


@pytest.fixture(scope="session")
def schema():
    """The declared forms."""
    return load_schema()


def bangkok(year, month, day, hour=0, minute=0) -> dt.datetime:
    """An aware time in Asia/Bangkok."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=BANGKOK)
