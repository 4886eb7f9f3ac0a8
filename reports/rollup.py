"""Daily rollups: sufficient statistics per (survey, question, segment, day), kept up to date from a watermark.

ISO 9001 9.1.3 asks for analysis of what was measured; the dashboards do it on these small rows, never on raw
responses, so their cost does not grow with the number of responses. A refresh recomputes whole days: every
(survey, day) that a response past the watermark falls on is aggregated again from the raw rows and written with
`INSERT … ON CONFLICT DO UPDATE`, in one transaction with the new watermark. Running it twice changes nothing, and
a run killed half-way leaves the rollups and the watermark as they were.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, CharField, Count, F, Max, Model, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, TruncDate
from django.dispatch import receiver
from django.utils import timezone

from config.debounce import Debounced
from config.singleton import again_later, lock_or_none
from config.upsert import upsert_select
from reports.models import DailyRollup, InvitationRollup, RollupState
from surveys.models import Answer, Campaign, Invitation, Response
from surveys.scoring import QuestionKind
from surveys.signals import response_submitted

SCORED_KINDS = (QuestionKind.NPS, QuestionKind.CSAT, QuestionKind.CES, QuestionKind.RATING)
# A response whose transaction started earlier can commit later with a smaller id: the watermark stays this far
# behind the newest responses, whose days later runs recompute again (cheaply: a day is a few thousand rows).
SETTLE = timedelta(minutes=2)
# (survey, day) pairs aggregated by one statement.
DAYS_PER_STATEMENT = 100
# A refresh aggregates each touched day again, so its cost grows with the day's answers (1.5 s a run at 30,000
# answers a day under load, bench/faults.py): at most one request every 15 s per process keeps a busy day's
# refreshes from taking a worker's whole time, and the figures are still minutes fresh.
DEBOUNCE_SECONDS = 15.0

# Classification as in scoring.py, in SQL. CES runs from easy to difficult: 1–2 are its good answers.
_PROMOTER = (
    Q(question__kind=QuestionKind.NPS, number__gte=9)
    | Q(question__kind=QuestionKind.CSAT, number__gte=4)
    | Q(question__kind=QuestionKind.CES, number__lte=2)
)
_DETRACTOR = (
    Q(question__kind=QuestionKind.NPS, number__lte=6)
    | Q(question__kind=QuestionKind.CSAT, number__lte=2)
    | Q(question__kind=QuestionKind.CES, number__gte=6)
)
_PASSIVE = Q(question__kind__in=(QuestionKind.NPS, QuestionKind.CSAT, QuestionKind.CES)) & ~_PROMOTER & ~_DETRACTOR
# The two best values of a rating scale (its highest two; 5 is a rating's default top, as in scoring.scale_for).
_TOP2 = _PROMOTER | Q(question__kind=QuestionKind.RATING, number__gte=Coalesce(F("question__scale_max"), 5) - 1)


def _aggregate(scope: Q) -> QuerySet:
    """The rollup rows of the answers in `scope`, computed from the raw rows."""
    return (
        Answer.objects.filter(scope, number__isnull=False, question__kind__in=SCORED_KINDS)
        .values(
            r_survey=F("response__survey_id"),
            r_question=F("question_id"),
            r_kind=F("question__kind"),
            # Stored on the response when it was given: a later segment change never moves history, and a
            # refresh and a rebuild read the same values.
            r_segment=F("response__segment"),
            r_channel=F("response__channel"),
            r_day=TruncDate("response__submitted_at"),
        )
        .annotate(
            r_count=Count("id"),
            r_promoters=Count("id", filter=_PROMOTER),
            r_passives=Count("id", filter=_PASSIVE),
            r_detractors=Count("id", filter=_DETRACTOR),
            r_top2=Count("id", filter=_TOP2),
            r_total=Sum("number"),
            r_total_sq=Sum(F("number") * F("number")),
        )
        .order_by()
    )


# The channel that delivered an invitation: email once it was sent (or while it waits to be), by hand for a link
# that was never emailed and was handed out or answered anyway. Hence answered <= delivered in every channel: an
# email-channel row counts only sent invitations as opened or answered, a link-channel row is delivered as made.
_EMAILED = Q(sent_at__isnull=False) | Q(channel=Invitation.Channel.EMAIL, answered_at__isnull=True)
FUNNEL_CHANNEL = Case(
    When(_EMAILED, then=Value(Invitation.Channel.EMAIL)),
    default=Value(Invitation.Channel.LINK),
    output_field=CharField(),
)
_DELIVERED = Q(sent_at__isnull=False) | ~_EMAILED


def _funnel(scope: Q) -> QuerySet:
    """The response funnel of the invitations in `scope`, per survey, day of invitation and delivery channel."""
    status = Invitation.Status
    return (
        Invitation.objects.filter(scope)
        .values(r_survey=F("survey_id"), r_day=TruncDate("created_at"), r_channel=FUNNEL_CHANNEL)
        .annotate(
            r_invited=Count("id"),
            r_delivered=Count("id", filter=_DELIVERED),
            r_opened=Count("id", filter=Q(opened_at__isnull=False) & _DELIVERED),
            r_answered=Count("id", filter=Q(answered_at__isnull=False) & _DELIVERED),
            r_failed=Count("id", filter=Q(status=status.FAILED)),
            r_skipped=Count("id", filter=Q(status=status.SKIPPED)),
            r_expired=Count("id", filter=Q(status=status.EXPIRED)),
        )
        .order_by()
    )


FUNNEL_KEY = ("survey_id", "day", "channel")
ROLLUP_KEY = ("survey_id", "question_id", "segment", "channel", "day")


def _refresh_funnel(now: datetime, *, full: bool = False, answered: Iterable[tuple[int, date]] = ()) -> None:
    """Invitations change state (opened, answered, expired) until they expire: recompute the days inside the
    longest expiry in use (the default and the campaigns'); older days are final, except the days of invitations
    in `answered` (survey, local day of invitation): a link given on its own may be valid for up to a year, and
    its answer must reach the funnel whenever it comes."""
    longest = max(settings.INVITATION_EXPIRY_DAYS, Campaign.objects.aggregate(m=Max("expiry_days"))["m"] or 0)
    since = timezone.localdate(now) - timedelta(days=longest + 1)
    if full:
        _upsert_rows(_funnel(Q()), InvitationRollup, FUNNEL_KEY, now)
        InvitationRollup.objects.filter(computed_at__lt=now).delete()
        return
    _upsert_rows(_funnel(Q(created_at__gte=day_bounds(since)[0])), InvitationRollup, FUNNEL_KEY, now)
    InvitationRollup.objects.filter(day__gte=since, computed_at__lt=now).delete()
    older = sorted({(survey_id, day) for survey_id, day in answered if day < since})
    for start in range(0, len(older), DAYS_PER_STATEMENT):
        invitations, rollups = Q(pk__in=[]), Q(pk__in=[])
        for survey_id, day in older[start : start + DAYS_PER_STATEMENT]:
            first, after = day_bounds(day)
            invitations |= Q(survey_id=survey_id, created_at__gte=first) & Q(created_at__lt=after)
            rollups |= Q(survey_id=survey_id, day=day)
        _upsert_rows(_funnel(invitations), InvitationRollup, FUNNEL_KEY, now)
        InvitationRollup.objects.filter(rollups, computed_at__lt=now).delete()


def _upsert(scope: Q, now: datetime) -> None:
    _upsert_rows(_aggregate(scope), DailyRollup, ROLLUP_KEY, now)


def _upsert_rows(rows: QuerySet, model: type[Model], conflict: tuple[str, ...], now: datetime) -> None:
    """INSERT … SELECT the aggregate `rows` (each column aliased r_<column>) ON CONFLICT DO UPDATE, stamped now."""
    upsert_select(rows, model, conflict, now, {"survey": "survey_id", "question": "question_id"})


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The first instant of a local day (TIME_ZONE) and of the next one."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), tz)
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), tz)


def local_range(start: date, end: date) -> tuple[datetime, datetime]:
    """From the first instant of `start` to the first instant after `end` (local days, end included)."""
    return day_bounds(start)[0], day_bounds(end)[1]


def _recompute(days: Iterable[tuple[int, date]], now: datetime) -> None:
    """Aggregate these (survey, day) pairs again; rows of those days that no answer supports any more go."""
    pairs = list(days)
    for start in range(0, len(pairs), DAYS_PER_STATEMENT):
        batch = pairs[start : start + DAYS_PER_STATEMENT]
        answers, rollups = Q(pk__in=[]), Q(pk__in=[])
        for survey_id, day in batch:
            # Each day as a range of submitted_at, so that the (survey, submitted_at) index finds its responses.
            first, after = day_bounds(day)
            answers |= Q(response__survey_id=survey_id, response__submitted_at__gte=first) & Q(
                response__submitted_at__lt=after
            )
            rollups |= Q(survey_id=survey_id, day=day)
        _upsert(answers, now)
        DailyRollup.objects.filter(rollups, computed_at__lt=now).delete()


def rollup_refresh(now: datetime | None = None) -> int:
    """Bring the rollups up to date with every response stored; returns how many (survey, day) were recomputed."""
    now = now or timezone.now()
    with transaction.atomic():
        state = lock_or_none(RollupState)  # one refresh at a time
        if state is None:  # another refresh is under way; ask for one after it, for what it may not see
            again_later(lambda: _refresh_requests().request())
            return 0
        newer = Response.objects.filter(pk__gt=state.watermark)
        touched = sorted(set(newer.annotate(day=TruncDate("submitted_at")).values_list("survey_id", "day")))
        _recompute(touched, now)
        # The first refresh (or the first after a migration cleared the rollups) recomputes every day's funnel;
        # later ones the window's days and those of the invitations the new responses answered.
        full = state.refreshed_at is None
        answered = (
            newer.filter(invitation__isnull=False)
            .annotate(day=TruncDate("invitation__created_at"))
            .values_list("invitation__survey_id", "day")
            .order_by()
            .distinct()
        )
        _refresh_funnel(now, full=full, answered=[] if full else answered)
        settled = newer.filter(submitted_at__lt=now - SETTLE).aggregate(m=Max("pk"))["m"]
        if settled:
            state.watermark = settled
        state.refreshed_at = now
        state.save(update_fields=["watermark", "refreshed_at"])
    return len(touched)


def rollup_rebuild(now: datetime | None = None) -> int:
    """Recompute every rollup from the raw rows (management command `rollup_rebuild`); returns the row count."""
    now = now or timezone.now()
    with transaction.atomic():
        state = RollupState.objects.select_for_update().get_or_create(pk=1)[0]
        DailyRollup.objects.all().delete()
        InvitationRollup.objects.all().delete()
        _upsert(Q(), now)
        _upsert_rows(_funnel(Q()), InvitationRollup, FUNNEL_KEY, now)
        state.watermark = Response.objects.filter(submitted_at__lt=now - SETTLE).aggregate(m=Max("pk"))["m"] or 0
        state.refreshed_at = now
        state.save(update_fields=["watermark", "refreshed_at"])
    return DailyRollup.objects.count()


@functools.cache
def _refresh_requests() -> Debounced:
    from reports.tasks import rollup_refresh as task

    return Debounced(task, DEBOUNCE_SECONDS)


@receiver(response_submitted, dispatch_uid="reports.refresh_rollups")
def refresh_after_response(sender: object, **kwargs: object) -> None:
    # Sent on commit; debounced per process, and beat refreshes every few minutes anyway.
    _refresh_requests().request()
