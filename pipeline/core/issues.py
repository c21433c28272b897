"""The one issues table: every problem found, where it is, and what it means in Thai."""
from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.core.schema import Schema
from pipeline.core.wording import problems

ISSUE_COLUMNS = [
    "source_file", "district_folder", "sheet", "dataset", "excel_row", "column_letter",
    "column", "field", "value", "code", "severity", "message", "rows",
]
# The rows of one (file, sheet, column, problem) kept one by one; the rest become one row that names them
# ("rows": their Excel row ranges). A file of a million rows with one warning each stays a small table.
ROWS_KEPT_PER_PROBLEM = 1000
# Placeholders a message template may use, besides the location columns.
DETAIL_COLUMNS = ["expected", "detail", "reference", "folder"]


def registered(code: str) -> str:
    """The problem code itself, once it is known to the wording (an unknown code is our bug, not the data's)."""
    if code not in problems():
        raise ValueError(f"problem code {code!r} has no severity and message in core/wording")
    return code


def problem(code: str, source_file: str, district_folder: str | None, sheet: str = "", excel_row=None,
            **fields) -> dict:
    """One problem about a file, a sheet, a header or a row, before describe() words it (a cell's: cell_problems)."""
    return {"source_file": source_file, "district_folder": district_folder or "", "sheet": sheet,
            "excel_row": excel_row, "code": registered(code), **fields}


def empty_issues() -> pd.DataFrame:
    """An issues table with no rows."""
    return pd.DataFrame({column: pd.Series(dtype=object) for column in ISSUE_COLUMNS})


def cell_problems(excel_rows, field, codes, expected=None, detail=None) -> pd.DataFrame:
    """A long frame of problems (excel_row, field, code, expected, detail); field, expected, detail: one or per row."""
    codes = list(codes)
    for code in set(codes):
        registered(code)
    # One constructor call: adding columns one by one costs a block consolidation each.
    return pd.DataFrame({"excel_row": list(excel_rows), "code": codes, "field": _column(field, ""),
                         "expected": _column(expected, ""), "detail": _column(detail, "")})


def _column(values, default: str):
    """A scalar text as is (broadcast to every row), a sequence as a list, None as the default."""
    if values is None:
        return default
    return values if isinstance(values, str) else list(values)


def describe(problems: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Fill severity and the Thai message of each problem from the wording (returns a new frame)."""
    if problems.empty:
        return problems.assign(severity=pd.Series(dtype=object), message=pd.Series(dtype=object))
    frame = problems.copy()
    for column in ["column", "value", *DETAIL_COLUMNS]:
        if column not in frame:
            frame[column] = ""
    wording = schema.wording["problems"]
    frame["severity"] = frame["code"].map(lambda code: wording[code]["severity"])
    # Columns as lists: iterating a text-dtype Series boxes its elements one by one in Python.
    frame["message"] = [
        wording[code]["message"].format(header=header or "", value=value, expected=expected, detail=detail,
                                        reference=reference, folder=folder)
        for code, header, value, expected, detail, reference, folder in zip(*(column.tolist() for column in (
            frame["code"], frame["field_header"].fillna(frame["column"]) if "field_header" in frame else frame["column"],
            frame["value"], frame["expected"].fillna(""),
            frame["detail"].fillna(""), frame["reference"].fillna(""), frame["folder"].fillna(""))))
    ]
    return frame


def finish(problems: pd.DataFrame) -> pd.DataFrame:
    """Keep the issues-table columns, in order, sorted by place."""
    # version_id (when known) tells two versions of one file apart, e.g. an overwrite within the week.
    frame = problems.reindex(columns=ISSUE_COLUMNS + (["version_id"] if "version_id" in problems else []))
    frame["excel_row"] = pd.to_numeric(frame["excel_row"], errors="coerce").astype("Int64")
    # A row standing for many sorts where its first row would.
    ranges = frame["rows"].astype(object).fillna("").astype(str)
    first_of_ranges = pd.to_numeric(ranges.str.extract(r"^(\d+)")[0], errors="coerce")
    order = frame["excel_row"].astype("Float64").fillna(first_of_ranges)
    return frame.assign(_order=order).sort_values(["source_file", "sheet", "_order", "column_letter"],
                                                  na_position="first", kind="stable") \
        .drop(columns="_order").reset_index(drop=True)


def row_ranges(numbers) -> str:
    """Excel row numbers as ranges: 5-9,12,20-21 (sorted, each number once)."""
    values = np.unique(np.asarray(numbers, dtype=np.int64))
    if not len(values):
        return ""
    breaks = np.flatnonzero(np.diff(values) != 1)
    starts = np.concatenate([values[:1], values[breaks + 1]])
    ends = np.concatenate([values[breaks], values[-1:]])
    return ",".join(str(start) if start == end else f"{start}-{end}" for start, end in zip(starts, ends))


def _spans(ranges: str) -> list[tuple[int, int]]:
    """A ranges text (row_ranges) as (first, last) pairs."""
    return [(int(first), int(last or first))
            for first, _, last in (part.partition("-") for part in filter(None, str(ranges).split(",")))]


def rows_of(ranges: str) -> list[int]:
    """The Excel row numbers a ranges text (row_ranges) stands for."""
    return [number for first, last in _spans(ranges) for number in range(first, last + 1)]


def row_count(issues: pd.DataFrame) -> pd.Series:
    """How many sheet rows each issue row stands for (1, or the size of its ranges)."""
    counts = np.ones(len(issues), dtype=np.int64)
    if "rows" in issues:
        ranges = issues["rows"].astype(object).fillna("").astype(str).to_numpy()
        for position in np.flatnonzero(ranges != ""):   # one per grouped problem: a handful
            counts[position] = sum(last - first + 1 for first, last in _spans(ranges[position]))
    return pd.Series(counts, index=issues.index)


def capped(problems: pd.DataFrame, schema: Schema, limit: int = ROWS_KEPT_PER_PROBLEM) -> pd.DataFrame:
    """Problems with each (file, sheet, column, code) cut to its first `limit` rows plus one row naming the rest.

    The summary row keeps the place and the problem (code, severity, column) and its Excel row ranges in
    `rows`; its message says how many more rows have the same problem and which.
    """
    if len(problems) <= limit:
        return problems
    keys = [problems[column].fillna("").astype(str) for column in ("source_file", "sheet", "column_letter", "code")]
    located = problems["excel_row"].notna()
    rank = problems.groupby(keys, sort=False).cumcount()
    over = located & (rank >= limit)
    if not over.any():
        return problems
    rest = problems[over]
    group = rest.groupby([key[over] for key in keys], sort=False)
    summary = group.head(1).copy()
    summary["rows"] = group["excel_row"].transform(lambda numbers: row_ranges(numbers)).loc[summary.index]
    count = group["excel_row"].transform("size").loc[summary.index]
    template = schema.wording["labels"]["more_rows"]
    summary["message"] = [template.format(message=message, count=int(number), rows=ranges)
                          for message, number, ranges in zip(summary["message"], count, summary["rows"])]
    summary["excel_row"] = None
    summary["value"] = ""
    return pd.concat([problems[~over], summary], ignore_index=True)


def expanded(issues: pd.DataFrame) -> pd.DataFrame:
    """One row per sheet row: a row standing for many (`rows`) becomes one per Excel row, with the message of
    the first row kept of the same problem in that column (what its cells would have said one by one)."""
    ranges = issues["rows"].astype(object).fillna("") if "rows" in issues else None
    if ranges is None or not (ranges != "").any():
        return issues
    grouped = ranges != ""
    single = issues[~grouped]
    keys = ["source_file", "sheet", "column_letter", "code"]
    first = single.drop_duplicates(keys).set_index(keys)["message"]
    parts = [single]
    for _, row in issues[grouped].iterrows():   # a handful of groups, each expanded with one repeat
        numbers = rows_of(row["rows"])
        message = first.get(tuple(row[key] for key in keys), row["message"])
        parts.append(pd.DataFrame({**{column: [row[column]] * len(numbers) for column in issues.columns},
                                   "excel_row": numbers, "message": [message] * len(numbers), "rows": ""}))
    return pd.concat(parts, ignore_index=True)


def by_district_and_kind(issues: pd.DataFrame, districts: dict[str, str], kinds: dict[str, str],
                         severities: dict[str, str]) -> pd.DataFrame:
    """Problems counted per district (a row for every district) and kind (errors first, most frequent first)."""
    named = issues.assign(district=issues["district_folder"].map(districts).fillna("(ไม่ระบุอำเภอ)"),
                          kind=issues["code"].map(lambda code: kinds.get(code, code)))
    counts = named.assign(count=row_count(named)).groupby(["district", "severity", "kind"])["count"].sum()
    columns = (counts.groupby(level=["severity", "kind"]).sum().reset_index(name="n")
               .assign(first=lambda f: f["severity"] != "error").sort_values(["first", "n"], ascending=[True, False]))
    order = list(districts.values()) + sorted(set(named["district"]) - set(districts.values()))
    table = pd.DataFrame({"อำเภอ": order})
    for severity, kind in zip(columns["severity"], columns["kind"]):
        per_district = counts.xs((severity, kind), level=["severity", "kind"])
        table[f"{kind} ({severities.get(severity, severity)})"] = table["อำเภอ"].map(per_district).fillna(0).astype(int)
    table.insert(1, "รวม", table.iloc[:, 1:].sum(axis=1).astype(int))
    return table
