"""Typing one column of a form: raw cells in, canonical values and cell problems out."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from rapidfuzz import process as fuzzy_process

from pipeline import gazetteer
from pipeline.config import Config
from pipeline.issues import cell_problems
from pipeline.normalize import (clean_text, match_key, parse_dates, parse_decimals, parse_person_ids,
                                parse_phones, parse_whole_numbers)
from pipeline.schema import Field, Schema

MOICOVID_TAG = "(moicovid)"


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


def _problems_from(parsed: pd.DataFrame, field: Field) -> pd.DataFrame:
    bad = parsed["problem"].notna()
    return cell_problems(parsed.index[bad], field.key, parsed.loc[bad, "problem"])


def typed(parsed: pd.DataFrame, field: Field) -> tuple[pd.Series, pd.DataFrame]:
    """Values and cell problems of a parsed column."""
    return parsed["value"], _problems_from(parsed, field)


def _date_window(values: pd.Series, field: Field, context: Context) -> pd.DataFrame:
    frames = []
    present = values.dropna()
    if field.not_before == "recording_start" and len(present):
        start = context.config.recording_start
        early = present[present.map(lambda d: d < start)]
        frames.append(cell_problems(early.index, field.key, ["date_before_start"] * len(early), thai_date(start)))
    if field.not_future and len(present):
        today = context.submitted_on
        late = present[present.map(lambda d: d > today)]
        frames.append(cell_problems(late.index, field.key, ["date_in_future"] * len(late), thai_date(today)))
    return pd.concat(frames) if frames else cell_problems([], field.key, [])


def _range(values: pd.Series, field: Field) -> pd.DataFrame:
    present = pd.to_numeric(values.dropna(), errors="coerce")
    low = field.minimum if field.minimum is not None else float("-inf")
    high = field.maximum if field.maximum is not None else float("inf")
    outside = present[(present < low) | (present > high)]
    expected = f"{field.minimum if field.minimum is not None else ''}–{field.maximum if field.maximum is not None else ''}"
    return cell_problems(outside.index, field.key, ["number_out_of_range"] * len(outside), expected)


def suggestion(text: str, candidates: list[str], keys: list[str] | None = None) -> str:
    """' หมายถึง “…” หรือไม่' for the nearest candidate, or '' when nothing is close."""
    if not text or not candidates:
        return ""
    keys = keys or [match_key(c) for c in candidates]
    best = fuzzy_process.extractOne(match_key(text), keys, score_cutoff=70)
    return f" หมายถึง “{candidates[best[2]]}” หรือไม่" if best else ""


def _choice(raw: pd.Series, field: Field, context: Context) -> tuple[pd.Series, pd.DataFrame]:
    texts = clean_text(raw)
    lookup = context.schema.choice_lookup(field.choices)
    keys = {text: match_key(text) for text in texts.unique()}
    values = texts.map(lambda text: lookup.get(keys[text]) if text else None)
    if field.type == "nationality":  # an unlisted nationality is still a nationality
        values = values.where(values.notna() | (texts == ""), texts)
        return values, cell_problems([], field.key, [])
    bad = values.isna() & (texts != "")
    spellings, canonical = list(lookup.keys()), list(lookup.values())
    hints = {text: _choice_hint(text, spellings, canonical) for text in texts[bad].unique()}
    allowed = " · ".join(context.schema.choice_values(field.choices))
    return values, cell_problems(texts.index[bad], field.key, ["choice_unknown"] * int(bad.sum()),
                                 allowed, texts[bad].map(hints))


def _choice_hint(text: str, spellings: list[str], canonical: list[str]) -> str:
    best = fuzzy_process.extractOne(match_key(text), spellings, score_cutoff=70)
    return f" หมายถึง “{canonical[best[2]]}” หรือไม่" if best else ""


def _district(raw: pd.Series, field: Field, context: Context) -> tuple[pd.Series, pd.DataFrame]:
    codes = gazetteer.resolve_districts(raw, context.config.province_code)
    texts = clean_text(raw)
    bad = codes.isna() & (texts != "")
    names = list(context.config.districts.values())
    hints = {text: _place_hint(text, names) for text in texts[bad].unique()}
    return codes, cell_problems(texts.index[bad], field.key, ["district_unknown"] * int(bad.sum()),
                                context.config.province_name, texts[bad].map(hints))


def _place_hint(text: str, names: list[str]) -> str:
    nearest = gazetteer.closest_names(text, names)
    return f" หมายถึง {' หรือ '.join(f'“{n}”' for n in nearest)} หรือไม่" if nearest else ""


def subdistricts(raw: pd.Series, district_codes: pd.Series) -> tuple[pd.Series, pd.DataFrame]:
    """Subdistrict codes within each row's district, and problems for unknown names."""
    codes = gazetteer.resolve_subdistricts(raw, district_codes)
    texts = clean_text(raw)
    bad = codes.isna() & (texts != "") & district_codes.notna()
    pairs = pd.DataFrame({"text": texts[bad], "district": district_codes[bad]})
    hints = {
        (text, district): _place_hint(text, list(gazetteer.subdistricts_of(district).values()))
        for text, district in pairs.drop_duplicates().itertuples(index=False)
    }
    district_names = {code: gazetteer.districts_of(code[:2]).get(code, code) for code in pairs["district"].unique()}
    return codes, cell_problems(pairs.index, "subdistrict", ["subdistrict_unknown"] * len(pairs),
                                pairs["district"].map(district_names),
                                [hints[key] for key in zip(pairs["text"], pairs["district"])])


def _affiliation(raw: pd.Series, field: Field, context: Context) -> tuple[pd.Series, pd.DataFrame]:
    texts = clean_text(raw)
    tagged = texts.map({t: match_key(t).endswith("moicovid") for t in texts.unique()})
    missing = ~tagged & (texts != "")
    fixed = texts.where(~missing, texts + " " + MOICOVID_TAG)
    return fixed.where(texts != "", None), cell_problems(texts.index[missing], field.key,
                                                         ["affiliation_tag_added"] * int(missing.sum()),
                                                         fixed[missing])


def type_column(raw: pd.Series, field: Field, context: Context) -> tuple[pd.Series, pd.DataFrame]:
    """Canonical values of one column and the problems of its cells (blank cells excluded)."""
    kind = field.type
    if kind in ("text", "name"):
        texts = clean_text(raw)
        return texts.where(texts != "", None), cell_problems([], field.key, [])
    if kind in ("mobile", "phone"):
        return typed(parse_phones(raw, mobile_only=kind == "mobile"), field)
    if kind == "person_id":
        return typed(parse_person_ids(raw), field)
    if kind == "date":
        values, problems = typed(parse_dates(raw), field)
        return values, pd.concat([problems, _date_window(values, field, context)])
    if kind == "whole":
        values, problems = typed(parse_whole_numbers(raw), field)
        return values, pd.concat([problems, _range(values, field)])
    if kind == "decimal":
        values, problems = typed(parse_decimals(raw), field)
        return values, pd.concat([problems, _range(values, field)])
    if kind in ("choice", "nationality"):
        return _choice(raw, field, context)
    if kind == "district":
        return _district(raw, field, context)
    if kind == "affiliation":
        return _affiliation(raw, field, context)
    if kind == "subdistrict":  # needs the district: typed by the caller
        return raw, cell_problems([], field.key, [])
    raise ValueError(f"schema: unknown field type {kind!r} for {field.key}")
