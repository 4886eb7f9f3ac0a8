"""Daily rollups of the comment analyses: per (survey, day, segment) the comments and their sentiments, and per
theme as well its mentions, sentiments and score sums. The dashboard's theme figures read these, never the comments.

The sweep adds the analyses it stores to their days' rows (`add`: counts and sums, in its own transaction), so a
busy day is not aggregated again every few seconds. Every other write that changes analyses (a recompute after the
theme list or the model changed, a staff correction, a retired theme, an erasure) records the (survey, day) pairs it
touched in `RollupChange`, in its own transaction. `rollups_refresh` (the insight worker, after each sweep and
recompute, and beat) reads those changes past its watermark, aggregates each touched day again from the analyses and
writes it (`INSERT … SELECT … ON CONFLICT DO UPDATE`, after clearing the day's old rows, so a theme no longer
mentioned that day goes), all in one transaction with the consumed changes deleted. A rebuild runs the same
aggregate over every day, so a refresh after any history of changes leaves the same rows as a rebuild
(tests/insight/test_rollups.py).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, datetime

from django.db import transaction
from django.db.models import BigIntegerField, Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from config.debounce import Debounced
from config.upsert import upsert_select
from insight.models import CommentInsight, CommentRollup, CommentTheme, RollupChange, RollupState, ThemeRollup
from insight.selectors import _bounds

DAYS_PER_STATEMENT = 100
DEBOUNCE_SECONDS = 5.0
COMMENT_KEY = ("survey_id", "day", "segment")
THEME_KEY = ("survey_id", "day", "segment", "theme_id")
_COLUMNS = {"survey": "survey_id", "theme": "theme_id"}


def _sums(prefix: str) -> dict:
    sentiment = f"{prefix}sentiment"
    return {
        "r_negative": Count("id", filter=Q(**{sentiment: "negative"})),
        "r_neutral": Count("id", filter=Q(**{sentiment: "neutral"})),
        "r_positive": Count("id", filter=Q(**{sentiment: "positive"})),
        "r_scored": Count("score"),
        "r_score_sum": Coalesce(Sum("score"), Value(0), output_field=BigIntegerField()),
        "r_score_sq": Coalesce(Sum(F("score") * F("score")), Value(0), output_field=BigIntegerField()),
    }


def _comment_rows(scope: Q) -> QuerySet:
    return (
        CommentInsight.objects.filter(scope)
        .values(r_survey=F("survey_id"), r_day=TruncDate("submitted_at"), r_segment=F("response__segment"))
        .annotate(r_comments=Count("id"), **_sums(""))
        .order_by()
    )


def _theme_rows(scope: Q) -> QuerySet:
    return (
        CommentTheme.objects.filter(scope)
        .values(
            r_survey=F("survey_id"),
            r_day=TruncDate("submitted_at"),
            r_segment=F("comment__response__segment"),
            r_theme=F("theme_id"),
        )
        .annotate(r_mentions=Count("id"), **_sums("comment__"))
        .order_by()
    )


def _write(scope: Q, now: datetime) -> None:
    upsert_select(_comment_rows(scope), CommentRollup, COMMENT_KEY, now, _COLUMNS)
    upsert_select(_theme_rows(scope), ThemeRollup, THEME_KEY, now, _COLUMNS)


def add(analysis_ids: list[int], now: datetime | None = None) -> None:
    """Add analyses a sweep has just stored to their days' rows, without aggregating the days again: every column
    is a count or a sum. Call it in the transaction that stored them. A refresh of the same day running at once
    stays exact: its aggregate either sees these analyses (committed) and replaces the rows, or does not, and these
    increments then land on the rows it wrote (the upsert waits for its lock)."""
    if not analysis_ids:
        return
    now = now or timezone.now()
    upsert_select(_comment_rows(Q(pk__in=analysis_ids)), CommentRollup, COMMENT_KEY, now, _COLUMNS, add=True)
    upsert_select(_theme_rows(Q(comment_id__in=analysis_ids)), ThemeRollup, THEME_KEY, now, _COLUMNS, add=True)


# --- What changed --------------------------------------------------------------------------------------------


def days_of(rows: QuerySet) -> set[tuple[int, date]]:
    """The (survey, local day) pairs of some analyses or theme rows (both carry survey and submitted_at)."""
    return set(rows.annotate(r_day=TruncDate("submitted_at")).values_list("survey_id", "r_day").distinct())


def mark(pairs: Iterable[tuple[int, date | datetime]]) -> None:
    """Record that these (survey, day) pairs changed; a datetime stands for its local day. Call it inside the
    transaction that changed them."""
    days = {(s, timezone.localdate(d) if isinstance(d, datetime) else d) for s, d in pairs}
    RollupChange.objects.bulk_create([RollupChange(survey_id=s, day=d) for s, d in sorted(days)])


@functools.cache
def _refresh_requests() -> Debounced:
    from insight.tasks import rollups_refresh as task

    return Debounced(task, DEBOUNCE_SECONDS)


def request_refresh() -> None:
    """After a staff change (a correction, an erasure): ask the worker for a refresh once this commits. Never waits
    on the broker (config.debounce); beat refreshes every minute anyway."""
    transaction.on_commit(lambda: _refresh_requests().request())


# --- Refresh and rebuild -------------------------------------------------------------------------------------


def _recompute(pairs: list[tuple[int, date]], now: datetime) -> None:
    for start in range(0, len(pairs), DAYS_PER_STATEMENT):
        scope, old = Q(pk__in=[]), Q(pk__in=[])
        for survey_id, day in pairs[start : start + DAYS_PER_STATEMENT]:
            # Each day as a range of submitted_at, so that the (survey, submitted_at) indexes find its rows.
            since, until = _bounds(day, day)
            scope |= Q(survey_id=survey_id, submitted_at__gte=since, submitted_at__lt=until)
            old |= Q(survey_id=survey_id, day=day)
        CommentRollup.objects.filter(old).delete()
        ThemeRollup.objects.filter(old).delete()
        _write(scope, now)


def _consume(ids: list[int]) -> None:
    # Exactly the rows read: a change committed meanwhile (even with a smaller id) waits for the next refresh.
    for start in range(0, len(ids), 5000):
        RollupChange.objects.filter(pk__in=ids[start : start + 5000]).delete()


def rollups_refresh(now: datetime | None = None) -> int:
    """Bring the rollups up to date with every recorded change; returns how many (survey, day) were recomputed."""
    now = now or timezone.now()
    with transaction.atomic():
        state = RollupState.objects.select_for_update().get_or_create(pk=1)[0]  # one refresh at a time
        if state.refreshed_at is None:
            # The first refresh (analyses older than the rollups, or a migration that cleared them): every day.
            _rebuild(state, now)
            return CommentRollup.objects.count()
        changes = list(RollupChange.objects.order_by("pk").values_list("pk", "survey_id", "day"))
        if not changes:
            return 0
        pairs = sorted({(s, d) for _pk, s, d in changes})
        _recompute(pairs, now)
        ids = [pk for pk, _s, _d in changes]
        _consume(ids)
        state.watermark = max(state.watermark, ids[-1])
        state.refreshed_at = now
        state.save(update_fields=["watermark", "refreshed_at"])
    return len(pairs)


def rollups_rebuild(now: datetime | None = None) -> int:
    """Recompute every rollup from the analyses (management command `insight_rollups_rebuild`); returns the number
    of (survey, day, segment) rows."""
    now = now or timezone.now()
    with transaction.atomic():
        _rebuild(RollupState.objects.select_for_update().get_or_create(pk=1)[0], now)
    return CommentRollup.objects.count()


def _rebuild(state: RollupState, now: datetime) -> None:
    changes = list(RollupChange.objects.values_list("pk", flat=True))
    CommentRollup.objects.all().delete()
    ThemeRollup.objects.all().delete()
    _write(Q(), now)
    _consume(changes)
    state.watermark = max([state.watermark, *changes])
    state.refreshed_at = now
    state.save(update_fields=["watermark", "refreshed_at"])
