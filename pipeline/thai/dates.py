"""Buddhist-era dates for reports: ๒๔ ธ.ค. ๒๕๖๔ or 24 ธ.ค. 2564."""
from __future__ import annotations

import datetime as dt

MONTHS = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.")
THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


def thai_date(value: dt.date, digits: str = "thai") -> str:
    """A date as officials write it, in the Buddhist era."""
    text = f"{value.day} {MONTHS[value.month - 1]} {value.year + 543}"
    return text.translate(THAI_DIGITS) if digits == "thai" else text


def thai_datetime(value: dt.datetime, digits: str = "thai") -> str:
    """Date and time, e.g. ๒๔ ธ.ค. ๒๕๖๔ ๑๕.๓๐ น."""
    text = f"{thai_date(value.date(), 'arabic')} {value:%H.%M} น."
    return text.translate(THAI_DIGITS) if digits == "thai" else text
