"""Suggested themes: the comments that fit no theme, grouped by what they share.

Spherical k-means (cosine) over word TF-IDF of the folded words (diacritics removed, so "giao hàng" and "giao hang"
meet), deterministic (k-means++ seeding from a fixed seed). A group is offered when it holds at least `MIN_SIZE`
comments; its name is its heaviest words, its examples the comments nearest its centre. Read from the newest
`LIMIT` unthemed comments on request: bounded work whatever the number of responses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from insight.classifier import Vectoriser
from insight.text import _WORD, fold, normalise_many

LIMIT = 1500
MIN_SIZE = 5
MAX_GROUPS = 8
# Words that say nothing about a topic, in both languages (folded).
STOPWORDS = frozenset(
    [
        "va",
        "la",
        "cua",
        "co",
        "khong",
        "duoc",
        "cho",
        "voi",
        "thi",
        "ma",
        "nhung",
        "cung",
        "rat",
        "qua",
        "lam",
        "nay",
        "do",
        "mot",
        "cac",
        "nhieu",
        "toi",
        "minh",
        "ban",
        "em",
        "anh",
        "chi",
        "da",
        "se",
        "dang",
        "roi",
        "nua",
        "hon",
        "lai",
        "con",
        "ra",
        "vao",
        "di",
        "den",
        "tu",
        "the",
        "nhu",
        "gi",
        "ay",
        "oi",
        "nha",
        "nhe",
        "a",
        "the",
        "and",
        "the",
        "a",
        "an",
        "is",
        "was",
        "were",
        "to",
        "of",
        "in",
        "for",
        "on",
        "it",
        "my",
        "i",
        "you",
        "we",
        "they",
        "be",
        "with",
        "at",
        "this",
        "that",
        "not",
        "but",
        "very",
        "so",
        "too",
        "are",
        "have",
        "has",
        "had",
        "me",
        "our",
        "your",
    ]  # noqa: SIM905
)


@dataclass
class Suggestion:
    words: list[str]
    size: int
    examples: list[tuple[int, str]]  # (comment id, text), most typical first


def _bags(texts: list[str]) -> list[list[str]]:
    bags = []
    for text in normalise_many(texts):
        words = [fold(w).removeprefix("neg_") for w in _WORD.findall(text)]
        words = [w for w in words if len(w) > 1 and w not in STOPWORDS and not w.isdigit()]
        bags.append(words + [a + " " + b for a, b in zip(words, words[1:], strict=False)])
    return bags


def suggest(comments: list[tuple[int, str]], *, seed: int = 0) -> list[Suggestion]:
    if len(comments) < MIN_SIZE:
        return []
    bags = _bags([text for _pk, text in comments])
    vectoriser = Vectoriser().fit(bags)
    if not vectoriser.vocabulary:
        return []
    x = vectoriser.transform(bags).dense(len(vectoriser.vocabulary)).astype(np.float64)
    useful = np.linalg.norm(x, axis=1) > 0
    k = int(min(MAX_GROUPS, max(1, useful.sum() // (2 * MIN_SIZE))))
    centres = _kmeans_pp(x[useful], k, np.random.default_rng(seed))
    for _round in range(25):
        assign = np.argmax(x @ centres.T, axis=1)
        new = np.stack([x[assign == c].sum(axis=0) if (assign == c).any() else centres[c] for c in range(k)])
        new /= np.linalg.norm(new, axis=1, keepdims=True) + 1e-12
        if np.allclose(new, centres):
            break
        centres = new
    similarity = x @ centres.T
    assign = np.argmax(similarity, axis=1)
    words = sorted(vectoriser.vocabulary, key=vectoriser.vocabulary.__getitem__)
    out = []
    for c in range(k):
        members = np.flatnonzero((assign == c) & useful)
        if len(members) < MIN_SIZE:
            continue
        top_words = [words[i] for i in np.argsort(-centres[c])[:4] if centres[c, i] > 0]
        nearest = members[np.argsort(-similarity[members, c])][:5]
        out.append(Suggestion(top_words, len(members), [comments[i] for i in nearest]))
    out.sort(key=lambda s: -s.size)
    return out


def _kmeans_pp(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    centres = [x[rng.integers(len(x))]]
    for _ in range(1, k):
        distance = 1 - np.max(x @ np.stack(centres).T, axis=1)
        distance = np.clip(distance, 0, None)
        if distance.sum() <= 0:
            break
        centres.append(x[rng.choice(len(x), p=distance / distance.sum())])
    while len(centres) < k:
        centres.append(centres[-1])
    return np.stack(centres)
