"""What the command line says to the person running it, in Thai (core/wording/base.yaml `command_line`)."""
from __future__ import annotations

from functools import cache

from pipeline.core.wording import wording


@cache
def _texts() -> dict[str, str]:
    return wording("base")["command_line"]


def text(key: str, **values) -> str:
    """The Thai line for a command-line message, placeholders filled."""
    return _texts()[key].format(**values)


def weekday(day) -> str:
    """The Thai name of a date's weekday (วันเสาร์)."""
    return _texts()["weekdays"].split()[day.weekday()]
