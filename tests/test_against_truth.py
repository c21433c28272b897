"""Generated messy inboxes with known truth: every figure of report.json must equal it."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from pipeline.run import run_weekly
from pipeline.synthetic import build_inbox
from tests.conftest import PROJECT
from tests.reference import expected_report

WEEKS = [dt.date(2021, 12, 24), dt.date(2021, 12, 31)]
SUBMISSION_KEYS = ["status", "files", "rows_read", "accepted", "rejected", "duplicates", "skipped"]
FIGURE_BLOCKS = ["volunteers", "unvaccinated", "facilities", "help_requests"]


def _project(block: dict, like: dict) -> dict:
    """The keys of a pipeline block that the expected block names (extra keys are allowed)."""
    return {key: (_project(block[key], value) if isinstance(value, dict) else block[key])
            for key, value in like.items() if key in block}


@pytest.mark.parametrize("seed", [7, 54])
def test_two_week_inbox_equals_truth(tmp_path, seed):
    truth = build_inbox(tmp_path / "inbox", seed=seed, weeks=WEEKS,
                        mode={"5401": "resend", "5402": "new_only", "5403": "resend"},
                        late_districts={"5404"}, missing_districts={WEEKS[1]: {"5406"}},
                        after_cutoff_districts={WEEKS[0]: {"5405"}})
    for week in WEEKS:
        run_weekly(PROJECT / "config.yaml", tmp_path / "inbox", tmp_path / "out", week.isoformat(),
                   progress=lambda message: None)
        report = json.loads((tmp_path / "out" / week.isoformat() / "report.json").read_text(encoding="utf-8"))
        expected = expected_report(truth, week)
        for code, district in expected["districts"].items():
            got = report["districts"][code]
            for block in FIGURE_BLOCKS:
                assert _project(got[block], district[block]) == district[block], (week, code, block)
            wanted = {k: district["submission"][k] for k in SUBMISSION_KEYS if k in district["submission"]}
            assert {k: got["submission"][k] for k in wanted} == wanted, (week, code, "submission")
        for block in FIGURE_BLOCKS:
            assert _project(report["totals"][block], expected["totals"][block]) == expected["totals"][block]
