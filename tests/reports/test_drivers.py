"""Key drivers: Johnson's relative weights against an exact Shapley/LMG decomposition computed independently, their
known properties, "not enough responses", and the demo's driver pattern recovered from its data."""

from __future__ import annotations

import itertools
import math
import random
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from reports.drivers import drivers_analyse, relative_weights, survey_drivers
from surveys import demo

# A worked example: overall satisfaction (y) of 12 customers against three correlated ratings (1–7).
X = np.array(
    [
        [6, 5, 4], [7, 6, 5], [3, 4, 4], [5, 5, 6], [2, 3, 3], [6, 6, 4],
        [4, 3, 5], [7, 7, 6], [3, 2, 2], [5, 4, 3], [4, 5, 5], [6, 4, 6],
    ],
    dtype=float,
)  # fmt: skip
Y = np.array([8, 9, 5, 7, 3, 8, 5, 10, 3, 6, 6, 8], dtype=float)


def _r2(columns: tuple[int, ...]) -> float:
    """R² of y on the given columns by ordinary least squares: written apart from reports.drivers on purpose."""
    if not columns:
        return 0.0
    design = np.column_stack([np.ones(len(Y)), X[:, list(columns)]])
    fitted = design @ np.linalg.lstsq(design, Y, rcond=None)[0]
    return 1 - ((Y - fitted) ** 2).sum() / ((Y - Y.mean()) ** 2).sum()


def _lmg() -> list[float]:
    """Exact Shapley value of R² per predictor: its gain averaged over all orders of entry."""
    p = X.shape[1]
    values = []
    for j in range(p):
        others = [k for k in range(p) if k != j]
        total = 0.0
        for size in range(p):
            for subset in itertools.combinations(others, size):
                weight = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
                total += weight * (_r2(tuple(sorted((*subset, j)))) - _r2(subset))
        values.append(total)
    return values


def test_relative_weights_add_up_to_r2_and_match_the_exact_shapley_decomposition():
    weights, r2 = relative_weights(X, Y)
    full = _r2((0, 1, 2))
    lmg = _lmg()
    assert r2 == pytest.approx(full, abs=1e-9)
    assert sum(lmg) == pytest.approx(full, abs=1e-9)  # Shapley values are efficient too
    assert weights.sum() == pytest.approx(full, abs=1e-9)
    # Relative weights approximate LMG closely (Johnson 2000; LeBreton et al. 2004): within 0.02 of R² each here,
    # and in the same order.
    assert list(np.argsort(-weights)) == list(np.argsort(-np.array(lmg)))
    for w, s in zip(weights, lmg, strict=True):
        assert abs(w - s) < 0.02, (weights, lmg)


def test_uncorrelated_attributes_get_their_squared_correlations():
    rng = np.random.default_rng(1)
    raw = rng.normal(size=(200, 2))
    q, _r = np.linalg.qr(raw - raw.mean(axis=0))  # exactly orthogonal, centred columns
    y = 3 * q[:, 0] + 1 * q[:, 1] + rng.normal(scale=0.05, size=200)
    weights, r2 = relative_weights(q, y)
    correlations = [np.corrcoef(q[:, j], y)[0, 1] ** 2 for j in range(2)]
    assert weights == pytest.approx(correlations, abs=1e-9)
    assert r2 == pytest.approx(sum(correlations), abs=1e-9)


def test_not_enough_responses_below_the_minimum():
    small = drivers_analyse(X, Y, ["a", "b", "c"], min_n=30)
    assert not small.enough and small.n == 12 and small.drivers is None
    enough = drivers_analyse(X, Y, ["a", "b", "c"], min_n=10, rounds=200)
    assert enough.enough and enough.r2 == pytest.approx(_r2((0, 1, 2)))
    assert sum(d.importance for d in enough.drivers) == pytest.approx(100)
    for d in enough.drivers:
        assert d.importance_low <= d.importance <= d.importance_high
        assert d.effect_low <= d.effect <= d.effect_high


def test_expected_change_per_point_is_the_regression_slope():
    rng = np.random.default_rng(7)
    x = rng.integers(1, 6, size=(400, 2)).astype(float)
    y = 2 + 0.8 * x[:, 0] + 0.2 * x[:, 1] + rng.normal(scale=0.5, size=400)
    result = drivers_analyse(x, y, ["delivery", "price"], rounds=200)
    delivery = next(d for d in result.drivers if d.name == "delivery")
    assert delivery.effect == pytest.approx(0.8, abs=0.08)
    assert delivery.effect_low < 0.8 < delivery.effect_high
    assert result.drivers[0].name == "delivery"


@pytest.mark.django_db
def test_the_demo_survey_shows_its_known_driver_pattern(qm):
    people = demo.ensure_customers(60, random.Random(3))
    surveys = demo.ensure_surveys(qm)
    demo.generate_responses(surveys=surveys, customers=people, total=1200, rng=random.Random(4))
    nps = surveys[0]
    today = timezone.localdate()
    result = survey_drivers(nps, today - timedelta(days=366), today, language="en", with_themes=False)
    assert result is not None and result.enough and result.n >= 500
    order = [d.name for d in result.drivers]
    assert order == [a["text_en"] for a in demo.DEMO_ATTRIBUTES]  # delivery, then staff, then price
    delivery, staff, price = result.drivers
    assert delivery.importance_low > staff.importance_high  # clearly first, not by chance
    assert staff.importance_low > price.importance_high
    assert price.importance < 10
    assert delivery.fix_first  # most important and the worst rated of the three
    assert 0.2 < result.r2 < 0.95
