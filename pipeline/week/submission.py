"""Who sent what this week: per file and sheet, every row accounted for; per district, on time or not."""
from __future__ import annotations

import pandas as pd

from pipeline.core.config import Config
from pipeline.week.figures import Window

COUNT_COLUMNS = ["rows_read", "accepted", "updated", "rejected", "duplicates", "skipped"]
STATUSES = ("on_time", "late", "unusable", "missing")


def week_versions(versions: pd.DataFrame, window: Window) -> pd.DataFrame:
    """File versions submitted inside the week."""
    return versions[window.contains(versions["submitted_at"])]


def sheet_accounting(versions: pd.DataFrame, sheets: pd.DataFrame, occurrences: pd.DataFrame) -> pd.DataFrame:
    """Per file version and sheet: read = accepted + updated + rejected + duplicates + skipped."""
    info = versions[["version_id", "source_file", "district_folder", "submitted_at", "problem",
                     *(["usable"] if "usable" in versions else [])]]
    table = info.merge(sheets, on="version_id", how="left")
    table["sheet"] = table["sheet"].fillna("")
    for column in ["rows_read", "rejected", "blank_rows", "totals_rows", "sheet_order"]:
        table[column] = pd.to_numeric(table[column]).fillna(0).astype(int)
    mine = occurrences[occurrences["version_id"].isin(info["version_id"])]
    valid = mine.groupby(["version_id", "sheet"]).size()
    updates = mine["is_update"] if "is_update" in mine else pd.Series(False, index=mine.index)
    repeated = mine[~mine["is_first"] & ~updates].groupby(["version_id", "sheet"]).size()
    changed = mine[updates].groupby(["version_id", "sheet"]).size()
    keys = pd.MultiIndex.from_frame(table[["version_id", "sheet"]])
    table["duplicates"] = repeated.reindex(keys).fillna(0).astype(int).to_numpy()
    table["updated"] = changed.reindex(keys).fillna(0).astype(int).to_numpy()
    table["accepted"] = valid.reindex(keys).fillna(0).astype(int).to_numpy() - table["duplicates"] - table["updated"]
    table["skipped"] = table["blank_rows"] + table["totals_rows"]
    return table.sort_values(["district_folder", "submitted_at", "source_file", "sheet_order"], kind="stable") \
        .reset_index(drop=True)


def status_of(sent: bool, first_usable, deadline) -> str:
    """A district's week: judged by the first file the province could use (none usable is not a submission)."""
    if first_usable is None:
        return "unusable" if sent else "missing"
    return "on_time" if first_usable <= deadline else "late"


def district_submissions(accounting: pd.DataFrame, arrivals: pd.DataFrame, window: Window,
                         config: Config) -> dict[str, dict]:
    """District code -> submission block (status, files, last submitted, row counts).

    `arrivals` are every version of the week, a file replaced since included: timeliness is judged by the
    first usable arrival, while files and rows are those of the versions the week keeps (accounting).
    """
    blocks = {}
    for code in config.districts:
        mine = accounting[accounting["district_folder"] == code]
        sent = arrivals[arrivals["district_folder"] == code]
        if sent.empty:
            blocks[code] = {"status": "missing", "files": 0, "last_submitted": None,
                            **{column: 0 for column in COUNT_COLUMNS}}
            continue
        usable = sent[sent["usable"].astype(bool)] if "usable" in sent else sent
        first, last = sent["submitted_at"].min(), sent["submitted_at"].max()
        blocks[code] = {
            "status": status_of(True, usable["submitted_at"].min() if len(usable) else None, window.deadline),
            "files": int(mine["source_file"].nunique()),
            "first_submitted": first.tz_convert(config.timezone).isoformat(),
            "last_submitted": last.tz_convert(config.timezone).isoformat(),
            **{column: int(mine[column].sum()) for column in COUNT_COLUMNS},
        }
    return blocks


def submission_totals(blocks: dict[str, dict]) -> dict:
    """Districts counted by status, and every row count summed."""
    statuses = [block["status"] for block in blocks.values()]
    return {**{status: statuses.count(status) for status in STATUSES}, "districts": len(statuses),
            "files": sum(block["files"] for block in blocks.values()),
            **{column: sum(block[column] for block in blocks.values()) for column in COUNT_COLUMNS}}
