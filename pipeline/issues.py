"""The one issues table: every problem found, where it is, and what it means in Thai."""
from __future__ import annotations

import pandas as pd

from pipeline.schema import Schema

ISSUE_COLUMNS = [
    "source_file", "district_folder", "sheet", "dataset", "excel_row", "column_letter",
    "column", "field", "value", "code", "severity", "message",
]
# Placeholders a message template may use, besides the location columns.
DETAIL_COLUMNS = ["expected", "detail", "reference", "folder"]


def empty_issues() -> pd.DataFrame:
    """An issues table with no rows."""
    return pd.DataFrame({column: pd.Series(dtype=object) for column in ISSUE_COLUMNS})


def cell_problems(excel_rows, field, codes, expected=None, detail=None) -> pd.DataFrame:
    """A long frame of problems (excel_row, field, code, expected, detail); field, expected, detail: one or per row."""
    # One constructor call: adding columns one by one costs a block consolidation each.
    return pd.DataFrame({"excel_row": list(excel_rows), "code": list(codes), "field": _column(field, ""),
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
    return frame.sort_values(["source_file", "sheet", "excel_row", "column_letter"],
                             na_position="first", kind="stable").reset_index(drop=True)


def by_district_and_kind(issues: pd.DataFrame, districts: dict[str, str], kinds: dict[str, str],
                         severities: dict[str, str]) -> pd.DataFrame:
    """Problems counted per district (a row for every district) and kind (errors first, most frequent first)."""
    named = issues.assign(district=issues["district_folder"].map(districts).fillna("(ไม่ระบุอำเภอ)"),
                          kind=issues["code"].map(lambda code: kinds.get(code, code)))
    counts = named.groupby(["district", "severity", "kind"]).size()
    columns = (counts.groupby(level=["severity", "kind"]).sum().reset_index(name="n")
               .assign(first=lambda f: f["severity"] != "error").sort_values(["first", "n"], ascending=[True, False]))
    order = list(districts.values()) + sorted(set(named["district"]) - set(districts.values()))
    table = pd.DataFrame({"อำเภอ": order})
    for severity, kind in zip(columns["severity"], columns["kind"]):
        per_district = counts.xs((severity, kind), level=["severity", "kind"])
        table[f"{kind} ({severities.get(severity, severity)})"] = table["อำเภอ"].map(per_district).fillna(0).astype(int)
    table.insert(1, "รวม", table.iloc[:, 1:].sum(axis=1).astype(int))
    return table
