"""One file version in, its sheets, records and problems out (pure: the file was read elsewhere)."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from rapidfuzz import process as fuzzy_process

from pipeline.core.issues import capped, describe, empty_issues, finish, problem
from pipeline.core.schema import Dataset, Schema
from pipeline.core.weeks import utc_text
from pipeline.ingest import layout
from pipeline.ingest import merged
from pipeline.ingest.fields import Context, fit_share
from pipeline.ingest.validate import validate_sheet
from pipeline.sources.inbox import InboxFile
from pipeline.thai.normalize import match_key

EXCEL_KINDS = {"xlsx", "xlsm", "xls", "ods"}


@dataclass(frozen=True)
class Ingested:
    """What one file version contributes: its version row, sheet counts, records and problems."""

    version: dict
    sheets: pd.DataFrame
    records: dict[str, pd.DataFrame]
    issues: pd.DataFrame


def _file_issue(file: InboxFile, code: str, detail: str = "", **extra) -> dict:
    return problem(code, file.source_file, file.district_code, detail=detail, **extra)


def _dataset_hint(file: InboxFile, schema: Schema) -> str | None:
    """A CSV holds one dataset, often named in its file name."""
    stem = match_key(file.path.stem)
    for key, dataset in schema.datasets.items():
        if any(name and name in stem for name in dataset.sheet_keys):
            return key
    return None


def _header_hint(text: str, dataset: Dataset, suggested: str = "") -> str:
    if suggested:   # a reading refused because the column's cells do not fit the field
        return f" หมายถึง “{dataset.field(suggested).header}” หรือไม่"
    headers = [f.header for f in dataset.fields]
    best = fuzzy_process.extractOne(match_key(text), [match_key(h) for h in headers], score_cutoff=60)
    return f" หมายถึง “{headers[best[2]]}” หรือไม่" if best else ""


def _nearest_unknown(header: str, unknown: tuple) -> str:
    """' (คอลัมน์ “…” ใช่หรือไม่)' when a header the form did not recognise looks like the missing one."""
    names = [column.header for column in unknown]
    best = fuzzy_process.extractOne(match_key(header), [match_key(n) for n in names], score_cutoff=60) \
        if names else None
    return f" (คอลัมน์ “{names[best[2]]}” ใช่หรือไม่)" if best else ""


def _sheet_issues(file: InboxFile, sheet: str, table: layout.SheetTable, dataset: Dataset) -> list[dict]:
    def header_problem(code: str, **fields) -> dict:
        return problem(code, file.source_file, file.district_code, sheet, table.header_row, dataset=dataset.key,
                       **fields)

    found = [header_problem("header_unknown", column_letter=column.letter, value=column.header,
                            detail=_header_hint(column.header, dataset, column.key)) for column in table.unknown_headers]
    given = {column.key: column for column in table.columns}
    # A header read without its hints or by similarity: the district is told which field it was read as.
    found += [header_problem("header_read_as", column_letter=column.letter, value=column.header, field=column.key,
                             column=dataset.field(column.key).header)
              for column in table.columns if column.how != layout.EXACT]
    found += [header_problem("header_duplicate", column_letter=column.letter, value=column.header, field=column.key,
                             column=dataset.field(column.key).header,
                             expected=f"{given[column.key].letter} (“{given[column.key].header}”)")
              for column in table.duplicates]
    for key in table.missing_fields:
        form_field = dataset.field(key)
        nearest = _nearest_unknown(form_field.header, table.unknown_headers)
        if form_field.required == "yes":
            found.append(header_problem("header_missing", field=key, column=form_field.header, detail=nearest))
        elif form_field.required == "warn" or key in dataset.reported:
            # Said once for the sheet, not as a blank cell on every row: the figures it feeds are incomplete.
            found.append(header_problem("column_missing", field=key, column=form_field.header, detail=nearest))
    return found


def ingest(file: InboxFile, outcome, schema: Schema, config, fingerprint: str) -> Ingested:
    """Turn a read file into stored rows: nothing here touches the disk."""
    version = {"version_id": file.version_id, "source_file": file.source_file,
               "district_folder": file.district_code, "sha256": file.sha256, "size": file.size,
               "submitted_at": utc_text(file.submitted_at), "kind": outcome.kind, "problem": outcome.problem,
               "detail": outcome.detail, "fingerprint": fingerprint}
    notes: list[dict] = []
    if outcome.problem:
        text = schema.wording["file_problems"].get(outcome.problem, outcome.problem)
        notes.append(_file_issue(file, "file_unreadable", text))
    elif outcome.kind == "csv" and file.path.suffix.lower() in {".xls", ".xlsx", ".xlsm", ".ods"}:
        notes.append(_file_issue(file, "file_type_mismatch", schema.wording["file_problems"]["csv_not_excel"]))
    for warning in getattr(outcome, "warnings", ()):  # readable, but the district should know (uncalculated formulas)
        notes.append(_file_issue(file, "file_warning", schema.wording["file_problems"][warning]))
    context = Context(config, schema, file.district_code, file.submitted_at.astimezone(config.timezone).date())
    hint = _dataset_hint(file, schema) if outcome.kind == "csv" else None
    sheets, records, problems = [], {}, []
    for order, sheet in enumerate(outcome.sheets if not outcome.problem else ()):
        if sheet.hidden or layout.is_instructions_sheet(sheet.name):
            continue
        sheet = merged.filled(sheet)   # a value merged down a column belongs to every row it covers
        table = layout.build_table(sheet.name, _padded(sheet), sheet.first_row, schema, hint,
                                   fit=lambda form_field, cells: fit_share(cells, form_field, context))
        if table is None:
            if any(value not in (None, "") for row in sheet.rows[:50] for value in row):
                notes.append(problem("sheet_unrecognised", file.source_file, file.district_code, sheet.name))
            continue
        dataset = schema.datasets[table.dataset]
        sheet_records, sheet_problems = validate_sheet(table, context)
        sheet_problems = sheet_problems.assign(source_file=file.source_file,
                                               district_folder=file.district_code, sheet=sheet.name)
        notes.extend(_sheet_issues(file, sheet.name, table, dataset))
        notes.extend(merged.across_columns(sheet, table, {"source_file": file.source_file,
                                                          "district_folder": file.district_code}))
        problems.append(sheet_problems)
        records.setdefault(table.dataset, []).append(sheet_records.assign(sheet=sheet.name, sheet_order=order))
        sheets.append({"version_id": file.version_id, "sheet": sheet.name, "sheet_order": order,
                       "dataset": table.dataset, "header_row": table.header_row, "rows_read": table.rows_read,
                       "rejected": int((~sheet_records["valid"]).sum()), "blank_rows": len(table.blank_rows),
                       "totals_rows": len(table.totals_rows), "missing_fields": ",".join(table.missing_fields)})
    described = describe(pd.DataFrame(notes), schema) if notes else empty_issues()
    # Capped here, in the parsing child: a million warnings never reach the store, the week or the workbooks.
    issues = finish(capped(pd.concat([described, *problems], ignore_index=True), schema)) if problems or notes \
        else empty_issues()
    return Ingested(version, pd.DataFrame(sheets), {k: pd.concat(v) for k, v in records.items()}, issues)


def _padded(sheet) -> list[list]:
    """Rows shifted so that list position 0 is column A (the layout works in sheet columns)."""
    if not sheet.first_column:
        return sheet.rows
    pad = [None] * sheet.first_column
    return [pad + row for row in sheet.rows]
