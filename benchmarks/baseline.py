"""The hand-written baseline: what a provincial analyst would write in an afternoon with pandas.

    python -m benchmarks.baseline --inputs DIR [--inputs DIR …] --outputs DIR

Every sheet of every workbook with pd.read_excel(engine="openpyxl"), every CSV with pd.read_csv
(UTF-8, else cp874), all of it concatenated, exact duplicate rows dropped, and the result written
with DataFrame.to_excel. No header matching, no validation, no Thai normalisation, no identity:
it is not a correct report (shuffled or aliased headers become extra columns, a phone stored as a
number loses its 0), only the cost of the simplest script that touches every cell.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from benchmarks.floor import input_files


def read_any(path: Path) -> list[pd.DataFrame]:
    if path.suffix.lower() == ".csv":
        try:
            return [pd.read_csv(path, encoding="utf-8-sig")]
        except UnicodeDecodeError:
            return [pd.read_csv(path, encoding="cp874")]
    return list(pd.read_excel(path, sheet_name=None, engine="openpyxl").values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.baseline", description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", type=Path, action="append", required=True, help="an inbox (repeatable)")
    parser.add_argument("--outputs", type=Path, required=True)
    arguments = parser.parse_args(argv)
    started = time.perf_counter()
    frames = [frame for root in arguments.inputs for path in input_files(root) for frame in read_any(path)]
    merged = pd.concat(frames, ignore_index=True).drop_duplicates()
    read_seconds = time.perf_counter() - started
    arguments.outputs.mkdir(parents=True, exist_ok=True)
    merged.to_excel(arguments.outputs / "merged.xlsx", index=False)
    print(f"baseline: {len(frames)} sheets, {len(merged)} rows x {merged.shape[1]} columns; read+concat "
          f"{read_seconds:.1f} s, to_excel {time.perf_counter() - started - read_seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
