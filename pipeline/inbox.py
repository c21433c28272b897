"""The shared inbox: which files districts submitted, from which folder, and when."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline import gazetteer
from pipeline.config import Config
from pipeline.readers import unicode_name

UTC_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"
DATA_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".txt"}
# Office files that do not hold tables; anything else unexpected is reported too.
QUIET_SUFFIXES = {".ini", ".db", ".lnk", ".url"}


@dataclass(frozen=True)
class InboxFile:
    """One file version in the inbox: where it is, whose it is, what it holds and when it came."""

    path: Path
    source_file: str            # path relative to the inbox, with '/'
    folder: str                 # the district folder as named
    district_code: str | None   # None when the folder names no district of the province
    size: int
    submitted_at: dt.datetime   # modification time, aware
    sha256: str

    @property
    def version_id(self) -> str:
        """Identity of this version: path, content and submission time together."""
        text = f"{self.source_file}\0{self.sha256}\0{self.submitted_at.isoformat()}"
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def utc_text(moment: dt.datetime) -> str:
    """A sortable UTC timestamp, the form every time takes in the store."""
    return moment.astimezone(dt.timezone.utc).strftime(UTC_FORMAT)


def is_ignored(name: str) -> bool:
    """Editor lock files (~$…) and hidden or temporary files (.…) are not submissions."""
    return name.startswith("~$") or name.startswith(".")


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _walk(inputs: Path):
    for root, directories, files in os.walk(inputs):
        directories[:] = sorted(d for d in directories if not is_ignored(d))
        for name in sorted(files):
            if not is_ignored(name):
                yield Path(root) / name


def relative_name(path: Path, inputs: Path, taken: set[str]) -> str:
    """The file's path under the inbox as valid Unicode, unique among the names already taken."""
    parts = path.relative_to(inputs).parts
    relative = "/".join(unicode_name(part) for part in parts)
    if relative in taken:  # a decoded cp874 name may equal a UTF-8 twin: show the raw bytes instead
        relative = "/".join(os.fsencode(part).decode("utf-8", "backslashreplace") for part in parts)
    taken.add(relative)
    return relative


def discover(inputs: Path, config: Config, now: dt.datetime) -> tuple[list[InboxFile], list[dict]]:
    """Every data file under inputs/<district>/, and notes on files that cannot be taken (as problems)."""
    files, notes, taken = [], [], set()
    for path in _walk(inputs):
        relative = relative_name(path, inputs, taken)
        parts = relative.split("/")
        folder = parts[0] if len(parts) > 1 else ""
        suffix = path.suffix.lower()
        if suffix in QUIET_SUFFIXES:
            continue
        stat = path.stat()
        submitted = dt.datetime.fromtimestamp(stat.st_mtime, tz=config.timezone)
        code = gazetteer.resolve_folder(folder, config.districts, config.province_code) if folder else None
        note = {"source_file": relative, "district_folder": code or "", "sheet": "", "submitted_at": submitted}
        if suffix not in DATA_SUFFIXES:
            notes.append({**note, "code": "file_unreadable", "problem": "unsupported_type"})
            continue
        if code is None:
            notes.append({**note, "code": "folder_unknown", "value": folder or "(inputs)"})
            continue
        if (now - submitted).total_seconds() < config.settle_seconds:
            notes.append({**note, "code": "file_unreadable", "problem": "still_copying"})
            continue
        sha256 = file_sha256(path)
        if _changed_since(path, stat):  # written to while we read it: a copy in progress, whatever its mtime
            notes.append({**note, "code": "file_unreadable", "problem": "still_copying"})
            continue
        files.append(InboxFile(path, relative, folder, code, stat.st_size, submitted, sha256))
    return files, notes


def _changed_since(path: Path, before: os.stat_result) -> bool:
    """True when the file's size or modification time moved (or the file went away) since `before`."""
    try:
        after = path.stat()
    except OSError:
        return True
    return (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns)


def files_frame(files: list[InboxFile]) -> pd.DataFrame:
    """The inbox as a table (one row per file version)."""
    return pd.DataFrame([{
        "version_id": f.version_id, "source_file": f.source_file, "district_folder": f.district_code,
        "sha256": f.sha256, "size": f.size, "submitted_at": f.submitted_at,
    } for f in files])
