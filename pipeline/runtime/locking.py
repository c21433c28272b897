"""One run at a time per outputs folder: weekly, approve and national take an exclusive lock for their whole run.

The lock is an flock on outputs/.lock, so the system releases it when its holder dies (a stale lock of a
dead process is simply taken). The holder writes who it is into the file, so a second run that gives up
waiting can say by whom and since when the folder is busy.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import getpass
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.core import messages
from pipeline.core.errors import ConfigError

LOCK_NAME = ".lock"
WATCH_LOCK_NAME = ".watch.lock"
POLL_SECONDS = 0.5


class Busy(ConfigError):
    """Another run holds the outputs folder; the message says who and since when."""


def _holder(command: str) -> dict:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return {"command": command, "user": user, "host": socket.gethostname(), "pid": os.getpid(),
            "since": dt.datetime.now().astimezone().isoformat(timespec="seconds")}


def _open(outputs_dir: Path, name: str = LOCK_NAME) -> int:
    """The lock file's descriptor; an outputs folder that cannot be written is one clear line."""
    try:
        outputs_dir.mkdir(parents=True, exist_ok=True)
        return os.open(outputs_dir / name, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    except OSError as error:
        raise ConfigError(messages.text("outputs_unwritable", folder=outputs_dir,
                                        cause=error.strerror or type(error).__name__)) from None


def _read_holder(descriptor: int) -> dict:
    try:
        return json.loads(os.pread(descriptor, 4096, 0).decode("utf-8") or "{}")
    except (OSError, ValueError):
        return {}


@contextmanager
def _held(outputs_dir: Path, name: str, command: str, wait_seconds: float, busy: str) -> Iterator[None]:
    """Hold lock file `name` of the outputs folder; wait up to wait_seconds for its holder, then refuse with
    the wording `busy` naming who holds it and since when (Busy)."""
    descriptor = _open(Path(outputs_dir), name)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _read_holder(descriptor)
                    raise Busy(messages.text(busy, folder=outputs_dir, command=holder.get("command", "?"),
                                             user=holder.get("user", "?"), pid=holder.get("pid", "?"),
                                             since=holder.get("since", "?"))) from None
                time.sleep(POLL_SECONDS)
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(_holder(command), ensure_ascii=False).encode("utf-8"), 0)
        yield
    finally:
        os.close(descriptor)   # closing releases the flock


def outputs_lock(outputs_dir: Path, command: str, wait_seconds: float):
    """Hold the outputs folder for a command; wait up to wait_seconds for another run, then refuse (Busy)."""
    return _held(outputs_dir, LOCK_NAME, command, wait_seconds, "outputs_busy")


def watch_lock(outputs_dir: Path):
    """One `watch` per outputs folder for as long as it runs: a second one is refused at once (Busy)."""
    return _held(outputs_dir, WATCH_LOCK_NAME, "watch", 0, "watch_running")
