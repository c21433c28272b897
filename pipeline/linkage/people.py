"""One person counts once: unvaccinated records linked into people, and the office's decisions on pairs.

The exact identity of a record (its 13-digit ID, or name + birth date + address) is replaced by the
person it was linked to (pipeline/linkage.py), so the week's first/newest/duplicate logic counts each
person once. Pairs the linker is unsure of go to a review workbook; the office's answers there are
read back on the next run and stick (they apply to weeks whose cut-off is after the answer was saved,
so past weeks still reproduce exactly).
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from pipeline.linkage.engine import LinkResult, LinkSettings, link_people

SAME, DIFFERENT = "same", "different"
DECISION_COLUMNS = ["record_key_a", "record_key_b", "decision", "recorded_at"]


def record_keys(records: pd.DataFrame) -> pd.Series:
    """A stable key per record: its file version, sheet and Excel row."""
    return (records["version_id"].astype(str).str[:16] + "|" + records["sheet"].astype(str) + "|"
            + pd.to_numeric(records["excel_row"]).astype(int).astype(str)).astype(object)


def decisions_in_force(decisions: pd.DataFrame, cutoff: dt.datetime) -> pd.DataFrame:
    """The office's latest answer per pair, among answers saved by the cut-off."""
    if decisions is None or decisions.empty:
        return pd.DataFrame(columns=DECISION_COLUMNS[:3])
    saved = pd.to_datetime(decisions["recorded_at"], utc=True, format="ISO8601")
    known = decisions[saved <= cutoff].assign(_saved=saved[saved <= cutoff])
    latest = known.sort_values("_saved", kind="stable").drop_duplicates(["record_key_a", "record_key_b"], keep="last")
    return latest[DECISION_COLUMNS[:3]].reset_index(drop=True)


def link_unvaccinated(records: pd.DataFrame, decisions: pd.DataFrame,
                      settings: LinkSettings = LinkSettings()) -> tuple[pd.DataFrame, LinkResult | None]:
    """Records (valid and not) with each valid record's identity replaced by its person; and the links."""
    valid_mask = records["valid"].astype(str).isin(["1", "True", "true"])
    valid = records[valid_mask]
    if valid.empty:
        return records, None
    keys = record_keys(valid)   # once: building the key text is a fair part of linking
    people = valid.assign(record_key=keys).drop_duplicates("record_key")
    result = link_people(people.reset_index(drop=True), decisions, settings)
    person_of = dict(zip(people["record_key"], result.cluster.to_numpy()))
    linked = records.copy()
    linked.loc[valid_mask, "identity"] = ("person:" + keys.map(person_of)).to_numpy()
    linked.loc[valid_mask, "record_key"] = keys.to_numpy()
    return linked, result


def review_pairs(result: LinkResult | None, records: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """Grey-zone pairs for the office, with where each record came from and any earlier answer."""
    if result is None or result.review.empty:
        return pd.DataFrame()
    where = records.drop_duplicates("record_key").set_index("record_key")[["source_file", "sheet", "excel_row"]]
    review = result.review.copy()
    for side in ("a", "b"):
        located = where.reindex(review[f"record_key_{side}"])
        for column in ("source_file", "sheet", "excel_row"):
            review[f"{column}_{side}"] = located[column].to_numpy()
    answered = decisions.set_index(["record_key_a", "record_key_b"])["decision"] if len(decisions) else pd.Series()
    review["decision"] = [answered.get((a, b), "") for a, b in zip(review["record_key_a"], review["record_key_b"])]
    return review
