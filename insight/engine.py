"""Themes and sentiment of comments, from plain data: no models, no database (the worker in pipeline.py feeds it).

A theme model is trained from the theme list (each theme's example phrases), the bundled training comments whose
theme is on the list, and the comments staff corrected. A comment gets each theme whose probability reaches
`ASSIGN_AT` (zero, one or several), unless "no theme" is clearly the most likely reading. Sentiment is a second
model over the same features, trained on the bundled comments, staff corrections and scores as weak labels.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from insight.classifier import Rows, SoftmaxRegression, Vectoriser
from insight.lexicon import SENTIMENT_SEEDS
from insight.text import features, marks, normalise_many, pair_features, word_features, words_of

NONE = ""
SENTIMENTS = ("negative", "neutral", "positive")
# A theme is given to a comment from this probability on; "no theme" wins only when it is this sure.
ASSIGN_AT = 0.25
NONE_WINS_AT = 0.5
# ...and the most likely theme must reach this (chosen on the training rows' cross-validation, bench/insight.py).
MIN_TOP = 0.35
# Weak labels (a score, not a person, said what the comment felt like) count this much against a written label.
WEAK_WEIGHT = 0.3
# A clause of a longer comment gives its theme to the comment when this sure (see Engine._clause_themes).
CLAUSE_WINS_AT = 0.6
_CLAUSE = re.compile(r"[,.;!?\n]+|\s(?:mà|nhưng|nhung|lại còn|lai con|còn|con|but|and|also|while)\s", re.IGNORECASE)
# Regularisation, chosen by 3-fold cross-validation on the training rows only (bench/insight.py).
L2 = 1e-4
# Distinct words whose feature columns one model keeps (then it starts again).
WORD_CACHE = 200_000


@dataclass(frozen=True)
class ThemeSpec:
    key: str
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Labelled:
    """A comment whose themes and/or sentiment someone (or a score) stated. themes=None: themes unknown."""

    text: str
    themes: tuple[str, ...] | None = None
    sentiment: str | None = None
    weight: float = 1.0


@dataclass
class Analysis:
    themes: list[tuple[str, float]]  # (theme key, confidence), most likely first
    top: str  # the most likely reading: a theme key, or NONE
    sentiment: str
    sentiment_confidence: float
    theme_scores: dict[str, float] = field(default_factory=dict)


def _balance(targets: np.ndarray) -> np.ndarray:
    """Per-example weights that give every class the same total: most comments are complaints, and a model fitted
    to that share alone would call a question or a thank-you negative."""
    totals = targets.sum(axis=0)
    per_class = np.where(totals > 0, targets.sum() / (np.count_nonzero(totals) * np.maximum(totals, 1e-9)), 0.0)
    return targets @ per_class


class Engine:
    def __init__(self, vectoriser: Vectoriser, labels: list[str], themes: SoftmaxRegression | None,
                 sentiment: SoftmaxRegression) -> None:  # fmt: skip
        self.vectoriser, self.labels, self.theme_model, self.sentiment_model = vectoriser, labels, themes, sentiment
        self._word_columns: dict[str, tuple[int, ...]] = {}

    def featurise(self, normalised: Sequence[str]) -> Rows:
        """`vectoriser.transform([features(t) for t in normalised])`, faster: a word's known columns are looked up
        once per model, and the counting and weighting run in numpy over the whole batch (bench/insight.py)."""
        vocabulary, cache = self.vectoriser.vocabulary, self._word_columns
        if len(cache) > WORD_CACHE:
            cache.clear()
        lengths: list[int] = []
        columns: list[int] = []
        for text in normalised:
            start = len(columns)
            words = words_of(text)
            for word in words:
                known = cache.get(word)
                if known is None:
                    known = cache[word] = tuple(vocabulary[f] for f in word_features(word) if f in vocabulary)
                columns.extend(known)
            pairs = [f for a, b in zip(words, words[1:], strict=False) for f in pair_features(a, b)]
            columns.extend(vocabulary[f] for f in [*pairs, *marks(text)] if f in vocabulary)
            lengths.append(len(columns) - start)
        return self.vectoriser.rows_from_columns(lengths, columns)

    @classmethod
    def train(cls, themes: Sequence[ThemeSpec], labelled: Iterable[Labelled], *, l2: float = L2) -> Engine:
        labelled = list(labelled)
        keys = [t.key for t in themes]
        labels = [*keys, NONE]
        examples = [Labelled(phrase, (t.key,)) for t in themes for phrase in t.examples if phrase.strip()]
        theme_docs = [
            item
            for item in [*examples, *labelled]
            if item.themes is not None and (not item.themes or any(k in keys for k in item.themes))
        ]
        seeds = [Labelled(phrase, None, name) for name, phrases in SENTIMENT_SEEDS.items() for phrase in phrases]
        sentiment_docs = [item for item in [*seeds, *labelled] if item.sentiment in SENTIMENTS]
        texts = [d.text for d in theme_docs] + [d.text for d in sentiment_docs]
        bags = [features(t) for t in normalise_many(texts)]
        vectoriser = Vectoriser().fit(bags)
        columns = len(vectoriser.vocabulary)
        theme_bags, sentiment_bags = bags[: len(theme_docs)], bags[len(theme_docs) :]

        theme_model = None
        if keys and theme_docs:
            targets = np.zeros((len(theme_docs), len(labels)))
            for i, doc in enumerate(theme_docs):
                known = [k for k in doc.themes or () if k in keys] or [NONE]
                for k in known:
                    targets[i, labels.index(k)] = 1.0 / len(known)
            weights = np.array([d.weight for d in theme_docs]) * _balance(targets)
            theme_model = SoftmaxRegression(l2=l2).fit(vectoriser.transform(theme_bags), columns, targets, weights)

        s_targets = np.zeros((max(len(sentiment_docs), 1), len(SENTIMENTS)))
        s_weights = np.ones(len(s_targets))
        if sentiment_docs:
            for i, doc in enumerate(sentiment_docs):
                s_targets[i, SENTIMENTS.index(doc.sentiment or "neutral")] = 1.0
            s_weights = np.array([d.weight for d in sentiment_docs]) * _balance(s_targets)
            s_rows = vectoriser.transform(sentiment_bags)
        else:
            s_targets[0, SENTIMENTS.index("neutral")] = 1.0
            s_rows = Rows(np.array([0, 0]), np.zeros(0, dtype=np.int64), np.zeros(0))
        sentiment_model = SoftmaxRegression(l2=l2).fit(s_rows, columns, s_targets, s_weights)
        return cls(vectoriser, labels, theme_model, sentiment_model)

    def _clause_themes(self, normalised: Sequence[str]) -> dict[int, dict[str, float]]:
        """A softmax over the whole comment lets one theme win; "giá đắt mà nhân viên thô lỗ" is about two. Each
        clause is read too, and a theme that clearly wins a clause (CLAUSE_WINS_AT) is given to the comment."""
        if self.theme_model is None:
            return {}
        owners: list[int] = []
        clauses: list[str] = []
        for i, text in enumerate(normalised):
            parts = [p.strip() for p in _CLAUSE.split(text) if len(p.split()) >= 2]
            if len(parts) > 1:
                owners.extend([i] * len(parts))
                clauses.extend(parts)
        best: dict[int, dict[str, float]] = {}
        if not clauses:
            return best
        proba = self.theme_model.predict_proba(self.featurise(clauses))
        for owner, row in zip(owners, proba, strict=True):
            j = int(np.argmax(row))
            if self.labels[j] != NONE and row[j] >= CLAUSE_WINS_AT:
                slot = best.setdefault(owner, {})
                slot[self.labels[j]] = max(slot.get(self.labels[j], 0.0), float(row[j]))
        return best

    def rows(self, texts: Sequence[str]) -> Rows:
        return self.featurise(normalise_many(list(texts)))

    def analyse(self, texts: Sequence[str]) -> list[Analysis]:
        if not texts:
            return []
        # The preprocessor is the costliest step: run it once, and split the clauses from its output.
        normalised = normalise_many(list(texts))
        rows = self.featurise(normalised)
        s_proba = self.sentiment_model.predict_proba(rows)
        t_proba = self.theme_model.predict_proba(rows) if self.theme_model else np.zeros((len(texts), 1))
        clause_best = self._clause_themes(normalised)
        out = []
        for i in range(len(texts)):
            scores = {self.labels[j]: float(t_proba[i, j]) for j in range(len(self.labels))} if self.theme_model else {}
            top = max(scores, key=scores.__getitem__) if scores else NONE
            given: list[tuple[str, float]] = []
            if scores and not (top == NONE and scores[NONE] >= NONE_WINS_AT):
                merged = dict(scores)
                for key, p in clause_best.get(i, {}).items():
                    merged[key] = max(merged[key], p)
                given = sorted(
                    ((k, p) for k, p in merged.items() if k != NONE and (p >= ASSIGN_AT or k == top)),
                    key=lambda kp: (kp[0] != top, -kp[1]),
                )
                if given and given[0][1] < MIN_TOP:
                    given = []  # the best guess is too weak to count: no theme (the comment may suggest a new one)
                top = given[0][0] if given else NONE
            s = int(np.argmax(s_proba[i]))
            out.append(Analysis(given, top, SENTIMENTS[s], float(s_proba[i, s]), scores))
        return out
