"""The watch command: the current week run whenever the inbox changes, feedback delivered into each district's
folder minutes after it drops a file, while the week is still open.

The inbox is polled (shared network folders and sync clients do not deliver file events reliably), and so
are the Google Sheets' modified times (Drive, one call per sheet); a pass runs when two looks
`watch.interval_seconds` apart see the same files and times, so a file still being copied is not read
half-written (the first look runs the week at once: the weekly run's own second look guards files modified
within settle_seconds). A pass with nothing new since the last one writes nothing (runtime/unchanged.py).
A pass is the ordinary weekly run (it holds the outputs lock; watch holds none while it sleeps). After each Friday cut-off, the week that just closed is run once more, settle_seconds after the
cut-off, unless it is already approved. Ctrl-C stops watch between passes, never in the middle of one.
"""
from __future__ import annotations

import datetime as dt
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core import messages, weeks
from pipeline.core.config import load_config
from pipeline.core.paths import week_files
from pipeline.core.screen import say
from pipeline.run import run_weekly
from pipeline.runtime.locking import watch_lock
from pipeline.sources.inbox import inbox_signature

# A week that closed this long before watch started had its final run then (a restart soon after the cut-off
# still gives it one).
LONG_AGO = dt.timedelta(days=1)


@dataclass
class WatchState:
    """What watch remembers between looks."""

    seen: tuple | None = None          # the inbox at the last look
    processed: tuple | None = None     # the inbox the last pass was run on
    closed: set = field(default_factory=set)   # weeks whose final pass after their cut-off is done
    started: dt.datetime | None = None
    stopping: bool = False
    sheet_times: dict = field(default_factory=dict)   # Google Sheets' modified times at the last look
    sheets_client: object = None                       # reused between looks (one sign-in, refreshed as needed)


def _close_weeks(state: WatchState, config, config_path: Path, inputs: Path, outputs_dir: Path, now: dt.datetime,
                 progress, sheets_adapter=None) -> None:
    """The week that just closed, once more after its cut-off and settle time, unless it is approved."""
    closed = weeks.week_of(now, config) - dt.timedelta(days=7)
    if closed < config.first_report or closed in state.closed:
        return
    final = weeks.cutoff_of(closed, config) + dt.timedelta(seconds=config.settle_seconds)
    if now < final:
        return
    state.closed.add(closed)
    clock = now.astimezone(config.timezone).strftime("%H:%M")
    if state.started is not None and final < state.started - LONG_AGO:   # closed long before watch started
        return
    if week_files(outputs_dir, closed.isoformat()).approval.exists():
        progress(messages.text("watch_final_approved", time=clock, week=closed))
        return
    progress(messages.text("watch_final", time=clock, week=closed))
    run_weekly(config_path, inputs, outputs_dir, closed.isoformat(), now=now, progress=progress, deliver=True,
               sheets_adapter=sheets_adapter)


def _sheet_times(state: WatchState, config, config_path: Path, adapter) -> tuple:
    """The configured Google Sheets' modified times (one Drive call each), as part of what a look sees."""
    if not config.google_sheets:
        return ()
    from pipeline.sources import gsheets   # gspread and google-auth load only when sheets are configured
    settings = gsheets.parse_settings(config.google_sheets, Path(config_path).parent, config.districts)
    state.sheet_times, state.sheets_client = gsheets.modified_times(settings, state.sheets_client, adapter,
                                                                    state.sheet_times)
    return tuple(sorted(state.sheet_times.items()))


def look(state: WatchState, config_path: Path, inputs: Path, outputs_dir: Path, now: dt.datetime,
         progress, sheets_adapter=None) -> None:
    """One look at the inbox and the Google Sheets: a pass when they settled since the last pass; the closed
    week's final pass."""
    config = load_config(config_path)
    state.started = state.started or now
    _close_weeks(state, config, config_path, inputs, outputs_dir, now, progress, sheets_adapter)
    signature = (inbox_signature(inputs), _sheet_times(state, config, config_path, sheets_adapter))
    # A change is run once two looks see the same (a copy in progress is not read); at the start, at once: the
    # weekly run itself looks again at any file modified within settle_seconds before reading it.
    if signature != state.processed and (signature == state.seen or state.seen is None):
        week = weeks.week_of(now, config)
        progress(messages.text("watch_pass", time=now.astimezone(config.timezone).strftime("%H:%M"), week=week))
        run_weekly(config_path, inputs, outputs_dir, week.isoformat(), now=now, progress=progress, deliver=True,
                   sheets_adapter=sheets_adapter)
        state.processed = signature   # what changes during the pass is seen by the next looks
    state.seen = signature


def watch(config_path: Path, inputs: Path, outputs_dir: Path, *, clock=None, sleep=time.sleep,
          looks: int | None = None, progress=None, sheets_adapter=None) -> int:
    """Look at the inbox every interval until Ctrl-C (or `looks` times, for tests); returns 0 (sheets_adapter:
    a test transport for Google)."""
    config = load_config(config_path)
    progress = progress or (lambda line: say([line]))
    clock = clock or (lambda: dt.datetime.now(tz=config.timezone))
    state = WatchState()

    def stop(signum, frame) -> None:   # between passes: a pass is never cut in the middle of writing
        state.stopping = True

    with watch_lock(outputs_dir):
        previous = signal.signal(signal.SIGINT, stop)
        try:
            progress(messages.text("watch_started", inputs=inputs, interval=f"{config.watch_interval_seconds:g}"))
            count = 0
            while not state.stopping:
                look(state, config_path, inputs, outputs_dir, clock(), progress, sheets_adapter)
                count += 1
                if looks is not None and count >= looks:
                    break
                _nap(config.watch_interval_seconds, state, sleep)
        finally:
            signal.signal(signal.SIGINT, previous)
    progress(messages.text("watch_stopped"))
    return 0


def _nap(seconds: float, state: WatchState, sleep) -> None:
    """Sleep in short steps, so Ctrl-C is heard within a second."""
    left = seconds
    while left > 0 and not state.stopping:
        step = min(1.0, left)
        sleep(step)
        left -= step
