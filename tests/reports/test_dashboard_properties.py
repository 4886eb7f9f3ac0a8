"""The dashboard builder never fails, whatever the rollups and filters: a property test (hypothesis).

Random rollups (empty periods, n = 1, all promoters, all detractors, one segment or many), random funnels
(including old data where more invitations were answered than delivered), random filters and control-chart
baselines: the builder must return, and every interval it shows must contain its point estimate, or the figure
must say why it has none.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports import dashboard, stats
from reports.models import DailyRollup, InvitationRollup
from surveys import building
from tests.factories import make_survey

pytestmark = pytest.mark.django_db

FIRST_DAY = date(2025, 1, 1)
SPAN = 500  # days of data the strategies place rows in

# One day's answers to one question: (count, promoters, detractors) with promoters + detractors <= count, or an
# extreme: all promoters, all detractors, a single answer.
counts = st.one_of(
    st.tuples(st.integers(0, 60), st.integers(0, 60), st.integers(0, 60)).map(
        lambda t: (t[0] + t[1] + t[2], t[0], t[1])
    ),
    st.integers(0, 80).map(lambda n: (n, n, 0)),
    st.integers(0, 80).map(lambda n: (n, 0, n)),
    st.just((1, 1, 0)),
    st.just((1, 0, 1)),
)
rollup_rows = st.lists(
    st.tuples(
        st.integers(0, SPAN),  # day offset
        st.sampled_from(["", "retail", "corporate", "online", "x" * 100]),
        st.sampled_from(["email", "link", "public"]),
        counts,
        st.booleans(),  # on the headline question, or on a second question of the same kind
    ),
    max_size=40,
)
funnel_rows = st.lists(
    st.tuples(
        st.integers(0, SPAN),
        st.sampled_from(["email", "link"]),
        st.integers(0, 200),  # invited
        st.integers(0, 200),  # delivered
        st.integers(0, 300),  # answered: may exceed delivered (rollups written before channels existed)
    ),
    max_size=10,
)
day_in_range = st.integers(-30, SPAN + 30).map(lambda d: FIRST_DAY + timedelta(days=d))


def _check(estimate: stats.Estimate, where: str) -> None:
    if estimate.value is None:
        assert not estimate.enough or estimate.note, where
        return
    if estimate.low is None or estimate.high is None:
        assert estimate.note == stats.SINGLE or not estimate.enough, where
        return
    assert estimate.low - 1e-9 <= estimate.value <= estimate.high + 1e-9, (where, estimate)


def _kind_scores(kind: str, n: int, promoters: int, detractors: int) -> dict[str, int]:
    """Sufficient statistics consistent with the counts, on the kind's scale (best answer, middle, worst)."""
    passives = n - promoters - detractors
    best, middle, worst = {"nps": (10, 8, 0), "csat": (5, 3, 1), "ces": (1, 4, 7)}[kind]
    total = promoters * best + passives * middle + detractors * worst
    total_sq = promoters * best * best + passives * middle * middle + detractors * worst * worst
    return {
        "count": n,
        "promoters": promoters,
        "passives": passives,
        "detractors": detractors,
        "top2": promoters,
        "total": total,
        "total_sq": total_sq,
    }


@pytest.fixture
def surveys(db):
    made = {}
    for kind in ("nps", "csat", "ces"):
        survey = make_survey(kind=kind)
        headline = survey.current_version.questions.get(kind=kind)
        other = building.question_add(version=survey.current_version, kind=kind, text_en="Again", text_vi="Lần nữa")
        made[kind] = (survey, headline, other)
    return made


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(["nps", "csat", "ces"]),
    rows=rollup_rows,
    funnel=funnel_rows,
    start=day_in_range,
    end=day_in_range,
    granularity=st.sampled_from(["week", "month", "quarter"]),
    segment=st.sampled_from(["", "retail", "nobody"]),
    baseline=st.one_of(st.none(), st.tuples(day_in_range, day_in_range)),
    min_n=st.sampled_from([1, 5, 30]),
)
def test_the_dashboard_builds_for_any_rollups_and_filters(
    surveys, kind, rows, funnel, start, end, granularity, segment, baseline, min_n
):
    from django.conf import settings as django_settings

    survey, headline, other = surveys[kind]
    start, end = min(start, end), max(start, end)
    previous_min = django_settings.REPORTS_MIN_N
    django_settings.REPORTS_MIN_N = min_n
    try:
        with transaction.atomic():
            seen = set()
            made = []
            for offset, seg, channel, (n, promoters, detractors), on_headline in rows:
                question = headline if on_headline else other
                key = (question.pk, seg, channel, offset)
                if key in seen:
                    continue
                seen.add(key)
                made.append(
                    DailyRollup(
                        survey=survey,
                        question=question,
                        kind=kind,
                        segment=seg,
                        channel=channel,
                        day=FIRST_DAY + timedelta(days=offset),
                        **_kind_scores(kind, n, promoters, detractors),
                    )
                )
            DailyRollup.objects.bulk_create(made)
            done = set()
            InvitationRollup.objects.bulk_create(
                InvitationRollup(
                    survey=survey,
                    day=FIRST_DAY + timedelta(days=offset),
                    channel=channel,
                    invited=invited,
                    delivered=delivered,
                    answered=answered,
                )
                for offset, channel, invited, delivered, answered in funnel
                if (offset, channel) not in done and not done.add((offset, channel))
            )
            low, high = (min(baseline), max(baseline)) if baseline else (None, None)
            filters = dashboard.Filters(
                survey=survey,
                start=start,
                end=end,
                segment=segment,
                granularity=granularity,
                baseline_start=low,
                baseline_end=high,
            )
            board = dashboard.dashboard_build(filters, target=50.0)
            for name in ("total", "previous_total", "detractor_share", "response_rate"):
                _check(getattr(board, name), name)
            for period in board.periods:
                _check(period["estimate"], period["label"])
            for row in board.segments:
                _check(row["estimate"], row["name"])
                assert row["p_adjusted"] is None or 0 <= row["p_adjusted"] <= 1
            for question in board.questions:
                _check(question["estimate"], question["text"])
            assert board.change.p_value is None or 0 <= board.change.p_value <= 1
            for point in board.pchart.points:
                assert point.n >= min_n and point.lower <= point.centre <= point.upper
            # The headline counts only the headline questions: never the second question of the same kind.
            expected = sum(
                r.count for r in made if r.question_id == headline.pk and start <= r.day <= end
                and (not segment or r.segment == segment)
            )  # fmt: skip
            assert board.total.n == expected
            transaction.set_rollback(True)
    finally:
        django_settings.REPORTS_MIN_N = previous_min
