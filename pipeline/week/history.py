"""The weeks before this one, from the store: every earlier week's figures and each district's timeliness.

Both are functions of the file versions submitted by the reported week's cut-off (the state the week
is computed from), so rerunning weeks in any order gives the same history. An earlier week's report is
recomputed from the versions submitted by *its* cut-off with the same code as a weekly run (build_week),
so it equals that week's own report.json; the store keeps each one keyed by a hash of those versions and
of the code, and recomputes only when that key changes.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from functools import cache

import pandas as pd

from pipeline.core import weeks
from pipeline.core.config import Config
from pipeline.core.digest import files_digest, source_files
from pipeline.core.schema import Schema
from pipeline.core.wording import wording as load_wording
from pipeline.thai.dates import MONTHS, THAI_DIGITS
from pipeline.week import figures
from pipeline.week.report import BLOCKS, prepared_versions
from pipeline.week.submission import status_of

STATUSES = ("on_time", "late", "unusable", "missing")


@cache
def wording() -> dict:
    """The Thai wording of charts, timeliness, checks, sign-off and the HTML page."""
    return load_wording("dashboard")


def report_weeks(config: Config, week: dt.date) -> list[dt.date]:
    """Every reporting Friday from the first report to this week, in order."""
    count = (week - config.first_report).days // 7
    return [config.first_report + dt.timedelta(days=7 * index) for index in range(count + 1)]


def week_label(week: dt.date, digits: str = "thai") -> str:
    """A short Buddhist-era label of a week's Friday: ๒๔ ธ.ค. ๖๔."""
    text = f"{week.day} {MONTHS[week.month - 1]} {(week.year + 543) % 100:02d}"
    return text.translate(THAI_DIGITS) if digits == "thai" else text


def state_until(state: dict[str, pd.DataFrame], cutoff_utc: str) -> dict[str, pd.DataFrame]:
    """The part of a store state submitted by an earlier cut-off (what store.load_until would return).

    Tables of file versions are cut at the cut-off; other tables (the office's answers on possible
    duplicates) pass through whole: build_week applies them by their own time.
    """
    versions = state["versions"][state["versions"]["submitted_at"] <= cutoff_utc]
    kept = set(versions["version_id"])
    part = {}
    for name, frame in state.items():
        if name == "versions":
            part[name] = versions.reset_index(drop=True)
        elif isinstance(frame, pd.DataFrame) and "version_id" in frame.columns:
            part[name] = frame[frame["version_id"].isin(kept)].reset_index(drop=True)
        else:
            part[name] = frame
    return part


@cache
def code_digest() -> str:
    """Hash of the package's code and forms: an earlier week is recomputed after any change to them."""
    return files_digest(source_files())   # every stage package, recursively


def state_key(state: dict[str, pd.DataFrame], config: Config, cutoff_utc: str) -> str:
    """Hash of what a week is computed from: its versions (and how they were read), the other tables of
    the state as they stood at the cut-off (rows with a `recorded_at` after it do not count), the code
    and the configuration."""
    digest = hashlib.sha256(code_digest().encode())
    digest.update(config.figure_settings.encode())
    versions = state["versions"]
    for version_id, fingerprint in sorted(zip(versions["version_id"], versions["fingerprint"].fillna(""))):
        digest.update(f"{version_id}:{fingerprint}\n".encode())
    for name, frame in sorted(state.items()):
        if not isinstance(frame, pd.DataFrame) or "version_id" in frame.columns or name == "versions":
            continue
        if "recorded_at" in frame.columns:
            moments = pd.to_datetime(frame["recorded_at"], utc=True, format="ISO8601")
            frame = frame[moments <= pd.Timestamp(cutoff_utc)]
        if frame.empty:             # no answers yet: the same as no table
            continue
        rows = sorted(json.dumps([str(v) for v in row]) for row in frame.itertuples(index=False))
        digest.update(f"{name}:{len(rows)}\n".encode() + "\n".join(rows).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Timeliness:
    """On time, late, unusable or missing per district and week, from the first report to this week."""

    weeks: list[dt.date]
    statuses: pd.DataFrame        # index: district code; columns: weeks; values: on_time | late | unusable | missing
    names: dict[str, str]

    def counts(self) -> pd.DataFrame:
        """Per district: weeks on time, late, unusable and missing."""
        return pd.DataFrame({status: (self.statuses == status).sum(axis=1) for status in STATUSES})

    def district_rates(self) -> pd.DataFrame:
        """Per district: share of weeks on time, and share of weeks sent at all (on time or late)."""
        counts = self.counts()
        total = max(len(self.weeks), 1)
        return pd.DataFrame({"on_time": counts["on_time"] / total,
                             "sent": (counts["on_time"] + counts["late"]) / total})   # unusable is not sent

    def week_rates(self) -> pd.DataFrame:
        """Per week: share of districts on time, and share that sent at all."""
        total = max(len(self.statuses), 1)
        return pd.DataFrame({"on_time": (self.statuses == "on_time").sum(axis=0) / total,
                             "sent": self.statuses.isin(["on_time", "late"]).sum(axis=0) / total})

    def week_counts(self) -> pd.DataFrame:
        """Per week: districts on time, late, unusable and missing."""
        return pd.DataFrame({status: (self.statuses == status).sum(axis=0) for status in STATUSES})


def timeliness(versions: pd.DataFrame, config: Config, week: dt.date) -> Timeliness:
    """Each district's status in every week up to this one, from the stored versions (not the files).

    The rule is the submission sheet's: on time if the district's first usable file version of the week
    came by the district deadline, late if later but by the cut-off, unusable if every file it sent that
    week was unusable, missing if none came. Only versions submitted by this week's cut-off are used, so
    the matrix is the same whenever the week is run.
    """
    frame = prepared_versions(versions)
    frame = frame[frame["submitted_at"] <= weeks.cutoff_of(week, config)]
    usable = frame["usable"] if "usable" in frame else pd.Series(True, index=frame.index)
    every_week = report_weeks(config, week)
    if len(frame):  # weeks before anyone submitted anything say nothing about any district
        first_week = weeks.week_of(frame["submitted_at"].min().to_pydatetime(), config)
        every_week = [friday for friday in every_week if friday >= first_week] or every_week[-1:]
    columns = {}
    for friday in every_week:
        window = figures.window_of(friday, config)
        inside = window.contains(frame["submitted_at"])
        sent = set(frame.loc[inside, "district_folder"])
        first = frame[inside & usable.astype(bool)].groupby("district_folder")["submitted_at"].min()
        columns[friday] = [status_of(code in sent, first.get(code), window.deadline) for code in config.districts]
    statuses = pd.DataFrame(columns, index=list(config.districts))
    return Timeliness(every_week, statuses, dict(config.districts))


def flat_figures(report: dict, submission: bool = True) -> dict[tuple[str, tuple[str, ...]], object]:
    """Every figure of a report: (district code or 'totals', path inside its block) -> value."""
    flat = {}

    def walk(scope: str, path: tuple[str, ...], value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(scope, (*path, key), inner)
        elif not isinstance(value, bool) and (isinstance(value, (int, float, str)) or value is None):
            flat[(scope, path)] = value

    blocks = [*BLOCKS, "submission"] if submission else BLOCKS
    for code, district in [*report["districts"].items(), ("totals", report["totals"])]:
        for block in blocks:
            if block in district:
                walk(code, (block,), district[block])
    return flat


def is_incomplete(listed: list[str], path: tuple[str, ...]) -> bool:
    """Whether a figure, by its path in a district or totals block (e.g. ('unvaccinated', 'this_week', 'thai')),
    is listed in that block's `incomplete`: itself or the map holding it (`unvaccinated.by_reason`)."""
    if not listed:
        return False
    figure = tuple(part for index, part in enumerate(path) if not (index == 1 and part == "this_week"))
    # Closed-list values may hold dots (อสม.): a listed path has at most three parts.
    return any(figure[:len(entry)] == entry for entry in (tuple(item.split(".", 2)) for item in listed))


def incomplete_list(block: dict) -> list[str]:
    """A district's or the totals' incomplete figure paths; none in reports made before they were listed."""
    listed = block.get("incomplete", [])
    return listed if isinstance(listed, list) else []


def scope_name(report: dict, scope: str, schema: Schema) -> str:
    """A district's Thai name, or the province total's label."""
    if scope == "totals":
        return schema.label("province_total")
    return report["districts"].get(scope, {}).get("name", scope)


def figure_label(path: tuple[str, ...]) -> str:
    """A figure's Thai label from its report.json path, e.g. ผู้ยังไม่ได้รับวัคซีน · สาเหตุ กลัวผลข้างเคียง."""
    words = wording()["figures"]
    block, rest = path[0], list(path[1:])
    parts = [words.get(block, block)]
    this_week = bool(rest) and rest[0] == "this_week"
    if this_week:
        rest = rest[1:]
    if len(rest) == 2 and rest[0].startswith("by_"):
        parts.append(rest[1])
    else:
        parts.extend(words["keys"].get(key, key) for key in rest)
    text = " · ".join(parts)
    return f"{text} {words['this_week']}" if this_week else text
