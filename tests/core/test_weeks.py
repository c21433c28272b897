"""Reporting weeks: named by Friday, (previous Friday 16:00, Friday 16:00]."""
import datetime as dt

import pytest

from pipeline.core import weeks
from pipeline.core.errors import ConfigError
from tests.conftest import bangkok


@pytest.mark.parametrize("moment, expected", [
    (bangkok(2021, 12, 24, 16, 0), dt.date(2021, 12, 24)),    # the cut-off itself is in the week
    (bangkok(2021, 12, 24, 16, 1), dt.date(2021, 12, 31)),    # one minute later: next week
    (bangkok(2021, 12, 24, 11, 59), dt.date(2021, 12, 24)),
    (bangkok(2021, 12, 25, 9, 0), dt.date(2021, 12, 31)),     # Saturday
    (bangkok(2021, 12, 30, 23, 0), dt.date(2021, 12, 31)),    # Thursday
    (bangkok(2021, 12, 2, 9, 0), dt.date(2021, 12, 24)),      # before the first report: first week
    (dt.datetime(2021, 12, 24, 9, 30, tzinfo=dt.timezone.utc), dt.date(2021, 12, 31)),  # 16:30 Bangkok
])
def test_week_of(config, moment, expected):
    assert weeks.week_of(moment, config) == expected


def test_cutoff_and_opening(config):
    week = dt.date(2021, 12, 31)
    assert weeks.cutoff_of(week, config).isoformat() == "2021-12-31T16:00:00+07:00"
    assert weeks.opening_of(week, config).isoformat() == "2021-12-24T16:00:00+07:00"
    assert weeks.opening_of(dt.date(2021, 12, 24), config) is None
    assert weeks.deadline_of(week, config).isoformat() == "2021-12-31T12:00:00+07:00"


def test_parse_week_rejects_non_fridays_and_early_weeks(config):
    now = bangkok(2022, 1, 5, 10)
    assert weeks.parse_week(None, config, now) == dt.date(2022, 1, 7)
    assert weeks.parse_week("2021-12-31", config, now) == dt.date(2021, 12, 31)
    with pytest.raises(ConfigError, match="วันเสาร์.*2021-12-31"):
        weeks.parse_week("2021-12-25", config, now)
    with pytest.raises(ConfigError, match="ก่อนการรายงานครั้งแรก"):
        weeks.parse_week("2021-12-17", config, now)
    with pytest.raises(ConfigError, match="2021-12-24"):
        weeks.parse_week("24/12/2021", config, now)
