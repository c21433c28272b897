"""Untrusted files parsed and processed in forked children, two at a time, each under memory and time limits.

A native crash in a parser (calamine aborts on some crafted sheets) costs one file, not the run. The parent
can work on its own steps meanwhile (the week's reports while feedback copies are made), and a child's
result is taken as soon as it is ready. What a child reads with (`reader`) is the caller's: this module knows
processes, not file formats.
"""
from __future__ import annotations

import ctypes
import faulthandler
import fcntl
import gc
import math
import os
import pickle
import re
import resource
import selectors
import shutil
import signal
import tempfile
import time
import traceback
from dataclasses import dataclass, field, replace
from collections.abc import Callable, Iterator
from typing import NoReturn

from pipeline.core.outcome import ReadOutcome, failed
from pipeline.runtime.limits import ReadLimits

EXIT_OUT_OF_MEMORY = 71
PR_SET_PDEATHSIG = 1
# read_files points each child here at a folder the parent removes, so a crashed child leaves no snapshot.
SCRATCH_DIRECTORY: str | None = None
# Scratch folders are named after the reading process, so a later run can remove those of a killed one.
SCRATCH_NAME = re.compile(r'readers-(\d+)-[^/]*')


@dataclass
class Child:
    index: int
    pid: int
    descriptor: int
    deadline: float
    scratch: str
    chunks: list[bytes] = field(default_factory=list)


@dataclass(frozen=True)
class ChildResult:
    """What a child sends back: the outcome (without its cells when processed there) and the product."""

    outcome: ReadOutcome
    product: object = None
    error: str | None = None   # a traceback: our own bug while processing, raised in the parent


def read_and_process(paths, process=None, limits: ReadLimits = ReadLimits(), workers: int = 2,
                     meanwhile=None, *, reader, kind_of, finished=None, sizes=None) -> list[tuple]:
    """Read each file in a limited child and, if given, run process(index, outcome) there too.

    Processing in the child uses both cores for the costly work after parsing and sends back only
    its (smaller) product instead of every raw cell. Returns (outcome, product) pairs in path order;
    a file whose child died has product None (the caller processes that failed outcome itself).
    `meanwhile`, if given, is work for this process while the children run (their results wait in their
    pipes): a callable, called once as soon as the first children are started, or an iterator of steps,
    advanced one step at a time with finished children replaced in between (no core left idle for long).
    `reader(path, limits)` reads a file in the child (sources.readers.read_file, or sources.handoff.read_handoff:
    what this run has already parsed); `kind_of(path)` names a file whose child died. `finished(index,
    outcome, product)`, if given, is called here as each file's result comes in (in the order they finish), so
    this process can use it at once. `sizes` orders the work when the
    paths' own sizes do not tell how much each is (say, hand-offs that hold only a layout).
    """
    paths = [os.fspath(path) for path in paths]
    sweep_scratch()
    results: list[ReadOutcome | None] = [None] * len(paths)
    # Largest files first (popped from the end): the two workers then finish close together.
    sizes = sizes or [file_size(path) for path in paths]
    waiting = sorted(range(len(paths)), key=lambda index: (sizes[index], -index))
    running: dict[int, Child] = {}
    steps = _steps(meanwhile)
    with selectors.DefaultSelector() as selector:
        try:
            while waiting or running:
                # While this process works on its own steps one more child runs: the cores stay busy even
                # when both children finish during a long step.
                while waiting and len(running) < max(1, workers) + (steps is not None):
                    child = start_child(waiting.pop(), paths, limits, process, reader)
                    running[child.descriptor] = child
                    selector.register(child.descriptor, selectors.EVENT_READ)
                timeout = None
                if steps is not None:
                    started = time.monotonic()
                    if next(steps, _DONE) is _DONE:
                        steps = None
                    for child in running.values():   # time spent here is not theirs: results wait in the pipes
                        child.deadline += time.monotonic() - started
                    timeout = 0.0   # only collect what has finished, then the next step
                if timeout is None:
                    timeout = min(child.deadline for child in running.values()) - time.monotonic()
                # Read results while children are still writing them: a child blocked on a full pipe
                # would otherwise never exit (the join-before-read deadlock).
                for key, _ in selector.select(max(0.0, timeout)):
                    child = running[key.fd]
                    chunk = os.read(key.fd, 1 << 20)
                    if chunk:
                        child.chunks.append(chunk)
                        continue
                    selector.unregister(key.fd)
                    del running[key.fd]
                    results[child.index] = finish_child(child, paths[child.index], limits, kind_of)
                    if results[child.index][2]:
                        raise RuntimeError(f"processing {paths[child.index]} failed:\n{results[child.index][2]}")
                    if finished is not None:
                        finished(child.index, *results[child.index][:2])
                for child in [child for child in running.values() if child.deadline <= time.monotonic()]:
                    selector.unregister(child.descriptor)
                    del running[child.descriptor]
                    stop_child(child)
                    path = paths[child.index]
                    results[child.index] = (failed(path, kind_of(path), 'timeout',
                                                   f'no result within {limits.seconds:g} s'), None, None)
                    if finished is not None:
                        finished(child.index, *results[child.index][:2])
        finally:
            for child in running.values():
                stop_child(child)
    for _ in steps or ():   # the children finished first (or there were none): the rest of the parent's work
        pass
    return [(outcome, product) for outcome, product, _ in results]
_DONE = object()


def _steps(meanwhile):
    """The parent's work as an iterator of steps (a plain callable is one step); None when there is none."""
    if meanwhile is None:
        return None
    return _one_step(meanwhile) if callable(meanwhile) else iter(meanwhile)


def _one_step(task):
    task()
    yield


def file_size(path: str) -> int:
    """Bytes of a file (0 when it cannot be seen)."""
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def sweep_scratch(folder: str | None = None) -> int:
    """Remove the scratch folders of reading processes that died (they may hold a copy of a district file)."""
    swept = 0
    try:
        entries = list(os.scandir(folder or tempfile.gettempdir()))
    except OSError:
        return 0
    for entry in entries:
        match = SCRATCH_NAME.fullmatch(entry.name)
        if match and entry.is_dir(follow_symlinks=False) and not process_alive(int(match[1])):
            shutil.rmtree(entry.path, ignore_errors=True)
            swept += 1
    return swept


def process_alive(pid: int) -> bool:
    """True when a process with this id exists (ours or another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_child(index: int, paths: list[str], limits: ReadLimits, process, reader) -> Child:
    global SCRATCH_DIRECTORY
    scratch = tempfile.mkdtemp(prefix=f'readers-{os.getpid()}-')
    read_end, write_end = os.pipe()
    try:
        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 1 << 20)  # fewer wake-ups for large results
    except (OSError, AttributeError):
        pass
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:  # out of processes or memory: a machine problem, not the file's, so it is raised
        os.close(read_end)
        os.close(write_end)
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    if pid == 0:
        try:  # the child must never return into the caller's code, whatever happens
            os.close(read_end)
            die_with_parent(parent)
            SCRATCH_DIRECTORY = scratch
            child_main(paths[index], limits, write_end, process, index, reader)
        finally:
            os._exit(70)
    os.close(write_end)
    return Child(index, pid, read_end, time.monotonic() + limits.seconds, scratch)


def die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this child when the run dies, so a killed run leaves no parser behind."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the CPU limit below still bounds an orphan
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(70)


def child_main(path: str, limits: ReadLimits, descriptor: int, process, index: int, reader) -> NoReturn:
    """Parse one file under RLIMIT_AS and stream the pickled outcome; always ends in os._exit."""
    status = 70
    try:
        gc.disable()  # a short-lived process: the cycle collector only slows building 200k row lists
        faulthandler.disable()  # a crash here is an expected, reported outcome, not a stack dump for the log
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = limits.memory_bytes if hard == resource.RLIM_INFINITY else min(limits.memory_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash on a hostile file leaves no core dump
        cpu = max(1, math.ceil(limits.seconds) + 1)  # the parent's wall-time limit, enforced even on an orphan
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        os.environ['RUST_BACKTRACE'] = '0'
        # A native parser's dying words (calamine: 'memory allocation of … bytes failed') are not the
        # terminal's business: the outcome says what happened, in the issues table.
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 2)
        os.close(quiet)
        outcome = reader(path, limits)
        result = ChildResult(outcome)
        if process is not None:
            try:
                product = process(index, outcome)
                result = ChildResult(replace(outcome, sheets=()), product)
            except MemoryError:
                raise
            except Exception:  # our bug, not the file's: the parent raises it with this traceback
                result = ChildResult(replace(outcome, sheets=()), None, traceback.format_exc())
        with open(descriptor, 'wb', buffering=1 << 20) as pipe:
            pickle.dump(result, pipe, protocol=pickle.HIGHEST_PROTOCOL)
        status = 0
    except MemoryError:
        status = EXIT_OUT_OF_MEMORY
    except BaseException:
        status = 70
    finally:
        if SCRATCH_DIRECTORY:  # normally empty by now; removed here too in case the parent was killed
            shutil.rmtree(SCRATCH_DIRECTORY, ignore_errors=True)
        os._exit(status)


def finish_child(child: Child, path: str, limits: ReadLimits, kind_of) -> tuple:
    """Turn a finished child's exit status and bytes into (outcome, product, error)."""
    os.close(child.descriptor)
    _, status = os.waitpid(child.pid, 0)
    shutil.rmtree(child.scratch, ignore_errors=True)
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f'signal {number}'
        return failed(path, kind_of(path), 'parser_crashed', f'parser process killed by {name}'), None, None
    if os.WEXITSTATUS(status) == EXIT_OUT_OF_MEMORY:
        return (failed(path, kind_of(path), 'file_too_large',
                       f'parser process exceeded memory_bytes={limits.memory_bytes}'), None, None)
    payload, child.chunks = b''.join(child.chunks), []
    if os.WEXITSTATUS(status) == 0:
        gc_was_enabled = gc.isenabled()
        gc.disable()  # unpickling 200k row lists runs twice as fast without the cycle collector
        try:
            outcome = pickle.loads(payload)
        except Exception:
            outcome = None
        finally:
            if gc_was_enabled:
                gc.enable()
        if isinstance(outcome, ChildResult):
            return outcome.outcome, outcome.product, outcome.error
    return (failed(path, kind_of(path), 'parser_crashed',
                   f'parser process exited with status {os.WEXITSTATUS(status)}'), None, None)


def stop_child(child: Child) -> None:
    try:
        os.kill(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(child.pid, 0)
    os.close(child.descriptor)
    shutil.rmtree(child.scratch, ignore_errors=True)


@dataclass(frozen=True)
class ChildWork:
    """Files to process in limited children: how each is read, what a child does with it, how big each is."""

    paths: list
    process: Callable
    reader: Callable
    kind_of: Callable
    limits: ReadLimits
    workers: int = 2
    sizes: list | None = None


def alongside(work: ChildWork, steps: Iterator | None) -> list[tuple]:
    """Run `work` in child processes while this process takes `steps` one at a time (both cores busy):
    between two steps, finished children are replaced. Returns (outcome, product) per path, in order."""
    return read_and_process(work.paths, work.process, work.limits, work.workers, steps, reader=work.reader,
                            kind_of=work.kind_of, sizes=work.sizes)
