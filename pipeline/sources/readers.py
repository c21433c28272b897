"""Read untrusted district files (xlsx, xlsm, xls, ods, csv) into raw cell grids.

Files come from a folder anyone can write to, so every byte is hostile until checked: the type
is sniffed from magic bytes, zips are measured from their directory and then verified (CRC, true
sizes) before calamine sees them, and xlsx sheet XML is scanned for cell references that would
make calamine allocate a huge grid (it aborts the whole process with SIGABRT instead of raising).

`read_file` runs in the calling process and never raises on bad input, but it cannot survive a
native crash that no cheap pre-check foresees (e.g. crafted sheet XML whose cells omit their r=
attribute). `read_files` parses each file in a forked child with an address-space limit and a
wall-time limit, so such a crash costs one file: use it for anything from the shared folder.

Choices the caller should know:
- Plain text/CSV renamed .xls/.xlsx is read as CSV and reported as kind 'csv' with problem None
  ('csv_not_excel' is never produced): compare `kind` with the extension to warn the district.
- Running out of memory (MemoryError, or the child's memory limit) is reported as 'file_too_large'.
- Sheets are returned only when problem is None; cells are never coerced (numbers stay as
  calamine gives them, text stays text, empty cells are "").
- XML parts carrying a document type declaration (entities: 'billion laughs', external files) are
  refused as 'corrupt' before any parser sees them: Excel and LibreOffice never write one.
- A readable file may carry `warnings` (codes for the district, not reasons to refuse it):
  'formulas_not_calculated' when formula cells have no cached value (they read as empty).
"""
from __future__ import annotations

import os
from pathlib import Path

from pipeline.core.outcome import ReadOutcome, Refused, failed, has_cells
from pipeline.runtime.limits import ReadLimits
from pipeline.runtime.processes import read_and_process
from pipeline.sources.delimited import read_delimited
from pipeline.sources.sniff import classify, detect_kind, extension_of, read_regular_file, unicode_name
from pipeline.sources.workbooks import check_zip, read_workbook


# ---------------------------------------------------------------- detection (pure functions)


# ---------------------------------------------------------------- reading in this process

def read_file(path, limits: ReadLimits = ReadLimits()) -> ReadOutcome:
    """Read one file in this process; never raises on bad input (native crashes: use read_files)."""
    path_text, kind = os.fspath(path), 'unknown'
    try:
        data, size = read_regular_file(path_text, limits.max_file_bytes)
        kind, problem, detail = classify(data, extension_of(path_text))
        if max(size, len(data)) > limits.max_file_bytes:
            return failed(path_text, kind, 'file_too_large', f'{max(size, len(data))} bytes > max_file_bytes')
        if problem:
            return failed(path_text, kind, problem, detail)
        warnings: tuple[str, ...] = ()
        if kind in ('xlsx', 'xlsm', 'ods'):
            warnings = check_zip(data, limits, scan_sheets=kind != 'ods')
        if kind in ('csv', 'text'):
            sheets = read_delimited(data, unicode_name(Path(path_text).stem), limits)
        else:
            sheets = read_workbook(data, kind, limits)
        if not any(map(has_cells, sheets)):
            return failed(path_text, kind, 'empty_file', 'no non-empty cell')
        return ReadOutcome(path_text, kind, tuple(sheets), None, '', warnings)
    except Refused as refusal:
        return failed(path_text, kind, refusal.problem, refusal.detail)
    except MemoryError:
        return failed(path_text, kind, 'file_too_large', 'out of memory while parsing')
    except Exception as error:
        return failed(path_text, kind, 'corrupt', f'{type(error).__name__} while parsing')
    except BaseException as error:
        if isinstance(error, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        # pyo3 turns a Rust panic into PanicException, which derives from BaseException.
        return failed(path_text, kind, 'parser_crashed', f'{type(error).__name__} in parser')


# ---------------------------------------------------------------- reading in child processes


def read_files(paths, limits: ReadLimits = ReadLimits(), workers: int = 2) -> list[ReadOutcome]:
    """Read each file in its own forked child under memory and time limits; results in the order of paths."""
    return [outcome for outcome, _ in read_and_process(paths, None, limits, workers, reader=read_file,
                                                       kind_of=detect_kind)]
