"""Crash points for the crash-safety tests: `checkpoint(name)` kills the run there when asked to.

The run calls checkpoint() at the places where a crash matters (after a file is read, inside the
store transaction, before its commit, after the week is built, around each output's replace). In
normal runs the environment variable is unset and a checkpoint costs one dictionary lookup.

    PIPELINE_KILL_AT=store_version:3   SIGKILL this process the 3rd time checkpoint("store_version") runs
    PIPELINE_KILL_AT=commit            the 1st time checkpoint("commit") runs

SIGKILL, not an exception: nothing (no finally, no atexit, no sqlite rollback) runs after it, as when
the machine loses power or the out-of-memory killer strikes.
"""
from __future__ import annotations

import os
import signal
from collections import Counter

ENVIRONMENT = "PIPELINE_KILL_AT"
NAMES = ("read", "store_version", "commit", "built", "written", "replaced", "switching")
_reached: Counter[str] = Counter()


def kill_point(text: str | None) -> tuple[str, int] | None:
    """('name', n) from 'name' or 'name:n'; None when unset or empty."""
    if not text:
        return None
    name, _, count = text.partition(":")
    return name, int(count or 1)


def checkpoint(name: str) -> None:
    """Count this point; SIGKILL the process when it is the one PIPELINE_KILL_AT names."""
    wanted = kill_point(os.environ.get(ENVIRONMENT))
    if wanted is None or wanted[0] != name:
        return
    _reached[name] += 1
    if _reached[name] == wanted[1]:
        os.kill(os.getpid(), signal.SIGKILL)


def reset() -> None:
    """Forget the points reached (a forked test process starts counting afresh)."""
    _reached.clear()
