"""The statistics behind every figure on a dashboard: estimates with 95 % intervals, tests of change, p-charts.

ISO 10004 asks that satisfaction be measured with known reliability; a quality manager should never act on a
difference that is only noise. So every estimate carries its n and an interval, a change between periods is called
significant only when a two-sample test says so, and the trend's "special causes" come from a p-chart with the
Western Electric rules. Inputs are the sufficient statistics of the rollups (counts, sums, sums of squares).

Pure Python (the t distribution through the regularised incomplete beta function), tested against worked examples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist

Z95 = NormalDist().inv_cdf(0.975)  # 1.95996…
_NORMAL = NormalDist()


@dataclass(frozen=True)
class Estimate:
    value: float | None
    low: float | None
    high: float | None
    n: int
    enough: bool = True  # False below the minimum n: show "not enough responses", not a number

    @property
    def margin(self) -> float | None:
        if self.low is None or self.high is None:
            return None
        return (self.high - self.low) / 2


def _none(n: int) -> Estimate:
    return Estimate(None, None, None, n, enough=False)


def nps_estimate(promoters: int, detractors: int, n: int, *, min_n: int = 1) -> Estimate:
    """NPS = 100·(P − D)/n with the adjusted Wald interval (n + 3, P + ¾, D + ¾), which keeps its coverage near
    95 % for small n and extreme shares where the plain Wald interval is too narrow."""
    if n <= 0:
        return _none(n)
    value = 100.0 * (promoters - detractors) / n
    n_adj = n + 3
    p, d = (promoters + 0.75) / n_adj, (detractors + 0.75) / n_adj
    half = Z95 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n_adj)
    centre = p - d
    return Estimate(value, 100.0 * max(centre - half, -1.0), 100.0 * min(centre + half, 1.0), n, enough=n >= min_n)


def nps_wald(promoters: int, detractors: int, n: int) -> Estimate:
    """NPS with the plain Wald interval: Var(p − d) = [p + d − (p − d)²]/n."""
    if n <= 0:
        return _none(n)
    p, d = promoters / n, detractors / n
    half = Z95 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)
    return Estimate(100.0 * (p - d), 100.0 * (p - d - half), 100.0 * (p - d + half), n)


def share_estimate(k: int, n: int, *, min_n: int = 1) -> Estimate:
    """A share (CSAT's top-2-box, the detractor share) in percent, with the Wilson score interval."""
    if n <= 0:
        return _none(n)
    p = k / n
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Estimate(100.0 * p, 100.0 * max(centre - half, 0.0), 100.0 * min(centre + half, 1.0), n, enough=n >= min_n)


def mean_estimate(n: int, total: float, total_sq: float, *, min_n: int = 1) -> Estimate:
    """A mean score (CES, a rating) with the t interval, from the count, sum and sum of squares."""
    if n <= 0:
        return _none(n)
    mean = total / n
    if n == 1:
        return Estimate(mean, None, None, n, enough=n >= min_n)
    half = t_ppf(0.975, n - 1) * math.sqrt(_variance(n, total, total_sq) / n)
    return Estimate(mean, mean - half, mean + half, n, enough=n >= min_n)


def _variance(n: int, total: float, total_sq: float) -> float:
    return max((total_sq - total * total / n) / (n - 1), 0.0)


# --- Tests of change between two periods (or two segments) -------------------------------------------------


@dataclass(frozen=True)
class Change:
    difference: float | None  # second minus first, in the figure's unit
    p_value: float | None
    significant: bool = field(default=False)


ALPHA = 0.05


def _change(difference: float, z: float) -> Change:
    p_value = 2 * (1 - _NORMAL.cdf(abs(z)))
    return Change(difference, p_value, p_value < ALPHA)


def nps_change(first: tuple[int, int, int], second: tuple[int, int, int]) -> Change:
    """Two independent NPS (promoters, detractors, n): z = ΔNPS / √(Var₁ + Var₂), each from its own shares."""
    (p1, d1, n1), (p2, d2, n2) = first, second
    if n1 <= 0 or n2 <= 0:
        return Change(None, None)
    a, b = (p1 / n1, d1 / n1), (p2 / n2, d2 / n2)
    variance = (a[0] + a[1] - (a[0] - a[1]) ** 2) / n1 + (b[0] + b[1] - (b[0] - b[1]) ** 2) / n2
    difference = 100.0 * ((b[0] - b[1]) - (a[0] - a[1]))
    if variance <= 0:
        return Change(difference, None)
    return _change(difference, difference / 100.0 / math.sqrt(variance))


def share_change(first: tuple[int, int], second: tuple[int, int]) -> Change:
    """Two independent shares (k, n): the pooled two-proportion z-test; difference in percentage points."""
    (k1, n1), (k2, n2) = first, second
    if n1 <= 0 or n2 <= 0:
        return Change(None, None)
    pooled = (k1 + k2) / (n1 + n2)
    difference = k2 / n2 - k1 / n1
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return Change(100.0 * difference, None)
    return _change(100.0 * difference, difference / math.sqrt(variance))


def mean_change(first: tuple[int, float, float], second: tuple[int, float, float]) -> Change:
    """Two independent means (n, sum, sum of squares): Welch's t-test."""
    (n1, s1, q1), (n2, s2, q2) = first, second
    if n1 < 2 or n2 < 2:
        return Change(None, None)
    v1, v2 = _variance(n1, s1, q1) / n1, _variance(n2, s2, q2) / n2
    difference = s2 / n2 - s1 / n1
    if v1 + v2 <= 0:
        return Change(difference, None)
    t = difference / math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / ((v1 * v1 / (n1 - 1) if v1 else 0) + (v2 * v2 / (n2 - 1) if v2 else 0))
    p_value = 2 * (1 - t_cdf(abs(t), df))
    return Change(difference, p_value, p_value < ALPHA)


# --- p-chart with the Western Electric rules ---------------------------------------------------------------


@dataclass(frozen=True)
class ChartPoint:
    label: str
    k: int
    n: int
    share: float  # percent
    centre: float
    lower: float
    upper: float
    rules: tuple[int, ...]  # the Western Electric rules this point completes (1–4)


RULES = {
    1: "one point beyond 3σ",
    2: "two of three beyond 2σ on one side",
    3: "four of five beyond 1σ on one side",
    4: "eight in a row on one side of the centre line",
}


def p_chart(periods: list[tuple[str, int, int]]) -> list[ChartPoint]:
    """p-chart of a share per period (label, k, n): centre p̄ = Σk/Σn, limits p̄ ± 3·√(p̄(1 − p̄)/nᵢ) per period
    (so a small period gets wide limits), and the Western Electric rules on each point's distance in σᵢ."""
    used = [(label, k, n) for label, k, n in periods if n > 0]
    total_n = sum(n for _label, _k, n in used)
    if not total_n:
        return []
    centre = sum(k for _label, k, _n in used) / total_n
    zs: list[float] = []
    points: list[ChartPoint] = []
    for label, k, n in used:
        sigma = math.sqrt(centre * (1 - centre) / n)
        share = k / n
        zs.append((share - centre) / sigma if sigma else 0.0)
        points.append(
            ChartPoint(
                label,
                k,
                n,
                100.0 * share,
                100.0 * centre,
                100.0 * max(centre - 3 * sigma, 0.0),
                100.0 * min(centre + 3 * sigma, 1.0),
                (),
            )
        )
    flagged = western_electric(zs)
    return [
        ChartPoint(**{**point.__dict__, "rules": tuple(flagged[i])}) if flagged[i] else point
        for i, point in enumerate(points)
    ]


def western_electric(zs: list[float]) -> list[list[int]]:
    """For each point, the rules that fire at it (the point completing the pattern)."""
    fired: list[list[int]] = [[] for _ in zs]
    for i, z in enumerate(zs):
        if abs(z) > 3:
            fired[i].append(1)
        for rule, window, needed, limit in ((2, 3, 2, 2.0), (3, 5, 4, 1.0)):
            if i + 1 >= window:
                recent = zs[i + 1 - window : i + 1]
                for sign in (1, -1):
                    if sign * z > limit and sum(1 for x in recent if sign * x > limit) >= needed:
                        fired[i].append(rule)
        if i + 1 >= 8:
            recent = zs[i - 7 : i + 1]
            if all(x > 0 for x in recent) or all(x < 0 for x in recent):
                fired[i].append(4)
    return fired


# --- The t distribution -------------------------------------------------------------------------------------


def t_cdf(t: float, df: float) -> float:
    """P(T ≤ t) for Student's t with df degrees of freedom."""
    x = df / (df + t * t)
    tail = 0.5 * _betainc(df / 2, 0.5, x)
    return 1 - tail if t > 0 else tail


def t_ppf(p: float, df: float) -> float:
    """The p-quantile of Student's t (bisection on t_cdf: exact to 1e-10, fast enough for a dashboard)."""
    if not 0 < p < 1:
        raise ValueError("p must be in (0, 1)")
    if p < 0.5:
        return -t_ppf(1 - p, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        high *= 2
    for _ in range(100):
        mid = (low + high) / 2
        if t_cdf(mid, df) < p:
            low = mid
        else:
            high = mid
        if high - low < 1e-10:
            break
    return (low + high) / 2


def _betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b), by its continued fraction (modified Lentz)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x > (a + 1) / (a + b + 2):
        return 1.0 - _betainc(b, a, 1 - x)
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < 1e-14:
            break
    return math.exp(log_front) * result / a
