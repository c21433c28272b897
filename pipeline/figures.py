"""The week's figures: entities counted once, in the district of their newest record."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from pipeline import weeks
from pipeline.config import Config
from pipeline.schema import Schema

ORDER = ["submitted_at", "source_file", "sheet_order", "excel_row"]
DONE = "ดำเนินการแล้ว"


@dataclass(frozen=True)
class Window:
    """The week being reported: its name, opening (exclusive), district deadline and cut-off."""

    week: dt.date
    opening: dt.datetime | None
    deadline: dt.datetime
    cutoff: dt.datetime

    def contains(self, moments: pd.Series) -> pd.Series:
        """True for submission times inside (opening, cut-off]."""
        inside = moments <= self.cutoff
        return inside & (moments > self.opening) if self.opening is not None else inside


def window_of(week: dt.date, config: Config) -> Window:
    """The reporting window of a week."""
    return Window(week, weeks.opening_of(week, config), weeks.deadline_of(week, config), weeks.cutoff_of(week, config))


def with_versions(records: pd.DataFrame, versions: pd.DataFrame) -> pd.DataFrame:
    """Records joined with their file's submission time and path, in submission order."""
    info = versions[["version_id", "source_file", "submitted_at", "district_folder"]]
    frame = records.merge(info, on="version_id", how="inner", validate="many_to_one")
    frame["sheet_order"] = pd.to_numeric(frame["sheet_order"])
    frame["excel_row"] = pd.to_numeric(frame["excel_row"])
    return frame.sort_values(ORDER, kind="stable").reset_index(drop=True)


def occurrences(records: pd.DataFrame) -> pd.DataFrame:
    """Valid records in submission order, each marked first or duplicate, with the record it repeats."""
    valid = records[records["valid"].astype(str).isin(["1", "True", "true"])].copy()
    valid["is_first"] = ~valid.duplicated("identity", keep="first")
    columns = ["source_file", "sheet", "excel_row", "submitted_at"]
    first = valid.loc[valid["is_first"], ["identity", *columns]].rename(columns={c: f"first_{c}" for c in columns})
    return valid.merge(first, on="identity", how="left", validate="many_to_one")


def entities(valid: pd.DataFrame, newest_by: str | None) -> pd.DataFrame:
    """One row per entity: its newest record's values, plus when it was first submitted."""
    if valid.empty:
        return valid.assign(first_submitted=pd.Series(dtype=object))
    ordered = valid
    if newest_by:
        ordered = valid.assign(_newest=valid[newest_by].fillna("")).sort_values(
            ["_newest", *ORDER], kind="stable").drop(columns="_newest")
    newest = ordered.drop_duplicates("identity", keep="last").set_index("identity")
    newest["first_submitted"] = valid.groupby("identity")["submitted_at"].min()
    return newest.reset_index()


def _counts(values: pd.Series, closed: tuple[str, ...]) -> dict[str, int]:
    counted = values.value_counts()
    return {value: int(counted.get(value, 0)) for value in closed}


def _block(dataset: str, group: pd.DataFrame, window: Window, schema: Schema, config: Config) -> dict:
    new = group[window.contains(group["first_submitted"])] if len(group) else group
    if dataset == "volunteers":
        return {"new": len(new), "total": len(group),
                "by_type": _counts(group["volunteer_type"], schema.choice_values("volunteer_types"))}
    if dataset == "unvaccinated":
        thai = group["nationality"] == "ไทย"
        return {"new": len(new), "total": len(group), "thai": int(thai.sum()), "non_thai": int((~thai).sum()),
                "wants_vaccine": int((group["wants_vaccine"] == "ประสงค์").sum()),
                "by_reason": _counts(group["reason"], schema.choice_values("reasons"))}
    if dataset == "facilities":
        updated = pd.to_datetime(group["updated_on"], errors="coerce")
        submitted = pd.to_datetime(group["submitted_at"], utc=True).dt.tz_convert(config.timezone) \
            .dt.normalize().dt.tz_localize(None)
        age = pd.Timestamp(window.cutoff.date()) - updated.fillna(submitted)
        return {"new": len(new), "total": len(group), "stale": int((age.dt.days > config.stale_days).sum()),
                "by_type": _counts(group["facility_type"], schema.choice_values("facility_types")),
                "by_status": _counts(group["status"], schema.choice_values("facility_statuses"))}
    return {"new": len(new), "total": len(group), "open": int((group["status"] != DONE).sum()),
            "by_type": _counts(group["request_type"], schema.choice_values("request_types")),
            "by_status": _counts(group["status"], schema.choice_values("request_statuses"))}


def dataset_blocks(entity_table: pd.DataFrame, dataset: str, window: Window, schema: Schema,
                   config: Config) -> dict[str, dict]:
    """District code -> figures block of one dataset (every district present)."""
    groups = dict(tuple(entity_table.groupby("district_code"))) if len(entity_table) else {}
    empty = entity_table.iloc[0:0]
    blocks = {}
    for code in config.districts:
        group = groups.get(code, empty)
        block = _block(dataset, group, window, schema, config)
        new = group[window.contains(group["first_submitted"])] if len(group) else group
        block["this_week"] = {k: v for k, v in _block(dataset, new, window, schema, config).items() if k != "new"}
        blocks[code] = block
    return blocks


def add_blocks(blocks: list[dict]) -> dict:
    """Key-wise sum of figure blocks (nested maps summed too)."""
    total: dict = {}
    for block in blocks:
        for key, value in block.items():
            if isinstance(value, dict):
                total[key] = add_blocks([total.get(key, {}), value])
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                total[key] = total.get(key, 0) + value
    return total
