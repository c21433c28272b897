"""A week's outputs switched in as a whole: written into a staging folder beside the week, then renamed.

A run that fails half way (a full disk, a kill) leaves the week's previous outputs as they were, never a
mix of new figures and missing feedback. The switch is two renames: week -> .previous-<week>, staging ->
week; the next run finds a .previous folder left by a kill between them and puts it back (or removes it
when the new week is in place). What the run does not write itself (approval.json, Google Sheets
snapshots under sources/, anything the office saved there) is carried over into the new week folder.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from pipeline.core import faults
from pipeline.core.paths import WeekFiles
from pipeline.core import messages
from pipeline.core.errors import ConfigError

STAGING_MARK = ".staging-"
PREVIOUS_MARK = ".previous-"
SPACE_MARGIN_BYTES = 20 * 2**20


def recover(outputs_dir: Path) -> None:
    """Undo what a killed switch or a failed staging left: put a lone .previous back, drop staging folders."""
    if not outputs_dir.is_dir():
        return
    for previous in outputs_dir.glob(f"{PREVIOUS_MARK}*"):
        week_dir = outputs_dir / previous.name[len(PREVIOUS_MARK):]
        if week_dir.exists():
            shutil.rmtree(previous, ignore_errors=True)
        else:
            os.replace(previous, week_dir)
    for staging in outputs_dir.glob(f"{STAGING_MARK}*"):
        shutil.rmtree(staging, ignore_errors=True)


def staging_dir(outputs_dir: Path, week: str) -> Path:
    """A fresh, empty folder to write the week's outputs into."""
    staging = outputs_dir / f"{STAGING_MARK}{week}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def _carry_over(week_dir: Path, staging: Path) -> None:
    """Entries of the old week folder the run does not write itself, linked (or copied) into the staging one."""
    if not week_dir.is_dir():
        return
    owned = set(WeekFiles(week_dir, week_dir.name).run_owned())   # what the run writes itself
    for entry in week_dir.iterdir():
        target = staging / entry.name
        if entry.name in owned or target.exists():
            continue
        if entry.is_dir():
            shutil.copytree(entry, target, copy_function=_link_or_copy)
        else:
            _link_or_copy(entry, target)


def _link_or_copy(source, target) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def switch_in(staging: Path, week_dir: Path) -> None:
    """Make the staged outputs the week's: carry over what the run did not write, then two renames."""
    _carry_over(week_dir, staging)
    previous = week_dir.parent / f"{PREVIOUS_MARK}{week_dir.name}"
    shutil.rmtree(previous, ignore_errors=True)
    if week_dir.exists():
        os.replace(week_dir, previous)
    faults.checkpoint("switching")
    os.replace(staging, week_dir)
    _sync_folder(week_dir.parent)
    shutil.rmtree(previous, ignore_errors=True)


def _sync_folder(folder: Path) -> None:
    """Make the renames durable (the folder's entries, not only the files' contents)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def folder_size(folder: Path) -> int:
    """Bytes of the regular files under a folder (0 when it does not exist)."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink()) \
        if folder.is_dir() else 0


def check_space(outputs_dir: Path, week_dir: Path, input_bytes: int) -> None:
    """Refuse before writing anything when the disk cannot hold the week's outputs (one Thai line)."""
    needed = 2 * max(folder_size(week_dir), input_bytes) + SPACE_MARGIN_BYTES
    free = shutil.disk_usage(outputs_dir).free
    if free < needed:
        raise ConfigError(messages.text("disk_too_full", folder=outputs_dir, free=free // 2**20,
                                        needed=needed // 2**20))
