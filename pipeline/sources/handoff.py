"""What this run has parsed, left for the feedback copies later in the run (cells of a CSV or ODS, an xlsx's layout)."""
from __future__ import annotations

import os
import pickle
from dataclasses import replace
from pathlib import Path

from pipeline.core.outcome import ReadOutcome, cell_count
from pipeline.runtime.limits import ReadLimits
from pipeline.sources.readers import read_file

HANDOFF_SUFFIX = '.cells.pickle'


def save_handoff(outcome: ReadOutcome, path: Path, with_cells: bool = True) -> None:
    """Keep a parsed file for a later step of the same run (the feedback copy), so it is not parsed twice.

    Without cells, only each sheet's layout is kept (name, place, hidden, merged ranges, cell count).
    """
    if not with_cells:
        outcome = replace(outcome, sheets=tuple(replace(sheet, rows=[], cells=cell_count(sheet))
                                                for sheet in outcome.sheets))
    temporary = path.with_name(path.name + '.partial')
    with open(temporary, 'wb') as handle:
        pickle.dump(outcome, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temporary, path)


def read_handoff(path: str, limits: ReadLimits = ReadLimits()) -> ReadOutcome:
    """The cells save_handoff kept (our own file, written by this run); any other path is read as usual."""
    if not path.endswith(HANDOFF_SUFFIX):
        return read_file(path, limits)
    with open(path, 'rb') as handle:
        return pickle.load(handle)
