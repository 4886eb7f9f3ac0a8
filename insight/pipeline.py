"""The worker side: every comment read once, again when the theme list changes, and gone when its customer is erased.

`surveys` sends `response_submitted` after a response commits; the receiver here only asks (debounced, like the
closed loop) for a sweep, which reads the new free-text answers past a watermark in batches. The respondent's request
never runs the model: with a broker the sweep is a Celery task; in the embedded mode (no broker, tasks eager) the
request is not made at all, and the staff pages that show themes catch up before they read (`catch_up_embedded`).
Beat runs the sweep and the recompute every minute anyway, so a lost message only delays the analysis.

Each answer has at most one `CommentInsight` (a one-to-one link), so a sweep run twice, or two workers at once, read
a comment once. A theme-list change moves `InsightState.revision`; `comments_recompute` then reads again, batch by
batch, the comments of older revisions. Staff corrections are kept and win on every recompute.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.dispatch import receiver
from django.utils import timezone

from config.debounce import Debounced
from customers.models import Customer
from customers.services import customer_erased
from insight import corpus, rollups
from insight.engine import WEAK_WEIGHT, Analysis, Engine, Labelled, ThemeSpec
from insight.models import CommentInsight, CommentTheme, InsightState, Theme, ThemeCorrection
from surveys.models import Answer
from surveys.scoring import QuestionKind
from surveys.signals import response_submitted

BATCH = 2000
# Each sweep ends with a refresh of the touched days' theme rollups (insight/rollups.py), whose cost grows with the
# day's comments: at most one request every 15 s per process (see reports/rollup.py).
DEBOUNCE_SECONDS = 15.0
# An answer committed late can carry a smaller id than one already seen: the watermark stays this far behind.
SETTLE = timedelta(minutes=2)
HEADLINE_KINDS = (QuestionKind.NPS, QuestionKind.CSAT, QuestionKind.CES)
# Scores as weak sentiment labels: NPS 0–6 / 9–10, CSAT 1–2 / 4–5, CES 6–7 / 1–2. At most this many, newest first.
WEAK_LABELS = {
    QuestionKind.NPS: ((0, 6), (9, 10)),
    QuestionKind.CSAT: ((1, 2), (4, 5)),
    QuestionKind.CES: ((6, 7), (1, 2)),
}
WEAK_LIMIT = 3000


@receiver(response_submitted, dispatch_uid="insight.read_comments")
def read_comments_later(sender: Any, comments: list[str] | None = None, **kwargs: Any) -> None:
    if comments and any(c.strip() for c in comments):
        request_sweep()


def request_sweep() -> None:
    from config.celery import app

    if app.conf.task_always_eager:
        return  # embedded mode: never in the respondent's request; the staff pages catch up (catch_up_embedded)
    _sweep_requests().request()


@functools.cache
def _sweep_requests() -> Debounced:
    from insight.tasks import comments_sweep

    return Debounced(comments_sweep, DEBOUNCE_SECONDS)


def catch_up_embedded() -> None:
    """Without a worker (SQLite demo), read what is waiting before a staff page shows themes."""
    from config.celery import app

    if app.conf.task_always_eager:
        comments_sweep()
        comments_recompute()


@receiver(customer_erased, dispatch_uid="insight.forget_erased_customer")
def forget_erased_customer(sender: Any, customer: Customer, **kwargs: Any) -> None:
    # Inside the erasure's transaction: the texts are blanked there, and their themes and corrections go with them.
    doomed = CommentInsight.objects.filter(response__customer=customer)
    rollups.mark(rollups.days_of(doomed))
    doomed.delete()
    state_touch()
    rollups.request_refresh()


def state_touch() -> None:
    """Say that figures read from the analyses changed (the dashboard's cached theme figures are keyed on it)."""
    InsightState.load()
    InsightState.objects.filter(pk=1).update(updated_at=timezone.now())


# --- The model -----------------------------------------------------------------------------------------------

_lock = threading.Lock()
_engines: dict[str, Engine] = {}


def _training_inputs() -> tuple[list[ThemeSpec], list[Labelled]]:
    themes = list(Theme.objects.filter(active=True).order_by("key"))
    specs = [ThemeSpec(t.key, tuple(t.example_list())) for t in themes]
    labelled = corpus.training()
    for correction in ThemeCorrection.objects.select_related("comment__answer").prefetch_related("themes"):
        labelled.append(
            Labelled(
                correction.comment.answer.text,
                tuple(t.key for t in correction.themes.all()),
                correction.sentiment or None,
                weight=2.0,  # a person read it: worth more than a bundled example
            )
        )
    labelled.extend(_weak_labels())
    return specs, labelled


def _weak_labels() -> list[Labelled]:
    rows = (
        Answer.objects.filter(question__kind__in=HEADLINE_KINDS, number__isnull=False)
        .order_by("-response_id")
        .values_list("response_id", "question__kind", "number")[:WEAK_LIMIT]
    )
    label: dict[int, str] = {}
    for response_id, kind, number in rows:
        (bad_low, bad_high), (good_low, good_high) = WEAK_LABELS[kind]
        if bad_low <= number <= bad_high:
            label.setdefault(response_id, "negative")
        elif good_low <= number <= good_high:
            label.setdefault(response_id, "positive")
    texts = Answer.objects.filter(response_id__in=list(label)).exclude(text="").values_list("response_id", "text")
    return [Labelled(text, None, label[rid], weight=WEAK_WEIGHT) for rid, text in texts]


def _fingerprint(specs: list[ThemeSpec]) -> str:
    corrections = ThemeCorrection.objects.aggregate(n=Max("id"), at=Max("corrected_at"))
    weak_epoch = (Answer.objects.aggregate(m=Max("id"))["m"] or 0) // 50_000  # weak labels refresh now and then
    raw = repr((specs, corrections["n"], str(corrections["at"]), weak_epoch))
    return hashlib.sha256(raw.encode()).hexdigest()


def engine_current() -> Engine:
    """The model for the current theme list, trained once per process and theme list (about a second or two)."""
    specs = [ThemeSpec(t.key, tuple(t.example_list())) for t in Theme.objects.filter(active=True).order_by("key")]
    key = _fingerprint(specs)
    with _lock:
        if key not in _engines:
            specs, labelled = _training_inputs()
            _engines.clear()
            _engines[key] = Engine.train(specs, labelled)
        return _engines[key]


# --- Reading comments ----------------------------------------------------------------------------------------


def _headline_scores(response_ids: list[int]) -> dict[int, tuple[int, str]]:
    scores: dict[int, tuple[int, str]] = {}
    for rid, kind, number in (
        Answer.objects.filter(response_id__in=response_ids, number__isnull=False, question__kind__in=HEADLINE_KINDS)
        .order_by("response_id", "question__position")
        .values_list("response_id", "question__kind", "number")
    ):
        scores.setdefault(rid, (number, kind))
    return scores


def comments_sweep(now: datetime | None = None) -> int:
    """Read every free-text answer past the watermark that has no analysis yet; returns how many were read."""
    now = now or timezone.now()
    state = InsightState.load()
    position, revision, total = state.watermark, state.revision, 0
    while True:
        candidates = list(
            Answer.objects.filter(pk__gt=position)
            .exclude(text="")
            .filter(insight__isnull=True)
            .order_by("pk")
            .values_list("pk", "text", "response_id", "response__survey_id", "response__submitted_at")[:BATCH]
        )
        if not candidates:
            break
        total += _store_new(candidates, revision)
        position = candidates[-1][0]
        settled = [pk for pk, _t, _r, _s, at in candidates if at < now - SETTLE]
        if settled:
            InsightState.objects.filter(pk=1, watermark__lt=max(settled)).update(watermark=max(settled))
        if len(candidates) < BATCH:
            break
    rollups.rollups_refresh()
    return total


def _store_new(candidates: list[tuple[int, str, int, int, datetime]], revision: int) -> int:
    engine = engine_current()
    analyses = engine.analyse([text for _pk, text, _r, _s, _at in candidates])
    scores = _headline_scores([r for _pk, _t, r, _s, _at in candidates])
    theme_ids = dict(Theme.objects.filter(active=True).values_list("key", "id"))
    records = [
        (pk, rid, sid, at, *scores.get(rid, (None, "")), a.sentiment, round(a.sentiment_confidence, 4))
        for (pk, _text, rid, sid, at), a in zip(candidates, analyses, strict=True)
    ]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Derived rows, read again if lost: a crash may drop this commit, never a later one (the watermark's).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        # A second worker that read the same answers meanwhile inserts nothing and writes no theme rows.
        created = _insert_analyses(records, revision)
        themes = [
            (created[record[0]], theme_ids[key], round(confidence, 4), record[2], record[3], record[4])
            for record, analysis in zip(records, analyses, strict=True)
            if record[0] in created
            for key, confidence in analysis.themes
            if key in theme_ids
        ]
        _insert_themes(themes)
        # New analyses are added to their days' rollups; only other changes (corrections, recomputes, erasures)
        # aggregate a day again (rollups.mark), whose cost grows with the day's comments.
        rollups.add(list(created.values()))
    return len(created)


_ANALYSIS_COLUMNS = (
    "answer_id, response_id, survey_id, submitted_at, score, score_kind, sentiment, sentiment_confidence"
)
_THEME_COLUMNS = "comment_id, theme_id, confidence, survey_id, submitted_at, score"


def _insert_analyses(records: list[tuple], revision: int) -> dict[int, int]:
    """Insert the analyses that do not exist yet; returns {answer id: analysis id} of those this call inserted."""
    if not records:
        return {}
    now = timezone.now()
    if connection.vendor != "postgresql":
        fields = _ANALYSIS_COLUMNS.replace("_id", "_id").split(", ")
        rows = [
            CommentInsight(**dict(zip(fields, r, strict=True)), revision=revision, computed_at=now) for r in records
        ]
        before = set(CommentInsight.objects.filter(answer_id__in=[r[0] for r in records]).values_list("answer_id"))
        CommentInsight.objects.bulk_create(rows, ignore_conflicts=True)
        ids = CommentInsight.objects.filter(answer_id__in=[r[0] for r in records]).values_list("answer_id", "id")
        return {answer: pk for answer, pk in ids if (answer,) not in before}
    statement = (
        # Reviewed (bandit B608): the model's table and column names only; every value is a parameter.
        f"INSERT INTO {CommentInsight._meta.db_table} ({_ANALYSIS_COLUMNS}, revision, corrected, computed_at) "  # noqa: S608  # nosec B608
        "SELECT *, %s, false, %s FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::timestamptz[], "
        "%s::smallint[], %s::text[], %s::text[], %s::float8[]) "
        "ON CONFLICT (answer_id) DO NOTHING RETURNING answer_id, id"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [revision, now, *[list(c) for c in zip(*records, strict=True)]])
        return dict(cursor.fetchall())


def _insert_themes(rows: list[tuple]) -> None:
    if not rows:
        return
    if connection.vendor != "postgresql":
        fields = _THEME_COLUMNS.split(", ")
        CommentTheme.objects.bulk_create(
            [CommentTheme(**dict(zip(fields, r, strict=True))) for r in rows], ignore_conflicts=True
        )
        return
    statement = (
        # Reviewed (bandit B608): the model's table and column names only; every value is a parameter.
        f"INSERT INTO {CommentTheme._meta.db_table} ({_THEME_COLUMNS}, source) "  # noqa: S608  # nosec B608
        "SELECT *, %s FROM unnest(%s::bigint[], %s::bigint[], %s::float8[], %s::bigint[], %s::timestamptz[], "
        "%s::smallint[]) ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [CommentTheme.Source.MODEL, *[list(c) for c in zip(*rows, strict=True)]])


def _theme_rows(comment_id: int, insight: CommentInsight, analysis: Analysis, theme_ids: dict[str, int]) -> list:
    return [
        CommentTheme(
            comment_id=comment_id,
            theme_id=theme_ids[key],
            confidence=round(confidence, 4),
            survey_id=insight.survey_id,
            submitted_at=insight.submitted_at,
            score=insight.score,
        )
        for key, confidence in analysis.themes
        if key in theme_ids
    ]


def comments_recompute(*, limit: int | None = None) -> int:
    """Read again the comments analysed under an older theme list; corrections are kept. Returns how many."""
    done = 0
    while limit is None or done < limit:
        revision = InsightState.load().revision
        batch = list(
            CommentInsight.objects.filter(revision__lt=revision)
            .select_related("answer")
            .order_by("pk")[: BATCH if limit is None else min(BATCH, limit - done)]
        )
        if not batch:
            break
        engine = engine_current()
        analyses = engine.analyse([c.answer.text for c in batch])
        theme_ids = dict(Theme.objects.filter(active=True).values_list("key", "id"))
        corrections = {
            c.comment_id: c for c in ThemeCorrection.objects.filter(comment__in=batch).prefetch_related("themes")
        }
        with transaction.atomic():
            ids = [c.pk for c in batch if c.pk not in corrections]
            CommentTheme.objects.filter(comment_id__in=ids, source=CommentTheme.Source.MODEL).delete()
            rows = []
            for comment, analysis in zip(batch, analyses, strict=True):
                correction = corrections.get(comment.pk)
                comment.sentiment = (correction.sentiment if correction else "") or analysis.sentiment
                comment.sentiment_confidence = (
                    1.0 if correction and correction.sentiment else analysis.sentiment_confidence
                )
                comment.revision = revision
                comment.computed_at = timezone.now()
                if correction is None:
                    rows.extend(_theme_rows(comment.pk, comment, analysis, theme_ids))
            CommentInsight.objects.bulk_update(
                batch, ["sentiment", "sentiment_confidence", "revision", "computed_at"], batch_size=500
            )
            CommentTheme.objects.bulk_create(rows, ignore_conflicts=True)
            rollups.mark((c.survey_id, c.submitted_at) for c in batch)
        done += len(batch)
    if done:
        state_touch()
        rollups.rollups_refresh()
    return done


def revision_bump() -> int:
    """The theme list changed: every comment is to be read again (by the worker, after this commit)."""
    InsightState.load()
    InsightState.objects.filter(pk=1).update(revision=F("revision") + 1, updated_at=timezone.now())

    def enqueue() -> None:
        from config.celery import app
        from insight.tasks import comments_recompute as task

        if not app.conf.task_always_eager:
            task.delay()

    transaction.on_commit(enqueue)
    return InsightState.load().revision


def pending_counts() -> dict[str, int]:
    revision = InsightState.load().revision
    waiting = Answer.objects.exclude(text="").filter(insight__isnull=True).count()
    stale = CommentInsight.objects.filter(revision__lt=revision).count()
    return {"waiting": waiting, "stale": stale}


def unthemed(survey_ids: list[int] | None = None) -> Q:
    q = Q(themes__isnull=True)
    return q & Q(survey_id__in=survey_ids) if survey_ids else q
