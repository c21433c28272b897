"""The possible-duplicates workbook the office answers, and its answers kept in the store."""
from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pandas as pd

from pipeline.core.config import Config
from pipeline.core.schema import load_schema
from pipeline.core.weeks import utc_text
from pipeline.linkage.people import DECISION_COLUMNS, DIFFERENT, SAME
from pipeline.outputs import style
from pipeline.thai import gazetteer

SHEET = "ตรวจสอบคนซ้ำ"
FILE_PATTERN = "possible_duplicates_*.xlsx"
ANSWERS = {"คนเดียวกัน": SAME, "คนละคน": DIFFERENT}
SIDE_FIELDS = [("source_file", "ไฟล์"), ("sheet", "แผ่นงาน"), ("excel_row", "แถว"), ("person_id", "เลขประจำตัว"),
               ("title", "คำนำหน้า"), ("first_name", "ชื่อ"), ("last_name", "นามสกุล"), ("birth_date", "วันเกิด"),
               ("age", "อายุ"), ("house_no", "บ้านเลขที่"), ("moo", "หมู่"), ("subdistrict_code", "ตำบล"),
               ("district_code", "อำเภอ")]


def evidence_in_thai(evidence: str) -> str:
    """'first=close last=exact' -> 'ชื่อ คล้ายกัน · นามสกุล ตรงกัน' (wording.yaml link_evidence)."""
    words = load_schema().wording["link_evidence"]
    parts = [item.split("=", 1) for item in str(evidence or "").split() if "=" in item]
    return " · ".join(f"{words['fields'].get(f, f)} {words['levels'].get(level, level)}" for f, level in parts)


def _place_name(code) -> str:
    if not isinstance(code, str) or not code:
        return ""
    names = gazetteer.subdistricts_of(code[:4]) if len(code) == 6 else gazetteer.districts_of(code[:2])
    return names.get(code, code)


def write_review_workbook(path: Path, review: pd.DataFrame, report: dict, config: Config) -> None:
    """One row per pair to confirm: both records side by side, a drop-down answer, hidden record keys."""
    book = style.new_workbook(path, config, created=style.week_cutoff(report, config))
    sheet = book.add_worksheet(SHEET)
    title = f"รายชื่อที่อาจเป็นคนเดียวกัน (ผู้ยังไม่ได้รับวัคซีน) จังหวัด{config.province_name}"
    top = style._heading(sheet, book, config, title, report, 12)
    note = ("เลือกในคอลัมน์ ผลการตรวจ ว่า คนเดียวกัน หรือ คนละคน แล้วบันทึกไฟล์นี้ไว้ที่เดิม "
            "ระบบจะอ่านคำตอบในการประมวลผลครั้งถัดไปและจำไว้")
    sheet.write_string(top, 0, note, style.fmt(book, config, bold=True))
    header = style.fmt(book, config, bold=True, bg_color=style.HEADER_FILL, border=1, text_wrap=True)
    columns = ["ผลการตรวจ", "คะแนน", "เหตุผล"] + [f"{label} ({side})" for side in "AB" for _, label in SIDE_FIELDS]
    columns += ["record_key_a", "record_key_b"]
    row = top + 2
    for offset, name in enumerate(columns):
        sheet.write_string(row, offset, name, header)
    body = style.fmt(book, config, border=1)
    for index, pair in enumerate(review.itertuples(index=False)):
        values = pair._asdict()
        answer = {SAME: "คนเดียวกัน", DIFFERENT: "คนละคน"}.get(values.get("decision", ""), "")
        cells = [answer, f"{values['score']:.2f}", evidence_in_thai(values.get("evidence"))]
        for side in "ab":
            for field, _ in SIDE_FIELDS:
                value = values.get(f"{field}_{side}")
                cells.append(_place_name(value) if field.endswith("_code") else style.text(value))
        cells += [values["record_key_a"], values["record_key_b"]]
        for offset, value in enumerate(cells):
            sheet.write_string(row + 1 + index, offset, style.text(value), body)
    if len(review):
        sheet.data_validation(row + 1, 0, row + len(review), 0, {"validate": "list", "source": list(ANSWERS)})
    sheet.set_column(0, 0, 14)
    sheet.set_column(2, 2, 40)
    sheet.set_column(3, len(columns) - 3, 14)
    sheet.set_column(len(columns) - 2, len(columns) - 1, 30, None, {"hidden": True})
    sheet.freeze_panes(row + 1, 1)
    book.close()


def answer_files(outputs_dir: Path) -> list[Path]:
    """Every week's possible-duplicates workbook, where the office types its answers."""
    return sorted(outputs_dir.glob(f"*/{FILE_PATTERN}"))


def read_answers(outputs_dir: Path) -> pd.DataFrame:
    """Answers typed into any week's possible-duplicates workbook, dated by when the file was saved."""
    frames = []
    for path in answer_files(outputs_dir):
        try:
            import openpyxl   # only when a review workbook exists: ~0.2 s to load on every start otherwise
            sheet = openpyxl.load_workbook(path, read_only=True, data_only=True)[SHEET]
        except Exception:  # a half-saved or foreign file: its answers are read next time
            continue
        saved = utc_text(dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.timezone.utc))
        rows = list(sheet.iter_rows(values_only=True))
        header_index = next((i for i, r in enumerate(rows) if r and r[0] == "ผลการตรวจ"), None)
        if header_index is None:
            continue
        header = list(rows[header_index])
        key_a, key_b = header.index("record_key_a"), header.index("record_key_b")
        for row in rows[header_index + 1:]:
            answer = ANSWERS.get(str(row[0]).strip()) if row and row[0] else None
            if answer and row[key_a] and row[key_b]:
                frames.append({"record_key_a": row[key_a], "record_key_b": row[key_b], "decision": answer,
                               "recorded_at": saved})
    return pd.DataFrame(frames, columns=DECISION_COLUMNS)


def save_answers(connection: sqlite3.Connection, answers: pd.DataFrame) -> None:
    """Keep new answers (an answer already kept keeps its first date, so history does not move)."""
    connection.execute("CREATE TABLE IF NOT EXISTS link_decisions (record_key_a, record_key_b, decision, recorded_at,"
                       " PRIMARY KEY (record_key_a, record_key_b, decision))")
    with connection:
        connection.executemany("INSERT OR IGNORE INTO link_decisions VALUES (?, ?, ?, ?)",
                               answers[DECISION_COLUMNS].itertuples(index=False, name=None))


def load_answers(connection: sqlite3.Connection) -> pd.DataFrame:
    """Every answer ever kept."""
    connection.execute("CREATE TABLE IF NOT EXISTS link_decisions (record_key_a, record_key_b, decision, recorded_at,"
                       " PRIMARY KEY (record_key_a, record_key_b, decision))")
    return pd.read_sql_query("SELECT * FROM link_decisions", connection, dtype=object)
