"""Files written whole or not at all: a temporary beside the target, made durable, then renamed over it.

A kill at any moment leaves either the old file or the new one (plus a temporary the next run sweeps).
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from pipeline.core import faults

TEMPORARY_MARK = ".partial-"


@contextmanager
def atomic_path(target: Path):
    """A temporary path beside the target, moved over it only when writing finished."""
    temporary = temporary_beside(target)
    try:
        yield temporary
        move_into_place(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()


def temporary_beside(target: Path) -> Path:
    """A new empty temporary file in the target's folder (swept by sweep_temporaries if left behind)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=TEMPORARY_MARK, suffix=target.suffix, dir=target.parent)
    os.close(handle)
    return Path(temporary)


def current_umask() -> int:
    """The process's file-creation mask (reading it means setting it: set back at once)."""
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def move_into_place(temporary: Path, target: Path) -> None:
    """Make a finished temporary durable and replace the target with it in one step."""
    faults.checkpoint("written")
    with open(temporary, "rb") as written:
        os.fsync(written.fileno())
    os.chmod(temporary, 0o666 & ~current_umask())   # mkstemp makes 600 whatever outputs.mode allows
    os.replace(temporary, target)
    faults.checkpoint("replaced")


def sweep_temporaries(folder: Path) -> int:
    """Remove half-written files a killed run left behind; returns how many."""
    swept = 0
    for path in folder.rglob(f"{TEMPORARY_MARK}*") if folder.exists() else ():
        path.unlink(missing_ok=True)
        swept += 1
    return swept


@contextmanager
def file_mask(mask: int):
    """New files and folders made with this mask (outputs hold personal data), the caller's given back after."""
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)
