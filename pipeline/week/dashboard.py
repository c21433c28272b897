"""What the week's report shows beside its figures: earlier weeks, timeliness, jump checks and the sign-off."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.core.config import Config
from pipeline.core.schema import Schema
from pipeline.week import approval, checks, history
from pipeline.week.report import WeekResult


@dataclass(frozen=True)
class Dashboard:
    """The week at a glance beyond its own figures: history, timeliness, jump checks and sign-off."""

    reports: dict[dt.date, dict]            # every week's report from the first one to this week
    timeliness: history.Timeliness | None
    checks: pd.DataFrame                    # flagged changes (checks.COLUMNS + files), most unusual first
    history_weeks: int                      # weekly changes the checks' baselines could use
    files: list[dict]                       # the input file versions the week's figures counted
    approval: approval.ApprovalStatus
    notices: tuple[str, ...] = field(default=())   # what the terminal says at the end of the run

    @staticmethod
    def of_week_only(result: WeekResult) -> "Dashboard":
        """The week alone (no store at hand): charts of this week, no history, checks or sign-off."""
        return Dashboard({result.window.week: result.report}, None, pd.DataFrame(columns=[*checks.COLUMNS, "files"]),
                         0, [], approval.ApprovalStatus(result.report["week"]))

    def summary_notices(self) -> list[tuple[str, str]]:
        """(level, sentence) lines for the top of the summary sheet and of the HTML page."""
        lines = []
        if self.approval.approved or self.files:
            lines.append(("alert" if self.approval.changed else "info", self.approval.line()))
        if len(self.checks):
            lines.append(("warn", history.wording()["checks"]["found"].format(count=len(self.checks))))
        return lines


def prepare_dashboard(result: WeekResult, past: dict[dt.date, dict], versions: pd.DataFrame, config: Config,
                      schema: Schema, outputs_dir: Path) -> Dashboard:
    """History, timeliness, jump checks and the sign-off status of the week, from the store's state.

    `past` holds the earlier weeks' reports (history.past_reports) and `versions` the stored versions
    submitted by this week's cut-off: nothing here reads the inbox.
    """
    week = result.window.week
    reports = {**past, week: result.report}
    flagged = checks.jump_checks(reports, week)
    flagged["files"] = [checks.contributing_files(result.entities, result.window, district, path[0])
                        for district, path in zip(flagged["district"], flagged["path"])]
    files = approval.input_files(versions, result.window, config)
    status = approval.compare(outputs_dir / week.isoformat(), result.report, files, config, schema)
    notices = status.terminal_lines(config, schema)
    if len(flagged):
        notices.append(history.wording()["checks"]["found"].format(count=len(flagged)))
    return Dashboard(reports, history.timeliness(versions, config, week), flagged,
                     checks.history_weeks(reports, week), files, status, tuple(notices))
