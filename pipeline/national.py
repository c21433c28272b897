"""The national roll-up for the Ministry of Interior: the provinces' report.json merged into one workbook."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.core import messages
from pipeline.core.atomic import atomic_path
from pipeline.core.paths import national_files
from pipeline.core.errors import ConfigError
from pipeline.core.schema import Schema, load_schema
from pipeline.core.screen import visible
from pipeline.outputs import style
from pipeline.outputs.columns import figure_columns, figure_value, scoped_path
from pipeline.outputs.province import report_json_text
from pipeline.thai import gazetteer
from pipeline.thai.dates import thai_datetime
from pipeline.week.figures import add_blocks
from pipeline.week.history import incomplete_list, is_incomplete
from pipeline.week.report import BLOCKS

TITLE = "รายงานผลการดำเนินงานแพลตฟอร์ม Jitasa.care ระดับประเทศ (กระทรวงมหาดไทย)"
TOTAL_LABEL = "รวมทั้งประเทศ"
SUMMARY_SHEET, TIMELINESS_SHEET = "สรุประดับประเทศ", "ความตรงเวลา"
TOTAL_BLOCKS = [*BLOCKS, "submission"]
REPORT_MARKS = {"province_code", "districts"}  # a JSON object with either is meant as a province report
STATUSES = ("on_time", "late", "unusable", "missing")
# key -> (Thai header, path in a totals dict); rates are computed from the submission counts
FIGURES = {
    "districts": ("จำนวนอำเภอ", ("submission", "districts")),
    "on_time": ("ส่งตรงเวลา", ("submission", "on_time")),
    "late": ("ส่งช้า", ("submission", "late")),
    "unusable": ("ส่งแล้วแต่ใช้ไม่ได้", ("submission", "unusable")),
    "missing": ("ไม่ส่ง", ("submission", "missing")),
    "files": ("จำนวนไฟล์", ("submission", "files")),
    "volunteers": ("อาสาสมัคร (สะสม)", ("volunteers", "total")),
    "volunteers_new": ("อาสาสมัคร (ใหม่)", ("volunteers", "new")),
    "unvaccinated": ("ผู้ยังไม่ได้รับวัคซีน (สะสม)", ("unvaccinated", "total")),
    "unvaccinated_new": ("ผู้ยังไม่ได้รับวัคซีน (ใหม่)", ("unvaccinated", "new")),
    "wants_vaccine": ("ประสงค์รับวัคซีน", ("unvaccinated", "wants_vaccine")),
    "wants_vaccine_unknown": ("ไม่ระบุความประสงค์", ("unvaccinated", "wants_vaccine_unknown")),
    "nationality_unknown": ("ไม่ระบุสัญชาติ", ("unvaccinated", "nationality_unknown")),
    "facilities": ("สถานที่", ("facilities", "total")),
    "facilities_stale": ("สถานที่ไม่ได้ปรับปรุง", ("facilities", "stale")),
    "help_requests": ("คำขอช่วยเหลือ (สะสม)", ("help_requests", "total")),
    "help_requests_new": ("คำขอช่วยเหลือ (ใหม่)", ("help_requests", "new")),
    "help_requests_open": ("คำขอยังไม่แล้วเสร็จ", ("help_requests", "open")),
    "rejected": ("แถวที่ไม่รับ", ("submission", "rejected")),
    "updated": ("แถวที่แก้ไขข้อมูลเดิม", ("submission", "updated")),
}
RATES = {"on_time_rate": "ร้อยละส่งตรงเวลา", "sent_rate": "ร้อยละที่ส่ง"}
SUMMARY = ["districts", "on_time_rate", "volunteers", "volunteers_new", "unvaccinated", "unvaccinated_new",
           "nationality_unknown", "wants_vaccine", "wants_vaccine_unknown", "facilities", "facilities_stale",
           "help_requests", "help_requests_new", "help_requests_open", "rejected", "updated"]
TIMELINESS = ["districts", "on_time", "late", "unusable", "missing", "on_time_rate", "sent_rate", "files"]
HEADER_FILLS = {FIGURES[status][0]: style.STATUS_FILLS[status] for status in STATUSES}


class NationalError(ConfigError):
    """The roll-up cannot be made; the message is one line for the user."""


class RefusedReport(NationalError):
    """One province's file is left out of the roll-up (the message says why); the other provinces go on."""


@dataclass(frozen=True)
class Look:
    """The workbook look where there is no province config: the office defaults."""

    font: str = "TH Sarabun New"
    font_size: int = 16
    date_digits: str = "thai"


def summary_row(totals: dict) -> dict:
    """The national table's figures of one totals dict (a province's or the nation's); a figure listed in its
    `incomplete` is a style.Marked number; keys reports gained later read 0 in a report made before."""
    row = {key: _figure(totals, path) for key, (_, path) in FIGURES.items()}
    whole = row["districts"]
    row["on_time_rate"] = row["on_time"] / whole if whole else 0.0   # submission counts are never Marked
    row["sent_rate"] = (row["on_time"] + row["late"]) / whole if whole else 0.0   # unusable is not sent
    return row


def _marked(value, incomplete: bool):
    return style.Marked(value) if incomplete else value


def _figure(totals: dict, path: tuple[str, ...]):
    """A figure of a province's (or the nation's) totals, Marked when listed incomplete there."""
    return _marked(figure_value(totals, path), is_incomplete(incomplete_list(totals), path))


def _bad_figure(block: dict, path: str) -> str | None:
    """The path of the first figure that is not a whole number >= 0, or None."""
    for key, value in block.items():
        found = _bad_figure(value, f"{path}.{key}") if isinstance(value, dict) \
            else None if type(value) is int and value >= 0 else f"{path}.{key}"
        if found:
            return found
    return None


def _scoped(block: dict, scope: str) -> dict:
    """A figures block as the cumulative table reads it, or as the new-this-week table does."""
    return block if scope == "total" else {**block["this_week"], "total": block["new"]}


def check_report(name: str, report, schema: Schema) -> dict:
    """One province's report.json checked for the roll-up; a NationalError naming the file otherwise."""
    def refuse(reason: str):
        raise NationalError(f"{name} is not a valid report.json: {reason}")
    if not isinstance(report, dict):
        refuse("not a JSON object")
    absent = [key for key in ("province_code", "week", "districts", "totals") if key not in report]
    if absent:
        refuse(f"no {', '.join(absent)}")
    if not isinstance(report["province_code"], str) or report["province_code"] not in gazetteer.province_names():
        raise NationalError(f"{name}: unknown province code {report['province_code']!r}")
    try:
        dt.date.fromisoformat(report["week"])
    except (TypeError, ValueError):
        refuse(f"week {report['week']!r} is not a date like 2021-12-24")
    totals, districts = report["totals"], report["districts"]
    if not isinstance(totals, dict) or not isinstance(districts, dict) \
            or not all(isinstance(totals.get(block), dict) for block in TOTAL_BLOCKS):
        refuse(f"totals must hold the blocks {', '.join(TOTAL_BLOCKS)}")
    bad = next(filter(None, (_bad_figure(totals[block], f"totals.{block}") for block in TOTAL_BLOCKS)), None)
    if bad:
        refuse(f"{bad} is not a whole number >= 0")
    if not isinstance(totals.get("incomplete", []), list):
        refuse("totals.incomplete must be a list of figure paths")
    try:
        summary_row(totals)
        for dataset in BLOCKS:
            for _, path in figure_columns(dataset, schema, 14):
                figure_value(totals[dataset], path), figure_value(_scoped(totals[dataset], "this_week"), path)
        sums = {dataset: add_blocks([district[dataset] for district in districts.values()]) for dataset in BLOCKS}
    except (KeyError, TypeError, AttributeError) as error:
        refuse(f"figure {error} is missing or malformed")
    foreign = [code for code in districts if code not in gazetteer.districts_of(report["province_code"])]
    if foreign:
        code = report["province_code"]
        raise RefusedReport(messages.text("national_foreign_districts", name=name, code=code,
                                          province=gazetteer.province_names()[code], districts=", ".join(foreign)))
    wrong = [dataset for dataset in BLOCKS if sums[dataset] != totals[dataset]]
    # Reports made before `unusable` existed have none: the statuses then add up without it.
    if wrong or sum(totals["submission"].get(status, 0) for status in STATUSES) != totals["submission"]["districts"]:
        refuse(f"totals.{(wrong or ['submission'])[0]} do not add up")
    return report


def check_reports(named: list[tuple[str, object]], week: str | None = None, refused: list[str] | None = None) -> list[dict]:
    """(name, parsed JSON) pairs checked: one week, each province once; reports in province-code order.

    A report whose districts are not its province's is left out and its one line appended to `refused` (the
    roll-up goes on with the others; a NationalError when `refused` is None or nothing is left); any other
    fault stops the roll-up, as a file that cannot be trusted at all may hide a mistake in the collection.
    """
    if not named:
        raise NationalError("no province report.json found")
    schema = load_schema()
    checked = []
    for name, report in named:
        try:
            checked.append((name, check_report(name, report, schema)))
        except RefusedReport as error:
            if refused is None:
                raise
            refused.append(str(error))
    if not checked:
        raise NationalError(refused.pop())
    first_name, first = checked[0]
    for name, report in checked:
        if week and report["week"] != week:
            raise NationalError(f"{name} is the report of week {report['week']}, not {week}")
        if report["week"] != first["week"]:
            raise NationalError(f"mixed weeks: {first_name} is week {first['week']} but {name} is {report['week']}")
    seen: dict[str, str] = {}
    for name, report in checked:
        code = report["province_code"]
        if code in seen:
            province = gazetteer.province_names()[code]
            raise NationalError(f"province {code} {province} is sent twice: {seen[code]} and {name}")
        seen[code] = name
    return [report for _, report in sorted(checked, key=lambda item: item[1]["province_code"])]


def national_totals(reports: list[dict]) -> dict:
    """The nation's totals: the provinces' totals summed block by block and key by key; `incomplete` is the
    union of the provinces' (a key some reports lack sums as 0)."""
    totals = {block: add_blocks([report["totals"][block] for report in reports]) for block in TOTAL_BLOCKS}
    totals["incomplete"] = sorted({path for report in reports for path in incomplete_list(report["totals"])})
    return totals


def national_table(reports: list[dict]) -> pd.DataFrame:
    """A row per province (code order): timeliness and headline figures."""
    names = gazetteer.province_names()
    return pd.DataFrame([{"province_code": report["province_code"], "province": names[report["province_code"]],
                          **summary_row(report["totals"])} for report in reports])


def national_document(reports: list[dict], week: str, refused: list[str] = ()) -> dict:
    """national_<week>.json: the provinces' totals, the nation's, who has not reported, and the files left out."""
    names = gazetteer.province_names()
    provinces = {report["province_code"]: {"name": names[report["province_code"]], **report["totals"]}
                 for report in reports}
    return {"kind": "national", "week": week, "provinces": provinces, "totals": national_totals(reports),
            "not_reported": [code for code in names if code not in provinces], "refused": list(refused)}


def find_report_files(inputs: Path) -> list[Path]:
    """Every .json file under the folder, in path order; hidden, lock and temporary files skipped."""
    return sorted(path for path in inputs.rglob("*") if path.suffix.lower() == ".json" and path.is_file()
                  and not any(part.startswith((".", "~$")) for part in path.relative_to(inputs).parts))


def read_reports(paths: list[Path]) -> list[tuple[str, object]]:
    """(path, parsed JSON) of each file meant as a province report; a file that is not JSON is refused."""
    found = []
    for path in paths:
        try:
            content = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise NationalError(f"{path} is not a valid report.json: {error}") from None
        if path.name == "report.json" or (isinstance(content, dict) and REPORT_MARKS & content.keys()):
            found.append((str(path), content))
    return found


def _row_cells(sheet, book, look: Look, row: int, values: list, is_total: bool) -> bool:
    """A table row; returns whether it holds a figure marked incomplete."""
    extra = {"bold": True, "bg_color": style.TOTAL_FILL} if is_total else {}
    marked = False
    for column, value in enumerate(values):
        if isinstance(value, style.Marked):
            marked = True
            sheet.write_number(row, column, value.value, style.marked_fmt(book, look, load_schema(), border=1, **extra))
        elif isinstance(value, str):
            sheet.write_string(row, column, style.text(value), style.fmt(book, look, border=1, **extra))
        else:
            number = {"num_format": "0.0%" if isinstance(value, float) else "#,##0"}
            sheet.write_number(row, column, value, style.fmt(book, look, border=1, **number, **extra))
    return marked


def _header_height(headers: list[str], look: Look) -> float:
    """Tall enough for the longest header wrapped at about 8 letters a line (Thai marks take no width)."""
    letters = max(sum(unicodedata.category(c) != "Mn" for c in header) for header in headers)
    return look.font_size * (1.5 * max(2, -(-letters // 8)) + 0.6)


def _sheet(book, look: Look, name: str, heading: list[str], tables: list[tuple], note: str = "") -> None:
    """A sheet of stacked (caption, headers, rows) tables, each ending with its total row; a note below."""
    sheet = book.add_worksheet(name[:31])
    style._page_setup(sheet, look)
    width = 2 + max(len(headers) for _, headers, _ in tables)
    sheet.merge_range(0, 0, 0, width - 1, heading[0], style.fmt(book, look, bold=True, font_size=look.font_size + 4))
    sheet.merge_range(1, 0, 1, width - 1, heading[1], style.fmt(book, look, italic=True))
    row, frozen, marked = 3, None, False
    for caption, headers, rows in tables:
        if caption:
            sheet.write_string(row, 0, caption, style.fmt(book, look, bold=True, font_size=look.font_size + 2))
            sheet.set_row(row, look.font_size * 2)
            row += 1
        frozen = row if frozen is None else frozen
        for column, title in enumerate(["รหัสจังหวัด", "จังหวัด", *headers]):
            sheet.write_string(row, column, title, style.fmt(
                book, look, bold=True, border=1, text_wrap=True, align="center", valign="vcenter",
                bg_color=HEADER_FILLS.get(title, style.HEADER_FILL)))
        sheet.set_row(row, _header_height(headers, look))
        for index, values in enumerate(rows, start=1):
            marked |= _row_cells(sheet, book, look, row + index, values, index == len(rows))
        row += len(rows) + 2
    if marked:
        style.incomplete_legend(sheet, 2, book, look, load_schema())
    if note:
        sheet.merge_range(row, 0, row, width - 1, note, style.fmt(book, look, text_wrap=True))
        sheet.set_row(row, look.font_size * 1.5 * (1 + len(note) // (width * 9)))
    sheet.set_column(0, 0, 9)
    sheet.set_column(1, 1, 18)
    sheet.set_column(2, width - 1, 12)
    sheet.repeat_rows(frozen)
    sheet.freeze_panes(frozen + 1, 2)


def _write_workbook(path: Path, reports: list[dict], week: str, look: Look = Look()) -> None:
    schema, names = load_schema(), gazetteer.province_names()
    cutoff = dt.datetime.fromisoformat(reports[0].get("cutoff") or f"{week}T16:00:00+07:00")
    book = style.new_workbook(path, look, created=cutoff)   # the week's moment, not the run's: reruns are identical
    heading = [TITLE, f"สัปดาห์ที่สิ้นสุดวันศุกร์ที่ {thai_datetime(cutoff, look.date_digits)}"]
    table, total = national_table(reports), summary_row(national_totals(reports))
    headers = {**{key: header for key, (header, _) in FIGURES.items()}, **RATES}

    def rows_of(keys: list[str]) -> list[list]:
        provinces = [[row["province_code"], row["province"], *[row[key] for key in keys]]
                     for row in table.to_dict("records")]
        return [*provinces, ["", TOTAL_LABEL, *[total[key] for key in keys]]]
    missing = [name for code, name in names.items() if code not in set(table["province_code"])]
    note = f"ส่งรายงานแล้ว {len(reports)} จาก {len(names)} จังหวัด" + (
        f" · ยังไม่ส่ง ({len(missing)}): {', '.join(missing)}" if missing else "")
    _sheet(book, look, SUMMARY_SHEET, heading, [(None, [headers[k] for k in SUMMARY], rows_of(SUMMARY))], note)
    _sheet(book, look, TIMELINESS_SHEET, heading, [(None, [headers[k] for k in TIMELINESS], rows_of(TIMELINESS))])
    nation = {"province_code": "", "province": TOTAL_LABEL, "totals": national_totals(reports)}
    for dataset in BLOCKS:
        columns = figure_columns(dataset, schema, reports[0].get("stale_days", 14))
        tables = [(schema.label(label), [title for title, _ in columns],
                   [[item["province_code"], names.get(item["province_code"], TOTAL_LABEL),
                     *[_figure(item["totals"], (dataset, *scoped_path(path, scope))) for _, path in columns]]
                    for item in [*reports, nation]])
                  for scope, label in (("total", "cumulative_table"), ("this_week", "new_table"))]
        _sheet(book, look, schema.datasets[dataset].title, heading, tables)
    book.close()


def write_national(reports: list[dict], outputs_dir: Path, week: str, refused: list[str] = ()) -> Path:
    """Write national_<week>.json and national_<week>.xlsx into the outputs folder; returns the workbook."""
    target, summary = national_files(outputs_dir, week)
    with atomic_path(summary) as path:
        path.write_text(report_json_text(national_document(reports, week, refused)), encoding="utf-8")
    with atomic_path(target) as path:
        _write_workbook(path, reports, week)
    return target


def _week_argument(text: str | None) -> str | None:
    try:
        friday = text is None or dt.date.fromisoformat(text).weekday() == 4
    except ValueError:
        friday = False
    if not friday:
        raise NationalError(f"week {text!r} is not a Friday like 2021-12-24 (a week is named by its Friday)")
    return text


def main_national(arguments: argparse.Namespace) -> int:
    """The `national` command: find, check and merge the reports; one line on stderr and exit 2 if refused."""
    def error_line(text: str) -> str:
        return visible(f"{messages.text('error_prefix')} {' '.join(str(text).split())}")
    refused: list[str] = []
    try:
        week = _week_argument(arguments.week)
        if not Path(arguments.inputs).is_dir():
            raise NationalError(messages.text("national_inputs_missing", path=Path(arguments.inputs).absolute()))
        reports = check_reports(read_reports(find_report_files(Path(arguments.inputs))), week, refused)
        path = write_national(reports, Path(arguments.outputs), reports[0]["week"], refused)
    except NationalError as error:
        for line in [*refused, str(error)]:
            print(error_line(line), file=sys.stderr)
        return 2
    for line in refused:   # left out, the rest rolled up: said, yet the roll-up is made
        print(error_line(line), file=sys.stderr)
    print(visible(f"national {reports[0]['week']}: {len(reports)} provinces -> {path}"))
    return 0
