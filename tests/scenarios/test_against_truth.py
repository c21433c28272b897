"""Generated messy inboxes with known truth: every figure of report.json must equal it.

The inboxes hold every drift the generator knows (hinted headers, merged village cells, everyday
spellings, blank and missing reported columns, stale facilities, an unusable district-week, corrections,
a file saved again and a file deleted). Each week runs at its own `now` (truth.run_at), after the
changes to the inbox made by then, so a deletion is seen inside the week it happened.
"""
from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from pipeline.run import run_weekly
from pipeline.synthetic import build_inbox
from pipeline.synthetic.inbox import apply_changes
from tests.conftest import PROJECT
from tests.reference import COUNT_KEYS, expected_accounting, expected_report

WEEKS = [dt.date(2021, 12, 24), dt.date(2021, 12, 31)]
SUBMISSION_KEYS = ["status", "files", "rows_read", "accepted", "updated", "rejected", "duplicates", "skipped"]
FIGURE_BLOCKS = ["volunteers", "unvaccinated", "facilities", "help_requests"]
MODES = {"5401": "resend", "5402": "new_only", "5403": "resend", "5405": "new_only", "5407": "new_only"}


def _project(block: dict, like: dict) -> dict:
    """The keys of a pipeline block that the expected block names (extra keys are allowed; missing ones show)."""
    return {key: (_project(block.get(key, {}), value) if isinstance(value, dict) else block.get(key, "<missing>"))
            for key, value in like.items()}


def _differences(got: dict, expected: dict, where: tuple) -> list[str]:
    """One line per figure that differs (path, got, expected)."""
    found = []
    for key, value in expected.items():
        mine = got.get(key, "<missing>") if isinstance(got, dict) else "<missing>"
        if isinstance(value, dict):
            found += _differences(mine if isinstance(mine, dict) else {}, value, (*where, key))
        elif mine != value:
            found.append(f"{'/'.join(map(str, where + (key,)))}: got {mine!r}, expected {value!r}")
    return found


def _accounting(frame: pd.DataFrame) -> dict:
    """The pipeline's accounting per file version: (path, submitted_at) -> row counts summed over its sheets."""
    counts = [k for k in COUNT_KEYS[1:] if k in frame]
    summed = frame.assign(submitted_at=pd.to_datetime(frame["submitted_at"], utc=True)) \
        .groupby(["source_file", "submitted_at"])[counts].sum()
    return {(path, moment.to_pydatetime()): {k: int(v) for k, v in row.items()}
            for (path, moment), row in summed.iterrows()}


@pytest.mark.parametrize("seed", [7, 54])
def test_two_week_inbox_equals_truth(tmp_path, seed):
    truth = build_inbox(tmp_path / "inbox", seed=seed, weeks=WEEKS, mode=MODES,
                        late_districts={"5404"}, missing_districts={WEEKS[1]: {"5406"}},
                        after_cutoff_districts={WEEKS[0]: {"5405"}})
    assert {c.kind for c in truth.changes} == {"replace", "remove"}
    problems = []
    for week in WEEKS:
        apply_changes(truth, truth.run_at[week])
        done = run_weekly(PROJECT / "config.yaml", tmp_path / "inbox", tmp_path / "out", week.isoformat(),
                          now=truth.run_at[week], progress=lambda message: None)
        report = json.loads((tmp_path / "out" / week.isoformat() / "report.json").read_text(encoding="utf-8"))
        expected = expected_report(truth, week)
        for code, district in expected["districts"].items():
            got = report["districts"][code]
            for block in FIGURE_BLOCKS:
                problems += _differences(got.get(block, {}), district[block], (week, code, block))
            wanted = {k: district["submission"][k] for k in SUBMISSION_KEYS}
            problems += _differences(got["submission"], wanted, (week, code, "submission"))
            if got.get("incomplete") != district["incomplete"]:
                problems.append(f"{week}/{code}/incomplete: got {got.get('incomplete')!r}, "
                                f"expected {district['incomplete']!r}")
        for block in [*FIGURE_BLOCKS, "submission"]:
            problems += _differences(report["totals"].get(block, {}), expected["totals"][block], (week, "totals", block))
        if report["totals"].get("incomplete") != expected["totals"]["incomplete"]:
            problems.append(f"{week}/totals/incomplete: got {report['totals'].get('incomplete')!r}, "
                            f"expected {expected['totals']['incomplete']!r}")
        found, wanted = _accounting(done.result.accounting), expected_accounting(truth, week)
        for version in sorted(set(found) | set(wanted), key=str):
            if found.get(version) != wanted.get(version):
                problems.append(f"{week}/accounting/{version[0]} @ {version[1].isoformat()}: "
                                f"got {found.get(version)}, expected {wanted.get(version)}")
    assert not problems, f"{len(problems)} figures differ:\n" + "\n".join(problems[:80])
