"""Tests for pipeline.thai.normalize: raw spreadsheet cells -> clean typed values."""

import datetime as dt
import random
import unicodedata
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from pythainlp.util import normalize as thai_normalize
from stdnum.th.pin import calc_check_digit

from pipeline.thai.normalize import (clean_text, match_key, parse_dates, parse_decimals, parse_person_ids,
                                     parse_phones, parse_whole_numbers, to_arabic_digits)

D = dt.date


def column(*cells) -> pd.Series:
    return pd.Series(list(cells), dtype=object)


def only_row(frame: pd.DataFrame) -> tuple:
    assert len(frame) == 1
    return next(frame.itertuples(index=False, name=None))


def with_check_digit(first_twelve: str) -> str:
    return first_twelve + calc_check_digit(first_twelve)


THAI_ID = with_check_digit("110170012345")
NON_THAI_ID = with_check_digit("012345678901")  # 0-prefixed: stdnum's validate() would reject it
WRONG_CHECK_ID = THAI_ID[:12] + str((int(THAI_ID[12]) + 1) % 10)
THAI_ID_DIGITS = THAI_ID.translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))


# --- to_arabic_digits / clean_text ------------------------------------------------------------


def test_to_arabic_digits():
    assert to_arabic_digits("๐๑๒๓๔๕๖๗๘๙ ม.๓") == "0123456789 ม.3"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("ค\u0e4d\u0e32", "คำ"),  # decomposed sara am (nikhahit + sara aa)
        ("น\u0e49\u0e4d\u0e32", "น้ำ"),  # decomposed, with the tone mark in between
        ("น้ำ", "น้ำ"),  # composed sara am stays one character
        ("ทำงาน", "ทำงาน"),
        ("เเม่", "แม่"),  # two sara e typed for sara ae
        ("ก\u0e48\u0e48า", "ก\u0e48า"),  # doubled tone mark
        ("สม\u200bชาย", "สมชาย"),  # ZWSP
        ("สม\u200dชาย\ufeff", "สมชาย"),  # ZWJ, BOM
        ("\u2060สม\u200cชาย\u200e", "สมชาย"),  # word joiner, ZWNJ, LRM
        ("\u202bสมชาย\u202c", "สมชาย"),  # bidi embedding
        ("สมชาย\u00a0ใจดี", "สมชาย ใจดี"),  # NBSP
        ("สมชาย\u2007\u202fใจดี", "สมชาย ใจดี"),  # figure space, narrow NBSP
        ("  สมชาย   ใจดี  ", "สมชาย ใจดี"),
        ("บ้านเลขที่\n12\tหมู่ 3\r\n", "บ้านเลขที่ 12 หมู่ 3"),
        ("a\x00b\x07c\x85d", "abc d"),  # C0 controls dropped; NEL is a line break
        ("หมู่ ๓", "หมู่ ๓"),  # Thai digits are kept in text
        ("Cafe\u0301", "Café"),  # NFC composes Latin accents
        (812345678.0, "812345678"),  # Excel float: no '.0'
        (12.5, "12.5"),
        (0.1, "0.1"),
        (-3.0, "-3"),
        (42, "42"),
        (np.int64(7), "7"),
        (True, "TRUE"),
        (False, "FALSE"),
        (D(2021, 12, 20), "2021-12-20"),
        (dt.datetime(2021, 12, 20, 8, 30), "2021-12-20T08:30:00"),
        (dt.time(8, 30, 5), "08:30:05"),
        (None, ""),
        (np.nan, ""),
        (float("nan"), ""),
        (pd.NA, ""),
        ("", ""),
        ("   ", ""),
        ("\u200b\ufeff\u200d", ""),
        ("\u00a0\t\n", ""),
    ],
)
def test_clean_text(cell, expected):
    assert clean_text(column(cell)).tolist() == [expected]


def test_clean_text_never_splits_sara_am():
    result = clean_text(column("น้ำ ทำ คำ", "ค\u0e4d\u0e32")).tolist()
    assert result == ["น้ำ ทำ คำ", "คำ"]
    assert all("\u0e4d" not in text and "\u0e33" in text for text in result)
    assert unicodedata.normalize("NFKC", "คำ") != "คำ"  # why NFKC must never be used


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ((True, 1.0, 1, False, 0.0, 0, True, "1"), ["TRUE", "1", "1", "FALSE", "0", "0", "TRUE", "1"]),
        ((1.0, True, None, 1.0), ["1", "TRUE", "", "1"]),
        ((1, True, 0, False), ["1", "TRUE", "0", "FALSE"]),
        ((np.True_, 1.0), ["TRUE", "1"]),
    ],
)
def test_clean_text_keeps_bools_apart_from_equal_numbers(cells, expected):
    # pandas hashes True, 1 and 1.0 as one key when finding unique values.
    assert clean_text(column(*cells)).tolist() == expected


def test_clean_text_matches_pythainlp_normalize_on_random_thai():
    # clean_text skips pythainlp's normalize on text it cannot change: check that shortcut.
    alphabet = "กขนมยรอ a" + "".join(map(chr, [*range(0x0E30, 0x0E3B), *range(0x0E40, 0x0E4F)]))
    generator = random.Random(20211220)
    samples = ["".join(generator.choices(alphabet, k=generator.randint(1, 10))) for _ in range(5000)]
    expected = [" ".join(unicodedata.normalize("NFC", thai_normalize(text)).split()) for text in samples]
    assert clean_text(pd.Series(samples, dtype=object)).tolist() == expected


def test_clean_text_output_is_object_str_series():
    result = clean_text(column("ก", None, 1.0))
    assert result.dtype == object
    assert result.tolist() == ["ก", "", "1"]


# --- match_key --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("อสม", "อสม."),
        ("ชื่อ *", "ชื่อ"),
        ("ชื่อ\nนามสกุล", "ชื่อ นามสกุล"),
        ("ชื่อ-นามสกุล", "ชื่อนามสกุล"),
        ("เบอร์โทร (มือถือ)", "เบอร์โทร มือถือ"),
        ("วันเกิด [วว/ดด/ปปปป]", "วันเกิด วว ดด ปปปป"),
        ("Phone Number:", "phone_number"),
        ("เลขบัตร\u200bประชาชน\u00a0", "เลขบัตรประชาชน"),
        ("ลำดับ ๑", "ลำดับ 1"),
        ('"อำเภอ"', "'อำเภอ'"),
        ("ค\u0e4d\u0e32นำหน้า", "คำนำหน้า"),
    ],
)
def test_match_key_equivalent(left, right):
    assert match_key(left) == match_key(right)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ข้าราชการ อปท.", "ข้าราชการอปท"),
        ("ชื่อ\nนามสกุล", "ชื่อนามสกุล"),
        ("อสม.", "อสม"),
        ("  Phone (Mobile) * ", "phonemobile"),
        ("กรุงเทพฯ", "กรุงเทพฯ"),  # ฯ is a letter-like sign, kept
        ("อายุ 60+", "อายุ60+"),
        ("คำ", "คำ"),  # sara am intact (no NFKC)
    ],
)
def test_match_key_values(text, expected):
    assert match_key(text) == expected


@pytest.mark.parametrize(("left", "right"), [("อสม", "อสส"), ("กรุงเทพฯ", "กรุงเทพ"), ("ชื่อ", "ชื่อ1")])
def test_match_key_keeps_different_words_apart(left, right):
    assert match_key(left) != match_key(right)


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("20/12/2564", D(2021, 12, 20)),
        ("01/10/2564", D(2021, 10, 1)),  # months 10-12: pythainlp's thai_strptime reads January
        ("15/11/2564", D(2021, 11, 15)),
        ("31/12/2564", D(2021, 12, 31)),
        ("1/10/64", D(2021, 10, 1)),
        ("2/1/65", D(2022, 1, 2)),
        ("20/12/21", D(2021, 12, 20)),  # 2-digit CE year
        ("1/1/43", D(2000, 1, 1)),  # 43 -> BE 2543
        ("1/1/42", D(2042, 1, 1)),  # 42 -> CE 2042
        ("20-12-2564", D(2021, 12, 20)),
        ("20.12.2564", D(2021, 12, 20)),
        ("20 / 12 / 2021", D(2021, 12, 20)),
        ("12/01/2021", D(2021, 1, 12)),  # day first, always
        ("29/02/2563", D(2020, 2, 29)),  # BE 2563 = 2020, a leap year
        ("2021-12-20", D(2021, 12, 20)),
        ("2021-12-20 10:30:00", D(2021, 12, 20)),
        ("2021-12-20T10:30:00", D(2021, 12, 20)),
        ("2564-12-20", D(2021, 12, 20)),
        ("20/12/2564 0:00", D(2021, 12, 20)),
        ("20 ธ.ค. 64 เวลา 10.30 น.", D(2021, 12, 20)),
        ("20 ธ.ค. 2564", D(2021, 12, 20)),
        ("20ธ.ค.2564", D(2021, 12, 20)),
        ("(16ธ.ค.2564)", D(2021, 12, 16)),
        ("2 ส.ค.64", D(2021, 8, 2)),
        ("1 ต.ค. 64", D(2021, 10, 1)),
        ("3 พ.ย. 2564", D(2021, 11, 3)),
        ("5 ม.ค. 65", D(2022, 1, 5)),
        ("14 ก.พ. 2565", D(2022, 2, 14)),
        ("1 มี.ค. 2565", D(2022, 3, 1)),
        ("13 เม.ย. 2565", D(2022, 4, 13)),
        ("4 พ.ค. 2565", D(2022, 5, 4)),
        ("3 มิ.ย. 2565", D(2022, 6, 3)),
        ("28 ก.ค. 2565", D(2022, 7, 28)),
        ("12 ส.ค. 2565", D(2022, 8, 12)),
        ("9 ก.ย. 2565", D(2022, 9, 9)),
        ("20 ธค 64", D(2021, 12, 20)),
        ("1 มค 2565", D(2022, 1, 1)),
        ("20 ธันวาคม 2564", D(2021, 12, 20)),
        ("1 ตุลาคม 2564", D(2021, 10, 1)),
        ("30 พฤศจิกายน 2564", D(2021, 11, 30)),
        ("วันที่ 20 ธันวาคม พ.ศ. 2564", D(2021, 12, 20)),
        ("วันจันทร์ที่ 20 ธ.ค. 64", D(2021, 12, 20)),
        ("20 ธ.ค. ค.ศ. 2021", D(2021, 12, 20)),
        ("๒๐/๑๒/๒๕๖๔", D(2021, 12, 20)),
        ("๑ ต.ค. ๖๔", D(2021, 10, 1)),
        ("20 Dec 2021", D(2021, 12, 20)),
        ("20-Dec-2021", D(2021, 12, 20)),
        ("December 20, 2021", D(2021, 12, 20)),
        ("1 October 2021", D(2021, 10, 1)),
        ("20th December 2021", D(2021, 12, 20)),
        (" 20/12/2564 ", D(2021, 12, 20)),
        ("20/12/2564\u200b", D(2021, 12, 20)),
        ("20122564", D(2021, 12, 20)),  # ddmmyyyy typed without separators
        ("20211220", D(2021, 12, 20)),  # yyyymmdd
        (20122564.0, D(2021, 12, 20)),
        (D(2021, 12, 20), D(2021, 12, 20)),
        (D(2564, 12, 20), D(2021, 12, 20)),  # a Thai-locale Excel stored the BE year
        (D(2564, 10, 1), D(2021, 10, 1)),
        (dt.datetime(2021, 12, 20, 15, 45), D(2021, 12, 20)),
        (dt.datetime(2564, 12, 20, 0, 0), D(2021, 12, 20)),
        (pd.Timestamp("2021-12-20 08:00"), D(2021, 12, 20)),
        (44550.0, D(2021, 12, 20)),  # Excel serial
        (44550, D(2021, 12, 20)),
        (44550.75, D(2021, 12, 20)),  # serial with a time of day
        ("44550", D(2021, 12, 20)),
        ("๔๔๕๕๐", D(2021, 12, 20)),
        (25569.0, D(1970, 1, 1)),
        ("1/1/2600", D(2057, 1, 1)),
    ],
)
def test_parse_dates_valid(cell, expected):
    value, problem = only_row(parse_dates(column(cell)))
    assert (value, problem) == (expected, None)
    assert type(value) is dt.date


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("00/12/2564", "date_invalid"),
        ("0/1/2564", "date_invalid"),
        ("31/02/2564", "date_invalid"),
        ("29/02/2564", "date_invalid"),  # 2021 is not a leap year
        ("20/13/2564", "date_invalid"),
        ("32/12/2564", "date_invalid"),
        ("00 ธ.ค. 2564", "date_invalid"),
        ("31 เม.ย. 2565", "date_invalid"),
        ("12/12/1800", "date_invalid"),
        ("1/1/2200", "date_invalid"),  # CE year beyond 2100
        (D(2564, 2, 29), "date_invalid"),  # a valid Gregorian 2564 date, invalid as BE
        (D(1800, 1, 1), "date_invalid"),
        (90000.0, "date_unreadable"),  # beyond the Excel serial window
        ("hello", "date_unreadable"),
        ("ไม่ทราบ", "date_unreadable"),
        ("20 ธ.ค.", "date_unreadable"),
        ("20/12", "date_unreadable"),
        ("20 Foo 2021", "date_unreadable"),
        (2564.0, "date_unreadable"),  # a bare year, not a serial
        (12.0, "date_unreadable"),
        ("-", "date_unreadable"),
        (True, "date_unreadable"),
        (dt.time(8, 30), "date_unreadable"),
    ],
)
def test_parse_dates_problems(cell, problem):
    assert only_row(parse_dates(column(cell))) == (None, problem)


@pytest.mark.parametrize("cell", [None, np.nan, pd.NaT, pd.NA, "", "  ", "\u200b", "\ufeff\u00a0"])
def test_parse_dates_blank(cell):
    assert only_row(parse_dates(column(cell))) == (None, None)


def test_parse_dates_from_typed_columns():
    text = pd.Series(["20/12/2564", None, "1/10/64"])  # pandas' own string dtype
    assert parse_dates(text)["value"].tolist() == [D(2021, 12, 20), None, D(2021, 10, 1)]
    stamps = pd.Series(pd.to_datetime(["2021-12-20", None]))
    assert parse_dates(stamps)["value"].tolist() == [D(2021, 12, 20), None]
    serials = pd.Series([44550.0, np.nan])
    assert parse_dates(serials)["value"].tolist() == [D(2021, 12, 20), None]


# --- phones -----------------------------------------------------------------------------------

PHONE_CASES = [
    # cell, mobile_only=False result, mobile_only=True result
    (812345678.0, ("0812345678", None), ("0812345678", None)),  # Excel dropped the 0
    (812345678, ("0812345678", None), ("0812345678", None)),
    ("812345678", ("0812345678", None), ("0812345678", None)),
    ("812345678.0", ("0812345678", None), ("0812345678", None)),  # a float written to CSV
    ("0812345678", ("0812345678", None), ("0812345678", None)),
    ("081-234-5678", ("0812345678", None), ("0812345678", None)),
    ("081 234 5678", ("0812345678", None), ("0812345678", None)),
    ("(081) 234-5678", ("0812345678", None), ("0812345678", None)),
    ("+66 81 234 5678", ("0812345678", None), ("0812345678", None)),
    ("+66812345678", ("0812345678", None), ("0812345678", None)),
    ("+66 (0) 81 234 5678", ("0812345678", None), ("0812345678", None)),
    ("66812345678", ("0812345678", None), ("0812345678", None)),
    (66812345678.0, ("0812345678", None), ("0812345678", None)),
    ("0066812345678", ("0812345678", None), ("0812345678", None)),
    ("๐๘๑๒๓๔๕๖๗๘", ("0812345678", None), ("0812345678", None)),
    ("๐๘๑-๒๓๔-๕๖๗๘", ("0812345678", None), ("0812345678", None)),
    ("โทร. 081-234-5678", ("0812345678", None), ("0812345678", None)),
    ("081-234-5678, 089-111-2222", ("0812345678", None), ("0812345678", None)),
    ("0812345678/0891112222", ("0812345678", None), ("0812345678", None)),
    ("081-234-5678 หรือ 089-111-2222", ("0812345678", None), ("0812345678", None)),
    ("0812345678 0891112222", ("0812345678", None), ("0812345678", None)),
    ("0612345678", ("0612345678", None), ("0612345678", None)),
    ("0912345678", ("0912345678", None), ("0912345678", None)),
    ("054511111", ("054511111", None), (None, "phone_not_mobile")),
    ("02-123-4567", ("021234567", None), (None, "phone_not_mobile")),
    ("02-123-4567 ต่อ 12", ("021234567", None), (None, "phone_not_mobile")),
    (21234567.0, ("021234567", None), (None, "phone_not_mobile")),  # 8 digits: a landline's lost 0
    (54511111.0, ("054511111", None), (None, "phone_not_mobile")),
    ("+66 2 123 4567", ("021234567", None), (None, "phone_not_mobile")),
    ("08l2345678", (None, "phone_invalid"), (None, "phone_invalid")),  # letter l for digit 1
    ("081234567", (None, "phone_invalid"), (None, "phone_invalid")),  # 9 digits starting 08
    ("08123456789", (None, "phone_invalid"), (None, "phone_invalid")),
    ("0112345678", (None, "phone_invalid"), (None, "phone_invalid")),
    ("12345", (None, "phone_invalid"), (None, "phone_invalid")),
    ("1669", (None, "phone_invalid"), (None, "phone_invalid")),
    ("+1 212 555 1234", (None, "phone_invalid"), (None, "phone_invalid")),
    ("ไม่มี", (None, "phone_invalid"), (None, "phone_invalid")),
    ("-", (None, "phone_invalid"), (None, "phone_invalid")),
    (812345678.5, (None, "phone_invalid"), (None, "phone_invalid")),
    (-812345678.0, (None, "phone_invalid"), (None, "phone_invalid")),
    (True, (None, "phone_invalid"), (None, "phone_invalid")),
    (D(2021, 12, 20), (None, "phone_invalid"), (None, "phone_invalid")),
    (None, (None, None), (None, None)),
    (np.nan, (None, None), (None, None)),
    ("", (None, None), (None, None)),
    (" \u200b ", (None, None), (None, None)),
]


@pytest.mark.parametrize(("cell", "any_phone", "mobile"), PHONE_CASES)
def test_parse_phones(cell, any_phone, mobile):
    assert only_row(parse_phones(column(cell), mobile_only=False)) == any_phone
    assert only_row(parse_phones(column(cell), mobile_only=True)) == mobile


def test_parse_phones_float_column():
    result = parse_phones(pd.Series([812345678.0, np.nan, 21234567.0]), mobile_only=False)
    assert result["value"].tolist() == ["0812345678", None, "021234567"]
    assert result["problem"].tolist() == [None, None, None]


# --- person IDs -------------------------------------------------------------------------------


def test_generated_ids_are_what_the_tests_assume():
    assert NON_THAI_ID.startswith("0") and len(NON_THAI_ID) == 13
    assert calc_check_digit(WRONG_CHECK_ID[:12]) != WRONG_CHECK_ID[12]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (THAI_ID, (THAI_ID, "thai", None)),
        (float(THAI_ID), (THAI_ID, "thai", None)),  # 13 digits are exact in float64
        (int(THAI_ID), (THAI_ID, "thai", None)),
        (np.int64(THAI_ID), (THAI_ID, "thai", None)),
        (f"{THAI_ID}.0", (THAI_ID, "thai", None)),
        ("-".join([THAI_ID[0], THAI_ID[1:5], THAI_ID[5:10], THAI_ID[10:12], THAI_ID[12]]), (THAI_ID, "thai", None)),
        (" ".join([THAI_ID[0], THAI_ID[1:5], THAI_ID[5:10], THAI_ID[10:12], THAI_ID[12]]), (THAI_ID, "thai", None)),
        (THAI_ID_DIGITS, (THAI_ID, "thai", None)),
        (f" {THAI_ID}\u200b ", (THAI_ID, "thai", None)),
        (with_check_digit("312345678901"), (with_check_digit("312345678901"), "thai", None)),
        (with_check_digit("512345678901"), (with_check_digit("512345678901"), "thai", None)),
        (NON_THAI_ID, (NON_THAI_ID, "non_thai", None)),
        (float(NON_THAI_ID), (NON_THAI_ID, "non_thai", None)),  # 12 digits left: pad back the 0
        (int(NON_THAI_ID), (NON_THAI_ID, "non_thai", None)),
        (with_check_digit("612345678901"), (with_check_digit("612345678901"), "non_thai", None)),
        (with_check_digit("712345678901"), (with_check_digit("712345678901"), "non_thai", None)),
        (with_check_digit("812345678901"), (with_check_digit("812345678901"), "non_thai", None)),
        ("MA123456", ("MA123456", "document", None)),
        ("p 1234567", ("P1234567", "document", None)),
        ("N01234567", ("N01234567", "document", None)),
        ("ab-12345", ("AB12345", "document", None)),
    ],
)
def test_parse_person_ids_valid(cell, expected):
    assert only_row(parse_person_ids(column(cell))) == expected


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        (WRONG_CHECK_ID, "id_check_digit"),
        (float(WRONG_CHECK_ID), "id_check_digit"),
        (with_check_digit("912345678901"), "id_invalid_prefix"),
        (NON_THAI_ID[1:], "id_length"),  # 12 digits typed as text: not padded
        (float(WRONG_CHECK_ID[1:]), "id_length"),  # 12 digits that do not check out with a 0
        ("12345", "id_length"),
        (THAI_ID + "1", "id_length"),
        ("1-2345-67890-12", "id_length"),
        ("1.23457E+12", "id_scientific_notation"),
        ("1.23457e12", "id_scientific_notation"),
        ("ไม่มี", "id_invalid"),
        ("-", "id_invalid"),
        ("ABC", "id_invalid"),
        ("AB12", "id_invalid"),  # too short for a document number
        ("A" * 21 + "1", "id_invalid"),
        (1234.5, "id_invalid"),
        (-1.0, "id_invalid"),
        (True, "id_invalid"),
        (D(2021, 12, 20), "id_invalid"),
    ],
)
def test_parse_person_ids_problems(cell, problem):
    assert only_row(parse_person_ids(column(cell))) == (None, None, problem)


@pytest.mark.parametrize("cell", [None, np.nan, "", "   ", "\u200b"])
def test_parse_person_ids_blank(cell):
    assert only_row(parse_person_ids(column(cell))) == (None, None, None)


# --- numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "whole", "decimal"),
    [
        (12.0, (12, None), (12.0, None)),
        (12, (12, None), (12.0, None)),
        (np.int64(12), (12, None), (12.0, None)),
        (12.5, (None, "number_not_whole"), (12.5, None)),
        ("12", (12, None), (12.0, None)),
        ("12.0", (12, None), (12.0, None)),
        ("12.5", (None, "number_not_whole"), (12.5, None)),
        (" 12 ", (12, None), (12.0, None)),
        ("๑๒", (12, None), (12.0, None)),
        ("1,200", (1200, None), (1200.0, None)),
        ("1,234,567", (1234567, None), (1234567.0, None)),
        ("1,200.50", (None, "number_not_whole"), (1200.5, None)),
        ("-3", (-3, None), (-3.0, None)),
        (-3.0, (-3, None), (-3.0, None)),
        ("\u22123", (-3, None), (-3.0, None)),  # U+2212 minus sign
        (".5", (None, "number_not_whole"), (0.5, None)),
        ("1e3", (1000, None), (1000.0, None)),
        (0.0, (0, None), (0.0, None)),
        ("1,20", (None, "number_invalid"), (None, "number_invalid")),
        ("12 คน", (None, "number_invalid"), (None, "number_invalid")),
        ("abc", (None, "number_invalid"), (None, "number_invalid")),
        ("nan", (None, "number_invalid"), (None, "number_invalid")),
        ("-", (None, "number_invalid"), (None, "number_invalid")),
        (float("inf"), (None, "number_invalid"), (None, "number_invalid")),
        (True, (None, "number_invalid"), (None, "number_invalid")),
        (D(2021, 1, 1), (None, "number_invalid"), (None, "number_invalid")),
        (None, (None, None), (None, None)),
        (np.nan, (None, None), (None, None)),
        ("", (None, None), (None, None)),
        ("  ", (None, None), (None, None)),
    ],
)
def test_parse_numbers(cell, whole, decimal):
    whole_row = only_row(parse_whole_numbers(column(cell)))
    decimal_row = only_row(parse_decimals(column(cell)))
    assert whole_row == whole and decimal_row == decimal
    assert whole_row[0] is None or type(whole_row[0]) is int
    assert decimal_row[0] is None or type(decimal_row[0]) is float


def test_parse_whole_numbers_keeps_object_dtype_with_none():
    result = parse_whole_numbers(column(1.0, None, "x", 2))
    assert result["value"].dtype == object
    assert result["value"].tolist() == [1, None, None, 2]
    assert result["problem"].tolist() == [None, None, "number_invalid", None]


# --- shared behaviour -------------------------------------------------------------------------

MIXED_CELLS = [
    "20/12/2564", 812345678.0, THAI_ID, None, "", True, 1.0, np.nan, D(2564, 12, 20), "สม\u200bชาย", "12",
    "20/12/2564",
]
FUNCTIONS = {
    "clean_text": clean_text,
    "parse_dates": parse_dates,
    "parse_phones": lambda values: parse_phones(values, mobile_only=True),
    "parse_person_ids": parse_person_ids,
    "parse_whole_numbers": parse_whole_numbers,
    "parse_decimals": parse_decimals,
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_result_keeps_a_non_default_index_and_leaves_input_alone(name):
    index = pd.Index([50, 7, "x", 7, -1, 3, 99, 100, 4, "y", 12, 13])  # unordered, mixed, duplicated
    values = pd.Series(MIXED_CELLS, index=index, dtype=object, name="raw")
    before = values.copy(deep=True)
    result = FUNCTIONS[name](values)
    assert result.index.equals(index)
    pd.testing.assert_series_equal(values, before)
    assert len(result) == len(values)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_repeated_cells_get_the_same_result_as_single_ones(name):
    values = pd.Series(MIXED_CELLS * 3, dtype=object)
    together = FUNCTIONS[name](values)
    one_by_one = [FUNCTIONS[name](column(cell)) for cell in values]
    if isinstance(together, pd.Series):
        assert together.tolist() == [single.iloc[0] for single in one_by_one]
    else:
        assert list(together.itertuples(index=False, name=None)) == [only_row(single) for single in one_by_one]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_junk_never_raises(name):
    junk = [
        "1" * 5000, "1" * 5000 + ".0", "๑" * 30, 10**400, -(10**400), float("inf"), -0.0, np.float32(1.5),
        Decimal("12.5"), object(), b"0812345678", "\x00\x1f", "((()))", "ค.ศ.", "e",
    ]
    result = FUNCTIONS[name](pd.Series(junk, dtype=object))
    assert len(result) == len(junk)


def test_decimal_cells_are_read_as_text():
    assert only_row(parse_decimals(column(Decimal("12.5")))) == (12.5, None)
    assert only_row(parse_whole_numbers(column(Decimal("12")))) == (12, None)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_empty_series(name):
    result = FUNCTIONS[name](pd.Series([], dtype=object))
    assert len(result) == 0


def test_frame_columns_and_none_not_nan():
    assert list(parse_dates(column("x")).columns) == ["value", "problem"]
    assert list(parse_phones(column("x"), mobile_only=False).columns) == ["value", "problem"]
    assert list(parse_person_ids(column("x")).columns) == ["value", "kind", "problem"]
    result = parse_phones(column("0812345678", None), mobile_only=True)
    assert all(dtype == object for dtype in result.dtypes)
    assert result["value"].iloc[1] is None and result["problem"].iloc[0] is None
