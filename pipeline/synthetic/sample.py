"""The bundled sample inbox: one week of Phrae, six districts submitting, every kind of mess on show."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np

from pipeline.synthetic import forms
from pipeline.synthetic.inbox import build_inbox, folder_name, FOLDER_STYLES
from pipeline.synthetic.problems import Problems
from pipeline.synthetic.truth import Truth

SAMPLE_SEED = 54
SAMPLE_SIZES = {"volunteers": (40, 70), "unvaccinated": (60, 110), "facilities": (12, 25), "help_requests": (40, 70)}


def sample_window(week: dt.date):
    """Records of the sample are dated in the month before the week, so none is ever in the future."""
    first = max(forms.RECORDING_START, week - dt.timedelta(days=35))
    return first, max(first, week - dt.timedelta(days=8))


def build_sample(root: Path, *, seed: int = SAMPLE_SEED, now: dt.datetime | None = None) -> Truth:
    """Write the sample inbox for the week of `now` (every file's mtime is `now`); same seed and week, same content."""
    now = (now or dt.datetime.now(forms.TIMEZONE)).astimezone(forms.TIMEZONE).replace(microsecond=0)
    week = forms.week_of(now)
    rng = np.random.default_rng(seed)
    codes = list(forms.province_districts())
    submitting = sorted(str(c) for c in rng.choice(codes, size=6, replace=False))
    modes = {d: ("resend" if i % 2 == 0 else "new_only") for i, d in enumerate(submitting)}
    truth = build_inbox(
        Path(root), seed=seed, weeks=[week], districts=submitting, mode=modes, sizes=SAMPLE_SIZES,
        problems=Problems(errors_per_sheet=1, duplicates_per_sheet=2, other_district_rate=0.03),
        submitted_at=now, window=sample_window,
    )
    write_admin_roster(Path(root) / ADMIN_ROSTER)
    return truth


ADMIN_ROSTER = "ผู้ดูแลระบบ.xlsx"
# Form E of a made-up administrator: the reserved example.org domain and a number no operator issues.
SAMPLE_ADMIN = ["ที่ทำการปกครองจังหวัดแพร่", "นายตัวอย่าง ระบบข้อมูล", "เจ้าพนักงานปกครองชำนาญการ",
                "0800000000", "admin.phrae@example.org", "phrae.admin"]


def write_admin_roster(path: Path) -> Path:
    """The province's form E workbook (one administrator) in the inbox root."""
    import openpyxl
    from pipeline.ingest.admin_roster import FIELDS, ministry_wording
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "แบบ E"
    sheet.append(["แบบรายงานรายชื่อเจ้าหน้าที่ผู้ดูแลระบบ Jitasa.care ของจังหวัด (Admin)"])
    sheet.append([ministry_wording()["admin_fields"][field]["header"] for field in FIELDS])
    sheet.append(SAMPLE_ADMIN)
    book.save(path)
    return path


def clear_sample(root: Path) -> list[Path]:
    """Remove the district folders a previous sample wrote (only folders named like a Phrae district)."""
    names = {folder_name(code, style) for code in forms.province_districts() for style in FOLDER_STYLES}
    removed = [path for path in Path(root).iterdir() if path.is_dir() and path.name in names]
    for path in removed:
        shutil.rmtree(path)
    return removed
