"""Typing one column of a form: raw cells in, canonical values and cell problems out.

Every lookup and message runs once per distinct cell text (normalize.unique_texts) and is taken
back to the rows by the factorize codes, so a column costs one hash pass plus its distinct values.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from rapidfuzz import fuzz
from rapidfuzz import process as fuzzy_process

from pipeline.core.config import Config
from pipeline.core.issues import cell_problems
from pipeline.thai import gazetteer
from pipeline.thai.normalize import (blank_mask, match_key, parse_dates, parse_decimals, parse_person_ids,
                                     parse_phones, parse_whole_numbers, unique_texts)
from pipeline.core.schema import Field, Schema

MOICOVID_TAG = "(moicovid)"
# A value off the closed list is read as the one canonical value it is clearly most like (rapidfuzz
# ratio of match keys), never across a negation; shorter keys (ช, y, no) are read only as listed.
CHOICE_SIMILAR_SCORE = 80
CHOICE_CLEAR_MARGIN = 10
CHOICE_SHORTEST_SIMILAR = 3
_LATIN_WORD = re.compile(r"[a-z]+")
# An empty problems frame, as cell_problems makes it (building one costs a millisecond; most columns have none).
_NO_PROBLEMS = cell_problems([], "", [])


@dataclass(frozen=True)
class Context:
    """What validation needs to know about where a sheet came from."""

    config: Config
    schema: Schema
    folder_district: str | None
    submitted_on: dt.date


def thai_date(value: dt.date) -> str:
    """A date as districts write it: 20/12/2564."""
    return f"{value.day}/{value.month}/{value.year + 543}"


def _problems(excel_rows, field: str, code: str, expected=None, detail=None) -> pd.DataFrame:
    """cell_problems for rows that all have the same code; the shared empty frame when there are none."""
    if len(excel_rows) == 0:
        return _NO_PROBLEMS.copy(deep=False)
    return cell_problems(excel_rows, field, [code] * len(excel_rows), expected, detail)


def _object_array(items) -> np.ndarray:
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


def _problems_from(parsed: pd.DataFrame, field: Field) -> pd.DataFrame:
    problem = parsed["problem"]
    bad = problem.notna().to_numpy()
    if not bad.any():
        return _NO_PROBLEMS.copy(deep=False)
    return cell_problems(parsed.index[bad], field.key, problem.to_numpy()[bad])


def typed(parsed: pd.DataFrame, field: Field) -> tuple[pd.Series, pd.DataFrame]:
    """Values and cell problems of a parsed column."""
    return parsed["value"], _problems_from(parsed, field)


def _date_window(values: pd.Series, field: Field, context: Context) -> pd.DataFrame:
    frames = []
    checks = []
    if field.not_before == "recording_start":
        checks.append((lambda day, start=context.config.recording_start: day < start, "date_before_start",
                       context.config.recording_start))
    if field.not_future:
        checks.append((lambda day, today=context.submitted_on: day > today, "date_in_future", context.submitted_on))
    if not checks:
        return _NO_PROBLEMS.copy(deep=False)
    codes, days = pd.factorize(values, use_na_sentinel=True)  # a few hundred distinct days at most
    days = list(days)
    for outside, code, limit in checks:
        flags = np.array([outside(day) for day in days] + [False], dtype=bool)[codes]
        frames.append(_problems(values.index[flags], field.key, code, thai_date(limit)))
    return _joined(*frames) if len(frames) > 1 else frames[0]


def _range(values: pd.Series, field: Field) -> pd.DataFrame:
    present = pd.to_numeric(values.dropna(), errors="coerce")
    low = field.minimum if field.minimum is not None else float("-inf")
    high = field.maximum if field.maximum is not None else float("inf")
    outside = present[(present < low) | (present > high)]
    expected = f"{field.minimum if field.minimum is not None else ''}–{field.maximum if field.maximum is not None else ''}"
    return _problems(outside.index, field.key, "number_out_of_range", expected)


def suggestion(text: str, candidates: list[str], keys: list[str] | None = None) -> str:
    """' หมายถึง “…” หรือไม่' for the nearest candidate, or '' when nothing is close."""
    if not text or not candidates:
        return ""
    keys = keys or [match_key(c) for c in candidates]
    best = fuzzy_process.extractOne(match_key(text), keys, score_cutoff=70)
    return f" หมายถึง “{candidates[best[2]]}” หรือไม่" if best else ""


def negations_in(text: str, negations: tuple[str, ...]) -> tuple[int, ...]:
    """How often each negation occurs: Thai ones anywhere, Latin ones as a word or a word's beginning (un-)."""
    lowered = text.casefold()
    words = _LATIN_WORD.findall(lowered)
    return tuple(sum(word == negation or (word.startswith(negation) and len(word) >= len(negation) + 3)
                     for word in words) if negation.isascii() else lowered.count(negation)
                 for negation in negations)


def read_as_choice(text: str, spellings: list[str], canonical: list[str], negations: tuple[str, ...]) -> str | None:
    """The one canonical value a value off the list is clearly most like, never across a negation; else None."""
    key = match_key(text)
    if len(key) < CHOICE_SHORTEST_SIMILAR:
        return None
    sign = negations_in(text, negations)
    best: dict[str, float] = {}
    for spelling, score, at in fuzzy_process.extract(key, spellings, scorer=fuzz.ratio, limit=None,
                                                     score_cutoff=CHOICE_SIMILAR_SCORE - CHOICE_CLEAR_MARGIN):
        # 'ไม่มีโรคประจำตัว' is the opposite of มีโรคประจำตัว, however alike they look.
        if len(spelling) >= CHOICE_SHORTEST_SIMILAR and negations_in(spelling, negations) == sign:
            best[canonical[at]] = max(best.get(canonical[at], 0.0), score)
    ranked = sorted(best.items(), key=lambda item: -item[1])
    if not ranked or ranked[0][1] < CHOICE_SIMILAR_SCORE:
        return _longer_wording(key, sign, spellings, canonical, negations)
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < CHOICE_CLEAR_MARGIN:
        return None
    return ranked[0][0]


def _longer_wording(key: str, sign: tuple[int, ...], spellings: list[str], canonical: list[str],
                    negations: tuple[str, ...]) -> str | None:
    """A value written longer than a listed one it begins with (จุดพักคอยชุมชน: จุดพักคอย), when that
    spelling is at least half of it, means one value only, and no negation comes with the rest."""
    starts = {canonical[at] for at, spelling in enumerate(spellings)
              if len(spelling) >= CHOICE_SHORTEST_SIMILAR and key.startswith(spelling) and 2 * len(spelling) >= len(key)
              and negations_in(spelling, negations) == sign}
    return next(iter(starts)) if len(starts) == 1 else None


def _choice(raw: pd.Series, field: Field, context: Context) -> tuple[pd.Series, pd.DataFrame]:
    codes, texts = unique_texts(raw)
    lookup = context.schema.choice_lookup(field.choices)
    canonical = [lookup.get(match_key(text)) if text else None for text in texts]
    # Once per distinct value off the list: the value it is clearly like, read with a warning.
    spellings, choices = list(lookup.keys()), list(lookup.values())
    negations = context.schema.headers.negations
    similar = [read_as_choice(text, spellings, choices, negations) if value is None and text else None
               for value, text in zip(canonical, texts)]
    canonical = [value if value is not None else near for value, near in zip(canonical, similar)]
    read_as = _read_as_problems(raw, codes, similar, field)
    if field.type == "nationality":  # an unlisted nationality is still a nationality
        values = [value if value is not None or text == "" else text for value, text in zip(canonical, texts)]
        return pd.Series(_object_array(values)[codes], index=raw.index, dtype=object), read_as
    values = pd.Series(_object_array(canonical)[codes], index=raw.index, dtype=object)
    unknown = [value is None and text != "" for value, text in zip(canonical, texts)]
    if not any(unknown):
        return values, read_as
    spellings, choices = list(lookup.keys()), list(lookup.values())
    hints = [_choice_hint(text, spellings, choices, negations) if bad else "" for text, bad in zip(texts, unknown)]
    bad = np.array(unknown, dtype=bool)[codes]
    allowed = " · ".join(context.schema.choice_values(field.choices))
    return values, _joined(read_as, cell_problems(raw.index[bad], field.key, ["choice_unknown"] * int(bad.sum()),
                                                  allowed, _object_array(hints)[codes][bad]))


def _read_as_problems(raw: pd.Series, codes: np.ndarray, similar: list, field: Field) -> pd.DataFrame:
    """A choice_read_as warning for each cell whose value was read as the canonical value it is like."""
    if not any(value is not None for value in similar):
        return _NO_PROBLEMS.copy(deep=False)
    read = _object_array(similar)[codes]   # code -1 (blank) picks the last entry, None
    at = np.flatnonzero(pd.notna(read))
    return cell_problems(raw.index[at], field.key, ["choice_read_as"] * len(at), read[at])


def _choice_hint(text: str, spellings: list[str], canonical: list[str], negations: tuple[str, ...] = ()) -> str:
    """' หมายถึง “…” หรือไม่' for the nearest listed value, never one that says the opposite (ไม่มี… / มี…)."""
    sign = negations_in(text, negations)
    alike = [at for at, spelling in enumerate(spellings) if negations_in(spelling, negations) == sign]
    best = fuzzy_process.extractOne(match_key(text), [spellings[at] for at in alike], score_cutoff=70)
    return f" หมายถึง “{canonical[alike[best[2]]]}” หรือไม่" if best else ""


def _district(raw: pd.Series, field: Field, context: Context) -> tuple[pd.Series, pd.DataFrame]:
    codes, texts = unique_texts(raw)
    province = context.config.province_code
    found = [gazetteer.resolve_district(text, province) if text else None for text in texts]
    values = pd.Series(_object_array(found)[codes], index=raw.index, dtype=object)
    unknown = [code is None and text != "" for code, text in zip(found, texts)]
    if not any(unknown):
        return values, _NO_PROBLEMS.copy(deep=False)
    names = list(context.config.districts.values())
    hints = [_place_hint(text, names) if bad else "" for text, bad in zip(texts, unknown)]
    bad = np.array(unknown, dtype=bool)[codes]
    return values, cell_problems(raw.index[bad], field.key, ["district_unknown"] * int(bad.sum()),
                                 context.config.province_name, _object_array(hints)[codes][bad])


def _place_hint(text: str, names: list[str]) -> str:
    nearest = gazetteer.closest_names(text, names)
    return f" หมายถึง {' หรือ '.join(f'“{n}”' for n in nearest)} หรือไม่" if nearest else ""


def _subdistrict_code(name: str, district: str | None) -> str | None:
    """gazetteer.resolve_subdistricts for one (clean name, district code) pair."""
    # The gazetteer's cached lookup, called once per distinct pair (its Series version merges frames).
    return gazetteer._subdistrict_lookup(district).get(gazetteer.place_key(name)) if name and district else None


def subdistricts(raw: pd.Series, district_codes: pd.Series) -> tuple[pd.Series, pd.DataFrame]:
    """Subdistrict codes within each row's district, and problems for unknown names."""
    text_codes, texts = unique_texts(raw)
    district_index, districts = pd.factorize(district_codes.astype(object), use_na_sentinel=True)
    districts = [*districts, None]  # code -1 (no district) picks None
    # One lookup per distinct (name, district) pair, through the gazetteer's own resolver.
    pair_keys = (text_codes % len(texts)) * len(districts) + (district_index % len(districts))
    pair_index, pairs = pd.factorize(pair_keys)
    pair_texts = [texts[key // len(districts)] for key in pairs.tolist()]
    pair_districts = [districts[key % len(districts)] for key in pairs.tolist()]
    resolved = [_subdistrict_code(text, district) for text, district in zip(pair_texts, pair_districts)]
    codes = pd.Series(_object_array(resolved)[pair_index], index=raw.index, dtype=object)
    unknown = [code is None and text != "" and district is not None
               for code, text, district in zip(resolved, pair_texts, pair_districts)]
    if not any(unknown):
        return codes, _NO_PROBLEMS.copy(deep=False)
    hints = [_place_hint(text, list(gazetteer.subdistricts_of(district).values())) if bad else ""
             for text, district, bad in zip(pair_texts, pair_districts, unknown)]
    district_names = [gazetteer.districts_of(district[:2]).get(district, district) if bad else ""
                      for district, bad in zip(pair_districts, unknown)]
    bad = np.array(unknown, dtype=bool)[pair_index]
    return codes, cell_problems(raw.index[bad], "subdistrict", ["subdistrict_unknown"] * int(bad.sum()),
                                _object_array(district_names)[pair_index][bad],
                                _object_array(hints)[pair_index][bad])


def _affiliation(raw: pd.Series, field: Field, context: Context) -> tuple[pd.Series, pd.DataFrame]:
    codes, texts = unique_texts(raw)
    untagged = [text != "" and not match_key(text).endswith("moicovid") for text in texts]
    fixed = [f"{text} {MOICOVID_TAG}" if missing else (text or None) for text, missing in zip(texts, untagged)]
    values = pd.Series(_object_array(fixed)[codes], index=raw.index, dtype=object)
    missing = np.array(untagged, dtype=bool)[codes]
    if not missing.any():
        return values, _NO_PROBLEMS.copy(deep=False)
    return values, cell_problems(raw.index[missing], field.key, ["affiliation_tag_added"] * int(missing.sum()),
                                 values.to_numpy()[missing])


def _text(raw: pd.Series) -> pd.Series:
    codes, texts = unique_texts(raw)
    return pd.Series(_object_array([text or None for text in texts])[codes], index=raw.index, dtype=object)


def fit_share(cells: np.ndarray, field: Field, context: Context) -> float | None:
    """The share of a column's non-blank cells that are values of the field (None when all are blank).

    Names fit any cell with a letter in it (not a number or a date), free text fits anything; every other
    type fits the cells it reads as a value (a date out of the recording window is still a date).
    """
    present = pd.Series(cells, dtype=object)[~blank_mask(cells)]
    if present.empty:
        return None
    codes, texts = unique_texts(present)
    counts = np.bincount(codes, minlength=len(texts))
    distinct = pd.Series(texts[:-1] if len(texts) > 1 else [], dtype=object)
    if field.type == "text":
        fits = np.ones(len(distinct), dtype=bool)
    elif field.type in ("name", "subdistrict", "affiliation"):
        fits = np.array([any(ch.isalpha() for ch in text) for text in distinct], dtype=bool)
    else:
        # The distinct cells as written (texts keep what parsers need: digits, Thai dates, names).
        first = pd.Series(present.to_numpy(dtype=object)[_first_of_each(codes, len(distinct))], dtype=object)
        values, _ = type_column(first, field, context)
        fits = values.notna().to_numpy()
        if field.type == "nationality":   # a nationality fits when it is one on the list
            listed = set(context.schema.choice_values(field.choices))
            fits = np.array([value in listed for value in values], dtype=bool)
    return float(counts[:len(distinct)][fits].sum() / counts[:len(distinct)].sum())


def _first_of_each(codes: np.ndarray, count: int) -> np.ndarray:
    """The position of the first row of each code 0..count-1."""
    _, first = np.unique(codes, return_index=True)
    return first[:count]


@cache
def _label_pattern(labels: tuple[str, ...]) -> re.Pattern:
    """The field's own name written before a number ('ม.', 'หมู่ที่ ', 'moo '), longest first."""
    words = sorted({label.strip() for label in labels if label.strip()}, key=len, reverse=True)
    return re.compile(r"^\s*(?:" + "|".join(re.escape(word) for word in words) + r")\s*[.:]?\s*(?=[0-9๐-๙])",
                      re.IGNORECASE)


def without_label(raw: pd.Series, field: Field) -> pd.Series:
    """Numbers written with their field's name before them (หมู่ 4, ม.4) as the number alone."""
    pattern = _label_pattern((field.header, *field.aliases))
    codes, distinct = pd.factorize(raw.astype(object), use_na_sentinel=True)
    cut = [pattern.sub("", value) if isinstance(value, str) else value for value in distinct]
    if cut == list(distinct):
        return raw
    return pd.Series(_object_array([*cut, None])[codes], index=raw.index, dtype=object)


def type_column(raw: pd.Series, field: Field, context: Context) -> tuple[pd.Series, pd.DataFrame]:
    """Canonical values of one column and the problems of its cells (blank cells excluded)."""
    kind = field.type
    if kind in ("text", "name"):
        return _text(raw), _NO_PROBLEMS.copy(deep=False)
    if kind in ("mobile", "phone"):
        return typed(parse_phones(raw, mobile_only=kind == "mobile"), field)
    if kind == "person_id":
        return typed(parse_person_ids(raw), field)
    if kind == "date":
        values, problems = typed(parse_dates(raw), field)
        return values, _joined(problems, _date_window(values, field, context))
    if kind == "whole":
        values, problems = typed(parse_whole_numbers(without_label(raw, field)), field)
        return values, _joined(problems, _range(values, field))
    if kind == "decimal":
        values, problems = typed(parse_decimals(raw), field)
        return values, _joined(problems, _range(values, field))
    if kind in ("choice", "nationality"):
        return _choice(raw, field, context)
    if kind == "district":
        return _district(raw, field, context)
    if kind == "affiliation":
        return _affiliation(raw, field, context)
    if kind == "subdistrict":  # needs the district: typed by the caller
        return raw, _NO_PROBLEMS.copy(deep=False)
    raise ValueError(f"schema: unknown field type {kind!r} for {field.key}")


def _joined(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """The two problem frames as one (pd.concat only when both have rows: it costs a millisecond)."""
    if second.empty:
        return first
    if first.empty:
        return second
    return pd.concat([first, second])
