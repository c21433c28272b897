"""What reaches a terminal: the one filter every name and cell value passes, and IDs and phones masked.

A file name is the district's text: printed raw, an ESC sequence would clear the screen and a newline would
forge a line of its own.
"""
from __future__ import annotations

import re
import sys
import unicodedata

# Nine digits or more (dashes or spaces between them allowed) are an ID or a phone number.
LONG_NUMBER = re.compile(r"\d(?:[ -]?\d){8,}")
# What a terminal would obey instead of show: C0 and C1 controls (ESC, CR, LF, BEL, DEL...), line and
# paragraph separators, bidi embeddings, overrides and isolates (a file name could reorder the line around it),
# and lone surrogates (undecodable bytes of a file name: printing them would raise). Shown as visible escapes.
_HIDDEN = [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A),
           *range(0xD800, 0xE000)]
_VISIBLE = {code: (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}") for code in _HIDDEN}


def visible(text) -> str:
    """Text safe to print on a terminal: every control, bidi or undecodable character shown as an escape (\\x1b,
    \\x0a, \\u202e) instead of acted on; printable text, Thai included, unchanged. Applying it twice changes nothing."""
    return str(text).translate(_VISIBLE)


def say(lines, stream=None) -> None:
    """Print lines to the terminal (stdout by default), each through `visible`, so a line break inside a name
    cannot forge a line of its own."""
    print("\n".join(visible(line) for line in lines), file=stream or sys.stdout, flush=True)


def redact(text: str) -> str:
    """Text fit for a terminal or a log others read: IDs and phones keep only their first and last two digits."""
    def mask(match: re.Match) -> str:
        run = match.group()
        digits = [index for index, character in enumerate(run) if character.isdigit()]
        hidden = set(digits[2:-2])
        return "".join("x" if index in hidden else character for index, character in enumerate(run))
    return LONG_NUMBER.sub(mask, text)


def display_width(text: str) -> int:
    """Columns a string takes on a terminal: Thai vowel and tone marks take none."""
    return sum(0 if unicodedata.category(c) in ("Mn", "Me", "Cf") else 1 for c in text)
