"""Earlier weeks' reports, computed from the versions submitted by each week's cut-off and kept in the store.

A cached report is keyed by a hash of those versions and of the code (week.history.state_key): a rerun
recomputes a week only when its inputs or the pipeline changed.
"""
from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from pipeline.core import weeks
from pipeline.core.config import Config
from pipeline.core.schema import Schema
from pipeline.core.weeks import utc_text
from pipeline.store import database as store
from pipeline.week.history import report_weeks, state_key, state_until
from pipeline.week.report import build_week


def past_reports(connection, state: dict[str, pd.DataFrame], config: Config, schema: Schema,
                 week: dt.date) -> dict[dt.date, dict]:
    """Every earlier week's report, computed from the versions submitted by that week's cut-off (cached)."""
    reports = {}
    submitted = state["versions"]["submitted_at"]
    first_data = submitted.min() if len(submitted) else None
    # The key needs the versions and the tables of answers and removals, not the records: cutting a season's
    # records at every earlier cut-off would cost seconds on each run.
    light = {name: frame for name, frame in state.items()
             if name == "versions" or not (isinstance(frame, pd.DataFrame) and "version_id" in frame.columns)}
    for earlier in report_weeks(config, week)[:-1]:
        cutoff = utc_text(weeks.cutoff_of(earlier, config))
        if first_data is None or cutoff < first_data:
            continue  # nothing was submitted yet: an all-zero week is neither worth computing nor charting
        key = state_key(state_until(light, cutoff), config, cutoff)
        payload = store.cached_week_report(connection, earlier.isoformat(), key)
        if payload is None:
            report = build_week(state_until(state, cutoff), [], config, schema, earlier).report
            payload = json.dumps(report, ensure_ascii=False)
            store.save_week_report(connection, earlier.isoformat(), key, payload)
        reports[earlier] = json.loads(payload)
    return reports
