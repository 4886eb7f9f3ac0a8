"""Statistics against worked examples (figures computed by hand or quoted from standard tables)."""

import pytest

from reports import stats


def test_nps_plain_wald_interval_worked_example():
    # n = 200, 100 promoters (50 %), 40 detractors (20 %): NPS 30; Var = (0.5 + 0.2 − 0.3²)/200 = 0.00305,
    # 1.96·√0.00305 = 0.1082 → 30 ± 10.8.
    estimate = stats.nps_wald(100, 40, 200)
    assert estimate.value == pytest.approx(30.0)
    assert estimate.margin == pytest.approx(10.8, abs=0.05)
    assert (estimate.low, estimate.high) == (pytest.approx(19.18, abs=0.01), pytest.approx(40.82, abs=0.01))


def test_nps_adjusted_wald_keeps_the_plain_figure_and_a_slightly_shifted_interval():
    # Adjusted: n' = 203, p' = 100.75/203, d' = 40.75/203 → centre 29.557, half-width 1.96·√(0.60969/203) = 10.741.
    estimate = stats.nps_estimate(100, 40, 200)
    assert estimate.value == pytest.approx(30.0)
    assert estimate.low == pytest.approx(29.557 - 10.741, abs=0.01)
    assert estimate.high == pytest.approx(29.557 + 10.741, abs=0.01)
    # At the edge (everyone a promoter) the plain Wald interval collapses to a point; the adjusted one does not.
    assert stats.nps_wald(10, 0, 10).margin == 0
    edge = stats.nps_estimate(10, 0, 10)
    assert edge.high == 100.0 and edge.low < 90


def test_csat_wilson_interval_worked_example():
    # 170 of 200 satisfied: 85 %, Wilson 95 % interval 79.4 %–89.3 %.
    estimate = stats.share_estimate(170, 200)
    assert estimate.value == pytest.approx(85.0)
    assert estimate.low == pytest.approx(79.4, abs=0.05) and estimate.high == pytest.approx(89.3, abs=0.05)
    zero = stats.share_estimate(0, 10)  # never below 0 %, and not a point
    assert zero.low == pytest.approx(0, abs=1e-9) and zero.high == pytest.approx(27.75, abs=0.05)


@pytest.mark.parametrize(
    ("df", "quantile"),
    [(1, 12.7062), (2, 4.3027), (5, 2.5706), (10, 2.2281), (30, 2.0423), (120, 1.9799), (10_000, 1.9602)],
)
def test_t_quantiles_match_the_tables(df, quantile):
    assert stats.t_ppf(0.975, df) == pytest.approx(quantile, abs=1e-4)


def test_mean_with_a_t_interval_from_sufficient_statistics():
    # CES answers 1, 2, 3, 4, 5: mean 3, s = √2.5, se = 0.7071, t(0.975, 4) = 2.7764 → 3 ± 1.963.
    values = [1, 2, 3, 4, 5]
    estimate = stats.mean_estimate(len(values), sum(values), sum(v * v for v in values))
    assert estimate.value == 3
    assert estimate.margin == pytest.approx(1.9632, abs=1e-3)
    assert stats.mean_estimate(1, 4, 16).low is None  # one answer: a mean, no interval


def test_below_the_minimum_n_a_figure_is_marked_not_enough():
    assert not stats.share_estimate(3, 4, min_n=30).enough
    assert stats.share_estimate(30, 40, min_n=30).enough
    assert stats.nps_estimate(0, 0, 0).value is None


def test_changes_are_significant_only_when_the_test_says_so():
    # Two-proportion z-test: 120/200 vs 150/200 satisfied → z = 3.20, p = 0.0014.
    change = stats.share_change((120, 200), (150, 200))
    assert change.difference == pytest.approx(15.0) and change.p_value == pytest.approx(0.00138, abs=1e-4)
    assert change.significant
    # 60 % vs 64 % of 100 each: a 4-point rise that is noise (p ≈ 0.56).
    assert not stats.share_change((60, 100), (64, 100)).significant
    # NPS 30 (n = 200) vs NPS 40 (n = 200): z = 0.10/√(0.00305 + 0.00305…) ≈ 1.33, not significant.
    nps = stats.nps_change((100, 40, 200), (110, 30, 200))
    assert nps.difference == pytest.approx(10.0) and not nps.significant
    assert stats.nps_change((1000, 400, 2000), (1100, 300, 2000)).significant  # the same shares, ten times n
    # Welch: means 3.0 and 3.6 of 50 answers each with s ≈ 1 → t ≈ 3, significant.
    first = (50, 150.0, 50 * (1 + 9.0) - 1)  # sum 150, sum of squares gives s² = (490 − 450)/49 ≈ 0.816
    second = (50, 180.0, 50 * (1 + 3.6**2) - 1)
    assert stats.mean_change(first, second).significant


def test_p_chart_limits_widen_for_small_periods_and_the_rules_fire():
    periods = [(f"W{i}", 20, 100) for i in range(10)] + [("W10", 3, 10), ("W11", 45, 100)]
    points = stats.p_chart(periods)
    centre = (20 * 10 + 3 + 45) / 1110
    assert points[0].centre == pytest.approx(100 * centre)
    wide, narrow = points[10], points[0]
    assert wide.upper - wide.lower > narrow.upper - narrow.lower  # n = 10 has wider limits than n = 100
    assert points[11].rules == (1,)  # 45 % is beyond 22.3 % + 3σ (34.8 %)
    # The outlier lifts the centre line above the steady 20 %: the eighth period below it completes rule 4.
    assert [p.rules for p in points[:8]] == [()] * 7 + [(4,)]


@pytest.mark.parametrize(
    ("zs", "rule", "at"),
    [
        ([0, 0, 2.5, 0.5, 2.2], 2, 4),  # two of three beyond 2σ on one side
        ([0, 1.2, 1.5, -0.3, 1.1, 1.4], 3, 5),  # four of five beyond 1σ
        ([0.1, 0.4, 0.2, 0.3, 0.5, 0.2, 0.1, 0.3], 4, 7),  # eight in a row above the centre
        ([0, -3.2], 1, 1),
    ],
)
def test_western_electric_rules(zs, rule, at):
    fired = stats.western_electric(zs)
    assert rule in fired[at]
    assert all(rule not in f for f in fired[:at])


def test_no_rule_fires_on_a_quiet_process():
    assert not any(stats.western_electric([0.5, -0.4, 1.1, -1.2, 0.3, -0.2, 0.9, -0.8, 0.1, -1.5]))
