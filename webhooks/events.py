"""From what happened to events and their deliveries, without slowing down the respondent.

Responses: the submit transaction gets no extra write. `response_submitted` (sent after the commit) only sets a
flag (config/debounce.py) asking for a sweep, and only when some endpoint wants response events. The sweep reads
every response past a watermark kept in the database (like the closed loop, feedback/loop.py), makes the missing
events and deliveries, and asks for a send. Beat runs the sweep every minute, so a lost request only delays.
Finished campaigns are found by the same sweep from their finish time.

Cases: `feedback.signals.case_statuses_changed` is sent inside the case's transaction; the event, its deliveries
and an outbox row that asks for the send are written there too, so they exist exactly when the change does.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max
from django.dispatch import receiver
from django.utils import timezone

from config.debounce import Debounced
from customers.models import Customer
from customers.services import ERASED_NAME, ErasedData, customer_erased
from feedback.models import CaseStatus, ComplaintCase
from feedback.signals import case_statuses_changed
from outbox.dispatch import outbox_add
from surveys.models import Answer, Campaign, Response, Survey
from surveys.scoring import QuestionKind, is_detractor
from surveys.signals import response_submitted
from webhooks.models import (
    EventType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSettings,
)

E = EventType
RESPONSE_EVENTS = (E.RESPONSE_SUBMITTED, E.RESPONSE_DETRACTOR)
# A response whose transaction began earlier can commit later with a smaller id: the watermark stays this far
# behind, and later sweeps look at those responses again (an event is made once: unique type and subject).
SETTLE = timedelta(minutes=2)
SWEEP_BATCH = 2000
SWEEP_MAX_BATCHES = 50
SCORED = (QuestionKind.NPS, QuestionKind.CSAT, QuestionKind.CES)
# How long a process trusts its answer to "does any endpoint want response events?" (asked on each submit).
SUBSCRIBERS_TTL = 10.0
_subscribers: dict[str, tuple[float, bool]] = {}


def subscribers(event_type: str) -> list[WebhookEndpoint]:
    # JSON containment is not on every backend: the few endpoints are filtered here.
    return [e for e in WebhookEndpoint.objects.filter(active=True) if event_type in e.events]


def subscribers_changed() -> None:
    _subscribers.clear()


def responses_listened_from_now(endpoint: WebhookEndpoint) -> None:
    """The first endpoint to want response events gets those from now on, not the whole history (demo data, an
    import): with nobody listening the sweep does not run, so its watermark may be far behind."""
    if not endpoint.active or not set(endpoint.events) & set(RESPONSE_EVENTS):
        return
    others = [e for t in RESPONSE_EVENTS for e in subscribers(t) if e.pk != endpoint.pk]
    if others:
        return
    newest = Response.objects.aggregate(m=Max("pk"))["m"] or 0
    WebhookSettings.objects.update_or_create(pk=1, defaults={"response_watermark": newest, "response_examined": newest})


def _wants_responses() -> bool:
    now = time.monotonic()
    cached = _subscribers.get("responses")
    if cached is None or now - cached[0] > SUBSCRIBERS_TTL:
        wanted = any(subscribers(t) for t in RESPONSE_EVENTS)
        cached = _subscribers["responses"] = (now, wanted)
    return cached[1]


@receiver(response_submitted, dispatch_uid="webhooks.response_submitted")
def response_stored(sender: Any, **kwargs: Any) -> None:
    from config.celery import app

    # With a broker, only a flag is set (no query on the respondent's path): the sweep, in a worker, finds out
    # whether anyone listens. In-process (embedded mode, tests) the sweep would run here, so ask first.
    if app.conf.task_always_eager and not _wants_responses():
        return
    request_sweep()


def request_sweep() -> None:
    _requests().request()


@functools.cache
def _requests() -> Debounced:
    from webhooks.tasks import webhooks_sweep

    return Debounced(webhooks_sweep, settings.WEBHOOK_SWEEP_DEBOUNCE_SECONDS)  # a quick sweep


def message_id() -> str:
    return "msg_" + uuid.uuid4().hex


def deliveries_for(events: list[WebhookEvent], endpoints: dict[str, list[WebhookEndpoint]]) -> list[WebhookDelivery]:
    now = timezone.now()
    give_up = now + timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
    return WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                event=event, endpoint=endpoint, message_id=message_id(), next_attempt_at=now, give_up_at=give_up
            )
            for event in events
            for endpoint in endpoints.get(event.type, [])
        ]
    )


def events_record(items: list[tuple[str, str, dict[str, Any]]]) -> int:
    """Store the events not yet made (type, subject, data) and their deliveries; returns how many deliveries."""
    types = {t for t, _s, _d in items}
    endpoints = {t: subscribers(t) for t in types}
    items = [item for item in items if endpoints[item[0]]]
    if not items:
        return 0
    made = set(
        WebhookEvent.objects.filter(type__in=types, subject__in={s for _t, s, _d in items}).values_list(
            "type", "subject"
        )
    )
    events = WebhookEvent.objects.bulk_create(
        [WebhookEvent(type=t, subject=s, data=d) for t, s, d in items if (t, s) not in made]
    )
    return len(deliveries_for(events, endpoints))


# --- Responses and campaigns: the sweep ---


def sweep(now: datetime | None = None, *, full: bool = True, send: bool = False) -> int:
    """Make the events of the responses not yet examined, and of campaigns finished since the last sweep.

    A quick sweep (asked for after submits, every half second under load) looks only past the newest response
    examined so far. A full one (beat, every 30 s) looks again from the settled watermark: a response whose
    transaction committed after a later one (a smaller id, missed by the quick sweep) gets its event there.
    With `send` (in a worker), the first round of the new deliveries is sent here, without waiting in the queue
    behind other tasks for a send message; further rounds are asked of other workers.
    """
    now = now or timezone.now()
    made = 0
    cursor: int | None = None
    wanted = any(subscribers(t) for t in RESPONSE_EVENTS)
    for batch in range(SWEEP_MAX_BATCHES):
        with transaction.atomic():
            config = WebhookSettings.objects.select_for_update().get_or_create(pk=1)[0]
            floor = config.response_watermark if full else max(config.response_watermark, config.response_examined)
            start = floor if cursor is None else max(cursor, floor)
            candidates = list(
                Response.objects.filter(pk__gt=start).order_by("pk").values_list("pk", "submitted_at")[:SWEEP_BATCH]
            )
            if candidates:
                if wanted:
                    made += events_record(_response_events([pk for pk, _at in candidates]))
                cursor = candidates[-1][0]
                config.response_examined = max(config.response_examined, cursor)
                # With nobody listening there is nothing to settle: the watermark moves to the newest response.
                settled = [pk for pk, at in candidates if at < now - SETTLE or not wanted]
                if settled and full:
                    config.response_watermark = max(config.response_watermark, max(settled))
            if batch == 0:
                made += _campaign_events(config, now)
            config.save()
        if len(candidates) < SWEEP_BATCH:
            break
    if made:
        from webhooks import delivery

        rounds = -(-made // delivery.BATCH)
        if send:
            request_send(rounds - 1)
            delivery.webhooks_send()
        else:
            request_send(rounds)
    return made


def _response_events(ids: list[int]) -> list[tuple[str, str, dict[str, Any]]]:
    rows = Response.objects.filter(pk__in=ids).values(
        "pk", "survey_id", "version_id", "customer_id", "customer__external_id", "submitted_at", "language",
        "segment", "channel", "invitation__campaign_id",
    )  # fmt: skip
    answers: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for answer in Answer.objects.filter(response_id__in=ids).values(
        "response_id", "question_id", "question__kind", "number", "text", "choices"
    ):
        answers[answer["response_id"]].append(answer)
    surveys = Survey.objects.in_bulk({row["survey_id"] for row in rows})
    items = []
    for row in rows:
        survey = surveys[row["survey_id"]]
        data = _response_data(row, survey, answers[row["pk"]])
        subject = f"response:{row['pk']}"
        items.append((E.RESPONSE_SUBMITTED.value, subject, data))
        ranges = survey.detractor_ranges()
        bad = [a for a in data["answers"] if a["kind"] in SCORED and is_detractor(a["kind"], a["score"], ranges)]
        if bad:
            items.append((E.RESPONSE_DETRACTOR.value, subject, {**data, "detractor_answers": bad}))
    return items


def _response_data(row: dict[str, Any], survey: Survey, answers: list[dict[str, Any]]) -> dict[str, Any]:
    # Who answered is given by ids the caller's own systems know (customer id, external id), never by name or
    # address: a receiver that needs them asks the API.
    return {
        "response_id": row["pk"],
        "survey": {"id": survey.pk, "kind": survey.kind, "title": survey.title("en"), "version_id": row["version_id"]},
        "submitted_at": row["submitted_at"].isoformat(),
        "language": row["language"],
        "channel": row["channel"],
        "segment": row["segment"],
        "campaign_id": row["invitation__campaign_id"],
        "customer": (
            {"id": row["customer_id"], "external_id": row["customer__external_id"] or None}
            if row["customer_id"]
            else None
        ),
        "answers": [
            {
                "question_id": a["question_id"],
                "kind": a["question__kind"],
                "score": a["number"] if a["question__kind"] in SCORED or a["question__kind"] == "rating" else None,
                "choice": a["number"] if a["question__kind"] not in (*SCORED, "rating") else None,
                "choices": a["choices"],
                "text": a["text"] or None,
            }
            for a in sorted(answers, key=lambda a: a["question_id"])
        ],
    }


def _campaign_events(config: WebhookSettings, now: datetime) -> int:
    since = config.campaign_watermark or now - timedelta(hours=1)
    config.campaign_watermark = now - SETTLE
    if not subscribers(E.CAMPAIGN_FINISHED):
        return 0
    campaigns = list(
        Campaign.objects.filter(status=Campaign.Status.SENT, finished_at__gte=since).annotate(
            invitation_count=Count("invitations")
        )
    )
    items = []
    for campaign in campaigns:
        states = dict(campaign.invitations.values_list("status").annotate(n=Count("id")).order_by())
        data = {
            "campaign_id": campaign.pk,
            "name": campaign.name,
            "survey_id": campaign.survey_id,
            "started_at": campaign.started_at.isoformat() if campaign.started_at else None,
            "finished_at": campaign.finished_at.isoformat() if campaign.finished_at else None,
            "invitations": {"total": campaign.invitation_count, **states},
        }
        items.append((E.CAMPAIGN_FINISHED.value, f"campaign:{campaign.pk}", data))
    return events_record(items)


def request_send(count: int = 1) -> None:
    """Ask for `count` send tasks (they share the due deliveries); called from workers, not from requests."""
    from config.celery import app
    from webhooks.tasks import webhooks_send

    if count <= 0:
        return
    if app.conf.task_always_eager:
        webhooks_send.delay()
        return
    for _n in range(min(count, settings.WEBHOOK_SEND_PARALLEL)):
        try:
            webhooks_send.apply_async(retry=False)
        except Exception:  # noqa: BLE001 - the broker is away: beat sends what is due
            return


# --- Cases: in the case's own transaction ---


def case_data(case: ComplaintCase) -> dict[str, Any]:
    """A case as webhooks show it: its reference, state and dates; no contact details of the customer."""
    return {
        "reference": case.reference,
        "status": case.status,
        "channel": case.channel,
        "severity": case.severity,
        "priority": case.priority,
        "category": case.category.name_en if case.category_id else None,
        "received_at": case.received_at.isoformat(),
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "customer_accepted": case.customer_accepted,
        "response_id": case.response_id,
        "customer": (
            {"id": case.customer_id, "external_id": case.customer.external_id or None} if case.customer_id else None
        ),
    }


def _case_types(from_status: str, to_status: str) -> list[EventType]:
    types = [E.CASE_OPENED] if not from_status else [E.CASE_STATUS_CHANGED]
    if to_status == CaseStatus.CLOSED:
        types.append(E.CASE_CLOSED)
    return types


@receiver(case_statuses_changed, dispatch_uid="webhooks.case_statuses_changed")
def cases_changed(sender: Any, changes: list[tuple[ComplaintCase, str, str, int]], **kw: Any) -> None:
    # One query, and no reading of the cases' customers or categories, when nobody listens.
    listened = {t for endpoint in WebhookEndpoint.objects.filter(active=True) for t in endpoint.events}
    items = []
    for case, from_status, to_status, event_id in changes:
        types = [t for t in _case_types(from_status, to_status) if t.value in listened]
        if types:
            data = {**case_data(case), "from_status": from_status or None, "to_status": to_status}
            # The timeline line's id: a status change is an event once, even if this is sent twice.
            items.extend((t.value, f"case-event:{event_id}", data) for t in types)
    if items and events_record(items):
        outbox_add(task="webhooks.tasks.webhooks_send")


# --- Erasure: the log keeps no copy of an erased customer's words ---


def _erased(data: dict[str, Any]) -> dict[str, Any]:
    """An event's data without the customer's external id and free-text answers (scores and choices stay)."""
    data = {**data, "customer": {**data["customer"], "external_id": None}}
    for key in ("answers", "detractor_answers"):
        if key in data:
            data[key] = [{**answer, "text": None} for answer in data[key]]
    return data


@receiver(customer_erased, dispatch_uid="webhooks.forget_erased_customer")
def forget_erased_customer(
    sender: Any, customer: Customer, data: ErasedData | None = None, **kwargs: Any
) -> dict[str, int]:
    """Inside the erasure's transaction: the stored events about this customer (their responses and cases) lose
    what the erasure removes, so that a delivery still waiting, or sent again from the page, carries none of it;
    a receiver's answer that echoed such a body loses the customer's words too."""
    events = list(WebhookEvent.objects.filter(data__customer__id=customer.pk).only("pk", "data"))
    changed = 0
    for event in events:
        erased = _erased(event.data)
        if erased != event.data:
            WebhookEvent.objects.filter(pk=event.pk).update(data=erased)
            changed += 1
    if data is not None and events:
        attempts = WebhookAttempt.objects.filter(delivery__event__in=[e.pk for e in events]).exclude(excerpt="")
        for attempt in attempts.only("pk", "excerpt"):
            redacted = data.redact(attempt.excerpt, ERASED_NAME)
            if redacted != attempt.excerpt:
                WebhookAttempt.objects.filter(pk=attempt.pk).update(excerpt=redacted)
    return {"webhook_events": changed} if changed else {}
