"""Finding the data in a sheet: which form it is, where its header row is, which column is which."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from pipeline.core.schema import Dataset, Field, Schema
from pipeline.ingest import headers as header_reading
from pipeline.ingest.headers import EXACT, LEVELS, HeaderMatch, HeaderReader
from pipeline.thai.normalize import blank_mask, cell_text, match_key

HEADER_SEARCH_ROWS = 30
MINIMUM_MATCHED_FIELDS = 3
# A header read without its hints or by similarity counts only when this share of its non-blank cells fit.
MINIMUM_FIT = 0.9
# Sheets that explain the form rather than hold data.
NOT_DATA_SHEETS = {match_key(name) for name in ("คำชี้แจง", "วิธีกรอก", "คำอธิบาย", "instructions", "readme", "สรุป")}
# The share of a column's non-blank cells valid for a field (None: no non-blank cell), from the caller.
FitCheck = Callable[[Field, np.ndarray], "float | None"]


@dataclass(frozen=True)
class Column:
    """A sheet column matched to a form field."""

    key: str
    position: int          # 0-based index in the sheet's rows
    letter: str            # Excel column letter(s)
    header: str            # the header as the district wrote it
    how: str = EXACT       # how the header was read (headers.EXACT, STRIPPED or SIMILAR)


@dataclass(frozen=True)
class SheetTable:
    """The data block of one recognised sheet, cells still raw."""

    dataset: str
    header_row: int                      # Excel row number of the (last) header row
    columns: tuple[Column, ...]
    cells: pd.DataFrame                  # columns = field keys present, index = Excel row number
    unknown_headers: tuple[Column, ...] = ()   # key: the field a refused reading suggested, else ''
    duplicates: tuple[Column, ...] = ()        # columns naming a field another column gives (key: that field)
    missing_fields: tuple[str, ...] = ()
    blank_rows: tuple[int, ...] = ()
    totals_rows: tuple[int, ...] = ()
    extra: dict = field(default_factory=dict)

    @property
    def rows_read(self) -> int:
        """Rows below the header up to the last non-blank one."""
        return len(self.cells) + len(self.blank_rows) + len(self.totals_rows)


def column_letter(position: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    position += 1
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _cell_texts(row: list) -> list[str]:
    return [str(value) if value not in (None, "") else "" for value in row]


def _match_row(texts: list[str], reader: HeaderReader) -> dict[int, str]:
    """Position -> field of the cells read as headers as written or without their hints (first claim wins)."""
    matched: dict[int, str] = {}
    used: set[str] = set()
    for position, text in enumerate(texts):
        found = reader.read(text, similar=False) if text else None
        if found and found.field not in used:
            matched[position] = found.field
            used.add(found.field)
    return matched


def _best_header(rows: list[list], reader: HeaderReader) -> tuple[int, int, dict[int, str]]:
    """(first header row index, last header row index, position -> field key) with the most matches."""
    texts = [_cell_texts(row) for row in rows[:HEADER_SEARCH_ROWS]]
    best = (0, 0, {})
    for top, cells in enumerate(texts):
        single = _match_row(cells, reader)
        if len(single) > len(best[2]):
            best = (top, top, single)
        if top + 1 < len(texts):
            # A two-row header: a merged group cell above its sub-headers.
            width = max(len(cells), len(texts[top + 1]))
            combined = [(texts[top + 1] + [""] * width)[p] or (cells + [""] * width)[p] for p in range(width)]
            pair = _match_row(combined, reader)
            if len(pair) > len(best[2]) and len(pair) > len(single):
                best = (top, top + 1, pair)
    return best


def recognise(sheet_name: str, rows: list[list], schema: Schema, hint: str | None = None):
    """Which dataset a sheet holds and its header: (dataset key, top, bottom, matches) or None."""
    name_key = match_key(sheet_name)
    by_name = [key for key, dataset in schema.datasets.items() if name_key in dataset.sheet_keys]
    candidates = by_name or ([hint] if hint else []) or list(schema.datasets)
    scored = []
    for key in candidates:
        top, bottom, matches = _best_header(rows, header_reading.reader(schema, schema.datasets[key]))
        required = {f.key for f in schema.datasets[key].fields if f.required == "yes"}
        scored.append((len(matches), len(required & set(matches.values())), key, top, bottom, matches))
    if not scored:
        return None
    count, required_count, key, top, bottom, matches = max(scored, key=lambda s: (s[0], s[1]))
    if count < MINIMUM_MATCHED_FIELDS and not (by_name and count >= 2):
        return None
    return key, top, bottom, matches


def _totals_pattern(schema: Schema) -> re.Pattern:
    markers = "|".join(sorted({re.escape(match_key(m)) for m in schema.totals_markers}, key=len, reverse=True))
    return re.compile(rf"^(?:{markers})(?:\d.*)?$")


def _totals_rows(rows: list[list], numbers: list[int], pattern: re.Pattern) -> list[int]:
    """Numbers of the rows carrying a totals label (รวม, รวม 25 ราย, Total) in any cell."""
    verdicts: dict = {}
    found = []
    for row, number in zip(rows, numbers):
        for cell in row:
            if cell is None or cell == "":
                continue
            key = (type(cell), cell)
            if key not in verdicts:
                text = cell_text(cell)
                verdicts[key] = bool(text) and bool(pattern.match(match_key(text)))
            if verdicts[key]:
                found.append(number)
                break
    return found


def _columns(body: list[list], positions: list[int]) -> list[np.ndarray]:
    """The cells of the given sheet columns as object arrays (short rows padded with None)."""
    if not body:
        return [np.empty(0, dtype=object) for _ in positions]
    widths = set(map(len, body))
    if len(widths) == 1 and positions and max(positions) < next(iter(widths)):
        grid = np.empty((len(body), next(iter(widths))), dtype=object)
        grid[:] = body  # rectangular (calamine's rows always are): one C pass
        return [grid[:, position] for position in positions]
    return [np.array([row[position] if position < len(row) else None for row in body], dtype=object)
            for position in positions]


def _needs_fit(proposed: dict[int, HeaderMatch]) -> bool:
    """A header read other than as written, or two columns read as one field: their cells decide."""
    fields = [found.field for found in proposed.values()]
    return len(set(fields)) < len(fields) or any(found.how != EXACT for found in proposed.values())


def _read_headers(proposed: dict[int, HeaderMatch], body: list[list], data: np.ndarray | None, dataset: Dataset,
                  fit: FitCheck | None) -> tuple[dict[int, HeaderMatch], list[int], dict[int, HeaderMatch]]:
    """(position -> field read, positions of duplicate columns, position -> refused reading).

    A reading without hints or by similarity is refused when the column's cells in the `data` rows (body
    positions; all when None) do not fit the field; of several columns read as one field the best is kept:
    as written, then without hints, then by similarity; then the one whose cells fit best; then the leftmost.
    """
    shares: dict[int, float | None] = {}

    def share(position: int) -> float | None:
        if position not in shares:
            cells = _columns(body, [position])[0]
            cells = cells[data] if data is not None else cells
            shares[position] = fit(dataset.field(proposed[position].field), cells) if fit else None
        return shares[position]

    def unfit(position: int) -> bool:
        value = share(position)
        return value is not None and value < MINIMUM_FIT   # a blank column keeps its reading: read as blank

    refused = {position: found for position, found in proposed.items()
               if found.how != EXACT and fit is not None and unfit(position)}
    by_field: dict[str, list[int]] = {}
    for position, found in sorted(proposed.items()):
        if position not in refused:
            by_field.setdefault(found.field, []).append(position)
    kept, duplicates = {}, []
    for positions in by_field.values():
        if len(positions) > 1:
            # A blank column fits nothing: any column with cells is better.
            positions = sorted(positions, key=lambda p: (LEVELS.index(proposed[p].how),
                                                         -(share(p) if share(p) is not None else -1.0), p))
        kept[positions[0]] = proposed[positions[0]]
        duplicates += positions[1:]
    return kept, sorted(duplicates), refused


def build_table(sheet_name: str, rows: list[list], first_row: int, schema: Schema,
                hint: str | None = None, fit: FitCheck | None = None) -> SheetTable | None:
    """Cut the data block out of a sheet's raw rows; None when no form is recognised.

    `fit` tells how well a column's cells fit a field; without it a header read without its hints or
    by similarity is taken on its header alone.
    """
    found = recognise(sheet_name, rows, schema, hint)
    if found is None:
        return None
    dataset_key, top, bottom, _ = found
    dataset = schema.datasets[dataset_key]
    reader = header_reading.reader(schema, dataset)
    header_cells = [rows[top], rows[bottom]]
    body = rows[bottom + 1:]
    texts = {position: _written_header(header_cells, position)
             for position in range(max(len(r) for r in header_cells))}
    proposed = {position: found for position, text in texts.items() if text and (found := reader.read(text))}
    start = first_row + bottom + 1
    numbers = np.arange(start, start + len(body))
    pattern = _totals_pattern(schema)
    data = None
    if fit is not None and _needs_fit(proposed):
        # Only data rows judge a column: a totals row's label or count is no value of the field.
        blank, is_totals, _ = _row_kinds(body, numbers, _columns(body, sorted(proposed)), pattern)
        data = np.flatnonzero(~blank & ~is_totals)
    matches, duplicate_positions, refused = _read_headers(proposed, body, data, dataset, fit)
    columns = tuple(Column(found.field, position, column_letter(position), texts[position], found.how)
                    for position, found in sorted(matches.items()))
    duplicates = tuple(Column(_field_at(position, texts, reader), position, column_letter(position), texts[position])
                       for position in duplicate_positions)
    unknown = tuple(
        Column(refused[position].field if position in refused else "", position, column_letter(position), text)
        for position, text in sorted(texts.items())
        if text and position not in matches and position not in duplicate_positions
        and not reader.is_not_field(text)
    )
    arrays = _columns(body, [c.position for c in columns])
    blank, is_totals, totals_rows = _row_kinds(body, numbers, arrays, pattern)
    kept = np.flatnonzero(~blank)
    end = int(kept[-1]) + 1 if len(kept) else 0  # rows after the last non-blank one are not read
    keep = np.flatnonzero(~blank[:end] & ~is_totals[:end])
    cells = pd.DataFrame({c.key: array[keep] for c, array in zip(columns, arrays)},
                         index=pd.Index(numbers[keep]), columns=[c.key for c in columns], dtype=object)
    return SheetTable(
        dataset=dataset_key, header_row=first_row + bottom, columns=columns, cells=cells,
        unknown_headers=unknown, duplicates=duplicates,
        missing_fields=tuple(f.key for f in dataset.fields if f.key not in {m.field for m in matches.values()}),
        blank_rows=tuple(int(n) for n in numbers[:end][blank[:end]]), totals_rows=totals_rows,
    )


def _row_kinds(body: list[list], numbers: np.ndarray, arrays: list[np.ndarray],
               pattern: re.Pattern) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """(blank row flags, totals row flags, totals row numbers) of the body, judged by the given columns."""
    blank_cells = np.column_stack([blank_mask(array) for array in arrays]) if arrays and len(body) \
        else np.ones((len(body), max(len(arrays), 1)), dtype=bool)
    blank_count = blank_cells.sum(axis=1)
    # Totals rows are sparse (a label and a count) or at the bottom: only those rows are examined.
    sparse = blank_count / blank_cells.shape[1] >= 0.5 if arrays else np.ones(len(body), dtype=bool)
    sparse[-5:] = True
    candidates = np.flatnonzero(sparse).tolist()
    totals_rows = tuple(_totals_rows([body[i] for i in candidates], [int(numbers[i]) for i in candidates], pattern))
    is_totals = np.isin(numbers, totals_rows)
    return (blank_count == blank_cells.shape[1]) & ~is_totals, is_totals, totals_rows


def _written_header(header_rows: list[list], position: int) -> str:
    texts = [str(row[position]).strip() for row in header_rows if position < len(row) and row[position] not in (None, "")]
    return " ".join(" ".join(texts[-1:]).split()) if texts else ""


def _field_at(position: int, texts: dict[int, str], reader: HeaderReader) -> str:
    found = reader.read(texts[position])
    return found.field if found else ""


def is_instructions_sheet(sheet_name: str) -> bool:
    """True for sheets that explain a form rather than hold its data."""
    return match_key(sheet_name) in NOT_DATA_SHEETS
