"""Fuzzy deduplication of people (form B): one cluster per person, across files, districts and weeks.

    result = link_people(records, decisions)      # records: one row per valid record
    result.cluster      # per record: the smallest record_key of its person (stable under row order)
    result.links        # record_key_a, record_key_b, score, rule ('id' | 'decision' | 'score')
    result.review       # grey-zone pairs for the office to confirm (both records' fields, the score)

Steps (each a pure function of arrays; the input frame is never modified):
1. linkage_features.prepare: names without titles, sound keys, house numbers, IDs, birth years as codes;
2. linkage_blocking.candidate_pairs: pairs sharing a blocking key (village + name sound, ...);
3. linkage_scoring.score_pairs: per-field agreement levels -> log2 weights -> score in [0, 1];
4. resolve: identical valid IDs link; 'same' decisions link; pairs at or above merge_threshold link;
   a cluster never holds two different valid IDs nor a pair decided 'different'.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.linkage import blocking as linkage_blocking
from pipeline.linkage import cluster as linkage_cluster
from pipeline.linkage import scoring as linkage_scoring
from pipeline.linkage.features import Features, prepare
from pipeline.linkage.scoring import Scored

REVIEW_FIELDS = ("person_id", "title", "first_name", "last_name", "sex", "birth_date", "age", "house_no", "moo",
                 "subdistrict_code", "district_code", "phone")
PRIORITY = {"id": 0, "decision": 1, "score": 2}


@dataclass(frozen=True)
class LinkSettings:
    """Thresholds (chosen by measurement, see benchmarks/bench_dedup.py) and limits."""

    merge_threshold: float = 0.8       # measured: see benchmarks/bench_dedup.py and the curve in its output
    review_threshold: float = 0.5      # below it pairs are too rarely the same person (<5% at 0.4-0.5)
    max_block: int = 60                # a larger block is split by a finer key, or dropped
    reference_date: dt.date = dt.date(2021, 12, 24)  # for 'age' when a record has no surveyed_on
    workers: int = 1                   # rapidfuzz threads


@dataclass(frozen=True)
class LinkResult:
    """Clusters, the links that made them, the pairs to review, and counts."""

    cluster: pd.Series
    links: pd.DataFrame
    review: pd.DataFrame
    counts: dict = field(default_factory=dict)


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    return time.perf_counter() - start[0], time.process_time() - start[1]


def scored_candidates(records: pd.DataFrame, settings: LinkSettings = LinkSettings()) -> tuple[Features, Scored, dict]:
    """Features, every candidate pair scoring at least review_threshold, and counts (with stage seconds)."""
    spent, start = {}, _clock()
    features = prepare(records, settings.reference_date)
    spent["prepare"], start = _since(start), _clock()
    a, b, counts = linkage_blocking.candidate_pairs(features, settings.max_block)
    spent["blocking"], start = _since(start), _clock()
    scored = linkage_scoring.score_pairs(features, a, b, settings.review_threshold, settings.workers)
    spent["scoring"] = _since(start)
    return features, scored, {**counts, "scored_pairs": len(scored.a),
                              "seconds": {k: v[0] for k, v in spent.items()},
                              "cpu_seconds": {k: v[1] for k, v in spent.items()}}


def link_people(records: pd.DataFrame, decisions: pd.DataFrame | None = None,
                settings: LinkSettings = LinkSettings()) -> LinkResult:
    """Cluster the records into people (see the module docstring)."""
    if records["record_key"].duplicated().any():
        raise ValueError("link_people: record_key must be unique")
    features, scored, counts = scored_candidates(records, settings)
    start = _clock()
    result = resolve(records, features, scored, decisions, settings, counts)
    wall, cpu = _since(start)
    result.counts["seconds"] = {**counts["seconds"], "resolve": wall}
    result.counts["cpu_seconds"] = {**counts["cpu_seconds"], "resolve": cpu}
    return result


def _id_edges(f: Features) -> pd.DataFrame:
    """Each record with a repeated valid ID, linked to the record of that ID with the smallest key."""
    valid = np.flatnonzero(f.id_valid)
    repeated = valid[pd.Series(f.id13[valid]).duplicated(keep=False).to_numpy()]
    frame = pd.DataFrame({"id": f.id13[repeated], "rank": f.rank[repeated], "b": repeated})
    frame = frame.sort_values(["id", "rank"], kind="stable")
    frame["a"] = frame.groupby("id")["b"].transform("first")
    frame = frame[frame["a"] != frame["b"]]
    return pd.DataFrame({"a": frame["a"].to_numpy(), "b": frame["b"].to_numpy(), "score": 1.0, "rule": "id"})


def _decision_pairs(decisions: pd.DataFrame | None, f: Features) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """('same' pairs, 'different' pairs) as record positions, and how many named unknown records."""
    empty = pd.DataFrame({"a": np.zeros(0, dtype=np.int64), "b": np.zeros(0, dtype=np.int64)})
    if decisions is None or decisions.empty:
        return empty, empty, 0
    index = pd.Index(f.keys)
    a = index.get_indexer(decisions["record_key_a"].astype(str))
    b = index.get_indexer(decisions["record_key_b"].astype(str))
    verdict = decisions["decision"].astype(str).str.strip().str.casefold().to_numpy()
    known = (a >= 0) & (b >= 0) & (a != b)
    frame = pd.DataFrame({"a": np.minimum(a, b), "b": np.maximum(a, b), "decision": verdict})[known]
    different = frame[frame["decision"] == "different"][["a", "b"]].drop_duplicates()
    same = frame[frame["decision"] == "same"][["a", "b"]].drop_duplicates()
    return same, different, int((~known).sum())


def _labels(f: Features, edges: pd.DataFrame, different: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, int]:
    """Final label per record and which edges were accepted."""
    a, b = edges["a"].to_numpy(dtype=np.int64), edges["b"].to_numpy(dtype=np.int64)
    labels = linkage_cluster.components(len(f), a, b)
    ids = np.where(f.id_valid, f.id13, -1)
    bad = linkage_cluster.conflicted(labels, ids, different["a"].to_numpy(), different["b"].to_numpy())
    accepted = np.ones(len(edges), dtype=bool)
    if len(bad):
        nodes = np.flatnonzero(np.isin(labels, bad))
        inside = np.isin(labels[a], bad)
        rank_a, rank_b = f.rank[a[inside]], f.rank[b[inside]]  # ties broken by record keys, not row order
        subset = edges[inside].assign(priority=edges["rule"][inside].map(PRIORITY),
                                      low=np.minimum(rank_a, rank_b), high=np.maximum(rank_a, rank_b))
        subset = subset.sort_values(["priority", "score", "low", "high"], ascending=[True, False, True, True],
                                    kind="stable")
        roots, taken = linkage_cluster.constrained_union(nodes, subset, ids, list(zip(different["a"], different["b"])))
        labels = labels.copy()
        labels[nodes] = pd.Series(roots).reindex(nodes).to_numpy()
        accepted[subset.index.to_numpy()] = taken  # edges has a RangeIndex: index = position
    return labels, accepted, len(bad)


def _by_key(f: Features, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs with the smaller record key first."""
    swap = f.rank[a] > f.rank[b]
    return np.where(swap, b, a), np.where(swap, a, b)


def resolve(records: pd.DataFrame, f: Features, scored: Scored, decisions: pd.DataFrame | None = None,
            settings: LinkSettings = LinkSettings(), counts: dict | None = None) -> LinkResult:
    """Clusters from scored pairs, ID links and decisions (see the module docstring)."""
    same, different, unknown = _decision_pairs(decisions, f)
    forbidden = different["a"].to_numpy() * len(f) + different["b"].to_numpy()
    merge = (scored.score >= settings.merge_threshold) & ~np.isin(scored.a * len(f) + scored.b, forbidden)
    edges = pd.concat([
        _id_edges(f), same.assign(score=1.0, rule="decision"),
        pd.DataFrame({"a": scored.a[merge], "b": scored.b[merge], "score": scored.score[merge].astype(float),
                      "rule": "score"}),
    ], ignore_index=True).astype({"a": np.int64, "b": np.int64, "score": float})
    labels, accepted, conflicts = _labels(f, edges, different)
    smallest = np.full(len(f), len(f), dtype=np.int64)
    np.minimum.at(smallest, labels, f.rank)
    by_rank = np.empty(len(f), dtype=np.int64)
    by_rank[f.rank] = np.arange(len(f))
    cluster_key = f.keys[by_rank[smallest[labels]]]
    cluster = pd.Series(cluster_key, index=records.index, name="cluster", dtype=object)

    kept = edges[accepted]
    a, b = _by_key(f, kept["a"].to_numpy(), kept["b"].to_numpy())
    order = np.lexsort((f.rank[b], f.rank[a]))
    links = pd.DataFrame({"record_key_a": f.keys[a][order], "record_key_b": f.keys[b][order],
                          "score": kept["score"].to_numpy()[order], "rule": kept["rule"].to_numpy()[order]})
    refused = edges[~accepted & (edges["rule"] == "score").to_numpy()]
    grey = (scored.score < settings.merge_threshold) & (labels[scored.a] != labels[scored.b]) \
        & ~np.isin(scored.a * len(f) + scored.b, forbidden)
    pairs = pd.concat([
        pd.DataFrame({"a": scored.a[grey], "b": scored.b[grey], "score": scored.score[grey].astype(float),
                      "rule": "grey_zone"}),
        refused.assign(rule="conflict")], ignore_index=True)
    review = _review(records, f, pairs, cluster_key, scored)
    n_clusters = int(np.count_nonzero(labels == np.arange(len(f))))
    counts = {**(counts or {}), "records": len(records), "clusters": n_clusters,
              "duplicates": len(records) - n_clusters,
              "links": len(links), "review": len(review), "id_links": int((links["rule"] == "id").sum()),
              "decision_links": int((links["rule"] == "decision").sum()), "refused_links": int((~accepted).sum()),
              "decisions_refused": int((~accepted & (edges["rule"] == "decision").to_numpy()).sum()),
              "conflicted_components": conflicts, "decisions_unknown_records": unknown}
    return LinkResult(cluster, links, review, counts)


def _evidence(scored: Scored, n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """'first=close last=exact birth=exact place=village ...' per pair: the levels behind its score."""
    if not len(a) or not len(scored.a):
        return np.full(len(a), "", dtype=object)
    codes = scored.a * n + scored.b  # scored pairs are sorted by (a, b)
    wanted = np.minimum(a, b) * n + np.maximum(a, b)
    where = np.clip(np.searchsorted(codes, wanted), 0, len(codes) - 1)
    found = codes[where] == wanted
    text = np.full(len(a), "", dtype=object)
    for measure, names in linkage_scoring.LEVELS.items():
        level = scored.levels[measure][where]
        shown = found & ((level > 0) | (measure == "place"))  # level 0 is 'missing', but for place 'village'
        text = text + np.where(shown, f"{measure}=" + np.asarray(names, dtype=object)[level] + " ", "")
    return np.array([t.strip() for t in text], dtype=object)


def _review(records: pd.DataFrame, f: Features, pairs: pd.DataFrame, cluster_key: np.ndarray,
            scored: Scored) -> pd.DataFrame:
    """Pairs for a person to confirm, highest score first, both records' key fields side by side."""
    a, b = _by_key(f, pairs["a"].to_numpy(dtype=np.int64), pairs["b"].to_numpy(dtype=np.int64))
    order = np.lexsort((f.rank[b], f.rank[a], -pairs["score"].to_numpy()))
    a, b = a[order], b[order]
    columns = {"record_key_a": f.keys[a], "record_key_b": f.keys[b], "score": pairs["score"].to_numpy()[order],
               "rule": pairs["rule"].to_numpy()[order], "evidence": _evidence(scored, len(f), a, b)}
    for column in REVIEW_FIELDS:
        values = records[column].to_numpy(dtype=object) if column in records else np.full(len(records), None)
        columns[f"{column}_a"], columns[f"{column}_b"] = values[a], values[b]
    columns["cluster_a"], columns["cluster_b"] = cluster_key[a], cluster_key[b]
    return pd.DataFrame(columns)


def with_threshold(settings: LinkSettings, merge_threshold: float) -> LinkSettings:
    """Settings with another merge threshold (for measuring a precision/recall curve)."""
    return dataclasses.replace(settings, merge_threshold=merge_threshold)
