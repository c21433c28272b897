"""One person counts once: unvaccinated records linked into people, and the office's decisions on pairs.

The exact identity of a record (its 13-digit ID, or name + birth date + address) is replaced by the
person it was linked to (pipeline/linkage.py), so the week's first/newest/duplicate logic counts each
person once. Pairs the linker is unsure of go to a review workbook; the office's answers there are
read back on the next run and stick (they apply to weeks whose cut-off is after the answer was saved,
so past weeks still reproduce exactly).
"""
from __future__ import annotations

import datetime as dt

import numpy as np
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


# Every field the linker reads (linkage/features.py): records equal in all of them are scored alike.
LINKED_FIELDS = ("person_id", "id_kind", "title", "first_name", "last_name", "sex", "birth_date", "age",
                 "surveyed_on", "moo", "district_code", "subdistrict_code", "house_no", "phone")


def copy_of(people: pd.DataFrame) -> np.ndarray:
    """Per record, the position of the record it is a copy of: the record with the smallest key among those
    equal in every field the linker reads (itself when it is the first).

    Copies are the same row sent again — a list resent as a new file week after week — and have the same
    exact identity, so they are one person. They are linked once, through the first: a season of resent lists
    then links into the very people of one list (the name frequencies and blocks are those of the distinct
    records), and costs one pass over the distinct records, not over every week's copy.
    """
    group = np.zeros(len(people), dtype=np.int64)
    for field in LINKED_FIELDS:
        if field in people:
            codes = pd.factorize(people[field].to_numpy(dtype=object), use_na_sentinel=True)[0]
            group = pd.factorize(group * (int(codes.max(initial=-1)) + 2) + (codes + 1))[0]
    order = np.lexsort((people["record_key"].to_numpy(dtype=str), group))
    starts = np.r_[True, group[order][1:] != group[order][:-1]]
    first_in_group = np.empty(int(group.max(initial=-1)) + 1, dtype=np.int64)
    first_in_group[group[order][starts]] = order[starts]
    return first_in_group[group]


def _decisions_on_firsts(decisions: pd.DataFrame, keys: np.ndarray, first: np.ndarray) -> pd.DataFrame:
    """The office's answers with each record named by the record it is a copy of."""
    copies = first != np.arange(len(keys))
    if decisions is None or decisions.empty or not copies.any():
        return decisions
    renamed = dict(zip(keys[copies], keys[first[copies]]))
    a, b = (decisions[side].map(lambda key: renamed.get(key, key)) for side in ("record_key_a", "record_key_b"))
    # Answers naming two copies of one pair are answers on one pair: the latest stands (they come oldest first).
    named = decisions.assign(record_key_a=np.where(a <= b, a, b), record_key_b=np.where(a <= b, b, a))
    return named.drop_duplicates(["record_key_a", "record_key_b"], keep="last").reset_index(drop=True)


def link_unvaccinated(records: pd.DataFrame, decisions: pd.DataFrame,
                      settings: LinkSettings = LinkSettings()) -> tuple[pd.DataFrame, LinkResult | None]:
    """Records (valid and not) with each valid record's identity replaced by its person; and the links."""
    valid_mask = records["valid"].astype(str).isin(["1", "True", "true"])
    valid = records[valid_mask]
    if valid.empty:
        return records, None
    keys = record_keys(valid)   # once: building the key text is a fair part of linking
    people = valid.assign(record_key=keys).drop_duplicates("record_key")
    first = copy_of(people)
    distinct = first == np.arange(len(people))
    people_keys = people["record_key"].to_numpy(dtype=object)
    result = link_people(people[distinct].reset_index(drop=True),
                         _decisions_on_firsts(decisions, people_keys, first), settings)
    cluster_of_first = dict(zip(people_keys[distinct], result.cluster.to_numpy()))
    person_of = dict(zip(people_keys, (cluster_of_first[key] for key in people_keys[first])))
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
