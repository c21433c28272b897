"""A local stand-in for Google's Sheets v4, Drive v3 and OAuth token endpoints, for gspread tests.

`FakeGoogle` is a threading http.server on 127.0.0.1 (ephemeral port) that answers what
pipeline.sources.gsheets asks: spreadsheets.get, values.get, values:batchGet (valueRenderOption and
dateTimeRenderOption honoured), Drive files.get, and the service-account token exchange. It
fails on demand per spreadsheet (a queue of statuses, or one status forever, or a delay),
logs and counts every request, stops itself after `max_seconds` or `max_requests`.

`RedirectAdapter` is the requests transport that carries the client's requests there: it
rewrites https://{sheets,www,oauth2}.googleapis.com/... to http://127.0.0.1:<port>/... and
refuses (ConnectionError) any other host, so nothing can leave the machine.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

GOOGLE_HOSTS = frozenset({"sheets.googleapis.com", "www.googleapis.com", "oauth2.googleapis.com"})
EXCEL_EPOCH = dt.date(1899, 12, 30)
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
MESSAGES = {401: "Request had invalid authentication credentials.", 403: "The caller does not have permission",
            404: "Requested entity was not found.", 429: "Quota exceeded for quota metric 'Read requests'.",
            503: "The service is currently unavailable."}


@dataclass
class FakeSpreadsheet:
    """A spreadsheet as the fake serves it: cells are str (text), int/float, bool or date/datetime."""

    key: str
    title: str
    worksheets: dict[str, list[list]]
    hidden: frozenset[str] = frozenset()
    modified_time: str = "2021-12-24T03:00:00.000Z"
    locale: str = "th_TH"
    failures: list = field(default_factory=list)   # statuses answered first, one per request
    always: int | None = None                       # a status answered to every request
    reason: str = ""                                # errors[0].reason of the error bodies
    delay: float = 0.0                              # seconds before answering


def render(cell, value_option: str, date_option: str, locale: str):
    """One cell as the Sheets API renders it under the given options."""
    if cell is None:
        return ""
    if isinstance(cell, (dt.date, dt.datetime)):
        day = cell.date() if isinstance(cell, dt.datetime) else cell
        serial = (day - EXCEL_EPOCH).days
        if isinstance(cell, dt.datetime):
            serial += (cell.hour * 3600 + cell.minute * 60 + cell.second) / 86400
        if value_option == "FORMATTED_VALUE" or date_option == "FORMATTED_STRING":
            return f"{day.month}/{day.day}/{day.year}" if locale == "en_US" else f"{day.day}/{day.month}/{day.year}"
        return serial
    if isinstance(cell, bool):
        return ("TRUE" if cell else "FALSE") if value_option == "FORMATTED_VALUE" else cell
    if isinstance(cell, (int, float)):
        return str(cell) if value_option == "FORMATTED_VALUE" else cell
    return str(cell)


def rendered_rows(rows: list[list], value_option: str, date_option: str, locale: str) -> list[list]:
    """Rows as the API sends them: trailing empty cells and trailing empty rows dropped."""
    result = []
    for row in rows:
        cells = [render(cell, value_option, date_option, locale) for cell in row]
        while cells and cells[-1] == "":
            cells.pop()
        result.append(cells)
    while result and not result[-1]:
        result.pop()
    return result


def sheet_title(range_text: str) -> str:
    """'Sheet''s name'!A1:B2 -> Sheet's name."""
    name = range_text.rsplit("!", 1)[0] if "!" in range_text else range_text
    return name[1:-1].replace("''", "'") if name.startswith("'") and name.endswith("'") else name


class FakeGoogle:
    """The fake API server: start(), add() spreadsheets, stop(); `log` holds every request."""

    def __init__(self, max_seconds: float = 60.0, max_requests: int = 500):
        self.spreadsheets: dict[str, FakeSpreadsheet] = {}
        self.log: list[dict] = []
        self.tokens: set[str] = set()
        self.scopes: list[str] = []
        self.reject_tokens = False
        self.max_requests = max_requests
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), _Handler)
        self._server.google = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._timer = threading.Timer(max_seconds, self.stop)
        self._timer.daemon = True
        self._stopped = False

    @property
    def port(self) -> int:
        """The ephemeral port the server listens on."""
        return self._server.server_address[1]

    def start(self) -> "FakeGoogle":
        """Serve in a background thread until stop() or max_seconds."""
        self._thread.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent): later connections are refused."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._timer.cancel()
        self._server.shutdown()
        self._server.server_close()

    def add(self, spreadsheet: FakeSpreadsheet) -> FakeSpreadsheet:
        """Serve this spreadsheet under its key."""
        self.spreadsheets[spreadsheet.key] = spreadsheet
        return spreadsheet

    def requests_for(self, key: str) -> list[dict]:
        """The logged Sheets and Drive requests that named this spreadsheet."""
        return [entry for entry in self.log if entry["key"] == key]

    def record(self, entry: dict) -> bool:
        """Log a request; False once the request budget is spent."""
        with self._lock:
            self.log.append(entry)
            return len(self.log) <= self.max_requests


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # a client that gave up (timeout tests)
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1                    # headers and body leave in one write (flushed after each request) ...
    disable_nagle_algorithm = True   # ... and at once: no 40 ms delayed-ACK stall per request

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    @property
    def google(self) -> FakeGoogle:
        return self.server.google

    def _send(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status: int, reason: str = "", message: str = "") -> None:
        error = {"code": status, "message": message or MESSAGES.get(status, "error"),
                 "status": STATUS_NAMES.get(status, "UNKNOWN")}
        if reason:
            error["errors"] = [{"reason": reason, "domain": "usageLimits" if "Limit" in reason else "global",
                                "message": error["message"]}]
        self._send(status, {"error": error})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        path = urlsplit(self.path).path
        if not self.google.record({"method": "POST", "path": path, "query": {}, "key": "",
                                   "host": self.headers.get("X-Forwarded-Host", "")}):
            return self._error(503)
        if path != "/token":
            return self._error(404)
        if self.google.reject_tokens:
            return self._send(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
        claims = _jwt_claims(form.get("assertion", [""])[0])
        self.google.scopes.append(claims.get("scope", ""))
        token = f"ya29.fake-{len(self.google.tokens) + 1}"
        self.google.tokens.add(token)
        self._send(200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"})

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        route = _route(unquote(parts.path))
        key = route[1] if route else ""
        if not self.google.record({"method": "GET", "path": unquote(parts.path), "query": query, "key": key,
                                   "host": self.headers.get("X-Forwarded-Host", "")}):
            return self._error(503)
        if route is None:
            return self._error(404)
        if self.headers.get("Authorization", "").removeprefix("Bearer ") not in self.google.tokens:
            return self._error(401)
        sheet = self.google.spreadsheets.get(key)
        if sheet is None:
            return self._error(404)
        time.sleep(sheet.delay)
        status = sheet.failures.pop(0) if sheet.failures else sheet.always
        if status:
            return self._error(status, sheet.reason)
        kind, _, rest = route
        answer = {"metadata": _metadata, "values": _values, "batch": _batch, "drive": _drive}[kind]
        self._send(*answer(sheet, query, rest))


def _route(path: str):
    """(kind, key, rest) of an API path, or None."""
    if path.startswith("/drive/v3/files/"):
        return "drive", path[len("/drive/v3/files/"):], ""
    if not path.startswith("/v4/spreadsheets/"):
        return None
    key, _, rest = path[len("/v4/spreadsheets/"):].partition("/")
    if not rest:
        return "metadata", key, ""
    if rest == "values:batchGet":
        return "batch", key, ""
    return ("values", key, rest[len("values/"):]) if rest.startswith("values/") else None


def _options(query: dict) -> tuple[str, str]:
    value = query.get("valueRenderOption", ["FORMATTED_VALUE"])[0]
    return value, query.get("dateTimeRenderOption", ["SERIAL_NUMBER"])[0]


def _metadata(sheet: FakeSpreadsheet, query: dict, _rest: str) -> tuple[int, dict]:
    sheets = []
    for index, title in enumerate(sheet.worksheets):
        properties = {"sheetId": index * 1000, "title": title, "index": index, "sheetType": "GRID",
                      "gridProperties": {"rowCount": 1000, "columnCount": 26}}
        if title in sheet.hidden:
            properties["hidden"] = True
        sheets.append({"properties": properties})
    return 200, {"spreadsheetId": sheet.key, "sheets": sheets,
                 "properties": {"title": sheet.title, "locale": sheet.locale, "timeZone": "Asia/Bangkok"}}


def _value_range(sheet: FakeSpreadsheet, range_text: str, query: dict) -> dict | None:
    title = sheet_title(range_text)
    if title not in sheet.worksheets:
        return None
    rows = rendered_rows(sheet.worksheets[title], *_options(query), sheet.locale)
    block = {"range": f"'{title}'!A1:Z1000", "majorDimension": "ROWS"}
    return {**block, "values": rows} if rows else block


def _values(sheet: FakeSpreadsheet, query: dict, range_text: str) -> tuple[int, dict]:
    block = _value_range(sheet, range_text, query)
    if block is None:
        return 400, {"error": {"code": 400, "message": f"Unable to parse range: {range_text}", "status": "INVALID_ARGUMENT"}}
    return 200, block


def _batch(sheet: FakeSpreadsheet, query: dict, _rest: str) -> tuple[int, dict]:
    blocks = [_value_range(sheet, range_text, query) for range_text in query.get("ranges", [])]
    if any(block is None for block in blocks):
        return 400, {"error": {"code": 400, "message": "Unable to parse range", "status": "INVALID_ARGUMENT"}}
    return 200, {"spreadsheetId": sheet.key, "valueRanges": blocks}


def _drive(sheet: FakeSpreadsheet, query: dict, _rest: str) -> tuple[int, dict]:
    full = {"id": sheet.key, "name": sheet.title, "createdTime": "2021-12-01T01:00:00.000Z",
            "modifiedTime": sheet.modified_time, "mimeType": "application/vnd.google-apps.spreadsheet"}
    wanted = query.get("fields", ["id,name,modifiedTime"])[0].split(",")
    return 200, {name: full[name] for name in wanted if name in full}


def _jwt_claims(assertion: str) -> dict:
    try:
        payload = assertion.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}


class RedirectAdapter(HTTPAdapter):
    """Sends requests for Google's API hosts to the fake server; refuses every other host."""

    def __init__(self, port: int, unreachable_keys: frozenset[str] = frozenset()):
        super().__init__()
        self.port = port
        self.unreachable_keys = set(unreachable_keys)  # requests naming these go to a closed port
        self.hosts: list[str] = []
        self.refused: list[str] = []

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        self.hosts.append(parts.hostname or "")
        if parts.hostname not in GOOGLE_HOSTS:
            self.refused.append(request.url)
            raise requests.ConnectionError(f"test transport refuses {parts.hostname}")
        port = closed_port() if any(key in parts.path for key in self.unreachable_keys) else self.port
        request.url = urlunsplit(("http", f"127.0.0.1:{port}", parts.path, parts.query, ""))
        request.headers["X-Forwarded-Host"] = parts.hostname
        return super().send(request, **kwargs)


def closed_port() -> int:
    """A local port nothing listens on (bound, then released): connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def service_account_file(folder: Path, email: str) -> tuple[Path, dict]:
    """A service-account key file with a throwaway RSA key made now (never checked in); (path, its fields)."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # small: loading it (with its checks) stays fast
    info = {"type": "service_account", "project_id": "jitasa-test", "private_key_id": "4f1c0ffee" * 4,
            "private_key": key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode(),
            "client_email": email, "client_id": "109876543210", "token_uri": "https://oauth2.googleapis.com/token"}
    path = folder / "service-account.json"
    path.write_text(json.dumps(info), encoding="utf-8")
    return path, info
