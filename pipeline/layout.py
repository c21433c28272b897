"""Finding the data in a sheet: which form it is, where its header row is, which column is which."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.normalize import blank_mask, cell_text, match_key
from pipeline.schema import Dataset, Schema

HEADER_SEARCH_ROWS = 30
MINIMUM_MATCHED_FIELDS = 3
# Sheets that explain the form rather than hold data, and columns every district adds.
NOT_DATA_SHEETS = {match_key(name) for name in ("คำชี้แจง", "วิธีกรอก", "คำอธิบาย", "instructions", "readme", "สรุป")}
HARMLESS_HEADERS = {match_key(name) for name in ("ลำดับ", "ลำดับที่", "ที่", "no", "no.", "หมายเหตุ", "#")}


@dataclass(frozen=True)
class Column:
    """A sheet column matched to a form field."""

    key: str
    position: int          # 0-based index in the sheet's rows
    letter: str            # Excel column letter(s)
    header: str            # the header as the district wrote it


@dataclass(frozen=True)
class SheetTable:
    """The data block of one recognised sheet, cells still raw."""

    dataset: str
    header_row: int                      # Excel row number of the (last) header row
    columns: tuple[Column, ...]
    cells: pd.DataFrame                  # columns = field keys present, index = Excel row number
    unknown_headers: tuple[Column, ...] = ()
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


def _cell_keys(row: list) -> list[str]:
    return [match_key(str(value)) if value not in (None, "") else "" for value in row]


def _header_index(dataset: Dataset) -> dict[str, str]:
    """Match key of every header spelling -> field key (first declared wins)."""
    index: dict[str, str] = {}
    for form_field in dataset.fields:
        for key in form_field.header_keys:
            index.setdefault(key, form_field.key)
    return index


def _match_row(keys: list[str], index: dict[str, str]) -> dict[int, str]:
    matched: dict[int, str] = {}
    used: set[str] = set()
    for position, key in enumerate(keys):
        field_key = index.get(key)
        if field_key and field_key not in used:
            matched[position] = field_key
            used.add(field_key)
    return matched


def _best_header(rows: list[list], dataset: Dataset) -> tuple[int, int, dict[int, str]]:
    """(first header row index, last header row index, position -> field key) with the most matches."""
    index = _header_index(dataset)
    keyed = [_cell_keys(row) for row in rows[:HEADER_SEARCH_ROWS]]
    best = (0, 0, {})
    for top, keys in enumerate(keyed):
        single = _match_row(keys, index)
        if len(single) > len(best[2]):
            best = (top, top, single)
        if top + 1 < len(keyed):
            # A two-row header: a merged group cell above its sub-headers.
            width = max(len(keys), len(keyed[top + 1]))
            combined = [(keyed[top + 1] + [""] * width)[p] or (keys + [""] * width)[p] for p in range(width)]
            pair = _match_row(combined, index)
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
        top, bottom, matches = _best_header(rows, schema.datasets[key])
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


def build_table(sheet_name: str, rows: list[list], first_row: int, schema: Schema,
                hint: str | None = None) -> SheetTable | None:
    """Cut the data block out of a sheet's raw rows; None when no form is recognised."""
    found = recognise(sheet_name, rows, schema, hint)
    if found is None:
        return None
    dataset_key, top, bottom, matches = found
    dataset = schema.datasets[dataset_key]
    header_cells = [rows[top], rows[bottom]]
    columns = tuple(
        Column(key, position, column_letter(position), _written_header(header_cells, position))
        for position, key in sorted(matches.items())
    )
    unknown = tuple(
        Column("", position, column_letter(position), text)
        for position, text in _unmatched_headers(header_cells, matches)
    )
    body = rows[bottom + 1:]
    start = first_row + bottom + 1
    numbers = np.arange(start, start + len(body))
    arrays = _columns(body, [c.position for c in columns])
    blank_cells = np.column_stack([blank_mask(array) for array in arrays]) if arrays and len(body) \
        else np.ones((len(body), max(len(arrays), 1)), dtype=bool)
    blank_count = blank_cells.sum(axis=1)
    # Totals rows are sparse (a label and a count) or at the bottom: only those rows are examined.
    sparse = blank_count / blank_cells.shape[1] >= 0.5 if arrays else np.ones(len(body), dtype=bool)
    sparse[-5:] = True
    candidates = np.flatnonzero(sparse).tolist()
    totals_rows = tuple(_totals_rows([body[i] for i in candidates], [int(numbers[i]) for i in candidates],
                                     _totals_pattern(schema)))
    is_totals = np.isin(numbers, totals_rows)
    blank = (blank_count == blank_cells.shape[1]) & ~is_totals
    kept = np.flatnonzero(~blank)
    end = int(kept[-1]) + 1 if len(kept) else 0  # rows after the last non-blank one are not read
    keep = np.flatnonzero(~blank[:end] & ~is_totals[:end])
    cells = pd.DataFrame({c.key: array[keep] for c, array in zip(columns, arrays)},
                         index=pd.Index(numbers[keep]), columns=[c.key for c in columns], dtype=object)
    return SheetTable(
        dataset=dataset_key, header_row=first_row + bottom, columns=columns, cells=cells,
        unknown_headers=unknown,
        missing_fields=tuple(f.key for f in dataset.fields if f.key not in matches.values()),
        blank_rows=tuple(int(n) for n in numbers[:end][blank[:end]]), totals_rows=totals_rows,
    )


def _written_header(header_rows: list[list], position: int) -> str:
    texts = [str(row[position]).strip() for row in header_rows if position < len(row) and row[position] not in (None, "")]
    return " ".join(" ".join(texts[-1:]).split()) if texts else ""


def _unmatched_headers(header_rows: list[list], matches: dict[int, str]):
    width = max(len(r) for r in header_rows)
    for position in range(width):
        if position in matches:
            continue
        text = _written_header(header_rows, position)
        if text and match_key(text) not in HARMLESS_HEADERS:
            yield position, text


def is_instructions_sheet(sheet_name: str) -> bool:
    """True for sheets that explain a form rather than hold its data."""
    return match_key(sheet_name) in NOT_DATA_SHEETS
