"""Tests of the synthetic inbox generator itself: files open, drifts are really there, truth adds up."""
from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from stdnum.th import pin

from pipeline.synthetic import INJECTIONS, Drifts, Problems, build_inbox
from pipeline.synthetic.cells import SHORT_FORMS
from pipeline.synthetic.inbox import apply_changes
from pipeline.synthetic.forms import (DATASETS, cutoff_of, deadline_of, field, fields, header_spellings, loose, schema,
                                      sheet_aliases, title)

from tests.reference import expected_report

WEEKS = [dt.date(2021, 12, 24), dt.date(2021, 12, 31)]
DISTRICTS = ["5401", "5403", "5404", "5406"]
SMALL = {"volunteers": (6, 10), "unvaccinated": (8, 14), "facilities": (3, 5), "help_requests": (4, 8)}
PROJECT = Path(__file__).resolve().parent.parent.parent
EXTRAS = ("ลำดับ", "หมายเหตุ")
# Structural drifts that make resend and new-rows-only inboxes differ on purpose.
SAME_LISTS = Drifts(unusable_files=False, replaced_files=False, removed_files=False, missing_columns=False,
                    corrections=False)
HINT = re.compile(r"^\s*(?:\d+|[๐-๙]+)[.)]\s*|\s*\((?:วว/ดด/ปปปป|ว/ด/ป|วัน/เดือน/ปี พ\.ศ\.|dd/mm/yyyy|ปี|คน|เตียง|เลือก|ระบุ|"
                  r"[A-Za-z][A-Za-z ]*)\)|\s*:\s*$")


@pytest.fixture(scope="module")
def inbox(tmp_path_factory):
    """A two-week inbox: resend and new_only districts, one late, one missing, one after the cut-off."""
    root = tmp_path_factory.mktemp("inbox")
    truth = build_inbox(
        root, seed=7, weeks=WEEKS, districts=DISTRICTS, sizes=SMALL,
        mode={"5401": "resend", "5403": "new_only", "5404": "resend", "5406": "new_only"},
        late_districts={WEEKS[1]: {"5403"}}, missing_districts={WEEKS[0]: {"5406"}},
        after_cutoff_districts={WEEKS[0]: {"5404"}}, unusable_districts={WEEKS[1]: {"5401"}}, edge_times=True,
    )
    return root, truth


def read_cells(root: Path, truth) -> dict[tuple[str, str], list[list]]:
    """Every sheet's cells as the file holds them: openpyxl for xlsx, pandas (dtype=object) for ods and csv."""
    cells = {}
    for file in truth.written():
        if not file.usable:
            continue
        path = root / file.path
        if file.format == "xlsx":
            workbook = openpyxl.load_workbook(path)
            for sheet in workbook.worksheets:
                cells[(file.path, sheet.title)] = [list(row) for row in sheet.iter_rows(values_only=True)]
            continue
        if file.format == "ods":
            frames = pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine="odf")
        else:
            frames = {file.sheets[0].name: pd.read_csv(path, header=None, dtype=object, encoding=file.encoding,
                                                       skip_blank_lines=False)}
        for name, frame in frames.items():
            cells[(file.path, name)] = frame.astype(object).where(frame.notna(), None).values.tolist()
    return cells


@pytest.fixture(scope="module")
def cells(inbox):
    root, truth = inbox
    return read_cells(root, truth)


def all_sheets(truth, cells):
    """(file, sheet, cells) of every sheet that holds a dataset (of the versions build_inbox wrote)."""
    for file in truth.written():
        for sheet in file.sheets:
            if sheet.dataset:
                yield file, sheet, cells[(file.path, sheet.name)]


def is_blank(row) -> bool:
    return all(value is None or str(value).strip() == "" for value in row)


def column(sheet, key: str) -> int:
    return sheet.columns.index(key)


# -- the files ---------------------------------------------------------------------------------
def test_files_open_and_rows_are_where_truth_says(inbox, cells):
    root, truth = inbox
    assert {f.format for f in truth.files} == {"xlsx", "csv", "ods"}
    workbook = next(f for f in truth.files if f.format == "xlsx")
    frames = pd.read_excel(root / workbook.path, sheet_name=None, header=None, dtype=object, engine="openpyxl")
    assert len(frames) == len(workbook.sheets)
    for file, sheet, cells in all_sheets(truth, cells):
        last = max(i for i, row in enumerate(cells, start=1) if not is_blank(row))
        assert sorted(sheet.rows) == list(range(sheet.header_row + 1, last + 1)), (file.path, sheet.name)
        header = cells[sheet.header_row - 1]
        for key, text in zip(sheet.columns, header):
            if key in sheet.hinted:  # the hint stripped, a spelling of the field is left
                assert text.split() == sheet.hinted[key].split() and HINT.search(text), (file.path, text)
                text = HINT.sub("", text)
            if key not in EXTRAS:
                assert loose(text) in {loose(s) for s in header_spellings(sheet.dataset, key)}, (file.path, text)
        for number, row in sheet.rows.items():
            assert is_blank(cells[number - 1]) == (row.kind == "blank"), (file.path, number)
            if row.kind == "totals":
                assert str(cells[number - 1][0]).startswith("รวม")


def test_ignored_files_are_written_but_not_submissions(inbox):
    root, truth = inbox
    assert any(Path(p).name.startswith("~$") for p in truth.ignored)
    assert any(Path(p).name == ".DS_Store" for p in truth.ignored)
    for path in truth.ignored:
        assert (root / path).is_file()
    assert not {f.path for f in truth.files} & set(truth.ignored)


def test_mtimes_are_the_planned_submission_times(inbox):
    root, truth = inbox
    first: dict[tuple, object] = {}
    for file in sorted(truth.written(), key=lambda f: f.submitted_at):
        assert os.stat(root / file.path).st_mtime == pytest.approx(file.submitted_at.timestamp(), abs=1e-6)
        first.setdefault((file.district, file.sent_for), file)
        if file.timing in ("on_time", "late", "unusable"):  # corrections may pass the deadline, never the cut-off
            assert file.week == file.sent_for and file.submitted_at <= cutoff_of(file.sent_for)
        else:
            assert file.submitted_at > cutoff_of(file.sent_for) and file.week == file.sent_for + dt.timedelta(days=7)
    for (district, week), file in first.items():
        assert file.timing == truth.timings[(district, week)]
        if file.timing == "on_time":
            assert file.submitted_at <= deadline_of(week)
        elif file.timing == "late":
            assert deadline_of(week) < file.submitted_at <= cutoff_of(week)
    times = {f.submitted_at for f in truth.files}
    assert deadline_of(WEEKS[0]) in times or deadline_of(WEEKS[1]) in times  # edge: exactly 12:00 is on time
    assert cutoff_of(WEEKS[1]) in times  # edge: exactly 16:00 is still in the week
    assert {"on_time", "late", "after_cutoff"} <= {f.timing for f in truth.files}


def test_csv_encodings_are_really_different(tmp_path):
    truth = build_inbox(tmp_path, seed=2, weeks=WEEKS[:1], districts=["5402"], sizes=SMALL, formats=["csv"])
    root = tmp_path
    encodings = {f.encoding for f in truth.files if f.format == "csv"}
    assert {"cp874", "utf-8", "utf-8-sig"} <= encodings
    cp874 = next(f for f in truth.files if f.encoding == "cp874")
    with pytest.raises(UnicodeDecodeError):
        (root / cp874.path).read_bytes().decode("utf-8")
    bom = next(f for f in truth.files if f.encoding == "utf-8-sig")
    assert (root / bom.path).read_bytes().startswith(b"\xef\xbb\xbf")


# -- the drifts --------------------------------------------------------------------------------
def test_drifts_are_really_in_the_files(inbox, cells):
    root, truth = inbox
    seen = Counter()
    for file, sheet, cells in all_sheets(truth, cells):
        header = cells[sheet.header_row - 1]
        seen["header_star"] += any(str(h).rstrip().endswith("*") for h in header if h)
        seen["header_break"] += any("\n" in str(h) for h in header if h)
        seen["title_row"] += sheet.header_row > 1 and str(cells[0][0]).startswith("แบบรายงาน")
        seen["extra_column"] += any(key in EXTRAS for key in sheet.columns)
        seen["shuffled"] += [k for k in sheet.columns if k not in EXTRAS] != [f["key"] for f in fields(sheet.dataset)]
        data = [cells[n - 1] for n, r in sheet.rows.items() if r.kind == "record"]
        for key in ("phone",):
            values = [row[column(sheet, key)] for row in data]
            seen["numeric_phone"] += file.format == "xlsx" and any(isinstance(v, int) for v in values)
        if sheet.dataset == "unvaccinated":
            ids = [row[column(sheet, "person_id")] for row in data]
            seen["id_dashes"] += any(isinstance(v, str) and re.fullmatch(r"\d-\d{4}-\d{5}-\d{2}-\d", v) for v in ids)
            seen["id_number"] += file.format == "xlsx" and any(isinstance(v, int) for v in ids)
        text = " ".join(str(v) for row in data for v in row if v is not None)
        seen["thai_digits"] += bool(re.search("[๐-๙]", text))
        seen["be_text_date"] += bool(re.search(r"\d{1,2}/\d{1,2}/25\d\d|ธ\.ค\.\s?(25)?64|\(\d+ธ\.ค\.2564\)", text))
        seen["be_date_cell"] += any(isinstance(v, dt.datetime) and v.year > 2400 for row in data for v in row)
        seen["place_prefix"] += bool(re.search(r"(^|\s)(อ\.|อำเภอ|ต\.|ตำบล)|เมือง(\s|$)", text))
        seen["totals"] += any(r.kind == "totals" for r in sheet.rows.values())
        seen["blank_middle"] += any(r.kind == "blank" for r in sheet.rows.values())
    for file in truth.written():
        if file.format == "xlsx" and file.usable:
            workbook = openpyxl.load_workbook(root / file.path)
            seen["hidden"] += any(ws.sheet_state == "hidden" for ws in workbook.worksheets)
            seen["merged_title"] += any(str(r).startswith("A1:") for ws in workbook.worksheets for r in ws.merged_cells.ranges)
            for sheet in file.sheets:
                ranges = {str(r) for r in workbook[sheet.name].merged_cells.ranges} if sheet.dataset else set()
                seen["merged_village"] += any(r1 < r2 and c1 == c2 for r1, c1, r2, c2 in sheet.merged)
                for r1, c1, r2, c2 in sheet.merged:  # a merge over adjacent data rows, the value in its first cell
                    assert f"{openpyxl.utils.get_column_letter(c1)}{r1}:{openpyxl.utils.get_column_letter(c2)}{r2}" in ranges
                    assert sheet.columns[c1 - 1] in ("district", "subdistrict", "moo")
                    assert all(sheet.rows[n].kind in ("record", "error") for n in range(r1, r2 + 1))
        if file.format == "ods":
            seen["merged_ods"] += any(sheet.merged for sheet in file.sheets)
    missing = [name for name in ("header_star", "header_break", "title_row", "extra_column", "shuffled", "numeric_phone",
                                 "id_dashes", "id_number", "thai_digits", "be_text_date", "be_date_cell", "place_prefix",
                                 "totals", "blank_middle", "hidden", "merged_title", "merged_village", "merged_ods")
               if not seen[name]]
    assert not missing, missing


def test_variants_and_sheet_names_come_from_schema(inbox, cells):
    root, truth = inbox
    lists = {name: {loose(v) for c in values for v in [c["value"], *c.get("variants", [])]}
             for name, values in schema()["choices"].items()}
    variants = 0
    for file, sheet, grid in all_sheets(truth, cells):
        for key in [k for k in sheet.columns if k not in EXTRAS]:
            declared = field(sheet.dataset, key)
            if declared["type"] not in ("choice", "nationality"):
                continue
            for number, row in sheet.rows.items():
                value = grid[number - 1][column(sheet, key)]
                if row.kind == "record" and value is not None:
                    everyday = SHORT_FORMS.get((declared["choices"], row.record[key]), ())
                    assert loose(value) in lists[declared["choices"]] or value in everyday, (file.path, number, value)
                    variants += value != row.record[key]
    assert variants
    titles = {title(d) for d in DATASETS}
    names = {s.name for f in truth.files if f.format != "csv" for s in f.sheets if s.dataset}
    assert names & titles and names - titles  # titles, and aliases or unrelated names recognised by headers
    assert all(s.name in titles | set(sheet_aliases(s.dataset)) | {"Sheet1", "Sheet2", "Sheet3", "แผ่นงาน1", "แผ่นงาน2"}
               for f in truth.files if f.format != "csv" for s in f.sheets if s.dataset)


def test_each_drift_can_be_switched_on_alone(tmp_path):
    clean = build_inbox(tmp_path / "clean", seed=3, weeks=WEEKS[:1], districts=["5402"], sizes=SMALL,
                        drifts=Drifts.none(), problems=Problems.none(), formats=["xlsx"], junk_files=False)
    phones = build_inbox(tmp_path / "phones", seed=3, weeks=WEEKS[:1], districts=["5402"], sizes=SMALL,
                         drifts=Drifts.only("numeric_phones"), problems=Problems.none(), formats=["xlsx"])
    for truth, numeric in ((clean, False), (phones, True)):
        found = False
        for file, sheet, cells in all_sheets(truth, read_cells(truth.root, truth)):
            assert sheet.header_row == 1 and all(r.kind == "record" for r in sheet.rows.values())
            assert sheet.columns == [f["key"] for f in fields(sheet.dataset)]
            assert cells[0] == [f["header"] for f in fields(sheet.dataset)]
            phone = [cells[n - 1][column(sheet, "phone")] for n in sheet.rows]
            found |= any(isinstance(v, int) for v in phone)
            assert all(isinstance(v, int) or v is None or v.startswith("0") for v in phone)
        assert found == numeric
        assert {r.outcome for f in truth.files for s in f.sheets for r in s.rows.values()} == {"accepted"}


# -- the truth ---------------------------------------------------------------------------------
def test_truth_sums_per_file_and_sheet(inbox):
    _, truth = inbox
    for file in truth.files:
        for sheet in file.sheets:
            counts = Counter(r.outcome for r in sheet.rows.values())
            assert set(counts) <= {"accepted", "updated", "rejected", "duplicate", "skipped"}
            assert sheet.read == sum(counts.values()) == sum(sheet.count(o) for o in counts)
        assert file.read == sum(file.count(o) for o in ("accepted", "updated", "rejected", "duplicate", "skipped"))


def test_every_injected_problem_appears_with_its_code(inbox):
    _, truth = inbox
    rows = truth.row_table()
    rejected = rows[rows.outcome == "rejected"]
    assert set(rejected.injection) == {i.name for i in INJECTIONS}
    assert all(len(codes) >= 1 for codes in rejected.problems)
    warnings = Counter(code for codes in rows[rows.outcome != "rejected"].problems for code in codes)
    assert warnings["affiliation_tag_added"] and warnings["district_not_folder"] and warnings["duplicate_row"]
    assert set(rows.source) >= {"list", "same_file", "other_district", "moved", "resent"}
    assert set(rows[rows.outcome == "skipped"].kind) == {"blank", "totals"}


def test_duplicates_point_to_an_earlier_record_of_the_same_entity(inbox):
    _, truth = inbox
    once = [f for f in truth.files if sum(g.path == f.path for g in truth.files) == 1]  # paths saved once
    order = {(f.path, s.name, n): (f.order, s.index, n) for f in once for s in f.sheets for n in s.rows}
    keys = {(f.path, s.name, n): r.entity_key for f in once for s in f.sheets for n, r in s.rows.items()}
    duplicates = [(f, s, n, r) for f in once for s in f.sheets for n, r in s.rows.items()
                  if r.outcome in ("duplicate", "updated") and r.duplicate_of in order]
    assert {r.outcome for *_, r in duplicates} == {"duplicate", "updated"}
    for file, sheet, number, row in duplicates:
        assert keys[row.duplicate_of] == row.entity_key
        assert order[row.duplicate_of] < order[(file.path, sheet.name, number)]


def test_canonical_records_are_valid(inbox):
    _, truth = inbox
    for file in truth.files:
        for sheet in file.sheets:
            for row in sheet.rows.values():
                if row.kind != "record":
                    continue
                record = row.record
                for key in [k for k in record if k.endswith(("_on", "_date")) and record[k]]:
                    earliest = dt.date(2021, 11, 1) if key == "updated_on" else dt.date(2021, 12, 1)  # stale ones
                    assert earliest <= record[key] <= file.submitted_at.date() or key == "birth_date"
                if sheet.dataset == "volunteers":
                    assert re.fullmatch(r"0[689]\d{8}", record["phone"]) and record["affiliation"].endswith("(moicovid)")
                if sheet.dataset == "unvaccinated" and record["person_id"]:
                    number = record["person_id"]
                    if number.isdigit():
                        assert len(number) == 13 and pin.calc_check_digit(number[:12]) == number[12]
                        assert (number[0] in "12345") == (record["nationality"] in ("ไทย", None))  # blank: not stated
                    else:
                        assert re.fullmatch(r"[A-Z]{2}\d{7}", number) and record["nationality"] != "ไทย"
                if sheet.dataset == "unvaccinated" and not record["person_id"]:
                    assert record["birth_date"] and record["last_name"] and record["moo"]
                if sheet.dataset == "help_requests" and record["status"] == "ดำเนินการแล้ว":
                    assert record["resolved_on"] >= record["requested_on"]
                assert record["subdistrict"][:4] == record["district"]


def test_entities_and_reference_agree(tmp_path):
    truth = build_inbox(
        tmp_path, seed=7, weeks=WEEKS, districts=DISTRICTS, sizes=SMALL,
        mode={"5401": "resend", "5403": "new_only", "5404": "resend", "5406": "new_only"},
        late_districts={WEEKS[1]: {"5403"}}, missing_districts={WEEKS[0]: {"5406"}},
        after_cutoff_districts={WEEKS[0]: {"5404"}}, drifts=Drifts(replaced_files=False, removed_files=False),
        unusable_districts={WEEKS[1]: {"5401"}},
    )
    report = expected_report(truth, WEEKS[-1])
    for dataset, table in truth.entities.items():
        counted = table[table.first_submitted_at <= cutoff_of(WEEKS[-1])]
        assert report["totals"][dataset]["total"] == len(counted)
        for code, block in report["districts"].items():
            assert block[dataset]["total"] == int((counted.counted_district == code).sum())
    first = expected_report(truth, WEEKS[0])
    for dataset in ("volunteers", "unvaccinated", "help_requests"):  # every entity is new exactly once
        assert first["totals"][dataset]["new"] + report["totals"][dataset]["new"] == report["totals"][dataset]["total"]
        for week, week_report in zip(WEEKS, (first, report)):
            table = truth.entities[dataset]
            assert week_report["totals"][dataset]["new"] == int((table.first_week == week).sum())
    assert first["districts"]["5406"]["submission"]["status"] == "missing"
    assert first["districts"]["5404"]["submission"]["status"] == "missing"  # its file came after the cut-off
    assert report["districts"]["5404"]["submission"]["files"] >= 2
    assert report["districts"]["5403"]["submission"]["status"] == "late"
    assert report["districts"]["5401"]["submission"]["status"] == "unusable"
    for block in ("volunteers", "unvaccinated", "facilities", "help_requests"):
        for key, value in report["totals"][block].items():
            if isinstance(value, int):
                assert value == sum(d[block][key] for d in report["districts"].values())
    submission = report["totals"]["submission"]
    assert submission["rows_read"] == sum(submission[k] for k in ("accepted", "updated", "rejected", "duplicates",
                                                                   "skipped"))
    assert submission["on_time"] + submission["late"] + submission["unusable"] + submission["missing"] == 8


def test_resend_and_new_only_give_the_same_figures(tmp_path):
    reports = []
    for mode in ("resend", "new_only"):
        truth = build_inbox(tmp_path / mode, seed=11, weeks=WEEKS, districts=["5405", "5407"], sizes=SMALL,
                            mode=mode, problems=Problems.none(), formats=["csv"], junk_files=False, drifts=SAME_LISTS)
        reports.append([expected_report(truth, week) for week in WEEKS])
    for resend, new_only in zip(*reports):
        for block in ("volunteers", "unvaccinated", "facilities", "help_requests"):
            assert resend["totals"][block] == new_only["totals"][block]
        assert resend["totals"]["submission"]["rows_read"] >= new_only["totals"]["submission"]["rows_read"]


def test_same_seed_same_inbox(tmp_path):
    tables = []
    for name in ("a", "b"):
        truth = build_inbox(tmp_path / name, seed=5, weeks=WEEKS, districts=["5408"], sizes=SMALL)
        tables.append(truth.row_table().astype(str))
    pd.testing.assert_frame_equal(*tables)


# -- the sample command ------------------------------------------------------------------------
def test_sample_command_writes_a_small_messy_inbox(tmp_path):
    target = tmp_path / "inputs"
    result = subprocess.run([sys.executable, "-m", "pipeline.synthetic", "sample", str(target)],
                            cwd=PROJECT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    files = [p for p in target.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= 1_000_000
    folders = [p for p in target.iterdir() if p.is_dir()]
    assert len(folders) == 6
    data = [p for p in files if not p.name.startswith(("~$", "."))]
    assert {p.suffix for p in data} == {".xlsx", ".csv", ".ods"}
    assert all(1 <= sum(1 for p in data if folder in p.parents) <= 3 for folder in folders)
    now = dt.datetime.now().timestamp()
    assert all(abs(p.stat().st_mtime - now) < 120 for p in data)


# -- the drifts of clerks' own habits and of an inbox over time ------------------------------------
def test_hinted_headers_come_in_several_forms_and_only_over_columns_that_fit(inbox, cells):
    _, truth = inbox
    hinted = [(file, sheet, key, text) for file, sheet, _ in all_sheets(truth, cells) for key, text in sheet.hinted.items()]
    texts = [text for *_, text in hinted]
    assert any(re.match(r"\s*\d+[.)]", t) for t in texts) and any(re.match(r"\s*[๐-๙]+\.", t) for t in texts)
    assert any("(ว" in t or "(dd" in t for t in texts) and any(re.search(r"\([A-Z][a-z]", t) for t in texts)
    assert any(t.rstrip().endswith(":") for t in texts) and any("(เลือก)" in t or "(ระบุ)" in t for t in texts)
    rows = truth.row_table()
    for file, sheet, key, _ in hinted:  # never over a column with an injected cell: all its cells fit the field
        injected = set(rows[(rows.file == file.path) & (rows.sheet == sheet.name)].injection.dropna())
        assert key != "person_id" or not injected & {"person_id_check_digit", "person_id_12_digits"}
        assert key != "moo" or not injected & {"person_moo_45", "request_moo_45"}


def test_everyday_spellings_and_not_stated_values_are_written(inbox, cells):
    _, truth = inbox
    written = Counter()
    for file, sheet, grid in all_sheets(truth, cells):
        for key in [k for k in ("wants_vaccine", "nationality", "reason") if k in sheet.columns]:
            for number, row in sheet.rows.items():
                if row.kind == "record":
                    value = grid[number - 1][column(sheet, key)]
                    written["short"] += value == "ไม่" and row.record[key] == "ไม่ประสงค์"
                    written["spaced"] += isinstance(value, str) and " " in value and " " not in row.record[key] \
                        if row.record[key] else 0
                    written[f"blank {key}"] += value is None and row.record[key] is None
    assert written["short"] and written["spaced"], written
    assert written["blank wants_vaccine"] and written["blank nationality"] and written["blank reason"], written


def test_truth_knows_stale_facilities_unusable_weeks_and_corrections(inbox):
    root, truth = inbox
    report = expected_report(truth, WEEKS[1])
    assert report["totals"]["facilities"]["stale"] >= 1
    assert any(r.record["updated_on"] < dt.date(2021, 12, 1) for f in truth.files for s in f.sheets
               if s.dataset == "facilities" for r in s.rows.values() if r.kind == "record")
    assert report["districts"]["5401"]["submission"]["status"] == "unusable"
    assert report["districts"]["5401"]["submission"]["rows_read"] == 0
    unusable = [f for f in truth.files if not f.usable]
    assert unusable and all(f.timing == "unusable" and not any(s.dataset for s in f.sheets) for f in unusable)
    rows = truth.row_table()
    corrections = rows[rows.source == "correction"]
    assert set(corrections.outcome) == {"updated"}
    changed = {field for f in truth.files for s in f.sheets for r in s.rows.values() if r.source == "correction"
               for field in r.changed}
    assert {"status", "resolved_on"} <= changed or "updated_on" in changed


def test_a_missing_reported_column_makes_its_figures_incomplete(tmp_path):
    truth = build_inbox(tmp_path, seed=4, weeks=WEEKS, districts=["5402", "5405"], sizes=SMALL, mode="new_only",
                        formats=["xlsx"], junk_files=False)
    lacking = [(f, s) for f in truth.files for s in f.sheets
               if s.dataset == "unvaccinated" and {"wants_vaccine", "reason"} - set(s.columns)]
    assert lacking
    for file, sheet in lacking:
        assert file.week == WEEKS[1]
        dropped = {"wants_vaccine", "reason"} - set(sheet.columns)
        assert all(r.record[k] is None for r in sheet.rows.values() if r.kind == "record" for k in dropped)
        header = openpyxl.load_workbook(tmp_path / file.path)[sheet.name][sheet.header_row]
        assert len([c for c in header if c.value is not None]) == len(sheet.columns)
        incomplete = expected_report(truth, WEEKS[1])["districts"][file.district]["incomplete"]
        if "wants_vaccine" in dropped:
            assert {"unvaccinated.wants_vaccine", "unvaccinated.wants_vaccine_unknown"} <= set(incomplete)
        if "reason" in dropped:
            assert "unvaccinated.by_reason" in incomplete
        assert expected_report(truth, WEEKS[0])["districts"][file.district]["incomplete"] == []


def test_a_file_saved_again_or_deleted_counts_only_as_it_stands(tmp_path):
    truth = build_inbox(tmp_path, seed=9, weeks=WEEKS, districts=["5401", "5402", "5403"], sizes=SMALL,
                        mode={"5402": "new_only"}, problems=Problems.none(), unusable_districts={})
    replace = next(c for c in truth.changes if c.kind == "replace")
    remove = next(c for c in truth.changes if c.kind == "remove")
    assert all(c.seen_at == truth.run_at[WEEKS[1]] and truth.run_at[WEEKS[0]] < c.at <= c.seen_at for c in truth.changes)
    before = {path: (tmp_path / path).read_bytes() for path in (replace.path, remove.path)}
    assert apply_changes(truth, truth.run_at[WEEKS[0]]) == []
    assert {c.path for c in apply_changes(truth, truth.run_at[WEEKS[1]])} == {replace.path, remove.path}
    assert not (tmp_path / remove.path).exists()
    assert (tmp_path / replace.path).read_bytes() != before[replace.path]
    assert os.stat(tmp_path / replace.path).st_mtime == pytest.approx(replace.at.timestamp())
    versions = [f for f in truth.files if f.path == replace.path]
    assert [f.revision for f in versions] == [0, 1] and versions[1].submitted_at == replace.at
    # The oracle: week 1 counts the first versions; week 2 the new version only and nothing of the deleted file.
    def keys(files):
        return {(s.dataset, r.entity_key) for f in files for s in f.sheets for r in s.rows.values() if r.kind == "record"}
    elsewhere = keys(f for f in truth.files if f.path not in (replace.path, remove.path))
    gone = (keys([versions[0]]) - keys([versions[1]])) | keys([truth.file(remove.path)])
    gone -= elsewhere
    first, second = (expected_report(truth, week) for week in WEEKS)
    total = sum(second["totals"][d]["total"] for d in DATASETS)
    everything = len(keys(truth.files))
    assert gone and total == everything - len(gone)
    assert sum(first["totals"][d]["total"] for d in DATASETS) == len(keys(f for f in truth.files if f.week == WEEKS[0]))
