"""The statistics behind every figure on a dashboard: estimates with 95 % intervals, tests of change, p-charts.

ISO 10004 asks that satisfaction be measured with known reliability; a quality manager should never act on a
difference that is only noise. So every estimate carries its n and an interval, a change between periods is called
significant only when a two-sample test says so, and the trend's "special causes" come from a p-chart with the
Western Electric rules. Inputs are the sufficient statistics of the rollups (counts, sums, sums of squares).

Pure Python (the t distribution through the regularised incomplete beta function), tested against worked examples.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from statistics import NormalDist

Z95 = NormalDist().inv_cdf(0.975)  # 1.95996…
_NORMAL = NormalDist()


# The interval methods, named beside every figure.
WALD_ADJUSTED, WILSON, T_INTERVAL = "adjusted_wald", "wilson", "t"
# Why a figure has no interval (or no value), said beside it instead of a misleading number.
NO_DATA, INCONSISTENT, SINGLE = "no_data", "inconsistent", "single"


@dataclass(frozen=True)
class Estimate:
    value: float | None
    low: float | None
    high: float | None
    n: int
    enough: bool = True  # False below the minimum n: show "not enough responses", not a number
    method: str = ""  # WALD_ADJUSTED, WILSON or T_INTERVAL
    note: str = ""  # NO_DATA, INCONSISTENT (counts that cannot be: more answered than sent), SINGLE (n = 1)

    @property
    def margin(self) -> float | None:
        if self.low is None or self.high is None:
            return None
        return (self.high - self.low) / 2

    @property
    def asymmetric(self) -> bool:
        """True when the interval is not centred on the figure (Wilson and adjusted Wald near 0 % or 100 %)."""
        if self.value is None or self.low is None or self.high is None:
            return False
        return abs((self.high - self.value) - (self.value - self.low)) > 0.05


def _none(n: int, note: str = NO_DATA, method: str = "") -> Estimate:
    return Estimate(None, None, None, n, enough=False, method=method, note=note)


def nps_estimate(promoters: int, detractors: int, n: int, *, min_n: int = 1) -> Estimate:
    """NPS = 100·(P − D)/n with the adjusted Wald interval (n + 3, P + ¾, D + ¾), which keeps its coverage near
    95 % for small n and extreme shares where the plain Wald interval is too narrow."""
    if n <= 0:
        return _none(n, method=WALD_ADJUSTED)
    if promoters < 0 or detractors < 0 or promoters + detractors > n:
        return _none(n, INCONSISTENT, WALD_ADJUSTED)
    value = 100.0 * (promoters - detractors) / n
    n_adj = n + 3
    p, d = (promoters + 0.75) / n_adj, (detractors + 0.75) / n_adj
    half = Z95 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n_adj)
    centre = p - d
    # The adjusted interval is centred on the shrunk figure: at the edges the plain figure can sit just outside
    # it (all promoters: 100 against an upper end of 100 − ε). The interval is widened to reach the figure.
    low, high = min(100.0 * max(centre - half, -1.0), value), max(100.0 * min(centre + half, 1.0), value)
    return Estimate(value, low, high, n, enough=n >= min_n, method=WALD_ADJUSTED)


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
        return _none(n, INCONSISTENT if k > 0 else NO_DATA, WILSON)
    if not 0 <= k <= n:
        # Old data can say more answered than sent: that is not a share, and no interval is shown for it.
        return _none(n, INCONSISTENT, WILSON)
    p = k / n
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(max(p * (1 - p) / n + z2 / (4 * n * n), 0.0)) / (1 + z2 / n)
    # Wilson contains p in exact arithmetic; min/max keep it so against rounding at p = 0 or 1.
    low, high = min(100.0 * max(centre - half, 0.0), 100.0 * p), max(100.0 * min(centre + half, 1.0), 100.0 * p)
    return Estimate(100.0 * p, low, high, n, enough=n >= min_n, method=WILSON)


def mean_estimate(
    n: int, total: float, total_sq: float, *, min_n: int = 1, scale: tuple[float, float] | None = None
) -> Estimate:
    """A mean score (CES, a rating) with the t interval, from the count, sum and sum of squares.

    When every answer is the same score the t interval has no width, as if the mean were known exactly; with the
    scale's ends given (`scale`), the interval is then the one the answers still allow: at most a share p of the
    answers could differ from the score seen, p being the Wilson upper bound for none in n (about 3.8/n), and each
    by at most the distance to the scale's end."""
    if n <= 0:
        return _none(n, method=T_INTERVAL)
    if total_sq < 0 or total * total > total_sq * n * (1 + 1e-9) + 1e-9:
        return _none(n, INCONSISTENT, T_INTERVAL)  # Σx² ≥ (Σx)²/n for any real numbers
    mean = total / n
    if n == 1:
        return Estimate(mean, None, None, n, enough=n >= min_n, method=T_INTERVAL, note=SINGLE)
    variance = _variance(n, total, total_sq)
    if scale is not None and variance <= 1e-12 * max(1.0, mean * mean):
        low_end, high_end = scale
        share = Z95 * Z95 / (n + Z95 * Z95)  # Wilson's upper bound for 0 of n
        low, high = mean - share * max(mean - low_end, 0.0), mean + share * max(high_end - mean, 0.0)
        return Estimate(mean, low, high, n, enough=n >= min_n, method=T_INTERVAL)
    half = t_ppf(0.975, n - 1) * math.sqrt(variance / n)
    return Estimate(mean, mean - half, mean + half, n, enough=n >= min_n, method=T_INTERVAL)


def _variance(n: int, total: float, total_sq: float) -> float:
    return max((total_sq - total * total / n) / (n - 1), 0.0)


# --- Tests of change between two periods (or two segments) -------------------------------------------------

# The test behind a p-value, named beside it.
Z_TEST, WELCH, FISHER, EXACT, PERMUTATION, RATE_EXACT = "z", "welch", "fisher", "exact", "permutation", "rate"


@dataclass(frozen=True)
class Change:
    difference: float | None  # second minus first, in the figure's unit
    p_value: float | None
    significant: bool = field(default=False)
    method: str = ""  # Z_TEST, WELCH, FISHER, EXACT, PERMUTATION: the test that gave the p-value


ALPHA = 0.05
# Above this many tables an exact test would cost more than a page may take; the counts are then large enough for
# the normal approximation anyway (every expected count is at least 5 long before).
EXACT_LIMIT = 200_000


def _change(difference: float, z: float) -> Change:
    p_value = 2 * (1 - _NORMAL.cdf(abs(z)))
    return Change(difference, p_value, p_value < ALPHA, Z_TEST)


def _tested(difference: float, p_value: float, method: str) -> Change:
    p_value = min(max(p_value, 0.0), 1.0)
    return Change(difference, p_value, p_value < ALPHA, method)


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def nps_change(first: tuple[int, int, int], second: tuple[int, int, int]) -> Change:
    """Two independent NPS (promoters, detractors, n): z = ΔNPS / √(Var₁ + Var₂), each from its own shares.

    Where the normal approximation fails — a sample whose answers are all alike (variance 0: NPS 100 against
    −100 would otherwise have no test at all) or an expected count below 5 — the exact conditional test on the
    2 × 3 table (promoters, passives, detractors) is used: every table with the same margins, weighted by its
    multivariate hypergeometric probability, and p is the weight of those whose |ΔNPS| is at least the one seen.
    """
    (p1, d1, n1), (p2, d2, n2) = first, second
    if n1 <= 0 or n2 <= 0 or min(p1, d1, p2, d2) < 0 or p1 + d1 > n1 or p2 + d2 > n2:
        return Change(None, None)
    a, b = (p1 / n1, d1 / n1), (p2 / n2, d2 / n2)
    v1, v2 = (a[0] + a[1] - (a[0] - a[1]) ** 2) / n1, (b[0] + b[1] - (b[0] - b[1]) ** 2) / n2
    difference = 100.0 * ((b[0] - b[1]) - (a[0] - a[1]))
    total, promoters, detractors = n1 + n2, p1 + p2, d1 + d2
    columns = (promoters, detractors, total - promoters - detractors)
    smallest_expected = min(c * m / total for c in columns for m in (n1, n2))
    if v1 > 0 and v2 > 0 and smallest_expected >= 5:
        return _change(difference, difference / 100.0 / math.sqrt(v1 + v2))
    if (min(promoters, n1) + 1) * (min(detractors, n1) + 1) <= EXACT_LIMIT:
        return _tested(difference, _nps_exact_p(first, second), EXACT)
    if v1 + v2 > 0:
        return _change(difference, difference / 100.0 / math.sqrt(v1 + v2))
    return Change(difference, None)


def _nps_exact_p(first: tuple[int, int, int], second: tuple[int, int, int]) -> float:
    (p1, d1, n1), (p2, d2, n2) = first, second
    total, promoters, detractors = n1 + n2, p1 + p2, d1 + d2
    passives = total - promoters - detractors
    observed = abs((p2 - d2) / n2 - (p1 - d1) / n1)
    denominator = _log_choose(total, n1)
    p_value = 0.0
    for xp in range(max(0, n1 - (total - promoters)), min(promoters, n1) + 1):
        for xd in range(max(0, n1 - xp - passives), min(detractors, n1 - xp) + 1):
            delta = abs((promoters - xp - detractors + xd) / n2 - (xp - xd) / n1)
            if delta >= observed - 1e-12:
                log_p = _log_choose(promoters, xp) + _log_choose(detractors, xd)
                log_p += _log_choose(passives, n1 - xp - xd) - denominator
                p_value += math.exp(log_p)
    return p_value


def fisher_exact(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided Fisher's exact test of k1/n1 against k2/n2: the hypergeometric probability of every table with
    the same margins that is no more likely than the one seen."""
    total, events = n1 + n2, k1 + k2
    denominator = _log_choose(total, n1)

    def log_prob(x: int) -> float:
        return _log_choose(events, x) + _log_choose(total - events, n1 - x) - denominator

    seen = log_prob(k1)
    tolerance = 1e-7  # relative: tables as likely as the one seen, up to rounding, count as "as extreme"
    return min(
        1.0,
        sum(
            math.exp(lp)
            for x in range(max(0, n1 - (total - events)), min(events, n1) + 1)
            if (lp := log_prob(x)) <= seen + tolerance
        ),
    )


def share_change(first: tuple[int, int], second: tuple[int, int]) -> Change:
    """Two independent shares (k, n): the pooled two-proportion z-test; difference in percentage points.
    Fisher's exact test where an expected count is below 5 (0/5,088 against 4/5,447 is p ≈ 0.13, not 0.05)."""
    (k1, n1), (k2, n2) = first, second
    if n1 <= 0 or n2 <= 0 or not 0 <= k1 <= n1 or not 0 <= k2 <= n2:
        return Change(None, None)
    pooled = (k1 + k2) / (n1 + n2)
    difference = k2 / n2 - k1 / n1
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    events, total = k1 + k2, n1 + n2
    smallest_expected = min(m * c / total for m in (n1, n2) for c in (events, total - events))
    exact_cost = min(events, total - events, n1, n2) + 1
    if (smallest_expected < 5 or variance <= 0) and exact_cost <= EXACT_LIMIT:
        return _tested(100.0 * difference, fisher_exact(k1, n1, k2, n2), FISHER)
    if variance <= 0:
        return Change(100.0 * difference, None)
    return _change(100.0 * difference, difference / math.sqrt(variance))


def mean_change(first: tuple[int, float, float], second: tuple[int, float, float]) -> Change:
    """Two independent means (n, sum, sum of squares): Welch's t-test.

    When every answer in each sample is the same (variance 0 in both), Welch has nothing to divide by; the
    exact permutation test then counts, among every way of splitting the pooled answers into groups of these
    sizes, those whose difference of means is at least the one seen."""
    (n1, s1, q1), (n2, s2, q2) = first, second
    if n1 < 1 or n2 < 1:
        return Change(None, None)
    difference = s2 / n2 - s1 / n1
    v1 = _variance(n1, s1, q1) / n1 if n1 > 1 else 0.0
    v2 = _variance(n2, s2, q2) / n2 if n2 > 1 else 0.0
    if v1 + v2 <= 0:
        if n1 + n2 < 3:
            return Change(difference, None)
        return _tested(difference, _two_level_permutation_p(n1, s1 / n1, n2, s2 / n2), PERMUTATION)
    if n1 < 2 or n2 < 2:
        return Change(difference, None)
    t = difference / math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / ((v1 * v1 / (n1 - 1) if v1 else 0) + (v2 * v2 / (n2 - 1) if v2 else 0))
    p_value = 2 * (1 - t_cdf(abs(t), df))
    return Change(difference, p_value, p_value < ALPHA, WELCH)


def _two_level_permutation_p(n1: int, a: float, n2: int, b: float) -> float:
    """Exact permutation p of two constant samples (n1 answers all `a`, n2 all `b`)."""
    if abs(a - b) < 1e-12:
        return 1.0
    observed = abs(b - a)
    denominator = _log_choose(n1 + n2, n1)
    p_value = 0.0
    for j in range(max(0, n1 - n2), n1 + 1):  # j of the a-answers fall in the first group
        mean1 = (j * a + (n1 - j) * b) / n1
        mean2 = ((n1 - j) * a + (n2 - n1 + j) * b) / n2
        if abs(mean2 - mean1) >= observed - 1e-12:
            p_value += math.exp(_log_choose(n1, j) + _log_choose(n2, n1 - j) - denominator)
    return p_value


def holm(p_values: list[float | None]) -> list[float | None]:
    """Holm's step-down adjustment of p-values tested at once (None: not tested, left out of the family).

    Sorted ascending, the i-th smallest of m becomes max over j ≤ i of min(1, (m − j + 1)·p₍ⱼ₎): the chance that any
    of the m differences is called significant when none is real stays at most α."""
    tested = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(tested)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(tested):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


@dataclass(frozen=True)
class RateChange:
    """Events per unit of exposure in two windows (complaints per 1,000 responses, say) and the exact test."""

    before: float | None  # per 1,000
    after: float | None
    ratio: float | None  # after / before
    p_value: float | None

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < ALPHA


def rate_change(k1: int, e1: int, k2: int, e2: int) -> RateChange:
    """Two Poisson rates k/e. Given the k1 + k2 events, under equal rates k2 is binomial(k1 + k2, e2/(e1 + e2)):
    the exact conditional test, two-sided by adding every outcome no more likely than the one seen. Unlike a
    two-proportion test it holds when the events outnumber the exposure (complaints are not a subset of
    responses)."""
    before = 1000 * k1 / e1 if e1 > 0 else None
    after = 1000 * k2 / e2 if e2 > 0 else None
    if e1 <= 0 or e2 <= 0 or k1 < 0 or k2 < 0:
        return RateChange(before, after, None, None)
    ratio = (after / before) if before else None
    events, share = k1 + k2, e2 / (e1 + e2)
    if events == 0:
        return RateChange(before, after, ratio, 1.0)

    def log_prob(x: int) -> float:
        return _log_choose(events, x) + x * math.log(share) + (events - x) * math.log1p(-share)

    seen = log_prob(k2)
    p_value = sum(math.exp(lp) for x in range(events + 1) if (lp := log_prob(x)) <= seen + 1e-7)
    return RateChange(before, after, ratio, min(p_value, 1.0))


Z80 = NormalDist().inv_cdf(0.80)  # 0.8416…: 80 % power


def detectable_difference(estimate: Estimate) -> float | None:
    """The smallest true difference from a fixed target that these data would detect with 80 % power at the 5 %
    level (two-sided): (z₀.₉₇₅ + z₀.₈₀)·SE, with SE read from the 95 % interval's width."""
    if estimate.low is None or estimate.high is None or not estimate.enough:
        return None
    se = (estimate.high - estimate.low) / (2 * Z95)
    return (Z95 + Z80) * se


# --- p-chart with a baseline, Laney's p′ and the Western Electric rules ------------------------------------


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
    baseline: bool = False  # one of the periods the centre line and limits were computed from


@dataclass(frozen=True)
class PChart:
    points: list[ChartPoint]  # periods with at least the minimum n, in order
    centre: float | None  # percent
    baseline: tuple[str, ...]  # labels of the periods that set the centre line and the limits
    chosen: bool  # the baseline was chosen by the quality manager (else: periods without a rule-1 signal)
    sigma_z: float | None  # the spread of the baseline's z-scores (moving range / 1.128); 1 on a binomial process
    laney: bool  # the data are overdispersed, and the limits are Laney's p′ limits (widened by σ_z)
    skipped: tuple[str, ...] = ()  # periods below the minimum n: not plotted, never flagged

    @property
    def special_causes(self) -> list[ChartPoint]:
        return [p for p in self.points if p.rules]


RULES = {
    1: "one point beyond 3σ",
    2: "two of three beyond 2σ on one side",
    3: "four of five beyond 1σ on one side",
    4: "eight in a row on one side of the centre line",
}
# Overdispersion is declared when the baseline's Pearson χ² (Σz²) has p below this: a deliberate, rare call.
DISPERSION_ALPHA = 0.01


def _spread(used: list[tuple[str, int, int]], centre: float) -> tuple[list[float], float, float | None]:
    """z-scores against the centre, σ_z (mean moving range / 1.128, Laney's estimate) and the χ² test's p."""
    zs = [(k / n - centre) / math.sqrt(centre * (1 - centre) / n) if 0 < centre < 1 else 0.0 for _l, k, n in used]
    if len(zs) < 3 or not 0 < centre < 1:
        return zs, 1.0, None
    moving = [abs(b - a) for a, b in zip(zs, zs[1:], strict=False)]
    sigma_z = (sum(moving) / len(moving)) / 1.128
    return zs, sigma_z, chi2_sf(sum(z * z for z in zs), len(zs) - 1)


def _limits(used: list[tuple[str, int, int]]) -> tuple[float, float, bool]:
    """Centre, σ_z and whether Laney's adjustment applies, from the baseline periods."""
    centre = sum(k for _l, k, _n in used) / sum(n for _l, _k, n in used)
    _zs, sigma_z, p_dispersion = _spread(used, centre)
    laney = p_dispersion is not None and p_dispersion < DISPERSION_ALPHA and sigma_z > 1
    return centre, sigma_z, laney


def _scores(used: list[tuple[str, int, int]], centre: float, widen: float) -> list[float]:
    return [
        (k / n - centre) / (math.sqrt(centre * (1 - centre) / n) * widen) if 0 < centre < 1 else 0.0
        for _l, k, n in used
    ]


def p_chart(periods: list[tuple[str, int, int]], *, min_n: int = 1, baseline: set[str] | None = None) -> PChart:
    """p-chart of a share per period (label, k, n), Phase I style.

    The centre line p̄ and the limits p̄ ± 3·σ′·√(p̄(1 − p̄)/nᵢ) come from a baseline: the periods the quality
    manager chose, or by default the periods without a rule-1 signal on a first pass, recomputed once — so a
    special cause does not drag the centre line towards itself and make ordinary periods look special. Periods
    below `min_n` are neither plotted nor flagged. When the baseline is overdispersed (large n make real data
    vary more than binomially: Pearson's χ² test of Σz²), σ′ is Laney's σ_z, the moving range of the baseline's
    z-scores over 1.128; otherwise σ′ = 1. The Western Electric rules are applied to each point's z′.
    """
    usable = [(label, k, n) for label, k, n in periods if n > 0 and n >= min_n and 0 <= k <= n]
    skipped = tuple(label for label, k, n in periods if (label, k, n) not in usable)
    if not usable:
        return PChart([], None, (), baseline is not None, None, False, skipped)
    chosen = baseline is not None and any(label in baseline for label, _k, _n in usable)
    if chosen:
        assert baseline is not None
        base = [row for row in usable if row[0] in baseline]
    else:
        centre, sigma_z, laney = _limits(usable)
        first = _scores(usable, centre, sigma_z if laney else 1.0)
        base = [row for row, z in zip(usable, first, strict=True) if abs(z) <= 3] or usable
    if sum(n for _l, _k, n in base) == 0:
        base = usable
    centre, sigma_z, laney = _limits(base)
    widen = sigma_z if laney else 1.0
    zs = _scores(usable, centre, widen)
    flagged = western_electric(zs)
    names = {label for label, _k, _n in base}
    points = []
    for i, (label, k, n) in enumerate(usable):
        sigma = math.sqrt(centre * (1 - centre) / n) * widen
        points.append(
            ChartPoint(
                label,
                k,
                n,
                100.0 * k / n,
                100.0 * centre,
                100.0 * max(centre - 3 * sigma, 0.0),
                100.0 * min(centre + 3 * sigma, 1.0),
                tuple(flagged[i]),
                label in names,
            )
        )
    return PChart(points, 100.0 * centre, tuple(label for label, _k, _n in base), chosen, sigma_z, laney, skipped)


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


# The share of periods that the rules in use flag on a stable process (independent N(0, 1) z-scores), by
# simulation of 4,000,000 points with these rules (tests/reports/test_stats.py checks them on a fresh run).
# Rule 1 alone is the textbook 0.27 % (one period in 370); all four flag one period in about 61 (a run of eight
# keeps firing while it lasts, so this is more often than the run length to the first alarm, about 92).
FALSE_ALARM_RATE: dict[frozenset[int], float] = {
    frozenset(rules): rate
    for rules, rate in (
        ((1,), 0.0027), ((2,), 0.00207), ((3,), 0.00441), ((4,), 0.00776),
        ((1, 2), 0.00465), ((1, 3), 0.00708), ((1, 4), 0.01044), ((2, 3), 0.00634), ((2, 4), 0.0098),
        ((3, 4), 0.01193), ((1, 2, 3), 0.00888), ((1, 2, 4), 0.01235), ((1, 3, 4), 0.01458),
        ((2, 3, 4), 0.01384), ((1, 2, 3, 4), 0.01636),
    )
}  # fmt: skip


def false_alarm_rate(rules: frozenset[int] | set[int]) -> float:
    """Probability per period that the chosen rules flag a stable process (from FALSE_ALARM_RATE)."""
    key = frozenset(rules)
    if not key:
        return 0.0
    return FALSE_ALARM_RATE[key]


# --- Chi-square ----------------------------------------------------------------------------------------------


def chi2_sf(x: float, df: int) -> float:
    """P(χ²_df ≥ x): the regularised upper incomplete gamma function Q(df/2, x/2)."""
    if x <= 0:
        return 1.0
    return _gamma_q(df / 2, x / 2)


def _gamma_q(a: float, x: float) -> float:
    """Q(a, x) by its series (x < a + 1) or its continued fraction (otherwise), as in the usual references."""
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        denominator = a
        for _ in range(1000):
            denominator += 1
            term *= x / denominator
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    tiny = 1e-300
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        step = d * c
        h *= step
        if abs(step - 1) < 1e-15:
            break
    return min(1.0, math.exp(log_front) * h)


# --- The t distribution -------------------------------------------------------------------------------------


def t_cdf(t: float, df: float) -> float:
    """P(T ≤ t) for Student's t with df degrees of freedom."""
    x = df / (df + t * t)
    tail = 0.5 * _betainc(df / 2, 0.5, x)
    return 1 - tail if t > 0 else tail


def t_pdf(t: float, df: float) -> float:
    log_front = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return math.exp(log_front - (df + 1) / 2 * math.log1p(t * t / df))


@functools.lru_cache(maxsize=4096)
def t_ppf(p: float, df: float) -> float:
    """The p-quantile of Student's t, exact to 1e-10: Newton's method on t_cdf from the Cornish–Fisher
    approximation (a few steps; the dashboard asks for one per figure), bisection if that ever fails."""
    if not 0 < p < 1:
        raise ValueError("p must be in (0, 1)")
    if p < 0.5:
        return -t_ppf(1 - p, df)
    z = NormalDist().inv_cdf(p)
    t = z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df * df)
    for _ in range(20):
        if not 0 <= t < math.inf:
            break
        step = (t_cdf(t, df) - p) / max(t_pdf(t, df), 1e-300)
        t -= step
        if abs(step) < 1e-11:
            if t >= 0 and abs(t_cdf(t, df) - p) < 1e-12:
                return t
            break
    return _t_ppf_bisect(p, df)


def _t_ppf_bisect(p: float, df: float) -> float:
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
