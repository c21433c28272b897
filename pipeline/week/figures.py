"""The week's figures: entities counted once, in the district of their newest record."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from pipeline.core import weeks
from pipeline.core.config import Config
from pipeline.core.schema import Schema

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


def occurrences(records: pd.DataFrame, compared: tuple[str, ...] = ()) -> pd.DataFrame:
    """Valid records in submission order, each marked first, update or duplicate, with the record it repeats.

    A later record of an identity is an update when one of the `compared` columns differs from the newest
    earlier record of that identity sent from the same district folder (`previous_row`: its position);
    otherwise it is a duplicate (also when the identity was only ever sent from another folder).
    """
    valid = records[_is_valid(records["valid"])].reset_index(drop=True)
    # Each row's first occurrence by identity (NaN identities are one identity, as duplicated() has it).
    codes, _ = pd.factorize(valid["identity"], use_na_sentinel=False)
    _, first_rows = np.unique(codes, return_index=True)
    first_of_row = first_rows[codes] if len(codes) else np.empty(0, dtype=np.int64)
    valid["is_first"] = first_of_row == np.arange(len(valid))
    for column in ["version_id", "source_file", "sheet", "excel_row", "submitted_at", "district_folder"]:
        valid[f"first_{column}"] = valid[column].iloc[first_of_row].set_axis(valid.index)
    previous = _previous_from_folder(codes, valid["district_folder"])
    valid["previous_row"] = previous
    valid["is_update"] = _differs(valid, previous, [c for c in compared if c in valid]) & ~valid["is_first"].to_numpy()
    return valid


def _previous_from_folder(identity_codes: np.ndarray, folders: pd.Series) -> np.ndarray:
    """Per row: the position of the newest earlier row of its identity from the same folder, -1 if none."""
    if not len(identity_codes):
        return np.empty(0, dtype=np.int64)
    folder_codes, _ = pd.factorize(folders, use_na_sentinel=False)
    positions = pd.Series(np.arange(len(identity_codes)))
    return positions.groupby([identity_codes, folder_codes], sort=False).shift(1).fillna(-1).astype(np.int64).to_numpy()


def _differs(valid: pd.DataFrame, previous: np.ndarray, columns: list[str]) -> np.ndarray:
    """Per row with a previous row: whether any compared value changed to another value.

    A value left blank in the newer row is an omission, not a change (the record is not updated by it).
    """
    changed = np.zeros(len(valid), dtype=bool)
    rows = np.flatnonzero(previous >= 0)
    if not len(rows) or not columns:
        return changed
    for column in columns:
        values = valid[column].to_numpy(dtype=object)
        now, before = values[rows], values[previous[rows]]
        same = (now == before) | pd.isna(now)
        changed[rows[~same]] = True
    return changed


def changes(occurrence: pd.DataFrame, rows: pd.Index, columns: list[tuple[str, str]]) -> pd.Series:
    """Per update row: its changed fields as 'header: old → new; …' (columns: (key, header) pairs)."""
    previous = occurrence.loc[rows, "previous_row"].to_numpy()
    parts = [[] for _ in range(len(rows))]
    for key, header in columns:
        if key not in occurrence:
            continue
        values = occurrence[key].to_numpy(dtype=object)
        now, before = values[rows.to_numpy()], values[previous]
        for position in np.flatnonzero(~((now == before) | pd.isna(now))):
            parts[position].append(f"{header}: {_shown(before[position])} → {_shown(now[position])}")
    return pd.Series(["; ".join(found) for found in parts], index=rows, dtype=object)


def _shown(value) -> str:
    """A stored value as a person reads it ('-' for blank)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    text = str(value)
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and text[:4].isdigit():   # ISO date: Buddhist era
        return f"{int(text[8:])}/{int(text[5:7])}/{int(text[:4]) + 543}"
    return text


def entities(valid: pd.DataFrame, newest_by: str | None, earliest: pd.Series | None = None) -> pd.DataFrame:
    """One row per entity: its newest record's values, plus when it was first submitted.

    `earliest` (identity -> time, first_submitted of every version, counted or not) when given: a record that a
    district sends again in a replaced file is not new again.
    """
    if valid.empty:
        return valid.assign(first_submitted=pd.Series(dtype=object))
    ordered = valid
    if newest_by:
        ordered = valid.assign(_newest=valid[newest_by].fillna("")).sort_values(
            ["_newest", *ORDER], kind="stable").drop(columns="_newest")
    newest = ordered.drop_duplicates("identity", keep="last").set_index("identity")
    newest["first_submitted"] = earliest if earliest is not None else first_submitted(valid)
    return newest.reset_index()


def first_submitted(valid: pd.DataFrame) -> pd.Series:
    """identity -> the earliest submission time of any of its valid records."""
    # sort=False: aligned by identity where it is used; sorting 10^5 distinct identities first only costs.
    return valid.groupby("identity", sort=False)["submitted_at"].min()


def _counts(values: pd.Series, closed: tuple[str, ...]) -> dict[str, int]:
    counted = values.value_counts()
    return {value: int(counted.get(value, 0)) for value in closed}


# What each dataset's block counts: flags summed per district, and closed lists counted per value.
_FLAGS = {"volunteers": (), "unvaccinated": ("thai", "non_thai", "nationality_unknown", "wants_vaccine",
                                             "wants_vaccine_unknown"),
          "facilities": ("stale",), "help_requests": ("open",)}
_LISTS = {"volunteers": (("by_type", "volunteer_type", "volunteer_types"),),
          "unvaccinated": (("by_reason", "reason", "reasons"),),
          "facilities": (("by_type", "facility_type", "facility_types"), ("by_status", "status", "facility_statuses")),
          "help_requests": (("by_type", "request_type", "request_types"), ("by_status", "status", "request_statuses"))}
# Lists whose field may be left blank (not required): blanks are counted under ไม่ระบุ, never dropped.
_NOT_STATED_LISTS = {("unvaccinated", "by_reason"), ("facilities", "by_status")}


def not_stated_key(schema: Schema) -> str:
    """The by_* key counting blank values (ไม่ระบุ)."""
    return schema.label("not_stated")


def _list_values(dataset: str, key: str, list_name: str, schema: Schema) -> tuple[str, ...]:
    """The keys of a by_* map: the closed list, then ไม่ระบุ where the field may be blank."""
    closed = schema.choice_values(list_name)
    return (*closed, not_stated_key(schema)) if (dataset, key) in _NOT_STATED_LISTS else closed


def _flags(dataset: str, table: pd.DataFrame, window: Window, config: Config) -> dict[str, np.ndarray]:
    """Per entity: the yes/no figures of _block (same tests, on the whole table at once)."""
    if dataset == "unvaccinated":
        thai = (table["nationality"] == "ไทย").to_numpy(dtype=bool)
        unknown = table["nationality"].isna().to_numpy(dtype=bool)
        return {"thai": thai, "non_thai": ~thai & ~unknown, "nationality_unknown": unknown,
                "wants_vaccine": (table["wants_vaccine"] == "ประสงค์").to_numpy(dtype=bool),
                "wants_vaccine_unknown": table["wants_vaccine"].isna().to_numpy(dtype=bool)}
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
    values = {}
    for key, column, list_name in _LISTS[dataset]:
        listed = _list_values(dataset, key, list_name, schema)
        cells = table[column].to_numpy(dtype=object)
        found = pd.Index(schema.choice_values(list_name), dtype=object).get_indexer(cells)
        if len(listed) > len(schema.choice_values(list_name)):   # blanks counted under ไม่ระบุ
            found = np.where(pd.isna(cells), len(listed) - 1, found)
        values[key] = found
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
        closed = _list_values(dataset, key, list_name, schema)
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


def incomplete_paths(sheets: pd.DataFrame, versions: pd.DataFrame, schema: Schema,
                     districts: list[str]) -> dict[str, list[str]]:
    """District code -> figure paths that depend on a column some sheet its folder sent lacked.

    `sheets` are the week's counted sheets (with missing_fields, comma-joined keys), `versions` the
    versions they belong to. A missing required column rejects every row: the block's counts are incomplete too.
    """
    found: dict[str, set[str]] = {code: set() for code in districts}
    if sheets.empty or "missing_fields" not in sheets:
        return {code: [] for code in districts}
    folder_of = versions.set_index("version_id")["district_folder"]
    lacking = sheets[sheets["missing_fields"].fillna("").astype(str) != ""]
    for version_id, dataset_key, missing in zip(lacking["version_id"], lacking["dataset"], lacking["missing_fields"]):
        code = folder_of.get(version_id)
        if code not in found or dataset_key not in schema.datasets:
            continue
        dataset = schema.datasets[dataset_key]
        for key in str(missing).split(","):
            found[code].update(dataset.reported.get(key, ()))
            if key in dataset.keys and dataset.field(key).required == "yes":
                found[code].update((f"{dataset_key}.new", f"{dataset_key}.total"))
    return {code: sorted(paths) for code, paths in found.items()}
