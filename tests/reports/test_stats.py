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


def test_a_mean_of_identical_answers_keeps_an_interval_within_its_scale():
    # 30 CES answers (1–7), every one a 3: s = 0, so the t interval would be 3.00 – 3.00, as if the mean were known
    # exactly. At most a share 1.96²/(30 + 1.96²) = 3.8415/33.8415 = 0.11351 of answers could differ unseen (Wilson's
    # upper bound for 0 of 30), each by at most 2 below or 4 above: 3 − 0.22703 = 2.7730 to 3 + 0.45406 = 3.4541.
    estimate = stats.mean_estimate(30, 90, 270, scale=(1, 7))
    assert estimate.value == 3
    assert (estimate.low, estimate.high) == (pytest.approx(2.7730, abs=1e-4), pytest.approx(3.4541, abs=1e-4))
    # At a scale's end the interval opens towards the other end only; more answers narrow it.
    assert stats.mean_estimate(30, 30, 30, scale=(1, 7)).low == 1
    assert stats.mean_estimate(300, 900, 2700, scale=(1, 7)).high == pytest.approx(3 + 4 * 3.8415 / 303.8415, abs=1e-4)
    # Answers that differ keep the t interval.
    assert stats.mean_estimate(5, 15, 55, scale=(1, 7)).margin == pytest.approx(1.9632, abs=1e-3)


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


def test_p_chart_limits_widen_for_small_periods():
    periods = [(f"W{i}", 20, 100) for i in range(10)] + [("W10", 3, 10)]
    points = stats.p_chart(periods).points
    wide, narrow = points[10], points[0]
    assert wide.upper - wide.lower > narrow.upper - narrow.lower  # n = 10 has wider limits than n = 100


# Ten ordinary months of n = 400 around 20 % (k = 80, 84, 76, 82, 78, 80, 86, 74, 80, 80) and one bad month,
# 200 of 400 (50 %).
ORDINARY = [80, 84, 76, 82, 78, 80, 86, 74, 80, 80]
MONTHS = [(f"M{i}", k, 400) for i, k in enumerate(ORDINARY)] + [("M10", 200, 400)]


def test_baseline_limits_leave_out_the_special_cause_they_flag():
    # By hand. A centre line over all eleven months would be p̄ = 1000/4400 = 22.73 %, σ = √(.2273·.7727/400) =
    # 2.095 %: the ordinary months then sit at z = −1.30, −0.82, −1.78, −1.06, −1.54, … — rule 3 at M4 and rule
    # 4 at M7, false alarms caused by the bad month. The Phase I baseline drops the month beyond 3σ on a first
    # pass (M10: z = 13.0, or 7.3 with the first pass's σ_z of 1.78) and recomputes once from the other ten:
    # p̄ = 800/4000 = 20 %, σ = √(.2·.8/400) = 2 %, limits 14 % – 26 %. Their z are 0, .5, −.5, .25, −.25, 0,
    # .75, −.75, 0, 0 (Σz² = 1.75 on 9 df: no overdispersion) and M10's is (50 − 20)/2 = 15.
    chart = stats.p_chart(MONTHS)
    assert chart.centre == pytest.approx(20.0)
    assert chart.baseline == tuple(f"M{i}" for i in range(10)) and not chart.chosen and not chart.laney
    assert (chart.points[0].lower, chart.points[0].upper) == (pytest.approx(14.0), pytest.approx(26.0))
    assert [p.label for p in chart.special_causes] == ["M10"] and chart.points[10].rules == (1,)
    assert not chart.points[10].baseline and chart.points[0].baseline


def test_a_baseline_chosen_by_the_quality_manager_sets_the_limits():
    # Limits from M0–M4 only: p̄ = (80 + 84 + 76 + 82 + 78)/2000 = 400/2000 = 20 %.
    chart = stats.p_chart(MONTHS, baseline={"M0", "M1", "M2", "M3", "M4", "nonsense"})
    assert chart.chosen and chart.baseline == ("M0", "M1", "M2", "M3", "M4")
    assert chart.centre == pytest.approx(20.0) and chart.points[10].rules == (1,)


def test_periods_below_the_minimum_n_are_neither_plotted_nor_flagged():
    # n = 17 with 9 detractors (53 %) would be 4σ above 20 %; below the minimum n it is not a point at all.
    periods = [*MONTHS[:10], ("M10", 9, 17)]
    chart = stats.p_chart(periods, min_n=30)
    assert [p.label for p in chart.points] == [f"M{i}" for i in range(10)]
    assert chart.skipped == ("M10",) and not chart.special_causes


def test_overdispersed_data_get_laneys_p_prime_limits():
    # Eight months of n = 5,000 at 20, 22, 18, 21, 19, 23, 17, 20 %: p̄ = 8000/40000 = 20 %, σᵢ = √(.16/5000) =
    # 0.5657 %, so z = 0, 3.54, −3.54, 1.77, −1.77, 5.30, −5.30, 0. Σz² = 87.5 on 7 df (p ≈ 3e−16): far more
    # spread than binomial. Moving ranges 3.536, 7.071, 5.303, 3.536, 7.071, 10.607, 5.303 → mean 6.0609, so
    # σ_z = 6.0609/1.128 = 5.373. Laney's limits: 20 % ± 3 · 0.5657 % · 5.373 = 20 % ± 9.119 % → 10.88 % – 29.12 %.
    # A plain p-chart would flag four of the eight months beyond 3σ; with p′ none is.
    shares = [1000, 1100, 900, 1050, 950, 1150, 850, 1000]
    chart = stats.p_chart([(f"M{i}", k, 5000) for i, k in enumerate(shares)])
    assert chart.laney and chart.sigma_z == pytest.approx(5.373, abs=1e-3)
    assert (chart.points[0].lower, chart.points[0].upper) == (
        pytest.approx(10.88, abs=0.01),
        pytest.approx(29.12, abs=0.01),
    )
    assert not chart.special_causes
    # The same spread at n = 100 is binomial noise: no widening.
    small = stats.p_chart([(f"M{i}", k // 50, 100) for i, k in enumerate(shares)])
    assert not small.laney and small.points[0].upper == pytest.approx(32.0)  # 20 % + 3·√(.16/100) = 32 %


def test_the_stated_false_alarm_rates_match_a_fresh_simulation():
    # 60,000 independent N(0, 1) points: rule 1 alone flags 0.27 % of them, all four rules 1.64 %; the
    # simulation's standard error at these rates is ≈ 0.02 % and 0.05 %.
    import numpy as np

    zs = list(np.random.default_rng(7).standard_normal(60_000))
    fired = stats.western_electric(zs)
    for rules in ({1}, {1, 2, 3, 4}, {1, 2}):
        seen = sum(1 for f in fired if set(f) & rules) / len(zs)
        assert seen == pytest.approx(stats.false_alarm_rate(rules), rel=0.2)
    assert stats.false_alarm_rate({1}) == pytest.approx(0.0027)


def test_holm_adjustment_worked_example():
    # p = 0.01, 0.04, 0.03, 0.005 (four tests). Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06,
    # 0.04·1 = 0.04 → raised to the running maximum 0.06. Only the first two stay below 0.05.
    assert stats.holm([0.01, 0.04, 0.03, None, 0.005]) == [
        pytest.approx(0.03),
        pytest.approx(0.06),
        pytest.approx(0.06),
        None,
        pytest.approx(0.02),
    ]


def test_fisher_exact_worked_example():
    # 0 of 5,088 against 4 of 5,447. With the four events fixed, P(all four in the second group) =
    # C(5447,4)/C(10535,4) = (5447·5446·5445·5444)/(10535·10534·10533·10532) = 0.07145, and P(all four in the first)
    # = (5088·5087·5086·5085)/(10535·…) = 0.05435; the splits 1–3, 2–2 and 3–1 are each more likely than 0.07145.
    # Two-sided p = 0.07145 + 0.05435 = 0.1258 — not the z-test's 0.05.
    assert stats.fisher_exact(0, 5088, 4, 5447) == pytest.approx(0.1258, abs=5e-4)
    change = stats.share_change((0, 5088), (4, 5447))
    assert change.method == stats.FISHER and not change.significant
    # The textbook table of 1 of 12 against 9 of 12 (10 events in 24). C(24,12) = 2,704,156; the splits with
    # x = 0, 1, 9, 10 events in the first group weigh 91, 10·364 = 3,640, 3,640 and 91 (x = 2 already weighs
    # 45·1001 = 45,045): p = 7,462/2,704,156 = 0.0027594.
    assert stats.fisher_exact(1, 12, 9, 12) == pytest.approx(0.0027594, abs=1e-7)


def test_identical_answers_in_both_periods_are_tested_exactly_never_called_noise():
    # 40 promoters against 40 detractors (variance 0 in each): NPS 100 → −100. With the margins fixed (40
    # promoters, 40 detractors, no passive) only the observed split and its mirror are this extreme:
    # p = 2 / C(80, 40) = 2 / 1.075e23 = 1.86e−23.
    change = stats.nps_change((40, 0, 40), (0, 40, 40))
    assert change.difference == -200 and change.method == stats.EXACT
    assert change.p_value == pytest.approx(1.86e-23, rel=0.01) and change.significant
    # CES all 1 (n = 10) against all 7 (n = 10): of the C(20, 10) = 184,756 equally likely splits, only the one
    # seen and its mirror (all 7s first) are this extreme: two-sided p = 2/184,756 = 1.08e−5.
    ces = stats.mean_change((10, 10, 10), (10, 70, 490))
    assert ces.method == stats.PERMUTATION and ces.p_value == pytest.approx(2 / 184_756) and ces.significant
    # The same answers in both periods: no change, p = 1.
    assert stats.mean_change((10, 40, 160), (12, 48, 192)).p_value == 1.0


def test_an_exact_test_of_two_rates_holds_when_events_outnumber_the_exposure():
    # 10 complaints per 1,000 responses before, 2 per 1,000 after. Under equal rates the 12 complaints split as
    # Binomial(12, ½): P(X ≤ 2) = (1 + 12 + 66)/4096 = 0.019287; two-sided 0.038574.
    test = stats.rate_change(10, 1000, 2, 1000)
    assert (test.before, test.after) == (10.0, 2.0) and test.p_value == pytest.approx(0.038574, abs=1e-6)
    # 30 complaints against 12 responses, then 15 against 12: a rate, not a proportion; no negative variance.
    many = stats.rate_change(30, 12, 15, 12)
    assert many.before == pytest.approx(2500.0) and many.p_value is not None and 0 < many.p_value < 0.05


def test_the_smallest_detectable_difference_at_80_percent_power():
    # 170 of 200 satisfied: Wilson 79.394 – 89.286, so SE ≈ (89.286 − 79.394)/(2·1.95996) = 2.5235 points;
    # (1.95996 + 0.84162) · 2.5235 = 7.07 points.
    assert stats.detectable_difference(stats.share_estimate(170, 200)) == pytest.approx(7.07, abs=0.01)


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
