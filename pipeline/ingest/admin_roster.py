"""Form E, the provincial administrator: read the roster (a workbook in the inbox, or inline in config) and check it."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from pipeline.core.issues import ISSUE_COLUMNS, registered
from pipeline.core.ministry_settings import MinistrySettings
from pipeline.core.outcome import RawSheet
from pipeline.core.schema import load_schema
from pipeline.core.wording import wording
from pipeline.runtime.limits import ReadLimits
from pipeline.sources.readers import read_file
from pipeline.thai.normalize import clean_text, match_key, parse_phones


def ministry_wording() -> dict:
    """Form E's wording lives with the ministry report's (core/wording/ministry.yaml)."""
    return wording("ministry")


FIELDS = tuple(ministry_wording()["admin_fields"])   # agency, full_name, position, mobile, email, line_id: the form's order
PLACE_COLUMNS = ["source_file", "excel_row"]
PROBLEM_COLUMNS = ["field", "header", "value", "code", "severity", "message", "source_file", "excel_row"]
HEADER_SEARCH_ROWS = 30
MINIMUM_MATCHED_FIELDS = 3
LINE_ID = re.compile(r"[a-z0-9._-]{4,20}")
PHONE_LIKE = re.compile(r"[+\d\s().-]+")
EMAIL = re.compile(r"(?=[^@]{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                   r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
PHONE_CODES = {"phone_invalid": "admin_mobile_invalid", "phone_not_mobile": "admin_mobile_not_mobile"}


def empty_roster() -> pd.DataFrame:
    """A roster with no one in it."""
    return pd.DataFrame({column: pd.Series(dtype=object) for column in (*FIELDS, *PLACE_COLUMNS)})


def problem(code: str, field: str = "", value="", source_file: str = "", excel_row=None, detail: str = "") -> dict:
    """One form E problem, its Thai message filled in from core/wording/ministry.yaml."""
    spec = ministry_wording()["problems"][registered(code)]
    header = ministry_wording()["admin_fields"][field]["header"] if field else ""
    text = "" if value is None else str(value)
    return {"field": field, "header": header, "value": text, "code": code, "severity": spec["severity"],
            "message": spec["message"].format(header=header, value=text, detail=detail),
            "source_file": source_file, "excel_row": excel_row}


def problems_frame(records: list[dict]) -> pd.DataFrame:
    """Problems as a table (field, header, value, code, severity, message, source_file, excel_row)."""
    return pd.DataFrame(records, columns=PROBLEM_COLUMNS).astype(object)


def _header_positions(rows: list[list]) -> tuple[int, dict[str, int]] | None:
    """(header row index, field -> column position) of the row naming the most form E fields."""
    index = {match_key(name): key for key, spec in ministry_wording()["admin_fields"].items()
             for name in (spec["header"], *spec.get("aliases", ()))}
    best = None
    for top, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found: dict[str, int] = {}
        for position, cell in enumerate(row):
            key = index.get(match_key(str(cell))) if cell not in (None, "") else None
            if key and key not in found:
                found[key] = position
        if len(found) >= MINIMUM_MATCHED_FIELDS and (best is None or len(found) > len(best[1])):
            best = (top, found)
    return best


def roster_table(sheet: RawSheet, source_file: str) -> pd.DataFrame | None:
    """The admins listed on one sheet (raw cells, one row each), or None when it holds no form E table."""
    found = _header_positions(sheet.rows)
    if found is None:
        return None
    top, positions = found
    records = []
    for offset, row in enumerate(sheet.rows[top + 1:], start=top + 1):
        cells = {key: row[p] if p < len(row) else None for key, p in positions.items()}
        if clean_text(pd.Series(list(cells.values()), dtype=object)).ne("").any():
            records.append({**{key: cells.get(key) for key in FIELDS},
                            "source_file": source_file, "excel_row": sheet.first_row + offset})
    return pd.DataFrame(records, columns=[*FIELDS, *PLACE_COLUMNS]).astype(object)


def read_roster_file(path: Path, source_file: str, limits: ReadLimits) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The admins in a form E workbook or CSV, and any problem reading it."""
    if not path.is_file():
        return empty_roster(), problems_frame([problem("admin_roster_missing", value=source_file,
                                                       source_file=source_file)])
    outcome = read_file(path, limits)
    if outcome.problem:
        detail = load_schema().wording["file_problems"].get(outcome.problem, outcome.detail)
        return empty_roster(), problems_frame([problem("admin_roster_unreadable", value=source_file,
                                                       source_file=source_file, detail=detail)])
    for sheet in sorted(outcome.sheets, key=lambda s: s.hidden):
        table = roster_table(sheet, source_file)
        if table is not None:
            return table, problems_frame([])
    return empty_roster(), problems_frame([problem("admin_roster_no_header", value=source_file,
                                                   source_file=source_file)])


def read_admin_roster(settings: MinistrySettings, inputs_dir: Path,
                      limits: ReadLimits = ReadLimits()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The province's admins as written (inline in config, or the roster workbook in the inbox), and read problems."""
    if settings.admin_inline is not None:
        records = [{**admin, "source_file": "config.yaml", "excel_row": None} for admin in settings.admin_inline]
        return pd.DataFrame(records, columns=[*FIELDS, *PLACE_COLUMNS]).astype(object), problems_frame([])
    if not settings.admin_roster:
        return empty_roster(), problems_frame([problem("admin_roster_not_configured")])
    return read_roster_file(Path(inputs_dir) / settings.admin_roster, settings.admin_roster, limits)


def valid_email(text: str) -> bool:
    """Whether an e-mail address is syntactically valid (local@domain.tld)."""
    return len(text) <= 254 and bool(EMAIL.fullmatch(text))


def line_id(text: str) -> tuple[str | None, bool]:
    """(normalised Line ID or mobile number, valid?) of a Line ID cell."""
    if PHONE_LIKE.fullmatch(text):
        parsed = parse_phones(pd.Series([text], dtype=object), mobile_only=True).iloc[0]
        return parsed["value"], parsed["value"] is not None
    return text.casefold(), bool(LINE_ID.fullmatch(text.casefold()))


def cleaned(roster: pd.DataFrame) -> pd.DataFrame:
    """The roster with text cleaned and the mobile number normalised (raw phone kept in mobile_written)."""
    frame = roster.copy()
    for key in FIELDS:
        frame[key] = clean_text(frame[key]) if len(frame) else frame[key]
    phones = parse_phones(roster["mobile"], mobile_only=True)
    frame["mobile_written"], frame["mobile_problem"] = frame["mobile"], phones["problem"]
    frame["mobile"] = phones["value"].where(phones["value"].notna(), frame["mobile"])
    return frame


def _person_key(admin) -> str:
    return admin.mobile if admin.mobile_problem is None and admin.mobile else match_key(admin.full_name)


def admin_problems(admin) -> list[dict]:
    """Every problem of one admin's form E fields."""
    place = {"source_file": admin.source_file, "excel_row": admin.excel_row}
    found = [problem("admin_field_missing", key, "", **place) for key in FIELDS if not getattr(admin, key)]
    if admin.mobile and admin.mobile_problem:
        found.append(problem(PHONE_CODES[admin.mobile_problem], "mobile", admin.mobile_written, **place))
    if admin.email and not valid_email(admin.email):
        found.append(problem("admin_email_invalid", "email", admin.email, **place))
    if admin.line_id and not line_id(admin.line_id)[1]:
        found.append(problem("admin_line_invalid", "line_id", admin.line_id, **place))
    return found


def validate_admins(roster: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check form E: exactly one admin, valid mobile, e-mail and Line ID; returns (admins, problems)."""
    if roster.empty:
        return empty_roster(), problems_frame([problem("admin_missing")])
    frame = cleaned(roster)
    # A roster kept as form responses repeats the same person; the last (newest) row is theirs.
    frame = frame.assign(person=[_person_key(a) for a in frame.itertuples(index=False)])
    people = frame.drop_duplicates("person", keep="last")
    found = [] if len(people) == 1 else [problem("admin_too_many", "", len(people),
                                                 source_file=people["source_file"].iloc[0])]
    for admin in people.itertuples(index=False):
        found += admin_problems(admin)
    admins = people.assign(line_id=[line_id(v)[0] if line_id(v)[1] else v for v in people["line_id"]])
    return admins[[*FIELDS, *PLACE_COLUMNS]].reset_index(drop=True), problems_frame(found)


def admin_form(settings: MinistrySettings, inputs_dir: Path,
               limits: ReadLimits = ReadLimits()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and check form E in one call: (admins, every problem found)."""
    roster, read_problems = read_admin_roster(settings, inputs_dir, limits)
    if not read_problems.empty:
        return empty_roster(), read_problems
    return validate_admins(roster)


def problems_as_issues(problems: pd.DataFrame) -> pd.DataFrame:
    """Form E problems as rows of the week's issues table (pipeline.core.issues.ISSUE_COLUMNS)."""
    frame = problems.rename(columns={"header": "column"}).assign(
        district_folder="", sheet="", dataset="admins", column_letter="")
    return frame.reindex(columns=ISSUE_COLUMNS).astype(object)


def problem_lines(problems: pd.DataFrame) -> list[str]:
    """One terminal line per form E problem."""
    return [ministry_wording()["summary"]["terminal_line"].format(message=message) for message in problems["message"]]
