"""CSV and other delimited text: its encoding (UTF-8, UTF-8 with BOM, cp874, UTF-16), delimiter and rows."""
from __future__ import annotations

import csv
import io
import itertools

from pipeline.core.outcome import RawSheet, Refused
from pipeline.runtime.limits import ReadLimits
from pipeline.sources.sniff import decode_text

DELIMITERS = (',', ';', '\t', '|')
SNIFF_ROWS = 200


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first rows into the most consistent number (> 1) of fields.

    csv.Sniffer is not used: its quote-guessing regex backtracks quadratically, so 64 KB of crafted
    text (",'a" repeated) costs it minutes of CPU. This guess is linear in the sample.
    """
    sample = text[:65536]
    if len(text) > len(sample) and '\n' in sample:
        sample = sample[:sample.rindex('\n')]
    best, best_score = ',', (0, 0)
    for delimiter in DELIMITERS:
        counts = [len(row) for row in itertools.islice(delimited_rows(sample, delimiter), SNIFF_ROWS) if any(row)]
        if not counts:
            continue
        width = max(set(counts), key=lambda count: (counts.count(count), count))
        score = (counts.count(width), width) if width > 1 else (0, 0)
        if score > best_score:  # ties keep the earlier, more common delimiter
            best, best_score = delimiter, score
    return best


def delimited_rows(sample: str, delimiter: str):
    """Rows of a sample split by one delimiter; a malformed tail ends the rows instead of raising."""
    try:
        yield from csv.reader(io.StringIO(sample, newline=''), delimiter=delimiter)
    except csv.Error:
        return


def read_delimited(data: bytes, name: str, limits: ReadLimits) -> list[RawSheet]:
    """Read CSV/TSV text as one sheet of str cells (no numeric coercion)."""
    text = decode_text(data)
    if text is None:
        raise Refused('unknown_encoding', 'not UTF-8, UTF-16 or cp874')
    rows, cells = [], 0
    try:
        for row in csv.reader(io.StringIO(text, newline=''), delimiter=sniff_delimiter(text)):
            cells += len(row)
            if cells > limits.max_cells or len(rows) >= limits.max_rows_per_sheet:
                raise Refused('too_many_cells', f'over {len(rows)} rows / {cells} cells')
            rows.append(row)
    except csv.Error as error:  # csv messages name the limit or the line, never the data
        raise Refused('corrupt', f'csv: {str(error)[:80]}') from None
    return [RawSheet(name, False, 1, 0, rows)]
