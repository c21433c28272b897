"""python -m pipeline.synthetic sample DIR | inbox DIR: write synthetic district inboxes."""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections import Counter
from pathlib import Path

from pipeline.synthetic import forms
from pipeline.synthetic.cells import Drifts
from pipeline.synthetic.inbox import build_inbox
from pipeline.synthetic.sample import SAMPLE_SEED, build_sample, clear_sample
from pipeline.synthetic.truth import Truth


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pipeline.synthetic", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sample = commands.add_parser("sample", help="the bundled one-week sample inbox of Phrae (mtimes = now); "
                                 "replaces district folders an earlier sample wrote there")
    sample.add_argument("directory", type=Path)
    sample.add_argument("--seed", type=int, default=SAMPLE_SEED)
    inbox = commands.add_parser("inbox", help="a multi-week inbox with real submission times (for trials)")
    inbox.add_argument("directory", type=Path)
    inbox.add_argument("--seed", type=int, default=1)
    inbox.add_argument("--weeks", default="2021-12-24,2021-12-31", help="Fridays, comma-separated")
    inbox.add_argument("--districts", default="", help="DOPA codes, comma-separated (default: all)")
    return parser.parse_args(argv)


def _summary(truth: Truth) -> str:
    outcomes = Counter(r.outcome for f in truth.files for s in f.sheets for r in s.rows.values())
    size = sum((truth.root / f.path).stat().st_size for f in truth.files)
    return (f"{len(truth.files)} files ({size / 1024:.0f} KiB) in {len(truth.folders)} district folders; rows: "
            + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))


def main(argv: list[str] | None = None) -> int:
    """Run the command; exit 0 on success, 2 with one line on stderr otherwise."""
    arguments = _arguments(argv)
    directory: Path = arguments.directory
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if arguments.command == "sample":
            clear_sample(directory)  # regenerate: old sample folders would otherwise double every figure
            truth = build_sample(directory, seed=arguments.seed)
        else:
            weeks = [dt.date.fromisoformat(w) for w in arguments.weeks.split(",") if w]
            districts = [d for d in arguments.districts.split(",") if d] or None
            # One state on disk for every run: files saved again or deleted need a run between the changes.
            truth = build_inbox(directory, seed=arguments.seed, weeks=weeks, districts=districts,
                                drifts=Drifts(replaced_files=False, removed_files=False))
    except (OSError, ValueError) as error:
        print(f"synthetic: {error}", file=sys.stderr)
        return 2
    print(f"{directory}: {_summary(truth)}; week {forms.week_of(max(f.submitted_at for f in truth.files))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
