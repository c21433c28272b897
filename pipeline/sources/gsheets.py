"""Google Sheets as a district source: fetched through gspread, snapshotted, handed on like an inbox file.

Per spreadsheet: metadata, one values:batchGet and Drive files.get (modifiedTime = submission time,
read after the values); one token request per run. Values are UNFORMATTED_VALUE with SERIAL_NUMBER
dates: text stays text ('0812345678'), a number stays a number (as from an xlsx), a date cell is its
serial on Excel's epoch, which the date parser reads; nothing depends on the sheet's display locale.
Each spreadsheet is saved as <week_dir>/sources/<district>/<title>__<key>.json (never credentials)
and read() reads that file: when Google cannot be reached, the week's snapshot stands in and a note
says so. Every failure is one problem line for its district (a missing key file: one for the run).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Mapping

import gspread
import requests
from google.auth.exceptions import RefreshError, TransportError
from google.auth.transport.requests import AuthorizedSession, Request
from google.oauth2 import service_account
from gspread.exceptions import APIError, NoValidUrlKeyFound
from gspread.utils import DateTimeOption, ValueRenderOption, absolute_range_name, extract_id_from_url

from pipeline.core.atomic import atomic_path
from pipeline.core.errors import ConfigError
from pipeline.core.issues import problem
from pipeline.core.paths import SOURCES
from pipeline.core.wording import wording
from pipeline.sources.inbox import InboxFile
from pipeline.core.outcome import RawSheet, ReadOutcome, has_cells
from pipeline.thai.dates import thai_datetime

SCOPES = ("https://www.googleapis.com/auth/spreadsheets.readonly",
          "https://www.googleapis.com/auth/drive.metadata.readonly")
RENDER = {"valueRenderOption": ValueRenderOption.unformatted.value,
          "dateTimeRenderOption": DateTimeOption.serial_number.value, "majorDimension": "ROWS"}
METADATA_FIELDS = "properties(title,locale,timeZone),sheets.properties(sheetId,title,index,hidden,sheetType)"
SNAPSHOT_FORMAT = "jitasa-gsheet-snapshot/1"
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,}")
RETRY_STATUSES = {429, 500, 502, 503, 504}
RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"}
DISABLED_REASONS = {"accessNotConfigured", "SERVICE_DISABLED"}


@dataclass(frozen=True)
class SheetSource:
    """One spreadsheet a district keeps its data in, as config.yaml lists it."""

    district_code: str
    url_or_key: str
    worksheets: tuple[str, ...] = ()


@dataclass(frozen=True)
class SheetsSettings:
    """config.yaml's google_sheets block, checked."""

    sources: tuple[SheetSource, ...] = ()
    credentials_env: str = "GOOGLE_APPLICATION_CREDENTIALS"
    credentials_file: Path | None = None
    timeout_seconds: float = 60.0
    retry_delays: tuple[float, ...] = (2.0, 4.0, 8.0)


@dataclass(frozen=True)
class FetchedSource(InboxFile):
    """A Google Sheet as one file version: its snapshot is the file, read() gives its worksheets."""

    spreadsheet_id: str = ""
    title: str = ""
    from_snapshot: bool = False

    def read(self) -> ReadOutcome:
        """The snapshot's worksheets as raw sheets, as sources.readers.read_file gives a workbook's."""
        return read_snapshot(self.path)


class SheetsFailure(Exception):
    """Why a spreadsheet (or all of them) could not be fetched: a problem code and its placeholders."""

    def __init__(self, code: str, expected: str = "", value: str = ""):
        super().__init__(code)
        self.code, self.expected, self.value = code, expected, value


def sheets_wording() -> dict:
    """The Thai wording of Google Sheets problems (core/wording/sheets.yaml)."""
    return wording("sheets")


def _reason(name: str, **values) -> str:
    return sheets_wording()["reasons"][name].format(**values)


# ---------------------------------------------------------------- settings and credentials

def parse_settings(raw: Mapping | None, base_dir: Path = Path("."), districts: Mapping | None = None) -> SheetsSettings:
    """Check config.yaml's google_sheets block (paths relative to base_dir); a malformed one is a ConfigError."""
    raw = dict(raw or {})
    try:
        file = raw.get("credentials_file")
        return SheetsSettings(
            sources=tuple(_sources(raw.get("districts") or {}, districts)),
            credentials_env=str(raw.get("credentials_env") or "GOOGLE_APPLICATION_CREDENTIALS"),
            credentials_file=Path(base_dir) / str(file) if file else None,
            timeout_seconds=float(raw.get("timeout_seconds", 60)),
            retry_delays=tuple(float(delay) for delay in raw.get("retry_delays", (2, 4, 8))))
    except (TypeError, ValueError, AttributeError) as error:
        raise ConfigError(f"config: google_sheets is malformed ({type(error).__name__}: {error})") from None


def _sources(raw_districts: Mapping, districts: Mapping | None) -> Iterator[SheetSource]:
    for code, entries in raw_districts.items():
        if districts is not None and str(code) not in districts:
            raise ConfigError(f"config: google_sheets.districts: {code} is not a district of the province")
        for entry in entries if isinstance(entries, list) else [entries]:
            entry = {"url_or_key": entry} if isinstance(entry, str) else entry
            if not isinstance(entry, Mapping) or not str(entry.get("url_or_key") or "").strip():
                raise ConfigError(f"config: google_sheets.districts.{code}: each sheet needs a url_or_key")
            names = entry.get("worksheets") or ()
            yield SheetSource(str(code), str(entry["url_or_key"]).strip(),
                              (str(names),) if isinstance(names, str) else tuple(str(name) for name in names))


def load_credentials(settings: SheetsSettings, environ: Mapping = os.environ) -> service_account.Credentials:
    """Read-only credentials from the key file named by the environment, else credentials_file (SheetsFailure if bad)."""
    named = str(environ.get(settings.credentials_env, "")).strip()
    path = Path(named) if named else settings.credentials_file
    if path is None or not path.is_file():
        raise SheetsFailure("gsheet_credentials_missing", settings.credentials_env, str(path or "-"))
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        raise SheetsFailure("gsheet_credentials_invalid", _reason("unreadable"), str(path)) from None
    except ValueError:
        raise SheetsFailure("gsheet_credentials_invalid", _reason("not_json"), str(path)) from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise SheetsFailure("gsheet_credentials_invalid", _reason("not_service_account"), str(path))
    try:
        return service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
    except (ValueError, KeyError, TypeError):
        raise SheetsFailure("gsheet_credentials_invalid", _reason("bad_key"), str(path)) from None


def connect(credentials, timeout_seconds: float = 60.0, adapter: requests.adapters.BaseAdapter | None = None):
    """A gspread client on an authorised session; `adapter`, if given, carries every request (token ones too)."""
    token_session = requests.Session()
    session = AuthorizedSession(credentials, auth_request=Request(token_session))
    for each in (token_session, session) if adapter is not None else ():
        each.mount("https://", adapter)
        each.mount("http://", adapter)
    client = gspread.Client(None, session=session)
    client.set_timeout((min(10.0, timeout_seconds), timeout_seconds))
    return client


def spreadsheet_key(url_or_key: str) -> str:
    """The spreadsheet ID of a Google Sheets URL, or the ID itself; anything else raises SheetsFailure."""
    text = url_or_key.strip()
    try:
        key = extract_id_from_url(text) if "/" in text or "=" in text else text
    except NoValidUrlKeyFound:
        key = ""
    if not KEY_PATTERN.fullmatch(key):  # e.g. a published-to-web link (/d/e/2PACX-…) has no key
        raise SheetsFailure("gsheet_bad_address", value=url_or_key)
    return key


def _key_or_none(url_or_key: str) -> str | None:
    try:
        return spreadsheet_key(url_or_key)
    except SheetsFailure:
        return None


# ---------------------------------------------------------------- talking to Google

def _status_and_reasons(error: BaseException) -> tuple[int | None, set[str], str]:
    # gspread's open_by_key wraps a 403 in a builtin PermissionError and a 404 in SpreadsheetNotFound.
    api = error if isinstance(error, APIError) else error.__cause__
    if not isinstance(api, APIError):
        return None, set(), ""
    body = api.error if isinstance(api.error, Mapping) else {}
    listed = [*(body.get("errors") or []), *(body.get("details") or [])]
    reasons = {str(item.get("reason", "")) for item in listed if isinstance(item, Mapping)}
    return api.response.status_code, reasons, str(api.response.url or "")


def _retryable(error: BaseException) -> bool:
    status, reasons, _ = _status_and_reasons(error)
    return status in RETRY_STATUSES or (status == 403 and bool(reasons & RATE_REASONS))


def _with_retries(action: Callable, delays: tuple[float, ...]):
    """Call action; after a quota or server error, again after each delay in turn (bounded backoff)."""
    for delay in (*delays, None):
        try:
            return action()
        except Exception as error:
            if delay is None or not _retryable(error):
                raise
            time.sleep(delay)


def _failure(error: Exception, account: str, tries: int) -> SheetsFailure:
    """The problem an exception from gspread, google-auth or requests means (never its text)."""
    status, reasons, url = _status_and_reasons(error)
    account = account or sheets_wording()["unknown_account"]
    if status == 429 or (status == 403 and reasons & RATE_REASONS):
        return SheetsFailure("gsheet_quota", str(tries))
    if status == 403 and reasons & DISABLED_REASONS:
        return SheetsFailure("gsheet_api_disabled", "Google Drive API" if "/drive/" in url else "Google Sheets API")
    codes = {401: "gsheet_credentials_rejected", 403: "gsheet_not_shared", 404: "gsheet_not_found"}
    if status in codes:
        return SheetsFailure(codes[status], account if status in (401, 403) else "")
    if status is not None:
        code = "gsheet_unreachable" if status >= 500 else "gsheet_unexpected"
        return SheetsFailure(code, _reason("server", status=status))
    if isinstance(error, RefreshError):  # the token endpoint refused the key, or was down
        return SheetsFailure("gsheet_unreachable", _reason("token")) if getattr(
            error, "retryable", False) else SheetsFailure("gsheet_credentials_rejected", account)
    if isinstance(error, requests.Timeout) or isinstance(error.__cause__, requests.Timeout):
        return SheetsFailure("gsheet_unreachable", _reason("timeout"))
    if isinstance(error, (requests.ConnectionError, TransportError)):
        return SheetsFailure("gsheet_unreachable", _reason("connection"))
    return SheetsFailure("gsheet_unexpected", type(error).__name__)


def _fetch(client, key: str, wanted: tuple[str, ...], delays: tuple[float, ...]) -> tuple[dict, list[str]]:
    """The spreadsheet's metadata, its wanted worksheets' values and its modifiedTime; and wanted names not found."""
    http = client.http_client
    metadata = _with_retries(lambda: http.fetch_sheet_metadata(
        key, params={"includeGridData": "false", "fields": METADATA_FIELDS}), delays)
    grids = [sheet["properties"] for sheet in metadata.get("sheets", [])
             if sheet["properties"].get("sheetType", "GRID") == "GRID"]  # a chart sheet has no values
    chosen = [grid for grid in grids if not wanted or grid["title"] in wanted]
    missing = [name for name in wanted if name not in {grid["title"] for grid in grids}]
    ranges = [absolute_range_name(grid["title"]) for grid in chosen]
    values = _with_retries(lambda: http.values_batch_get(key, ranges, params=dict(RENDER)), delays)[
        "valueRanges"] if ranges else []
    if len(values) != len(chosen):
        raise ValueError("valueRanges do not match the ranges asked for")
    drive = _with_retries(lambda: http.get_file_drive_metadata(key), delays)
    properties = metadata["properties"]
    return {
        "format": SNAPSHOT_FORMAT, "spreadsheet_id": key, "title": properties["title"],
        "locale": properties.get("locale", ""), "time_zone": properties.get("timeZone", ""),
        "modified_time": drive["modifiedTime"], "value_render_option": RENDER["valueRenderOption"],
        "date_time_render_option": RENDER["dateTimeRenderOption"],
        "worksheets": [{"title": grid["title"], "index": grid.get("index", 0), "hidden": bool(grid.get("hidden")),
                        "values": _rectangular(block.get("values", []))} for grid, block in zip(chosen, values)],
    }, missing


def _rectangular(rows: list[list]) -> list[list]:
    """The API drops trailing empty cells; pad rows to one width, as a workbook reader gives them."""
    width = max((len(row) for row in rows), default=0)
    return [list(row) + [""] * (width - len(row)) for row in rows]


def _account_email(client) -> str:
    credentials = getattr(getattr(client.http_client, "session", None), "credentials", None)
    return str(getattr(credentials, "service_account_email", "") or "")


# ---------------------------------------------------------------- snapshots

def safe_title(title: str) -> str:
    """A spreadsheet title usable in a file name (Thai kept; at most 120 bytes)."""
    kept = "".join(c if unicodedata.category(c)[0] in "LMN" or c in " -_()." else "_" for c in title)
    return kept.strip(" .").encode("utf-8")[:120].decode("utf-8", "ignore").strip(" .") or "sheet"


def snapshot_path(week_dir: Path, district_code: str, title: str, key: str) -> Path:
    """Where a spreadsheet's snapshot for the week goes."""
    return Path(week_dir) / SOURCES / district_code / f"{safe_title(title)}__{key}.json"


def values_sha256(snapshot: dict) -> str:
    """SHA-256 of the worksheets' names, hidden flags and values (the content, not the fetch)."""
    content = [[sheet["title"], sheet["hidden"], sheet["values"]] for sheet in snapshot["worksheets"]]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def read_snapshot(path: Path) -> ReadOutcome:
    """A snapshot file as a ReadOutcome of kind 'gsheet' (rows as the API gave them, from row 1, column A)."""
    try:
        snapshot = json.loads(Path(path).read_text(encoding="utf-8"))
        sheets = tuple(RawSheet(str(sheet["title"]), bool(sheet["hidden"]), 1, 0, [list(row) for row in sheet["values"]])
                       for sheet in snapshot["worksheets"])
    except (OSError, ValueError, KeyError, TypeError):
        return ReadOutcome(str(path), "gsheet", (), "corrupt", "unreadable snapshot")
    if not any(map(has_cells, sheets)):
        return ReadOutcome(str(path), "gsheet", (), "empty_file", "no non-empty cell")
    return ReadOutcome(str(path), "gsheet", sheets, None, "")


def _write_snapshot(path: Path, snapshot: dict) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(snapshot, ensure_ascii=False, indent=1), encoding="utf-8")
    for older in path.parent.glob(f"*__{snapshot['spreadsheet_id']}.json"):  # the sheet was renamed
        if older != path:
            older.unlink(missing_ok=True)


def _existing_snapshot(folder: Path, key: str) -> tuple[Path, dict] | None:
    for path in sorted(folder.glob(f"*__{key}.json")):
        try:
            snapshot = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(snapshot, dict) and snapshot.get("format") == SNAPSHOT_FORMAT \
                and snapshot.get("spreadsheet_id") == key:
            return path, snapshot
    return None


def _same_sheet(older: dict, newer: dict) -> bool:
    """The same spreadsheet state: same modified time and values (when it was fetched aside)."""
    return older.get("modified_time") == newer["modified_time"] and values_sha256(older) == values_sha256(newer)


def _modified(snapshot: dict) -> dt.datetime:
    moment = dt.datetime.fromisoformat(snapshot["modified_time"])
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _source_of(path: Path, snapshot: dict, district_code: str, from_snapshot: bool) -> FetchedSource:
    return FetchedSource(
        path=path, source_file=f"gsheets/{district_code}/{snapshot['title']}", folder="gsheets",
        district_code=district_code, size=path.stat().st_size, submitted_at=_modified(snapshot),
        sha256=values_sha256(snapshot), spreadsheet_id=snapshot["spreadsheet_id"], title=snapshot["title"],
        from_snapshot=from_snapshot)


# ---------------------------------------------------------------- the run

def _note(code: str, district: str, label: str, moment: dt.datetime, value: str = "", expected: str = "",
          reference: str = "") -> dict:
    """A problem shaped like inbox.discover's notes, with its Thai message already written."""
    entry = sheets_wording()["problems"][code]
    return problem(code, f"gsheets/{district}/{label}" if district else "gsheets", district, submitted_at=moment,
                   value=value, expected=expected, reference=reference, severity=entry["severity"],
                   message=entry["message"].format(value=value, expected=expected, reference=reference))


def _fallback(source: SheetSource, key: str, failure: SheetsFailure, week_dir: Path, moment: dt.datetime,
              report_failure: bool = True) -> tuple[list[FetchedSource], list[dict]]:
    """The week's snapshot of the spreadsheet, said to be one; or the failure as one problem."""
    existing = _existing_snapshot(Path(week_dir) / SOURCES / source.district_code, key)
    if existing is None:
        return [], [_note(failure.code, source.district_code, key, moment, key, failure.expected)] if report_failure else []
    path, snapshot = existing
    reason = sheets_wording()["reasons"].get(failure.code, failure.expected)
    taken = thai_datetime(dt.datetime.fromisoformat(snapshot["fetched_at"]), "arabic")
    return [_source_of(path, snapshot, source.district_code, True)], [
        _note("gsheet_snapshot_used", source.district_code, snapshot["title"], moment, snapshot["title"], reason, taken)]


def _fetch_source(source: SheetSource, client, settings: SheetsSettings, week_dir: Path, now: dt.datetime,
                  moment: dt.datetime, cutoff: dt.datetime | None) -> tuple[list[FetchedSource], list[dict]]:
    try:
        key = spreadsheet_key(source.url_or_key)
    except SheetsFailure as failure:
        return [], [_note(failure.code, source.district_code, "", moment, value=source.url_or_key)]
    try:
        snapshot, missing = _fetch(client, key, source.worksheets, settings.retry_delays)
    except Exception as error:  # every failure is one line for this district; the run goes on
        failure = _failure(error, _account_email(client), len(settings.retry_delays) + 1)
        return _fallback(source, key, failure, week_dir, moment)
    snapshot.update(district_code=source.district_code, fetched_at=now.isoformat())
    title = snapshot["title"]
    notes = [_note("gsheet_worksheet_missing", source.district_code, title, moment, title, name) for name in missing]
    existing = _existing_snapshot(Path(week_dir) / SOURCES / source.district_code, key)
    if cutoff is not None and existing and _modified(snapshot) > cutoff >= _modified(existing[1]):
        # Changed after the cut-off: the week's own snapshot is the week's state; keep it.
        return [_source_of(*existing, source.district_code, True)], notes
    path = snapshot_path(week_dir, source.district_code, title, key)
    if existing and existing[0] == path and _same_sheet(existing[1], snapshot):
        return [_source_of(*existing, source.district_code, False)], notes   # unchanged: the file is not rewritten
    _write_snapshot(path, snapshot)
    return [_source_of(path, snapshot, source.district_code, False)], notes


def fetch_district_sheets(settings: SheetsSettings | Mapping, week_dir: Path, now: dt.datetime, *, client=None,
                          adapter: requests.adapters.BaseAdapter | None = None,
                          cutoff: dt.datetime | None = None) -> tuple[list[FetchedSource], list[dict]]:
    """Fetch every configured district spreadsheet into week_dir/sources/; return (sources, problems)."""
    settings = settings if isinstance(settings, SheetsSettings) else parse_settings(settings)
    week_dir, moment = Path(week_dir), min(now, cutoff) if cutoff is not None else now
    sources, problems, failure = [], [], None
    if client is None and settings.sources:
        try:
            client = connect(load_credentials(settings), settings.timeout_seconds, adapter)
        except SheetsFailure as error:  # one line for the run; this week's snapshots still stand in
            failure, problems = error, [_note(error.code, "", "", moment, error.value, error.expected)]
    for source in settings.sources:
        if failure is None:
            found, notes = _fetch_source(source, client, settings, week_dir, now, moment, cutoff)
        elif key := _key_or_none(source.url_or_key):
            found, notes = _fallback(source, key, failure, week_dir, moment, report_failure=False)
        else:
            continue
        sources, problems = sources + found, problems + notes
    return sources, problems


def modified_times(settings: SheetsSettings, client=None, adapter: requests.adapters.BaseAdapter | None = None,
                   known: Mapping[str, str] | None = None) -> tuple[dict[str, str], object]:
    """Spreadsheet key -> Drive modifiedTime of every configured sheet (one files.get each, no values), and the
    client to reuse next time. A sheet that cannot be asked now keeps its `known` time: an outage is no change."""
    known = known or {}
    times: dict[str, str] = {}
    if client is None and settings.sources:
        try:
            client = connect(load_credentials(settings), settings.timeout_seconds, adapter)
        except (SheetsFailure, ConfigError, OSError, ValueError):
            return dict(known), None
    for source in settings.sources:
        key = _key_or_none(source.url_or_key)
        if key is None:
            continue
        try:
            times[key] = client.http_client.get_file_drive_metadata(key)["modifiedTime"]
        except Exception as error:  # unreachable, refused, rate-limited: the run itself reports it when it fetches
            if key in known:
                times[key] = known[key]
            if _unreachable(error):   # Google cannot be reached: the other sheets are not waited for in turn
                times.update((other, value) for other, value in known.items() if other not in times)
                break
    return times, client


def _unreachable(error: BaseException) -> bool:
    """A timeout or a failed connection (not an answer from Google)."""
    return isinstance(error, (requests.Timeout, requests.ConnectionError, TransportError)) \
        or isinstance(error.__cause__, (requests.Timeout, requests.ConnectionError))
