"""Jump checks: this week's change of a district's figure, far outside that district's usual weekly change.

Weekly changes of these counts are skewed and zero-heavy (a small district adds nothing for weeks, then
a batch), so a mean and standard deviation would be pulled by the very jumps we look for, and a z-score
would flag every non-zero week of a quiet district. We use the median change as the centre and the
median absolute deviation (MAD × 1.4826, which equals the standard deviation on normal data) as the
spread: both ignore up to half the weeks being unusual. When more than half of the baseline weeks
changed by the same amount (typically 0) the MAD is 0, and any change at all would look infinitely far
out; the spread therefore never drops below a floor: a few records (FLOOR_ABS) or a share of the usual
change (FLOOR_REL), whichever is larger. A change is flagged when it is more than THRESHOLD spreads away
from the centre (Iglewicz and Hoaglin's modified z-score of 3.5). The first report week's figures (the
initial load from nothing) are not a change: changes start with the second week.
"""
from __future__ import annotations

import datetime as dt
import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.core.schema import load_schema
from pipeline.week.history import figure_label, incomplete_list, is_incomplete, wording

MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class CheckSettings:
    """How far is far: the thresholds of the jump checks."""

    threshold: float = 3.5      # modified z-score beyond which a change is flagged
    min_history: int = 3        # weekly changes needed before a district's figure is checked
    max_history: int = 12       # the most recent weekly changes forming the baseline
    floor_abs: float = 5.0      # the spread is never below this many records…
    floor_rel: float = 0.25     # …nor below this share of the usual (median) change


SETTINGS = CheckSettings()
HEADLINE = [("volunteers", "total"), ("unvaccinated", "total"), ("unvaccinated", "thai"),
            ("unvaccinated", "non_thai"), ("unvaccinated", "nationality_unknown"), ("unvaccinated", "wants_vaccine"),
            ("unvaccinated", "wants_vaccine_unknown"), ("facilities", "total"),
            ("facilities", "stale"), ("help_requests", "total"), ("help_requests", "open")]
BREAKDOWNS = [("volunteers", "by_type"), ("unvaccinated", "by_reason"), ("facilities", "by_type"),
              ("facilities", "by_status"), ("help_requests", "by_type"), ("help_requests", "by_status")]
COLUMNS = ["district", "path", "label", "previous", "current", "change", "usual", "spread", "low", "high",
           "score", "history"]


def checked_paths(report: dict) -> list[tuple[str, ...]]:
    """The cumulative figures checked: the headline ones, then every value of each breakdown."""
    totals = report["totals"]
    paths = [path for path in HEADLINE if path[1] in totals.get(path[0], {})]
    for block, breakdown in BREAKDOWNS:
        paths += [(block, breakdown, value) for value in totals.get(block, {}).get(breakdown, {})]
    return paths


def _has(report: dict, path: tuple[str, ...]) -> bool:
    """Whether a report's totals hold the figure (a report made before a key was added does not)."""
    value = report["totals"]
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return False
        value = value[key]
    return True


def _value(report: dict, district: str, path: tuple[str, ...]) -> float:
    value = report["districts"].get(district, {})
    for key in path:
        value = value.get(key, {}) if isinstance(value, dict) else {}
    return float(value) if isinstance(value, numbers.Real) and not isinstance(value, bool) else 0.0


def series_table(reports: dict[dt.date, dict], paths: list[tuple[str, ...]]) -> pd.DataFrame:
    """Weekly values: one row per (district, path), one column per week, in week order."""
    ordered = sorted(reports)
    districts = list(reports[ordered[-1]]["districts"])
    index = pd.MultiIndex.from_tuples([(d, p) for d in districts for p in paths], names=["district", "path"])
    data = {week: [_value(reports[week], d, p) for d, p in index] for week in ordered}
    return pd.DataFrame(data, index=index)


def robust_score(change: float, baseline: np.ndarray, settings: CheckSettings = SETTINGS) -> tuple[float, float, float]:
    """(score, centre, spread) of a change against earlier changes: median and floored MAD."""
    centre = float(np.median(baseline))
    mad = float(np.median(np.abs(baseline - centre)))
    spread = max(MAD_TO_SD * mad, settings.floor_abs, settings.floor_rel * abs(centre))
    return (change - centre) / spread, centre, spread


def jump_checks(reports: dict[dt.date, dict], week: dt.date, settings: CheckSettings = SETTINGS) -> pd.DataFrame:
    """The week's flagged changes per district and figure, most unusual first (empty when none).

    `reports` holds every week's report from the first one up to `week` (later weeks are ignored), so
    the result depends only on the state by this week's cut-off.
    """
    reports = {w: r for w, r in reports.items() if w <= week}
    if week not in reports or len(reports) < settings.min_history + 2:
        return pd.DataFrame(columns=COLUMNS)
    # A figure earlier reports did not have yet would look like a jump from 0: checked once every week has it.
    paths = [path for path in checked_paths(reports[week]) if all(_has(report, path) for report in reports.values())]
    table = series_table(reports, paths)
    mark = load_schema().label("incomplete_mark")
    values = table.to_numpy()
    changes = np.diff(values, axis=1)                   # week-on-week (the first week's load from nothing excluded)
    current, earlier = changes[:, -1], changes[:, :-1][:, -settings.max_history:]
    rows = []
    for index, (district, path) in enumerate(table.index):
        score, centre, spread = robust_score(current[index], earlier[index], settings)
        if abs(score) > settings.threshold:
            rows.append({
                "district": district, "path": path,
                "label": figure_label(path) + (f" {mark}" if is_incomplete(
                    incomplete_list(reports[week]["districts"].get(district, {})), path) else ""),
                "previous": int(values[index, -2]), "current": int(values[index, -1]),
                "change": int(current[index]), "usual": centre, "spread": spread,
                "low": centre - settings.threshold * spread, "high": centre + settings.threshold * spread,
                "score": score, "history": earlier.shape[1]})
    frame = pd.DataFrame(rows, columns=COLUMNS)
    if frame.empty:
        return frame
    order = frame["score"].abs().sort_values(ascending=False, kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def history_weeks(reports: dict[dt.date, dict], week: dt.date) -> int:
    """How many weekly changes a baseline of this week can use (0 before the second report)."""
    return max(len([w for w in reports if w <= week]) - 2, 0)


def files_text(files: list[tuple[str, int]], shown: int = 3) -> str:
    """The files behind a flagged change, the largest first, in one line."""
    words = wording()["checks"]
    parts = [words["rows"].format(file=name, rows=count) for name, count in files[:shown]]
    if len(files) > shown:
        parts.append(words["more_files"].format(count=len(files) - shown))
    return ", ".join(parts) or "-"


def contributing_files(entities: dict[str, pd.DataFrame], window, district: str, block: str) -> list[tuple[str, int]]:
    """Files whose records of this district and form were new or updated this week, with how many."""
    table = entities.get(block)
    if table is None or table.empty or "district_code" not in table:
        return []
    mine = table[(table["district_code"] == district) & window.contains(pd.to_datetime(table["submitted_at"], utc=True))]
    counted = mine["source_file"].value_counts()
    return sorted(((str(name), int(count)) for name, count in counted.items()), key=lambda item: (-item[1], item[0]))
