"""Command line: python -m pipeline weekly --config … --inputs … --outputs … --week …"""
from __future__ import annotations

import argparse
import errno
import os
import sqlite3
import sys
import traceback
from pathlib import Path

from pipeline.core import messages
from pipeline.core.errors import ConfigError
from pipeline.core.screen import visible
from pipeline.store.database import StoreError

NATIONAL_LOCK_WAIT_SECONDS = 600   # the national roll-up has no province config: the default wait


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description="Jitasa.care weekly reporting")
    commands = parser.add_subparsers(dest="command", required=True)
    weekly = commands.add_parser("weekly", help="run one reporting week")
    weekly.add_argument("--config", type=Path, default=Path("config.yaml"))
    weekly.add_argument("--inputs", type=Path, default=Path("inputs"))
    weekly.add_argument("--outputs", type=Path, default=Path("outputs"))
    weekly.add_argument("--week", default=None, help="the week's Friday, YYYY-MM-DD (default: current week)")
    national = commands.add_parser("national", help="merge the provinces' report.json into the national roll-up")
    national.add_argument("--inputs", type=Path, required=True,
                          help="folder of province report.json files (searched recursively)")
    national.add_argument("--outputs", type=Path, default=Path("outputs"))
    national.add_argument("--week", default=None, help="the week's Friday, YYYY-MM-DD (default: the reports' week)")
    approve = commands.add_parser("approve", help="record the administrator's sign-off of a week's report")
    approve.add_argument("--config", type=Path, default=Path("config.yaml"))
    approve.add_argument("--inputs", type=Path, default=Path("inputs"))
    approve.add_argument("--outputs", type=Path, default=Path("outputs"))
    approve.add_argument("--week", default=None, help="the week's Friday, YYYY-MM-DD (default: current week)")
    approve.add_argument("--by", default=None, help="who approves: the administrator's name (required)")
    watch = commands.add_parser("watch", help="run the current week whenever the inbox changes; deliver feedback")
    watch.add_argument("--config", type=Path, default=Path("config.yaml"))
    watch.add_argument("--inputs", type=Path, default=Path("inputs"))
    watch.add_argument("--outputs", type=Path, default=Path("outputs"))
    templates = commands.add_parser("templates", help="write the district submission templates")
    templates.add_argument("--config", type=Path, default=Path("config.yaml"))
    templates.add_argument("--outputs", type=Path, default=Path("templates"))
    return parser


def _templates(arguments: argparse.Namespace) -> int:
    from pipeline.templates import main as templates_main
    return templates_main(["--config", str(arguments.config), "--outputs", str(arguments.outputs)])


def _national(arguments: argparse.Namespace) -> int:
    from pipeline.runtime.locking import outputs_lock
    from pipeline.national import main_national
    with outputs_lock(arguments.outputs, "national", NATIONAL_LOCK_WAIT_SECONDS):
        return main_national(arguments)


def _approve(arguments: argparse.Namespace) -> int:
    from pipeline.week.approval import main_approve
    return main_approve(arguments)


def _watch(arguments: argparse.Namespace) -> int:
    from pipeline.watch import watch
    if not arguments.inputs.is_dir():
        raise ConfigError(messages.text("inputs_missing", path=arguments.inputs))
    return watch(arguments.config, arguments.inputs, arguments.outputs)


def _weekly(arguments: argparse.Namespace) -> int:
    from pipeline.run import run_weekly
    from pipeline.core.screen import say
    if not arguments.inputs.is_dir():
        raise ConfigError(messages.text("inputs_missing", path=arguments.inputs))
    done = run_weekly(arguments.config, arguments.inputs, arguments.outputs, arguments.week)
    say(list(done.summary))
    for line in done.notices:
        print(visible(line))
    return 0


def _file_system_line(error: OSError) -> str:
    """One Thai line for a refusal of the file system, naming the path and the cause."""
    path = error.filename or ""
    if error.errno == errno.ENOSPC:
        return messages.text("disk_full", path=path)
    return messages.text("file_system", path=path, cause=error.strerror or type(error).__name__)


def _store_line(error: sqlite3.OperationalError, arguments: argparse.Namespace) -> str:
    """One Thai line for the history store refusing a write."""
    path = Path(getattr(arguments, "outputs", Path("."))) / "store.sqlite"
    if "full" in str(error):
        return messages.text("disk_full", path=path)
    return messages.text("file_system", path=path, cause=str(error))


def main(argv: list[str] | None = None) -> int:
    """Run a command; one clear line on stderr and a non-zero exit when it cannot be done."""
    arguments = _parser().parse_args(argv)
    os.umask(0o077)  # outputs hold personal data: readable by the office account only
    try:
        commands = {"weekly": _weekly, "national": _national, "templates": _templates, "approve": _approve,
                    "watch": _watch}
        return commands[arguments.command](arguments)
    except (ConfigError, StoreError) as error:
        print(f"{messages.text('error_prefix')} {visible(str(error))}", file=sys.stderr)
        return 2
    except sqlite3.OperationalError as error:   # the store's disk is full or read-only: name it, not "internal"
        print(f"{messages.text('error_prefix')} {visible(_store_line(error, arguments))}", file=sys.stderr)
        return 2
    except OSError as error:   # the file system refused (permissions, a full disk): not our bug, name the path
        print(f"{messages.text('error_prefix')} {visible(_file_system_line(error))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{messages.text('error_prefix')} {messages.text('interrupted')}", file=sys.stderr)
        return 130
    except Exception as error:  # our bug: say so in one line, keep the details in a log
        log = Path(getattr(arguments, "outputs", Path("."))) / "last-error.log"
        where = str(log)
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(traceback.format_exc(), encoding="utf-8")
        except OSError as unwritten:
            where = messages.text("log_unwritten", cause=unwritten.strerror or type(unwritten).__name__)
        from pipeline.core.screen import redact
        # The exception text may quote a cell (an ID, a phone): masked here, whole in the owner-only log.
        line = messages.text("internal_error", kind=type(error).__name__, text=redact(str(error)), log=where)
        print(f"{messages.text('error_prefix')} {visible(line)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
