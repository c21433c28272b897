"""A rerun with nothing new writes nothing: a week's outputs remember what they were made from.

After a run, the week folder keeps the key of everything its outputs depend on (the inbox's file versions,
Google Sheets snapshots, the configuration, the code, the office's answers, the history store, and whether
the deadline and cut-off had passed) and a listing of the files it wrote (the week folder and, when
delivered, the districts' feedback folders). A run that finds the same key and the same files leaves them
as they are and says so: a file edited or removed since, or anything new, makes it run in full.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from pipeline.core.atomic import atomic_path
from pipeline.core.paths import MADE_FROM

STATE_FILE = MADE_FROM


def run_key(parts: dict) -> str:
    """One hash over what a week's outputs are made from (values as JSON: lists, text, numbers)."""
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def file_stamps(paths) -> list[tuple[str, int, int]]:
    """(path, size, modification time in ns) of each file that exists: what an edit or a copy would change."""
    stamps = []
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            continue
        stamps.append((str(path), info.st_size, info.st_mtime_ns))
    return sorted(stamps)


def listing(folders: list[Path]) -> list[tuple[str, int, int]]:
    """Every file under the folders, stamped (the state file itself left out)."""
    files = []
    for folder in folders:
        for root, _, names in os.walk(folder):
            files += [Path(root) / name for name in names if name != STATE_FILE]
    return file_stamps(files)


def saved(week_dir: Path) -> dict | None:
    """What the week's last complete run recorded, or None."""
    try:
        return json.loads((week_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_unchanged(week_dir: Path, key: str, folders: list[Path]) -> dict | None:
    """The saved record when the week was made from exactly this key and its files are as that run left them."""
    record = saved(week_dir)
    if not record or record.get("key") != key:
        return None
    if [list(item) for item in listing(folders)] != record.get("files"):
        return None
    return record


def remember(week_dir: Path, key: str, folders: list[Path], said: dict[str, list[str]]) -> None:
    """Record the key, the files just written and what the run said (said again by an unchanged rerun:
    'problems' before the summary, 'summary', 'notices' after it)."""
    record = {"key": key, "files": [list(item) for item in listing(folders)], **said}
    with atomic_path(week_dir / STATE_FILE) as path:
        path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
