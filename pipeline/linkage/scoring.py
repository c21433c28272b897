"""Scoring candidate pairs: per-field agreement levels, log2 weights, a score in [0, 1].

A Fellegi-Sunter style sum of log2 Bayes factors, one per field, plus a prior, squashed to
score = 1 / (1 + 2**-total). An exact name agreement is worth more for a rare name than for a
common one (term frequency, see linkage_features). The weights are set by measurement on the
labelled generator (benchmarks/dedup_data.py); the strong negatives encode the hard cases:
a different birth year (father and son), a different first name (twins), a different house in
the same village (namesakes).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from pipeline.linkage.features import Features

# log2 weights of each agreement level (level 0: missing on one side, no evidence). Fitted by an
# L2 logistic regression on the labelled candidate pairs of generator seeds 11 and 12 (30k records
# each), checked on seed 13, then rounded to 0.5; 'phone different' and 'ID near' were moderated
# (people change numbers; a near ID is strong evidence the generator under-represents).
PRIOR = -5.0
NAME_LEVELS = ("missing", "exact", "sound", "similar", "close", "far", "different")
# An exact name is worth base + TERM_FREQUENCY * log2(0.9 / share of the name): rare names count more.
TERM_FREQUENCY = 0.5
FIRST_WEIGHTS = np.array([0.0, -1.0, 3.0, 2.5, 1.5, -2.0, -16.0], dtype=np.float32)
LAST_WEIGHTS = np.array([0.0, -1.5, 3.5, 3.0, 1.0, -4.0, -9.5], dtype=np.float32)
SIMILARITY_LEVELS = (90.0, 75.0, 55.0)   # fuzz.ratio of the sound keys: similar / close / far
BIRTH_LEVELS = ("missing", "exact", "slip", "same_year", "year_apart", "different", "age_fits", "age_near")
BIRTH_WEIGHTS = np.array([0.0, 8.0, 4.0, -3.0, -3.5, -10.5, 4.5, -5.0], dtype=np.float32)
SEX_LEVELS, SEX_WEIGHTS = ("missing", "same", "different"), np.array([0.0, 0.0, -5.5], dtype=np.float32)
PLACE_LEVELS = ("village", "subdistrict", "district", "elsewhere")
PLACE_WEIGHTS = np.array([0.0, -2.0, -3.5, -3.5], dtype=np.float32)
HOUSE_LEVELS = ("missing", "same", "same_main", "different")
HOUSE_WEIGHTS = np.array([0.0, 3.0, 1.5, -7.5], dtype=np.float32)
PHONE_LEVELS, PHONE_WEIGHTS = ("missing", "same", "different"), np.array([0.0, 3.0, -3.0], dtype=np.float32)
ID_LEVELS = ("missing", "near", "different", "same_document", "other_document")
ID_WEIGHTS = np.array([0.0, 5.0, -2.5, 6.0, 0.0], dtype=np.float32)
LEVELS = {"first": NAME_LEVELS, "last": NAME_LEVELS, "birth": BIRTH_LEVELS, "sex": SEX_LEVELS,
          "place": PLACE_LEVELS, "house": HOUSE_LEVELS, "phone": PHONE_LEVELS, "id": ID_LEVELS}


@dataclass(frozen=True)
class Scored:
    """Scored pairs (record positions a < b), their score and each field's agreement level."""

    a: np.ndarray
    b: np.ndarray
    score: np.ndarray
    levels: dict[str, np.ndarray]

    def take(self, mask: np.ndarray) -> Scored:
        return Scored(self.a[mask], self.b[mask], self.score[mask], {k: v[mask] for k, v in self.levels.items()})


def log2_odds(probability: float) -> float:
    probability = min(max(probability, 1e-9), 1 - 1e-9)
    return float(np.log2(probability / (1 - probability)))


def _birth_levels(f: Features, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    level = np.zeros(len(a), dtype=np.int8)
    both = np.flatnonzero((f.birth[a] >= 0) & (f.birth[b] >= 0))
    x, y = a[both], b[both]
    same_year, same_month = f.birth_year[x] == f.birth_year[y], f.birth_month[x] == f.birth_month[y]
    swapped = (f.birth_month[x] == f.birth_day[y]) & (f.birth_day[x] == f.birth_month[y])
    slip = same_year & (same_month | swapped) \
        | same_month & (f.birth_day[x] == f.birth_day[y]) & (np.abs(f.birth_year[x] - f.birth_year[y]) == 1)
    level[both] = np.select([f.birth[x] == f.birth[y], slip, same_year, np.abs(f.birth_year[x] - f.birth_year[y]) <= 1],
                            [1, 2, 3, 4], 5)
    ranged = np.flatnonzero((level == 0) & (f.birth_low[a] >= 0) & (f.birth_low[b] >= 0))
    x, y = a[ranged], b[ranged]
    gap = np.maximum(f.birth_low[x], f.birth_low[y]) - np.minimum(f.birth_high[x], f.birth_high[y])
    level[ranged] = np.select([gap <= 0, gap <= 2], [6, 7], 5)
    return level


def _id_levels(f: Features, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    level = np.zeros(len(a), dtype=np.int8)
    both = (f.id13[a] >= 0) & (f.id13[b] >= 0)
    x, y, differing = f.id13[a][both], f.id13[b][both], np.zeros(int(both.sum()), dtype=np.int8)
    for _ in range(13):
        differing += (x % 10 != y % 10)
        x, y = x // 10, y // 10
    level[both] = np.where(differing <= 2, 1, 2)
    documents = (f.document[a] >= 0) & (f.document[b] >= 0)
    level[documents] = np.where(f.document[a] == f.document[b], 3, 4)[documents]
    return level


def _context(f: Features, a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    """Agreement levels of every field but the names (cheap integer comparisons)."""
    def agree(x: np.ndarray, same: int, other: int) -> np.ndarray:
        present = (x[a] >= 0) & (x[b] >= 0)
        return np.where(present, np.where(x[a] == x[b], same, other), 0).astype(np.int8)

    same_village = f.village[a] == f.village[b]
    place = np.select([same_village, f.subdistrict[a] == f.subdistrict[b], f.district[a] == f.district[b]],
                      [0, 1, 2], 3).astype(np.int8)
    house = np.where(same_village & (f.house[a] >= 0) & (f.house[b] >= 0),
                     np.select([f.house[a] == f.house[b], f.house_main[a] == f.house_main[b]], [1, 2], 3), 0)
    sex = np.where((f.sex[a] > 0) & (f.sex[b] > 0), np.where(f.sex[a] == f.sex[b], 1, 2), 0).astype(np.int8)
    return {"birth": _birth_levels(f, a, b), "sex": sex, "place": place, "house": house.astype(np.int8),
            "phone": agree(f.phone, 1, 2), "id": _id_levels(f, a, b)}


def _context_weight(levels: dict[str, np.ndarray]) -> np.ndarray:
    return (PRIOR + BIRTH_WEIGHTS[levels["birth"]] + SEX_WEIGHTS[levels["sex"]] + PLACE_WEIGHTS[levels["place"]]
            + HOUSE_WEIGHTS[levels["house"]] + PHONE_WEIGHTS[levels["phone"]] + ID_WEIGHTS[levels["id"]])


def _name_known(codes: np.ndarray, sounds: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Name level where integer codes decide it: missing, exact, sound; -1 where similarity is needed."""
    present = (codes[a] >= 0) & (codes[b] >= 0)
    return np.select([~present, codes[a] == codes[b], sounds[a] == sounds[b]], [0, 1, 2], -1).astype(np.int8)


def _similarity_levels(sounds: np.ndarray, sound_keys: np.ndarray, x: np.ndarray, y: np.ndarray,
                       workers: int) -> np.ndarray:
    """Levels 3-6 from fuzz.ratio of the sound keys, computed once per distinct pair of keys."""
    if not len(x):
        return np.zeros(0, dtype=np.int8)
    low, high = np.minimum(sounds[x], sounds[y]), np.maximum(sounds[x], sounds[y])
    joined = low * (int(high.max()) + 1) + high
    distinct, inverse = np.unique(joined, return_inverse=True)
    left, right = distinct // (int(high.max()) + 1), distinct % (int(high.max()) + 1)
    ratio = process.cpdist(sound_keys[left], sound_keys[right], scorer=fuzz.ratio, workers=workers,
                           dtype=np.float32)
    return (3 + np.searchsorted(-np.asarray(SIMILARITY_LEVELS, dtype=np.float32), -ratio, side="right")
            ).astype(np.int8)[inverse]


def score_pairs(f: Features, a: np.ndarray, b: np.ndarray, floor: float, workers: int = 1) -> Scored:
    """Score candidate pairs; pairs that cannot reach the floor (a score) are dropped unscored."""
    levels = _context(f, a, b)
    context = _context_weight(levels)
    first = _name_known(f.first, f.first_sound, a, b)
    last = _name_known(f.last, f.last_sound, a, b)
    exact_first = FIRST_WEIGHTS[1] + TERM_FREQUENCY * np.maximum(f.first_weight[a], f.first_weight[b])
    exact_last = LAST_WEIGHTS[1] + TERM_FREQUENCY * np.maximum(f.last_weight[a], f.last_weight[b])

    def best(level: np.ndarray, exact: np.ndarray, table: np.ndarray) -> np.ndarray:
        return np.where(level == 1, exact, table[np.where(level < 0, 3, level)])

    keep = context + best(first, exact_first, FIRST_WEIGHTS) + best(last, exact_last, LAST_WEIGHTS) \
        >= log2_odds(floor)
    a, b, context, first, last = a[keep], b[keep], context[keep], first[keep], last[keep]
    exact_first, exact_last = exact_first[keep], exact_last[keep]
    levels = {k: v[keep] for k, v in levels.items()}
    need = first < 0
    first[need] = _similarity_levels(f.first_sound, f.first_sound_keys, a[need], b[need], workers)
    need = last < 0
    last[need] = _similarity_levels(f.last_sound, f.last_sound_keys, a[need], b[need], workers)
    total = context + np.where(first == 1, exact_first, FIRST_WEIGHTS[first]) \
        + np.where(last == 1, exact_last, LAST_WEIGHTS[last])
    score = (1.0 / (1.0 + np.exp2(-np.clip(total, -60, 60)))).astype(np.float32)
    return Scored(a, b, score, {"first": first, "last": last, **levels}).take(score >= floor)

