"""The comment and theme rollups: after any history of new comments, sweeps, corrections, retired and restored
themes, recomputes and erasures, an incremental refresh leaves exactly the rows a rebuild makes, and both equal the
analyses counted one by one in Python (a property test; `make test` runs it on SQLite, CI on PostgreSQL too)."""

from __future__ import annotations

import functools
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.models import Customer
from customers.services import customer_erase
from insight import corpus, pipeline, rollups, selectors, services
from insight.engine import Engine, ThemeSpec
from insight.models import CommentInsight, CommentRollup, CommentTheme, RollupChange, Theme, ThemeRollup
from insight.starter import STARTER_THEMES
from surveys.models import Answer
from tests.factories import CustomerFactory, make_response, make_survey, quality_manager

pytestmark = pytest.mark.django_db
TEXTS = [
    "Giao hang cham, hen 2 ngay ma 5 ngay moi toi",
    "Nhân viên tư vấn rất nhiệt tình",
    "giá đắt mà nhân viên thô lỗ",
    "app bị lỗi ko đăng nhập dc",
    "Thanks, everything was fine",
    "chờ lâu quá, xếp hàng cả tiếng",
]


@functools.cache
def _engine() -> Engine:
    return Engine.train([ThemeSpec(s["key"], tuple(s["examples"])) for s in STARTER_THEMES], corpus.training())


@pytest.fixture
def world(db, monkeypatch):
    # The rollups do not depend on which model read the comments: one model for every example keeps this fast.
    monkeypatch.setattr(pipeline, "engine_current", _engine)
    services.themes_seed_starter()
    surveys = [make_survey(kind="nps"), make_survey(kind="nps")]
    customers = [CustomerFactory(segment=s, email=f"r{i}@example.org") for i, s in enumerate(["retail", "sme", ""])]
    return surveys, customers, quality_manager(username="rollup-qm")


def _comment(survey, customer, at, score, text):
    response = make_response(survey, score, customer=customer, at=at)
    question = survey.current_version.questions.order_by("position").last()
    Answer.objects.create(response=response, question=question, text=text)


def _counted() -> tuple[dict, dict]:
    """The analyses counted one by one: what the rollups must hold."""
    comments: dict = {}
    themes: dict = {}

    def add(table, key, sentiment, score):
        row = table.setdefault(key, Counter())
        row["n"] += 1
        row[sentiment] += 1
        if score is not None:
            row["scored"] += 1
            row["sum"] += score
            row["sq"] += score * score

    for c in CommentInsight.objects.select_related("response"):
        add(comments, (c.survey_id, timezone.localdate(c.submitted_at), c.response.segment), c.sentiment, c.score)
    for t in CommentTheme.objects.select_related("comment__response"):
        key = (t.survey_id, timezone.localdate(t.submitted_at), t.comment.response.segment, t.theme_id)
        add(themes, key, t.comment.sentiment, t.score)
    return comments, themes


def _stored() -> tuple[dict, dict]:
    def row(r, n):
        values = {"n": n, "negative": r.negative, "neutral": r.neutral, "positive": r.positive}
        values |= {"scored": r.scored, "sum": r.score_sum, "sq": r.score_sq}
        return Counter({k: v for k, v in values.items() if v})

    comments = {(r.survey_id, r.day, r.segment): row(r, r.comments) for r in CommentRollup.objects.all()}
    themes = {(r.survey_id, r.day, r.segment, r.theme_id): row(r, r.mentions) for r in ThemeRollup.objects.all()}
    return comments, themes


operations = st.lists(
    st.one_of(
        st.tuples(st.just("comment"), st.integers(0, 3), st.integers(0, 3), st.integers(0, 10)),
        st.tuples(st.just("sweep"), st.just(0), st.just(0), st.just(0)),
        st.tuples(st.just("correct"), st.integers(0, 20), st.integers(0, 7), st.integers(0, 3)),
        st.tuples(st.just("erase"), st.integers(0, 1), st.just(0), st.just(0)),
        st.tuples(st.just("retire"), st.integers(0, 7), st.booleans(), st.just(0)),
        st.tuples(st.just("recompute"), st.just(0), st.just(0), st.just(0)),
        st.tuples(st.just("refresh"), st.just(0), st.just(0), st.just(0)),
    ),
    max_size=16,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_refresh_equals_rebuild_equals_the_analyses_counted(world, ops):
    surveys, customers, actor = world
    start = timezone.now()
    themes = list(Theme.objects.order_by("key"))
    with transaction.atomic():
        for step, (op, a, b, c) in enumerate(ops):
            with time_machine.travel(start + timedelta(minutes=step), tick=False):
                if op == "comment":
                    customer = customers[a] if a < len(customers) else None
                    at = timezone.now() - timedelta(days=b)
                    _comment(surveys[step % 2], customer, at, c, TEXTS[(a + b + c) % len(TEXTS)])
                elif op == "sweep":
                    pipeline.comments_sweep()
                elif op == "correct":
                    comments = list(CommentInsight.objects.order_by("pk"))
                    if comments:
                        chosen = [t for i, t in enumerate(themes) if b >> i & 1 and i < 3]
                        sentiment = ["", "negative", "neutral", "positive"][c]
                        services.comment_correct(
                            comment=comments[a % len(comments)], themes=chosen, sentiment=sentiment, actor=actor
                        )
                elif op == "erase":
                    customer = Customer.objects.get(pk=customers[a].pk)
                    if customer.erased_at is None:
                        customer_erase(customer=customer, actor=actor, reason="the customer asked")
                elif op == "retire":
                    theme = Theme.objects.get(pk=themes[a].pk)
                    services.theme_update(
                        theme=theme, name_vi=theme.name_vi, name_en=theme.name_en, examples=theme.examples, active=b
                    )
                elif op == "recompute":
                    pipeline.comments_recompute()
                elif op == "refresh":
                    rollups.rollups_refresh()
        with time_machine.travel(start + timedelta(hours=1), tick=False):
            rollups.rollups_refresh()
            refreshed = _stored()
            assert not RollupChange.objects.exists()
            rollups.rollups_rebuild()
            rebuilt = _stored()
        assert refreshed == rebuilt == _counted()
        transaction.set_rollback(True)


def _read_waiting() -> None:
    """What a sweep's batch writes (analyses, theme rows, the changed days), without the refresh that ends it."""
    waiting = Answer.objects.exclude(text="").filter(insight__isnull=True)
    fields = ("pk", "text", "response_id", "response__survey_id", "response__submitted_at")
    pipeline._store_new(list(waiting.values_list(*fields)), revision=1)


def test_a_change_committed_during_a_refresh_is_kept_for_the_next(world, monkeypatch):
    """A change recorded while a refresh runs (another worker's transaction committing then) is not consumed by it:
    the refresh deletes only the changes it read, and the next refresh counts the late comment."""
    surveys, customers, actor = world
    _comment(surveys[0], customers[0], timezone.now(), 9, TEXTS[1])
    pipeline.comments_sweep()
    assert selectors.theme_figures(survey_id=surveys[0].pk, start=timezone.localdate(), end=timezone.localdate())[0]
    recompute = rollups._recompute

    def with_a_late_writer(pairs, now):
        recompute(pairs, now)
        _correct_first(sentiment="positive")

    def _correct_first(sentiment):
        comment = CommentInsight.objects.order_by("pk").first()
        services.comment_correct(comment=comment, themes=[], sentiment=sentiment, actor=actor)

    _comment(surveys[0], customers[2], timezone.now(), 7, TEXTS[4])
    _read_waiting()  # read and added to the rollups at once
    _correct_first(sentiment="negative")  # a change recorded, not refreshed yet
    monkeypatch.setattr(rollups, "_recompute", with_a_late_writer)
    rollups.rollups_refresh()
    assert RollupChange.objects.count() == 1  # the late writer's change waits
    assert _stored() != _counted()
    monkeypatch.setattr(rollups, "_recompute", recompute)
    rollups.rollups_refresh()
    today = timezone.localdate()
    total, _figures = selectors.theme_figures(survey_id=surveys[0].pk, start=today, end=today)
    assert total == CommentInsight.objects.filter(survey=surveys[0]).count() == 2
    assert _stored() == _counted()


def test_the_dashboards_theme_figures_follow_a_correction_and_an_erasure(world, django_capture_on_commit_callbacks):
    surveys, customers, actor = world
    survey, today = surveys[0], timezone.localdate()
    _comment(survey, customers[0], timezone.now(), 2, "Giao hang cham qua")
    _comment(survey, customers[1], timezone.now(), 10, "Nhân viên tư vấn rất nhiệt tình")
    pipeline.comments_sweep()

    def mentions() -> dict[str, int]:
        total, figures = selectors.theme_figures(survey_id=survey.pk, start=today, end=today)
        return {"total": total} | {f.theme.key: f.mentions for f in figures}

    assert mentions() == {"total": 2, "delivery": 1, "staff": 1}
    staffed = CommentInsight.objects.get(response__customer=customers[1])
    with django_capture_on_commit_callbacks(execute=True):  # the refresh is asked for once the correction commits
        services.comment_correct(comment=staffed, themes=[Theme.objects.get(key="price")], sentiment="", actor=actor)
    assert mentions() == {"total": 2, "delivery": 1, "price": 1}
    with django_capture_on_commit_callbacks(execute=True):
        customer_erase(customer=Customer.objects.get(pk=customers[0].pk), actor=actor, reason="the customer asked")
    assert mentions() == {"total": 1, "price": 1}
    by_segment = selectors.theme_figures(survey_id=survey.pk, start=today, end=today, segment="retail")
    assert by_segment == (0, [])  # the erased customer's segment keeps no comment
