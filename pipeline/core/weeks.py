"""Reporting weeks: each is named by its Friday and covers (previous Friday 16:00, this Friday 16:00]."""
from __future__ import annotations

import datetime as dt

from pipeline.core import messages
from pipeline.core.config import Config
from pipeline.core.errors import ConfigError


def cutoff_of(week: dt.date, config: Config) -> dt.datetime:
    """The week's cut-off: its Friday at the configured time, in the province's timezone."""
    return dt.datetime.combine(week, config.cutoff_time, tzinfo=config.timezone)


def deadline_of(week: dt.date, config: Config) -> dt.datetime:
    """The district deadline of the week: its Friday at the configured time."""
    return dt.datetime.combine(week, config.district_deadline, tzinfo=config.timezone)


def opening_of(week: dt.date, config: Config) -> dt.datetime | None:
    """The exclusive start of the week (the previous cut-off); None for the first week."""
    if week <= config.first_report:
        return None
    return cutoff_of(week - dt.timedelta(days=7), config)


def week_of(moment: dt.datetime, config: Config) -> dt.date:
    """The reporting week a submission time belongs to (cut-off included in its week)."""
    local = moment.astimezone(config.timezone)
    days_to_friday = (4 - local.weekday()) % 7
    friday = local.date() + dt.timedelta(days=days_to_friday)
    if days_to_friday == 0 and local.timetz().replace(tzinfo=None) > config.cutoff_time:
        friday += dt.timedelta(days=7)
    return max(friday, config.first_report)


def parse_week(text: str | None, config: Config, now: dt.datetime) -> dt.date:
    """The week to report: a given Friday (YYYY-MM-DD) or, when none is given, the current week."""
    current = week_of(now, config)
    if not text:
        return current
    try:
        week = dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(messages.text("week_not_a_date", text=text)) from None
    if week.weekday() != 4:
        friday = week + dt.timedelta(days=(4 - week.weekday()) % 7)
        raise ConfigError(messages.text("week_not_friday", text=text, weekday=messages.weekday(week),
                                        friday=friday.isoformat()))
    if week < config.first_report:
        raise ConfigError(messages.text("week_before_first", text=text, first=config.first_report.isoformat()))
    if week > current:
        raise ConfigError(messages.text("week_in_future", text=text, current=current.isoformat()))
    return week


UTC_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"


def utc_text(moment: dt.datetime) -> str:
    """A sortable UTC timestamp, the form every time takes in the store."""
    return moment.astimezone(dt.timezone.utc).strftime(UTC_FORMAT)
