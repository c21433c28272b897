"""Every Thai sentence and label the pipeline shows, in one place: core/wording/*.yaml, read by one loader.

    base       problems, file problems, statuses, report labels, command-line lines
    dashboard  charts, timeliness, checks, sign-off, the HTML page, the terminal
    feedback   the district feedback workbook
    ministry   the ministry workbook, its text and form E
    sheets     Google Sheets problems
    templates  the district submission templates
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

WORDING_DIR = Path(__file__).resolve().parent / "wording"
NAMES = ("base", "dashboard", "feedback", "ministry", "sheets", "templates")


def load_yaml(path: Path):
    """Parse a YAML file with the C loader when PyYAML has it (several times faster)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 (a safe loader)


@cache
def wording(name: str = "base") -> dict:
    """One wording file as a mapping (read once per process)."""
    if name not in NAMES:
        raise ValueError(f"no wording file {name!r}")
    return load_yaml(WORDING_DIR / f"{name}.yaml")


@cache
def problems() -> dict[str, dict]:
    """Every problem code the pipeline may report: code -> severity and Thai message template (form E's too)."""
    return {**wording("base")["problems"], **wording("sheets")["problems"], **wording("ministry")["problems"]}
