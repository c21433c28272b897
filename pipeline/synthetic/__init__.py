"""Synthetic district inboxes with known truth (no real person: random Thai names, random valid IDs).

    from pipeline.synthetic import build_inbox, Drifts, Problems
    truth = build_inbox(tmp / "inputs", seed=1, weeks=[date(2021, 12, 24), date(2021, 12, 31)],
                        districts=["5401", "5403"], mode={"5403": "new_only"}, late_districts={"5403"})

Command: `python -m pipeline.synthetic sample inputs/` writes the bundled sample inbox.
"""
from pipeline.synthetic.cells import Drifts
from pipeline.synthetic.inbox import build_inbox, folder_name
from pipeline.synthetic.population import Entity, Factory, Population, canonical_records, generate_population
from pipeline.synthetic.problems import DUPLICATE_KINDS, INJECTIONS, Injection, Problems
from pipeline.synthetic.sample import build_sample
from pipeline.synthetic.truth import FileTruth, RowTruth, SheetTruth, Truth, entity_key

__all__ = [
    "DUPLICATE_KINDS", "Drifts", "Entity", "Factory", "FileTruth", "INJECTIONS", "Injection", "Population",
    "Problems", "RowTruth", "SheetTruth", "Truth", "build_inbox", "build_sample", "canonical_records",
    "entity_key", "folder_name", "generate_population",
]
