"""Google Sheets sources through real gspread + google-auth, against a local fake of Google's APIs.

Nothing is patched: gspread and google-auth run unchanged and their requests travel over real
sockets to tests/sheets_server.py, through a requests transport adapter mounted on the client's
sessions. A throwaway RSA key is generated per module; no key is checked in.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from pipeline.core.errors import ConfigError
from pipeline.core.issues import describe
from pipeline.ingest.ingest import ingest
from pipeline.sources import gsheets
from pipeline.sources.gsheets import SCOPES, SheetSource, fetch_district_sheets, parse_settings, spreadsheet_key
from pipeline.sources.inbox import InboxFile
from tests.builders import headers, thai_id
from tests.conftest import bangkok
from tests.sheets_server import FakeGoogle, FakeSpreadsheet, RedirectAdapter, service_account_file

ACCOUNT = "jitasa-reader@jitasa-test.iam.gserviceaccount.com"
KEY_A = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE25401"
KEY_B = "1CyjNWt1YSB6oGNeLwCeCakhnVVrqumct85PhwF35402"
NOW = bangkok(2021, 12, 24, 15, 0)
WEEK = "2021-12-24"
ID_A, ID_B = thai_id("110170020345"), thai_id("310170020345")
EPOCH = dt.date(1899, 12, 30)
OLD_SHEET = "ข้อมูล 'เก่า'"   # hidden; a quote in its name must survive A1 quoting

# Every socket the code under test opens or resolves, while a test runs (an audit hook, not a patch).
_SOCKETS: list | None = None


def _audit(event: str, arguments: tuple) -> None:
    if _SOCKETS is not None and event in ("socket.connect", "socket.getaddrinfo"):
        _SOCKETS.append(arguments[1][0] if event == "socket.connect" else arguments[0])


sys.addaudithook(_audit)


def volunteer_rows() -> list[list]:
    """อาสาสมัคร as typed in a Google Sheet: one phone as text, one as a number, a date cell, a text date."""
    return [headers("volunteers"),
            ["นาย", "สมชาย", "ใจดี", "0812345678", "อสม.", "รพ.สต.ในเวียง (moicovid)", "ในเวียง", "เมืองแพร่",
             dt.date(2021, 12, 20)],
            ["นาง", "สมหญิง", "ใจงาม", 812345679, "ผู้ใหญ่บ้าน", "บ้านนาจักร (moicovid)", "นาจักร", "เมืองแพร่",
             "20 ธ.ค. 2564"]]


def unvaccinated_rows() -> list[list]:
    """ผู้ยังไม่ได้รับวัคซีน: one ID typed as a number, one as text."""
    common = ["ไทย", "12", 3, "ร้องกวาง", "ร้องกวาง", "", "กลัวผลข้างเคียง", "ประสงค์", dt.date(2021, 12, 20), "สมชาย"]
    return [headers("unvaccinated"),
            [int(ID_A), "นาย", "มานะ", "ทดสอบ", "ชาย", dt.date(1957, 1, 1), *common],
            [ID_B, "นาง", "มาลี", "ทดสอบ", "หญิง", dt.date(1960, 2, 2), *common]]


@pytest.fixture(scope="module")
def service_account(tmp_path_factory) -> tuple[Path, dict]:
    """A service-account key file with a throwaway RSA key made now (never checked in)."""
    return service_account_file(tmp_path_factory.mktemp("credentials"), ACCOUNT)


@pytest.fixture(autouse=True)
def sockets(monkeypatch):
    """Record every socket opened during the test; none may go anywhere but 127.0.0.1."""
    global _SOCKETS
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    _SOCKETS = []
    yield _SOCKETS
    seen, _SOCKETS = _SOCKETS, None
    assert set(seen) <= {"127.0.0.1"}, seen


@pytest.fixture
def google():
    """The fake Google APIs with two district spreadsheets; stopped after the test (or by itself)."""
    server = FakeGoogle(max_seconds=30).start()
    server.add(FakeSpreadsheet(KEY_A, "อาสาสมัคร อ.เมืองแพร่ 2564", {
        "คำชี้แจง": [["กรอกข้อมูลในแผ่นงานอาสาสมัคร"]], "อาสาสมัคร": volunteer_rows(), OLD_SHEET: [["old"]]},
        hidden=frozenset({OLD_SHEET}), modified_time="2021-12-24T03:15:00.000Z"))
    server.add(FakeSpreadsheet(KEY_B, "ผู้ยังไม่ได้รับวัคซีน ร้องกวาง", {"ผู้ยังไม่ได้รับวัคซีน": unvaccinated_rows()},
                               modified_time="2021-12-23T09:00:00.000Z"))
    yield server
    server.stop()


def raw_settings(credentials: Path | None, **extra) -> dict:
    """config.yaml's google_sheets block for districts 5401 (by URL) and 5402 (by key)."""
    return {"credentials_file": str(credentials) if credentials else "no/such/key.json",
            "retry_delays": [0.01, 0.02, 0.04], "timeout_seconds": 2,
            "districts": {"5401": [{"url_or_key": f"https://docs.google.com/spreadsheets/d/{KEY_A}/edit#gid=0"}],
                          5402: [{"url_or_key": KEY_B}]}, **extra}


def fetch(server: FakeGoogle, credentials: Path | None, root: Path, adapter=None, **settings):
    """One fetch of both districts into root/<week>/, through the fake."""
    return fetch_district_sheets(raw_settings(credentials, **settings), root / WEEK, NOW,
                                 adapter=adapter or RedirectAdapter(server.port))


def sheet(outcome, name: str):
    return next(raw for raw in outcome.sheets if raw.name == name)


def secrets(info: dict) -> list[str]:
    """Strings that must never leave the key file: the key's body lines and its id."""
    body = [line for line in info["private_key"].splitlines() if line and not line.startswith("-----")]
    return [info["private_key_id"], *body[:3]]


# ---------------------------------------------------------------- values, time, snapshot

def test_values_arrive_uncoerced_with_time_and_snapshot(google, service_account, tmp_path):
    sources, problems = fetch(google, service_account[0], tmp_path)
    assert problems == []
    by_district = {source.district_code: source for source in sources}
    outcome = by_district["5401"].read()
    assert (outcome.kind, outcome.problem) == ("gsheet", None)
    assert [(raw.name, raw.hidden, raw.first_row, raw.first_column) for raw in outcome.sheets] == [
        ("คำชี้แจง", False, 1, 0), ("อาสาสมัคร", False, 1, 0), (OLD_SHEET, True, 1, 0)]
    rows = sheet(outcome, "อาสาสมัคร").rows
    assert rows[1][3] == "0812345678" and isinstance(rows[1][3], str)      # text stays text
    assert rows[2][3] == 812345679 and isinstance(rows[2][3], int)         # a number stays a number
    assert rows[1][8] == (dt.date(2021, 12, 20) - EPOCH).days               # a date cell: its serial
    assert rows[2][8] == "20 ธ.ค. 2564"
    assert {len(row) for row in rows} == {9}
    ids = sheet(by_district["5402"].read(), "ผู้ยังไม่ได้รับวัคซีน").rows
    assert ids[1][0] == int(ID_A) and ids[2][0] == ID_B

    source = by_district["5401"]
    assert source.submitted_at == dt.datetime(2021, 12, 24, 3, 15, tzinfo=dt.timezone.utc)
    assert by_district["5402"].submitted_at == dt.datetime(2021, 12, 23, 9, tzinfo=dt.timezone.utc)
    assert source.path == tmp_path / WEEK / "sources" / "5401" / f"อาสาสมัคร อ.เมืองแพร่ 2564__{KEY_A}.json"
    assert isinstance(source, InboxFile) and not source.from_snapshot
    assert (source.source_file, source.folder, source.size) == (
        "gsheets/5401/อาสาสมัคร อ.เมืองแพร่ 2564", "gsheets", source.path.stat().st_size)
    assert len(source.sha256) == 64 and len(source.version_id) == 32
    snapshot = json.loads(source.path.read_text(encoding="utf-8"))
    assert (snapshot["title"], snapshot["spreadsheet_id"], snapshot["modified_time"], snapshot["fetched_at"]) == (
        "อาสาสมัคร อ.เมืองแพร่ 2564", KEY_A, "2021-12-24T03:15:00.000Z", NOW.isoformat())
    assert [(w["title"], w["hidden"]) for w in snapshot["worksheets"]] == [
        ("คำชี้แจง", False), ("อาสาสมัคร", False), (OLD_SHEET, True)]


def test_requests_ask_unformatted_serial_values_read_only(google, service_account, tmp_path, sockets):
    adapter = RedirectAdapter(google.port)
    fetch(google, service_account[0], tmp_path, adapter)
    assert len(google.requests_for(KEY_A)) == len(google.requests_for(KEY_B)) == 3   # metadata, values, Drive
    batch = [entry["query"] for entry in google.log if entry["path"].endswith("values:batchGet")]
    assert {(q["valueRenderOption"][0], q["dateTimeRenderOption"][0]) for q in batch} == {
        ("UNFORMATTED_VALUE", "SERIAL_NUMBER")}
    assert batch[0]["ranges"] == ["'คำชี้แจง'", "'อาสาสมัคร'", "'ข้อมูล ''เก่า'''"]   # quoted A1 names
    drive = [entry["query"] for entry in google.log if entry["path"].startswith("/drive/v3/files/")]
    assert all("modifiedTime" in query["fields"][0] for query in drive)
    assert google.scopes == [" ".join(SCOPES)]                      # one token for the run, read-only scopes
    assert adapter.refused == [] and set(adapter.hosts) <= {
        "oauth2.googleapis.com", "sheets.googleapis.com", "www.googleapis.com"}
    assert sockets and set(sockets) == {"127.0.0.1"}


def test_fake_honours_render_options(google, service_account):
    """The fake renders as Google does: formatted values turn numbers and dates into text."""
    client = gsheets.connect(gsheets.load_credentials(parse_settings(raw_settings(service_account[0]))),
                             adapter=RedirectAdapter(google.port))
    formatted = client.http_client.values_get(KEY_A, "'อาสาสมัคร'")["values"]
    assert formatted[2][3] == "812345679" and formatted[1][8] == "20/12/2021"


def test_second_fetch_with_server_stopped_uses_the_snapshot(google, service_account, tmp_path):
    first, _ = fetch(google, service_account[0], tmp_path)
    google.stop()
    second, problems = fetch(google, service_account[0], tmp_path)
    assert [s.version_id for s in second] == [s.version_id for s in first]
    assert all(s.from_snapshot for s in second) and second[0].read() == first[0].read()
    assert [(p["code"], p["district_folder"]) for p in problems] == [
        ("gsheet_snapshot_used", "5401"), ("gsheet_snapshot_used", "5402")]
    assert "เชื่อมต่อเครือข่ายไม่ได้" in problems[0]["message"] and "24 ธ.ค. 2564 15.00 น." in problems[0]["message"]
    elsewhere, problems = fetch(google, service_account[0], tmp_path / "other")
    assert elsewhere == [] and [(p["code"], p["district_folder"]) for p in problems] == [
        ("gsheet_unreachable", "5401"), ("gsheet_unreachable", "5402")]


def test_sheet_changed_after_cutoff_keeps_the_weeks_snapshot(google, service_account, tmp_path):
    cutoff = bangkok(2021, 12, 24, 16)
    settings = raw_settings(service_account[0])
    first, _ = fetch_district_sheets(settings, tmp_path / WEEK, NOW, adapter=RedirectAdapter(google.port), cutoff=cutoff)
    saved = first[0].path.read_text(encoding="utf-8")
    changed = google.spreadsheets[KEY_A]
    changed.modified_time, changed.worksheets["อาสาสมัคร"] = "2021-12-25T02:00:00.000Z", volunteer_rows()[:2]
    later = bangkok(2021, 12, 25, 10)
    again, _ = fetch_district_sheets(settings, tmp_path / WEEK, later, adapter=RedirectAdapter(google.port),
                                     cutoff=cutoff)
    assert again[0].from_snapshot and again[0].sha256 == first[0].sha256
    assert first[0].path.read_text(encoding="utf-8") == saved
    next_week, _ = fetch_district_sheets(settings, tmp_path / "2021-12-31", later, adapter=RedirectAdapter(google.port))
    assert next_week[0].sha256 != first[0].sha256 and next_week[0].submitted_at > cutoff


def test_listed_worksheets_only_and_missing_ones_said(google, service_account, tmp_path):
    settings = raw_settings(service_account[0])
    settings["districts"] = {"5401": [{"url_or_key": KEY_A, "worksheets": ["อาสาสมัคร", "ไม่มีแผ่นนี้"]}]}
    sources, problems = fetch_district_sheets(settings, tmp_path, NOW, adapter=RedirectAdapter(google.port))
    assert [raw.name for raw in sources[0].read().sheets] == ["อาสาสมัคร"]
    assert [(p["code"], p["severity"], p["expected"]) for p in problems] == [
        ("gsheet_worksheet_missing", "warning", "ไม่มีแผ่นนี้")]


# ---------------------------------------------------------------- failures

def break_district_b(case: str, server: FakeGoogle, settings: dict) -> RedirectAdapter:
    """Make 5402's spreadsheet fail the given way; returns the adapter to use."""
    adapter = RedirectAdapter(server.port)
    broken = server.spreadsheets[KEY_B]
    if case in ("forbidden", "unauthorized", "api_disabled"):
        broken.always = {"forbidden": 403, "unauthorized": 401, "api_disabled": 403}[case]
        broken.reason = "accessNotConfigured" if case == "api_disabled" else ""
    elif case == "not_found":
        settings["districts"][5402] = [{"url_or_key": KEY_B.replace("1C", "9Z")}]
    elif case == "refused":
        adapter.unreachable_keys.add(KEY_B)
    elif case == "timeout":
        broken.delay, settings["timeout_seconds"] = 1.5, 0.4
    elif case == "bad_address":
        settings["districts"][5402] = [{"url_or_key": "https://docs.google.com/spreadsheets/d/e/2PACX-1vQ/pubhtml"}]
    return adapter


@pytest.mark.parametrize("case, code, words", [
    ("forbidden", "gsheet_not_shared", ACCOUNT),
    ("unauthorized", "gsheet_credentials_rejected", ACCOUNT),
    ("api_disabled", "gsheet_api_disabled", "Google Sheets API"),
    ("not_found", "gsheet_not_found", "9Z"),
    ("refused", "gsheet_unreachable", "เชื่อมต่อเครือข่ายไม่ได้"),
    ("timeout", "gsheet_unreachable", "รอคำตอบนานเกินกำหนด"),
    ("bad_address", "gsheet_bad_address", "2PACX"),
])
def test_a_failure_is_one_problem_for_its_district(google, service_account, tmp_path, case, code, words):
    settings = raw_settings(service_account[0])
    adapter = break_district_b(case, google, settings)
    sources, problems = fetch_district_sheets(settings, tmp_path / WEEK, NOW, adapter=adapter)
    assert [source.district_code for source in sources] == ["5401"]
    assert [(p["code"], p["district_folder"], p["severity"]) for p in problems] == [(code, "5402", "error")]
    assert words in problems[0]["message"] and "\n" not in problems[0]["message"]
    assert not any(secret in problems[0]["message"] for secret in secrets(service_account[1]))


def test_quota_retried_with_backoff_then_given_up(google, service_account, tmp_path):
    google.spreadsheets[KEY_B].failures = [429, 429]
    started = time.monotonic()
    sources, problems = fetch(google, service_account[0], tmp_path)
    assert problems == [] and len(sources) == 2
    assert len(google.requests_for(KEY_B)) == 5 and time.monotonic() - started >= 0.03   # waited 0.01 + 0.02
    google.spreadsheets[KEY_B].always = 429
    sources, problems = fetch(google, service_account[0], tmp_path / "again")
    assert [(p["code"], p["district_folder"]) for p in problems] == [("gsheet_quota", "5402")]
    assert len(google.requests_for(KEY_B)) == 5 + 4 and "4" in problems[0]["message"]   # bounded: 1 + 3 retries


def test_drive_rate_limit_403_is_retried(google, service_account, tmp_path):
    google.spreadsheets[KEY_B].failures, google.spreadsheets[KEY_B].reason = [403], "userRateLimitExceeded"
    sources, problems = fetch(google, service_account[0], tmp_path)
    assert problems == [] and len(sources) == 2


# ---------------------------------------------------------------- credentials

def test_missing_credentials_one_line_no_request(google, tmp_path):
    sources, problems = fetch(google, None, tmp_path)
    assert sources == [] and google.log == []
    assert [(p["code"], p["district_folder"]) for p in problems] == [("gsheet_credentials_missing", "")]
    assert "no/such/key.json" in problems[0]["message"] and "GOOGLE_APPLICATION_CREDENTIALS" in problems[0]["message"]


@pytest.mark.parametrize("content", [
    '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\nTOPSECRETBODY\\n-----END PRIVATE KEY-----\\n", '
    '"client_email": "x@y.iam.gserviceaccount.com", "token_uri": "https://oauth2.googleapis.com/token"}',
    '{"type": "authorized_user", "refresh_token": "TOPSECRETBODY"}',
    'TOPSECRETBODY not json',
])
def test_invalid_credentials_one_line_without_key_material(google, tmp_path, content):
    path = tmp_path / "service-account.json"
    path.write_text(content, encoding="utf-8")
    sources, problems = fetch(google, path, tmp_path)
    assert sources == [] and google.log == []
    assert [p["code"] for p in problems] == ["gsheet_credentials_invalid"]
    assert "TOPSECRETBODY" not in json.dumps(problems, ensure_ascii=False, default=str)


def test_environment_variable_names_the_key_and_snapshots_outlive_a_lost_key(
        google, service_account, tmp_path, monkeypatch):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(service_account[0]))
    sources, problems = fetch(google, None, tmp_path)                  # credentials_file is missing
    assert problems == [] and len(sources) == 2
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    again, problems = fetch(google, None, tmp_path)
    assert [s.version_id for s in again] == [s.version_id for s in sources]
    assert [p["code"] for p in problems] == ["gsheet_credentials_missing", "gsheet_snapshot_used", "gsheet_snapshot_used"]
    assert "ไม่พบไฟล์กุญแจบัญชีบริการ" in problems[1]["message"]


def test_key_refused_at_the_token_endpoint(google, service_account, tmp_path):
    google.reject_tokens = True                                           # a deleted or revoked key
    sources, problems = fetch(google, service_account[0], tmp_path)
    assert sources == [] and [(p["code"], p["district_folder"]) for p in problems] == [
        ("gsheet_credentials_rejected", "5401"), ("gsheet_credentials_rejected", "5402")]
    assert ACCOUNT in problems[0]["message"]


def test_no_key_material_in_snapshots_or_problems(google, service_account, tmp_path):
    google.spreadsheets[KEY_B].always = 403
    sources, problems = fetch(google, service_account[0], tmp_path)
    written = "".join(path.read_text(encoding="utf-8") for path in (tmp_path / WEEK).rglob("*.json"))
    said = json.dumps(problems, ensure_ascii=False, default=str)
    for secret in [*secrets(service_account[1]), *google.tokens, ACCOUNT]:
        assert secret not in written
    for secret in [*secrets(service_account[1]), *google.tokens]:
        assert secret not in said


# ---------------------------------------------------------------- into the pipeline

def test_fetched_sheets_ingest_as_valid_records(google, service_account, tmp_path, schema, config):
    sources, _ = fetch(google, service_account[0], tmp_path)
    items = {source.district_code: ingest(source, source.read(), schema, config, "test") for source in sources}
    volunteers = items["5401"].records["volunteers"]
    assert volunteers["valid"].all() and len(volunteers) == 2
    assert sorted(volunteers["phone"]) == ["0812345678", "0812345679"]       # the number-typed phone read right
    assert set(volunteers["registered_on"]) == {dt.date(2021, 12, 20)}        # serial and Thai text alike
    unvaccinated = items["5402"].records["unvaccinated"]
    assert unvaccinated["valid"].all() and sorted(unvaccinated["person_id"]) == sorted([ID_A, ID_B])
    assert items["5401"].version["kind"] == "gsheet" and items["5401"].version["source_file"] == sources[0].source_file
    for item in items.values():
        assert not (item.issues["severity"] == "error").any(), item.issues[["code", "message"]]


def test_problems_fit_the_issues_table(google, service_account, tmp_path, schema):
    google.spreadsheets[KEY_B].always = 403
    _, problems = fetch(google, service_account[0], tmp_path)
    merged = dataclasses.replace(schema, wording={
        **schema.wording, "problems": {**schema.wording["problems"], **gsheets.sheets_wording()["problems"]}})
    described = describe(pd.DataFrame(problems).drop(columns=["submitted_at", "message", "severity"]), merged)
    assert list(described["message"]) == [p["message"] for p in problems]


# ---------------------------------------------------------------- settings

def test_settings_are_checked(tmp_path):
    settings = parse_settings(raw_settings(Path("credentials/service-account.json")) | {
        "credentials_file": "credentials/service-account.json"}, tmp_path, {"5401": "เมืองแพร่", "5402": "ร้องกวาง"})
    assert settings.credentials_file == tmp_path / "credentials/service-account.json"
    assert settings.sources[1] == SheetSource("5402", KEY_B, ())
    assert spreadsheet_key(settings.sources[0].url_or_key) == KEY_A
    assert parse_settings({}).sources == ()
    with pytest.raises(ConfigError, match="5409"):
        parse_settings({"districts": {"5409": [KEY_A]}}, districts={"5401": "เมืองแพร่"})
    with pytest.raises(ConfigError, match="url_or_key"):
        parse_settings({"districts": {"5401": [{"worksheets": ["อาสาสมัคร"]}]}})


# ---------------------------------------------------------------- the weekly run (once run.py is wired)

def _wired() -> bool:
    import inspect
    from pipeline.run import run_weekly
    from pipeline.core.schema import load_schema
    return "sheets_adapter" in inspect.signature(run_weekly).parameters \
        and "gsheet_not_shared" in load_schema().wording["problems"]


@pytest.mark.skipif(not _wired(), reason="run.py / schema.py do not take Google Sheets yet (issue 5 wiring)")
def test_weekly_run_counts_sheets_and_reruns_offline(google, service_account, tmp_path):
    import yaml
    from pipeline.run import run_weekly
    from tests.conftest import PROJECT
    config = yaml.safe_load((PROJECT / "config.yaml").read_text(encoding="utf-8"))
    config["google_sheets"] = raw_settings(service_account[0])
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    (tmp_path / "inbox").mkdir()
    runs = []
    for _ in range(2):  # online, then with Google unreachable: the week's snapshots reproduce it
        result = run_weekly(tmp_path / "config.yaml", tmp_path / "inbox", tmp_path / "out", WEEK, now=NOW,
                            progress=lambda message: None, sheets_adapter=RedirectAdapter(google.port))
        runs.append(json.loads((result.week_dir / "report.json").read_text(encoding="utf-8")))
        google.stop()
    districts = runs[0]["districts"]
    assert (districts["5401"]["submission"]["status"], districts["5401"]["volunteers"]["total"]) == ("on_time", 2)
    assert (districts["5402"]["submission"]["status"], districts["5402"]["unvaccinated"]["total"]) == ("on_time", 2)
    assert runs[1]["districts"] == districts


def test_every_problem_code_is_worded():
    wording = gsheets.sheets_wording()
    assert set(wording["problems"]) == set(wording["kinds"])
    assert {entry["severity"] for entry in wording["problems"].values()} <= {"error", "warning"}


# ---------------------------------------------------------------- watch's looks: modified times only

def test_modified_times_ask_drive_only_and_an_outage_keeps_the_known_times(google, service_account):
    settings = parse_settings(raw_settings(service_account[0]))
    times, client = gsheets.modified_times(settings, adapter=RedirectAdapter(google.port))
    assert times == {KEY_A: "2021-12-24T03:15:00.000Z", KEY_B: "2021-12-23T09:00:00.000Z"}
    assert all("/drive/" in entry["path"] for entry in google.log if entry["key"])   # no values fetched
    # Google unreachable for the first sheet: the known times stand, and the second sheet is not waited for.
    known = {KEY_A: "earlier-a", KEY_B: "earlier-b"}
    asked_before = len(google.requests_for(KEY_B))
    times, _ = gsheets.modified_times(settings, adapter=RedirectAdapter(google.port, frozenset({KEY_A})), known=known)
    assert times == known
    assert len(google.requests_for(KEY_B)) == asked_before
