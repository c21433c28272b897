"""People counted once: fuzzy duplicates merged, unsure pairs reviewed, the office's answers kept."""
from __future__ import annotations

import json

import openpyxl

from pipeline.run import run_weekly
from tests.builders import headers, set_mtime, write_xlsx
from tests.conftest import PROJECT, bangkok

WEEK1, WEEK2 = "2021-12-24", "2021-12-31"


def person(first: str, last: str, born: str, house: str, moo: int, title: str = "นาย") -> list:
    """An unvaccinated person in ร้องกวาง with no ID (so only the fuzzy linker can tell who is who)."""
    return ["", title, first, last, "ชาย", born, "ไทย", house, moo, "ร้องกวาง", "ร้องกวาง", "", "ไม่มีเวลา",
            "ประสงค์", "20/12/2564", "อาสา"]


def build(inbox):
    """Two surveyors report the same villagers in different ways; one pair is for a person to judge."""
    first = [person("สมชาย", "ใจดี", "1/1/2523", "12", 3), person("มานี", "มีนา", "5/5/2530", "7", 4),
             person("ปิติ", "ชูใจ", "2/2/2520", "9", 3)]
    second = [person("สมชาย", "ใจดี", "1/1/2523", "๑๒", 3, "นาย "),       # same man: Thai-digit house number
              person("มานี", "มีนา", "5/5/2530", "7", 4, "น.ส."),          # same woman: another title
              person("ปิติ", "ชูใจ", "2/2/2520", "9", 5)]                  # same name and birthday, other หมู่
    write_xlsx(inbox / "ร้องกวาง" / "อสม.xlsx", {"ผู้ยังไม่ได้รับวัคซีน": [headers("unvaccinated"), *first]},
               bangkok(2021, 12, 23, 9))
    write_xlsx(inbox / "ร้องกวาง" / "ผู้ใหญ่บ้าน.xlsx", {"ผู้ยังไม่ได้รับวัคซีน": [headers("unvaccinated"), *second]},
               bangkok(2021, 12, 24, 9))


def unvaccinated(outputs, week) -> dict:
    """The unvaccinated block of ร้องกวาง in a week's report.json."""
    report = json.loads((outputs / week / "report.json").read_text(encoding="utf-8"))
    return report["districts"]["5402"]["unvaccinated"]


def review_rows(path) -> list[tuple]:
    """Rows of the possible-duplicates sheet below its header."""
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row and row[0] == "ผลการตรวจ")
    return rows[start + 1:]


def test_fuzzy_duplicates_count_once_and_an_answer_sticks(tmp_path):
    build(tmp_path / "inbox")
    run = lambda week: run_weekly(PROJECT / "config.yaml", tmp_path / "inbox", tmp_path / "out", week,  # noqa: E731
                                  progress=lambda message: None)
    run(WEEK1)
    assert unvaccinated(tmp_path / "out", WEEK1)["total"] == 4     # สมชาย and มานี merged; ปิติ unsure
    review = tmp_path / "out" / WEEK1 / f"possible_duplicates_{WEEK1}.xlsx"
    pairs = review_rows(review)
    assert len(pairs) == 1 and "ปิติ" in pairs[0]

    book = openpyxl.load_workbook(review)
    sheet = book.active
    header_row = next(r for r in range(1, 20) if sheet.cell(r, 1).value == "ผลการตรวจ")
    sheet.cell(header_row + 1, 1).value = "คนเดียวกัน"
    book.save(review)
    set_mtime(review, bangkok(2021, 12, 28, 9))                     # answered between the two cut-offs

    run(WEEK2)
    assert unvaccinated(tmp_path / "out", WEEK2)["total"] == 3     # the answer merged ปิติ
    original = (tmp_path / "out" / WEEK1 / "report.json").read_bytes()
    run(WEEK1)                                                     # week 1 still reproduces exactly
    assert (tmp_path / "out" / WEEK1 / "report.json").read_bytes() == original
    assert unvaccinated(tmp_path / "out", WEEK1)["total"] == 4
    run(WEEK2)
    assert unvaccinated(tmp_path / "out", WEEK2)["total"] == 3     # the answer stuck after its file was rewritten
