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


def _superseded(versions: pd.DataFrame, removals: pd.DataFrame | None, cutoff: dt.datetime,
                closes_of) -> set[str]:
    """Versions submitted by the cut-off that a newer version of their path, or the path's removal, followed by
    the moment `closes_of(submitted_at)` (never past the cut-off)."""
    inside = versions[versions["submitted_at"] <= cutoff].sort_values(["submitted_at", "version_id"], kind="stable")
    closes = inside["submitted_at"].map(lambda moment: min(closes_of(moment), cutoff))
    later = inside.groupby("source_file")["submitted_at"].shift(-1)   # the path's next version, if any
    superseded = later.notna() & (later <= closes)
    gone = removals_until(removals, cutoff)
    if len(gone):
        removed_at = inside["source_file"].map(gone.set_index("source_file")["removed_at"])
        superseded |= ((removed_at > inside["submitted_at"]) & (removed_at <= closes)).fillna(False).astype(bool)
    return set(inside.loc[superseded.to_numpy(dtype=bool), "version_id"])


def counted_versions(versions: pd.DataFrame, removals: pd.DataFrame | None, cutoff: dt.datetime) -> pd.Series:
    """Per version (aligned with `versions`, submitted_at aware): True when the week counts it."""
    if versions.empty:
        return pd.Series(dtype=bool, index=versions.index)
    superseded = _superseded(versions, removals, cutoff, lambda moment: cutoff)
    return (versions["submitted_at"] <= cutoff) & ~versions["version_id"].isin(superseded)


def live_versions(versions: pd.DataFrame, removals: pd.DataFrame | None, cutoff: dt.datetime,
                  closes) -> pd.Series:
    """Per version: False when it was replaced or withdrawn before its own week closed (it never counted in
    any week's report, so its rows are neither accepted nor repeated by later ones); `closes(moment)` is the
    cut-off of the week a submission time belongs to."""
    if versions.empty:
        return pd.Series(dtype=bool, index=versions.index)
    return ~versions["version_id"].isin(_superseded(versions, removals, cutoff, closes))
