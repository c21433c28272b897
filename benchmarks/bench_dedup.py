"""Measure pipeline.linkage.engine on labelled generated records: quality, time, memory.

    python -m benchmarks.bench_dedup [--sizes 10000,100000,1000000] [--seed 7] [--curve-size 100000]

For each size the records are generated here (benchmarks/dedup_data.py, not timed), then linked
in a child process that loads them and reports its wall and CPU seconds, per stage, and its peak
RSS (getrusage maxrss, with the RSS after loading for reference). Quality is pairwise: every
pair of records in one predicted cluster is a predicted duplicate, every pair of records of one
generated person a true one. 'fuzzy' excludes the pairs two equal valid IDs give for free.
The curve links the curve-size set at several merge thresholds from one scoring.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.dedup_data import generate
from pipeline.linkage import engine as linkage
from pipeline.thai import names as thainames

CURVE = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)


def _pairs(sizes: pd.Series) -> int:
    values = sizes.to_numpy(dtype=np.int64)
    return int((values * (values - 1) // 2).sum())


def quality(cluster: pd.Series, truth: pd.Series, records: pd.DataFrame | None = None) -> dict:
    """Pairwise precision, recall and F1 of predicted clusters against the true entities.

    With records, also 'fuzzy_*': the same without the pairs of records sharing a valid ID
    (those link by rule and are always right here).
    """
    frame = pd.DataFrame({"p": cluster.to_numpy(), "t": truth.to_numpy()})
    both = _pairs(frame.groupby(["p", "t"]).size())
    predicted, true = _pairs(frame.groupby("p").size()), _pairs(frame.groupby("t").size())
    result = _scores(both, predicted, true)
    if records is not None:
        features = linkage.prepare(records, linkage.LinkSettings().reference_date)
        free = _pairs(pd.Series(features.id13[features.id_valid]).value_counts())
        result |= {f"fuzzy_{k}": v for k, v in _scores(both - free, predicted - free, true - free).items()}
    return result


def _scores(both: int, predicted: int, true: int) -> dict:
    precision = both / predicted if predicted else 1.0
    recall = both / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_pairs": true, "predicted_pairs": predicted,
            "correct_pairs": both}


def hard_negatives_merged(cluster: pd.Series, truth: pd.Series, pairs: pd.DataFrame) -> pd.DataFrame:
    """Per kind of hard negative (twins, father_son, namesakes): pairs listed, and how many were merged."""
    frame = pd.DataFrame({"cluster": cluster.to_numpy(), "entity": truth.to_numpy()}).drop_duplicates()
    listed = pairs[pairs["entity"].isin(frame["entity"]) & pairs["other"].isin(frame["entity"])]
    joined = listed.merge(frame, on="entity").merge(frame, left_on="other", right_on="entity", suffixes=("", "_o"))
    merged = joined[joined["cluster"] == joined["cluster_o"]].drop_duplicates(["entity", "other"])
    return pd.DataFrame({"listed": listed["kind"].value_counts(), "merged": merged["kind"].value_counts()}) \
        .fillna(0).astype(int)


def curve(records: pd.DataFrame, truth: pd.Series, thresholds=CURVE) -> pd.DataFrame:
    """Precision/recall/F1 (all pairs and fuzzy-only) at each merge threshold, from one scoring."""
    settings = linkage.LinkSettings(review_threshold=min(thresholds) / 2)
    features, scored, counts = linkage.scored_candidates(records, settings)
    rows = []
    for threshold in thresholds:
        result = linkage.resolve(records, features, scored, None, linkage.with_threshold(settings, threshold))
        measured = quality(result.cluster, truth, records)
        grey = (scored.score >= linkage.LinkSettings().review_threshold) & (scored.score < threshold)
        rows.append({"threshold": threshold, **{k: measured[k] for k in (
            "precision", "recall", "f1", "fuzzy_precision", "fuzzy_recall", "fuzzy_f1")},
            "review_pairs": int(grey.sum())})
    return pd.DataFrame(rows)


@contextlib.contextmanager
def generic_text():
    """Ablation: replace the Thai-aware text handling by what a generic linker does (trim, lower-case).

    No title splitting, no zero-width/mark-order cleaning, no sound key (the name itself), no Thai
    digits in house or village numbers. Blocking, scoring and clustering are unchanged.
    """
    names = ("parse_name", "sound_key", "first_consonant", "_clean_all", "house_keys", "village_numbers")
    saved = {name: getattr(thainames, name) for name in names}
    thainames.parse_name = lambda text: (None, None, " ".join(text.split()).casefold())
    thainames.sound_key = lambda key: key
    thainames.first_consonant = lambda sound: sound[:1]
    thainames._clean_all = lambda values: ["" if v is None else str(v) for v in values]
    thainames.house_keys = lambda houses: pd.DataFrame(
        {"house": houses.astype(object).where(houses.notna(), None).map(lambda h: str(h).strip() if h else None),
         "house_main": None}, index=houses.index)
    thainames.village_numbers = lambda moo: pd.to_numeric(moo, errors="coerce").astype("Int64")
    try:
        yield
    finally:
        for name, function in saved.items():
            setattr(thainames, name, function)


def _status_mb(field: str) -> float | None:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset the peak RSS (Linux: 5 > /proc/self/clear_refs) so the peak is the linking's alone."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _child(path: str) -> None:
    """Load records, link them, write the result next to them; print timings and memory as JSON."""
    with open(path, "rb") as handle:
        records = pickle.load(handle)
    gc.collect()
    reset = _reset_peak()
    loaded = _status_mb("VmRSS") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    wall, cpu = time.perf_counter(), time.process_time()
    result = linkage.link_people(records)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = (_status_mb("VmHWM") if reset else None) or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(path + ".out", "wb") as handle:
        pickle.dump((result.cluster, result.counts), handle)
    print(json.dumps({"wall": wall, "cpu": cpu, "rss_loaded_mb": loaded, "rss_peak_mb": peak, "peak_reset": reset,
                      "stages": result.counts["seconds"], "stages_cpu": result.counts.get("cpu_seconds", {})}))


def measure(size: int, seed: int, folder: Path) -> dict:
    """Generate, link in a child process, score; one row of the table."""
    started = time.perf_counter()
    records, truth, hard = generate(size, seed=seed, with_hard_negatives=True)
    generated = time.perf_counter() - started
    path = folder / f"records_{size}.pkl"
    with open(path, "wb") as handle:
        pickle.dump(records, handle)
    load = os.getloadavg()
    run = subprocess.run([sys.executable, "-m", "benchmarks.bench_dedup", "--child", str(path)],
                         capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent)
    timing = json.loads(run.stdout.strip().splitlines()[-1])
    with open(str(path) + ".out", "rb") as handle:
        cluster, counts = pickle.load(handle)
    measured = quality(cluster, truth, records)
    hard = hard_negatives_merged(cluster, truth, hard)
    return {"records": len(records), "people": truth.nunique(), **measured, **timing, "generate_s": generated,
            "hard_negatives": ", ".join(f"{kind} {row.merged}/{row.listed} merged" for kind, row in hard.iterrows()),
            "load_before": load, "load_after": os.getloadavg(), "counts": counts}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--curve-size", type=int, default=100000, help="0: no curve")
    parser.add_argument("--generic", action="store_true", help="ablation: generic text handling (curve only)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args.child)
    settings = linkage.LinkSettings()
    print(f"merge_threshold={settings.merge_threshold} review_threshold={settings.review_threshold} "
          f"cpus={os.cpu_count()} load={os.getloadavg()}")
    if args.curve_size:
        records, truth = generate(args.curve_size, seed=args.seed + 1)
        label = "generic text handling (ablation)" if args.generic else "Thai-aware"
        print(f"\nprecision/recall by merge threshold, {label} ({len(records)} records, seed {args.seed + 1}):")
        with generic_text() if args.generic else contextlib.nullcontext():
            print(curve(records, truth).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if args.generic:
        return None
    print("\nsize       P       R       F1      fuzzy P fuzzy R  wall s  cpu s   peak MB (after load)  load avg"
          "         stages wall s (prepare/blocking/scoring/resolve)")
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            row = measure(size, args.seed, Path(folder))
            stages = "/".join(f"{v:.1f}" for v in row["stages"].values()) + " (cpu " \
                + "/".join(f"{v:.1f}" for v in row["stages_cpu"].values()) + ")"
            print(f"{row['records']:<9} {row['precision']:.4f}  {row['recall']:.4f}  {row['f1']:.4f}  "
                  f"{row['fuzzy_precision']:.4f}  {row['fuzzy_recall']:.4f}  {row['wall']:6.1f}  {row['cpu']:6.1f}  "
                  f"{row['rss_peak_mb']:7.0f} ({row['rss_loaded_mb']:.0f})  "
                  f"{row['load_before'][0]:.1f}->{row['load_after'][0]:.1f}  {stages}", flush=True)
            counts = {k: v for k, v in row["counts"].items() if k not in ("seconds", "cpu_seconds")}
            print(f"          hard negatives: {row['hard_negatives']}", flush=True)
            print(f"          counts: {counts}; generated in {row['generate_s']:.0f} s", flush=True)


if __name__ == "__main__":
    main()
