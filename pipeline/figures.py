"""The week's figures: entities counted once, in the district of their newest record."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from pipeline import weeks
from pipeline.config import Config
from pipeline.schema import Schema

# content_at: when the file's bytes first came. A byte-identical copy saved again later brings no newer
# information, so its rows sort with the original's and cannot undo a later update (a resolved request).
ORDER = ["content_at", "submitted_at", "source_file", "sheet_order", "excel_row"]
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
    """Records joined with their file's submission time and path, in the order their content came."""
    info = versions[["version_id", "source_file", "submitted_at", "district_folder"]].assign(
        content_at=versions.groupby("sha256")["submitted_at"].transform("min"))
    frame = records.merge(info, on="version_id", how="inner", validate="many_to_one")
    frame["sheet_order"] = pd.to_numeric(frame["sheet_order"])
    frame["excel_row"] = pd.to_numeric(frame["excel_row"])
    return frame.sort_values(ORDER, kind="stable").reset_index(drop=True)


def _is_valid(flags: pd.Series) -> np.ndarray:
    """Rows whose stored 'valid' flag is true (JSON true, or 1/'True'/'true' in older stores)."""
    values = flags.to_numpy(dtype=object)
    if infer_dtype(values, skipna=True) == "boolean":  # the store gives Python bools: compare in C
        return values == True  # noqa: E712 (object array: elementwise, None is not True)
    return flags.astype(str).isin(["1", "True", "true"]).to_numpy()


def occurrences(records: pd.DataFrame) -> pd.DataFrame:
    """Valid records in submission order, each marked first or duplicate, with the record it repeats."""
    valid = records[_is_valid(records["valid"])].reset_index(drop=True)
    # Each row's first occurrence by identity (NaN identities are one identity, as duplicated() has it).
    codes, _ = pd.factorize(valid["identity"], use_na_sentinel=False)
    _, first_rows = np.unique(codes, return_index=True)
    first_of_row = first_rows[codes] if len(codes) else np.empty(0, dtype=np.int64)
    valid["is_first"] = first_of_row == np.arange(len(valid))
    for column in ["source_file", "sheet", "excel_row", "submitted_at"]:
        valid[f"first_{column}"] = valid[column].iloc[first_of_row].set_axis(valid.index)
    return valid


def entities(valid: pd.DataFrame, newest_by: str | None) -> pd.DataFrame:
    """One row per entity: its newest record's values, plus when it was first submitted."""
    if valid.empty:
        return valid.assign(first_submitted=pd.Series(dtype=object))
    ordered = valid
    if newest_by:
        ordered = valid.assign(_newest=valid[newest_by].fillna("")).sort_values(
            ["_newest", *ORDER], kind="stable").drop(columns="_newest")
    newest = ordered.drop_duplicates("identity", keep="last").set_index("identity")
    # sort=False: the minimum is aligned by identity below; sorting 10^5 distinct identities first only costs.
    newest["first_submitted"] = valid.groupby("identity", sort=False)["submitted_at"].min()
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


# What each dataset's block counts: flags summed per district, and closed lists counted per value.
_FLAGS = {"volunteers": (), "unvaccinated": ("thai", "non_thai", "wants_vaccine"),
          "facilities": ("stale",), "help_requests": ("open",)}
_LISTS = {"volunteers": (("by_type", "volunteer_type", "volunteer_types"),),
          "unvaccinated": (("by_reason", "reason", "reasons"),),
          "facilities": (("by_type", "facility_type", "facility_types"), ("by_status", "status", "facility_statuses")),
          "help_requests": (("by_type", "request_type", "request_types"), ("by_status", "status", "request_statuses"))}


def _flags(dataset: str, table: pd.DataFrame, window: Window, config: Config) -> dict[str, np.ndarray]:
    """Per entity: the yes/no figures of _block (same tests, on the whole table at once)."""
    if dataset == "unvaccinated":
        thai = (table["nationality"] == "ไทย").to_numpy(dtype=bool)
        return {"thai": thai, "non_thai": ~thai, "wants_vaccine": (table["wants_vaccine"] == "ประสงค์").to_numpy(dtype=bool)}
    if dataset == "facilities":
        updated = pd.to_datetime(table["updated_on"], errors="coerce")
        submitted = pd.to_datetime(table["submitted_at"], utc=True).dt.tz_convert(config.timezone) \
            .dt.normalize().dt.tz_localize(None)
        age = pd.Timestamp(window.cutoff.date()) - updated.fillna(submitted)
        return {"stale": (age.dt.days > config.stale_days).to_numpy(dtype=bool)}
    if dataset == "help_requests":
        return {"open": (table["status"] != DONE).to_numpy(dtype=bool)}
    return {}


def _row_codes(dataset: str, table: pd.DataFrame, districts: list[str], window: Window, schema: Schema,
               config: Config) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per entity: its district's position (-1 outside the province), its yes/no figures, and the
    position of its value in each closed list the dataset counts (-1 when not in the list)."""
    rows = pd.Index(districts, dtype=object).get_indexer(table["district_code"].to_numpy(dtype=object))
    values = {key: pd.Index(schema.choice_values(list_name), dtype=object).get_indexer(
        table[column].to_numpy(dtype=object)) for key, column, list_name in _LISTS[dataset]}
    return rows, _flags(dataset, table, window, config), values


def _blocks_of(dataset: str, codes: tuple, districts: list[str], chosen: np.ndarray, new: np.ndarray | None,
               schema: Schema) -> dict[str, dict]:
    """District code -> _block of the chosen entities in that district (all districts, zeros where none);
    `codes` is _row_codes of the whole table, so this week's entities need no table of their own."""
    rows, flags, values = codes
    inside = (rows >= 0) & chosen
    count = lambda mask: np.bincount(rows[inside & mask], minlength=len(districts))  # noqa: E731
    totals = count(chosen)
    news = count(new) if new is not None else None
    flag_counts = {name: count(mask) for name, mask in flags.items()}
    lists = {}
    for key, _, list_name in _LISTS[dataset]:
        closed = schema.choice_values(list_name)
        value = values[key]
        known = inside & (value >= 0)  # a value outside the closed list is not counted (as value_counts().get)
        per_value = np.bincount(rows[known] * len(closed) + value[known], minlength=len(districts) * len(closed))
        per_value = per_value.reshape(len(districts), len(closed))
        lists[key] = {name: per_value[:, number] for number, name in enumerate(closed)}
    blocks = {}
    for number, code in enumerate(districts):
        block = {"new": int(news[number])} if news is not None else {}
        block["total"] = int(totals[number])
        for name in _FLAGS[dataset]:
            block[name] = int(flag_counts[name][number])
        for key, counts in lists.items():
            block[key] = {value: int(per_district[number]) for value, per_district in counts.items()}
        blocks[code] = block
    return blocks


def flag_by_value(entity_table: pd.DataFrame, dataset: str, flag: str, column: str, values: tuple[str, ...],
                  window: Window, config: Config) -> list[int]:
    """Per value of a closed list: entities in the province's districts with a yes/no figure of _flags
    (stale, open) set, as summing dataset_blocks over the districts of each value's entities would count."""
    if not len(entity_table) or column not in entity_table:
        return [0] * len(values)
    table = entity_table.reset_index(drop=True)
    districts = pd.Index(list(config.districts), dtype=object)
    inside = districts.get_indexer(table["district_code"].to_numpy(dtype=object)) >= 0
    value = pd.Index(values, dtype=object).get_indexer(table[column].to_numpy(dtype=object))
    counted = inside & (value >= 0) & _flags(dataset, table, window, config)[flag]
    return [int(count) for count in np.bincount(value[counted], minlength=len(values))]


def dataset_blocks(entity_table: pd.DataFrame, dataset: str, window: Window, schema: Schema,
                   config: Config) -> dict[str, dict]:
    """District code -> figures block of one dataset (every district present), as _block per district."""
    districts = list(config.districts)
    table = entity_table.reset_index(drop=True)
    new = window.contains(table["first_submitted"]).to_numpy(dtype=bool) if len(table) \
        else np.zeros(0, dtype=bool)
    codes = _row_codes(dataset, table, districts, window, schema, config)   # once, for both tables below
    blocks = _blocks_of(dataset, codes, districts, np.ones(len(table), dtype=bool), new, schema)
    this_week = _blocks_of(dataset, codes, districts, new, None, schema)
    for code in districts:
        blocks[code]["this_week"] = this_week[code]
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
