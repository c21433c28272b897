"""Which file versions a week counts: each file is its newest version, and a removed file counts nothing.

A district fixes a file by saving it again under the same name, or withdraws one by deleting it: the
week counts, for each path, the newest version submitted by its cut-off, and nothing of a path whose
removal was seen after that version and by the cut-off. Separate files still add up. Every version stays
in the store, so an earlier week is still computed from what counted at its own cut-off.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd


def removals_until(removals: pd.DataFrame | None, cutoff: dt.datetime) -> pd.DataFrame:
    """Per path, the last removal seen by the cut-off (source_file, removed_at as aware timestamps)."""
    if removals is None or removals.empty:
        return pd.DataFrame({"source_file": pd.Series(dtype=object),
                             "removed_at": pd.Series(dtype="datetime64[ns, UTC]")})
    seen = pd.to_datetime(removals["recorded_at"], utc=True, format="ISO8601")
    known = removals.assign(removed_at=seen)[seen <= cutoff]
    return known.groupby("source_file", as_index=False)["removed_at"].max()


def counted_versions(versions: pd.DataFrame, removals: pd.DataFrame | None, cutoff: dt.datetime) -> pd.Series:
    """Per version (aligned with `versions`, submitted_at aware): True when the week counts it."""
    if versions.empty:
        return pd.Series(dtype=bool, index=versions.index)
    inside = versions["submitted_at"] <= cutoff
    ordered = versions[inside].sort_values(["submitted_at", "version_id"], kind="stable")
    newest = ordered.drop_duplicates("source_file", keep="last")
    gone = removals_until(removals, cutoff)
    if len(gone):
        removed_at = newest["source_file"].map(gone.set_index("source_file")["removed_at"])
        newest = newest[~(removed_at > newest["submitted_at"]).fillna(False).astype(bool)]
    return versions["version_id"].isin(newest["version_id"])


def live_versions(versions: pd.DataFrame, removals: pd.DataFrame | None, cutoff: dt.datetime,
                  closes) -> pd.Series:
    """Per version: False when it was replaced or withdrawn before its own week closed (it never counted in
    any week's report, so its rows are neither accepted nor repeated by later ones); `closes(moment)` is the
    cut-off of the week a submission time belongs to."""
    if versions.empty:
        return pd.Series(dtype=bool, index=versions.index)
    inside = versions[versions["submitted_at"] <= cutoff].sort_values(["submitted_at", "version_id"], kind="stable")
    own_close = inside["submitted_at"].map(lambda moment: min(closes(moment), cutoff))
    later = inside.groupby("source_file")["submitted_at"].shift(-1)   # the path's next version, if any
    replaced = later.notna() & (later <= own_close)
    gone = removals_until(removals, cutoff)
    if len(gone):
        removed_at = inside["source_file"].map(gone.set_index("source_file")["removed_at"])
        withdrawn = (removed_at > inside["submitted_at"]) & (removed_at <= own_close)
        replaced = replaced | withdrawn.fillna(False).astype(bool)
    dead = set(inside.loc[replaced.to_numpy(dtype=bool), "version_id"])
    return ~versions["version_id"].isin(dead)
