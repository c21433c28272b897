"""What the command line says to the person running it, in Thai (wording.yaml `command_line`)."""
from __future__ import annotations

from functools import cache

from pipeline.schema import PACKAGE_DIR, load_yaml


@cache
def _texts() -> dict[str, str]:
    return load_yaml(PACKAGE_DIR / "wording.yaml")["command_line"]


def text(key: str, **values) -> str:
    """The Thai line for a command-line message, placeholders filled."""
    return _texts()[key].format(**values)


def weekday(day) -> str:
    """The Thai name of a date's weekday (วันเสาร์)."""
    return _texts()["weekdays"].split()[day.weekday()]
