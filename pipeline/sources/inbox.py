"""The shared inbox: which files districts submitted, from which folder, and when."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.core.config import Config
from pipeline.core.issues import problem, registered
from pipeline.sources.sniff import unicode_name
from pipeline.thai import gazetteer

DATA_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".txt"}
# Office files that do not hold tables; anything else unexpected is reported too.
QUIET_SUFFIXES = {".ini", ".db", ".lnk", ".url"}
FEEDBACK_FOLDER = "ผลการตรวจ"   # where a district's feedback is delivered (FORMS.md §1): never input


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


def is_ignored(name: str) -> bool:
    """Editor lock files (~$…) and hidden or temporary files (.…) are not submissions."""
    return name.startswith("~$") or name.startswith(".")


class NotAFile(Exception):
    """The path is not a regular file (a FIFO, a device, a link, a folder) or is gone."""


def open_regular(path: Path) -> int:
    """A read descriptor on a regular file, never following a link nor blocking on a FIFO or device."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as error:   # a link (ELOOP), a socket, no permission: nothing to read here
        raise NotAFile(type(error).__name__) from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise NotAFile("not a regular file")
    return descriptor


def file_sha256(path: Path) -> str:
    """SHA-256 of a regular file's bytes (NotAFile for anything else, FileNotFoundError if it went away)."""
    digest = hashlib.sha256()
    with os.fdopen(open_regular(path), "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _walk(inputs: Path, errors: list[OSError]):
    def failed(error: OSError) -> None:   # a folder that cannot be listed is reported, never skipped silently
        errors.append(error)

    for root, directories, files in os.walk(inputs, onerror=failed):
        directories[:] = sorted(d for d in directories if not is_ignored(d) and d != FEEDBACK_FOLDER)
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
    """Every data file under inputs/<district>/, and notes on files that cannot be taken (as problems).

    Only regular files are taken; a file that goes away while it is looked at (an editor's temporary
    save) is skipped this run and noted once; a folder that cannot be listed is a note for its district.
    """
    files, notes, taken, errors = [], [], set(), []
    for path in _walk(inputs, errors):
        relative = relative_name(path, inputs, taken)
        parts = relative.split("/")
        folder = parts[0] if len(parts) > 1 else ""
        suffix = path.suffix.lower()
        if suffix in QUIET_SUFFIXES:
            continue
        code = gazetteer.resolve_folder(folder, config.districts, config.province_code) if folder else None
        try:
            found = _look(path, inputs, config, code, folder, relative, suffix, now)
        except FileNotFoundError:
            notes.append(problem("file_vanished", relative, code, submitted_at=now))
            continue
        except NotAFile:
            notes.append(problem("not_a_data_file", relative, code, submitted_at=now))
            continue
        except OSError as error:   # a name too long for the system, no permission
            notes.append(problem("path_unreadable", relative, code, submitted_at=now,
                                 detail=error.strerror or type(error).__name__))
            continue
        if isinstance(found, InboxFile):
            files.append(found)
        else:
            notes.append(problem(source_file=relative, district_folder=code, **found))
    notes += [_walk_note(error, inputs, config, now) for error in errors]
    return files, notes


def _look(path: Path, inputs: Path, config: Config, code: str | None, folder: str, relative: str, suffix: str,
          now: dt.datetime):
    """The file as an InboxFile, or the note that says why it is not taken (raises if it is gone or not a file)."""
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode):
        raise NotAFile("not a regular file")
    submitted = dt.datetime.fromtimestamp(info.st_mtime, tz=config.timezone)
    if suffix not in DATA_SUFFIXES:
        return {"code": registered("file_unreadable"), "problem": "unsupported_type", "submitted_at": submitted}
    if code is None:
        return {"code": registered("folder_unknown"), "value": folder or "(inputs)", "submitted_at": submitted}
    sha256 = file_sha256(path)
    if _changed_since(path, info.st_size, submitted):   # written to while read: a copy in progress, whatever its mtime
        return {"code": registered("still_arriving"), "submitted_at": submitted}
    return InboxFile(path, relative, folder, code, info.st_size, submitted, sha256)


def _walk_note(error: OSError, inputs: Path, config: Config, now: dt.datetime) -> dict:
    """A folder the walk could not enter or list, as a note for the district whose folder it is in."""
    where = Path(error.filename or inputs)
    try:
        parts = where.relative_to(inputs).parts
    except ValueError:
        parts = ()
    folder = unicode_name(parts[0]) if parts else ""
    code = gazetteer.resolve_folder(folder, config.districts, config.province_code) if folder else None
    relative = "/".join(unicode_name(part) for part in parts) or "."
    return problem("folder_unreadable", relative, code, submitted_at=now, detail=error.strerror or type(error).__name__)


def _changed_since(path: Path, size: int, modified: dt.datetime) -> bool:
    """True when the file's size or modification time moved from these (or the file went away)."""
    try:
        after = os.lstat(path)
    except OSError:
        return True
    return after.st_size != size or dt.datetime.fromtimestamp(after.st_mtime, tz=modified.tzinfo) != modified


def files_frame(files: list[InboxFile]) -> pd.DataFrame:
    """The inbox as a table (one row per file version)."""
    return pd.DataFrame([{
        "version_id": f.version_id, "source_file": f.source_file, "district_folder": f.district_code,
        "sha256": f.sha256, "size": f.size, "submitted_at": f.submitted_at,
    } for f in files])


def second_look(files: list[InboxFile], config: Config, now: dt.datetime,
                sleep=time.sleep) -> tuple[list[InboxFile], list[dict]]:
    """Recently modified files looked at again a few seconds later: those that changed are still arriving.

    A file is read once its size and modification time are the same on two looks. Files older than
    settle_seconds are not looked at again (nobody is writing them).
    """
    recent = [f for f in files if (now - f.submitted_at).total_seconds() < config.settle_seconds]
    if not recent:
        return files, []
    sleep(config.look_again_seconds)
    moving = {f.source_file for f in recent if _changed_since(f.path, f.size, f.submitted_at)}
    notes = [problem("still_arriving", f.source_file, f.district_code, submitted_at=now)
             for f in recent if f.source_file in moving]
    return [f for f in files if f.source_file not in moving], notes


def still_arriving(file: InboxFile, config: Config, now: dt.datetime) -> bool:
    """An unreadable file modified within settle_seconds, or gone since: retried next run, not damaged."""
    return (now - file.submitted_at).total_seconds() < config.settle_seconds or not os.path.lexists(file.path)


def inbox_signature(inputs: Path) -> tuple:
    """What the inbox holds now, cheaply: (path, size, modification time) of every file a run would look at.

    Two looks with the same signature mean nothing arrived, changed or went away in between.
    """
    found, errors = [], []
    for path in _walk(inputs, errors):
        try:
            info = os.lstat(path)
        except OSError:
            continue
        found.append((path.relative_to(inputs).as_posix(), info.st_size, info.st_mtime_ns))
    return tuple(sorted(found))
