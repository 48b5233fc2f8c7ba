"""Triage bench: held-out field / scope / KB figures, suggestion latency on one core,
training time and memory at scale, the most-confused fields, and what a province's own
history adds (train on half the generated history, test on the other half).

    PYTHONPATH=. python -m bench.triage [--scale 100000] [--history 20000]

Printed, and written to bench/results/triage.json. Never touches the network.
"""
from __future__ import annotations

import os

# One core: the suggestion latency target is per core; the BLAS pools would spread.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import argparse
import multiprocessing
import resource
import time

import numpy as np

from bench.common import Measurement, measure, print_table, progress, write_results
from hotline.triage import corpus, evaluate, history
from hotline.triage.model import train


def _train_at_scale(n: int, queue) -> None:
    examples = corpus.training_set() + history.generate(n, seed=5)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    model = train(examples)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put({"examples": len(examples), "seconds": round(seconds, 1),
               "peak_rss_mb": round(peak / 1024), "rss_growth_mb": round((peak - before) / 1024),
               "solver": type(model.field_clf).__name__})


def scale(n: int) -> dict:
    """Train on ``n`` generated tickets in a fresh process (its own peak memory)."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_train_at_scale, args=(n, queue))
    proc.start()
    result = queue.get()
    proc.join()
    per_million = result["seconds"] * 1_000_000 / result["examples"]
    result["extrapolated_1m_seconds"] = round(per_million)
    return result


def duplicate_threshold(model) -> dict:
    """Cosine similarity of two renderings of one problem vs two problems of one field."""
    examples = [e for e in corpus.heldout_set() if e.scope == "in_scope"]
    x = model.vectors([e.text for e in examples])
    sims = (x @ x.T).toarray()
    same, other = [], []
    for i in range(len(examples)):
        for j in range(i + 1, len(examples)):
            if examples[i].field != examples[j].field:
                continue
            (same if examples[i].phrase == examples[j].phrase else other).append(sims[i, j])
    same, other = np.array(same), np.array(other)
    best = max(((t, np.mean(same >= t), np.mean(other >= t)) for t in np.arange(0.2, 0.8, 0.02)),
               key=lambda r: r[1] - r[2])
    from hotline.services.triage_duplicates import THRESHOLD
    return {"best_threshold": round(float(best[0]), 2),
            "recall_same_problem_at_best": round(float(best[1]), 3),
            "false_match_same_field_at_best": round(float(best[2]), 3),
            "shipped_threshold": THRESHOLD,
            "recall_same_problem": round(float(np.mean(same >= THRESHOLD)), 3),
            "false_match_same_field": round(float(np.mean(other >= THRESHOLD)), 3),
            "pairs_same": len(same), "pairs_other": len(other)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--history", type=int, default=20_000)
    args = parser.parse_args()
    results: list[Measurement] = []

    progress("training on the corpus")
    started = time.perf_counter()
    model = train(corpus.training_set())
    corpus_seconds = time.perf_counter() - started
    figures = evaluate.heldout(model)
    articles, keys = evaluate.demo_kb()
    figures["kb"] = evaluate.kb_mrr(articles, keys)
    figures["corpus"] = {"training_examples": model.examples, "seconds": round(corpus_seconds, 1),
                         "heldout_examples": len(corpus.heldout_set())}

    progress("suggestion latency")
    texts = [e.text for e in corpus.heldout_set()]
    latencies = []
    for text in texts * 2:
        t0 = time.perf_counter()
        model.predict(text)
        latencies.append(time.perf_counter() - t0)
    results.append(measure("suggest (held-out texts, one core)", len(texts), latencies))

    progress("duplicate threshold")
    figures["duplicates"] = duplicate_threshold(model)

    progress(f"history: half / half of {args.history}")
    hist = history.generate(args.history, seed=11)
    half = len(hist) // 2
    first, second = hist[:half], hist[half:]
    before = evaluate.field_accuracy(model, second)
    with_history = train(corpus.training_set() + first)
    after = evaluate.field_accuracy(with_history, second)
    figures["history_half_half"] = {
        "tickets": len(hist), "corpus_only": {k: before[k] for k in ("top1", "top3")},
        "corpus_plus_first_half": {k: after[k] for k in ("top1", "top3")},
        "heldout_after_history": evaluate.field_accuracy(
            with_history, [e for e in corpus.heldout_set() if e.scope == "in_scope"])["top1"],
        "confused_after": after["confused"][:5]}

    progress(f"training at scale: {args.scale} generated tickets")
    figures["scale"] = scale(args.scale)

    print_table(results)
    for name, value in figures.items():
        print(f"{name}: {value}")
    path = write_results("triage", results, figures=figures)
    print(f"→ {path}")


if __name__ == "__main__":
    main()
