"""The closed loop: a bad survey answer opens a complaint case, once per response (ISO 10002 meets ISO 10004).

`surveys` knows nothing of this: it sends `response_submitted`, and the receiver here decides from the scores it
carries, without a query, whether a case is needed. It then asks for a *sweep*: a task that examines every response
past a watermark kept in the database and opens the missing cases. The request is debounced per process (one
message every few seconds at most, however many detractors answer), because handing a message to the broker costs
about as much as storing the response itself (measured: 0.35 ms); beat also runs the sweep every minute, so a lost
message only delays a case. Opening a case is idempotent: a response has at most one.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.dispatch import receiver
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from config.debounce import Debounced
from config.singleton import again_later, lock_or_none
from feedback.models import Channel, ComplaintCase, ComplaintSettings
from surveys.models import Answer, Response, Survey
from surveys.scoring import QuestionKind, is_detractor
from surveys.signals import response_submitted


def detractor_scores(survey: Survey, scores: list[tuple[str, int]]) -> list[tuple[str, int]]:
    if not survey.closed_loop:
        return []
    ranges = survey.detractor_ranges()
    return [(kind, score) for kind, score in scores if kind in ranges and is_detractor(kind, score, ranges)]


# Seconds between two sweep requests from one process, and the delay before the requested sweep runs.
DEBOUNCE_SECONDS = 3.0
# A response whose transaction started earlier can commit later with a smaller id: the watermark stays this far
# behind the newest responses, which later sweeps look at again (cheaply: existing cases are skipped).
SETTLE = timedelta(minutes=2)
SWEEP_BATCH = 2000
SCORED = (QuestionKind.NPS, QuestionKind.CSAT, QuestionKind.CES)


@receiver(response_submitted, dispatch_uid="feedback.open_case_for_detractor")
def open_case_for_detractor(
    sender: Any, response: Response, survey: Survey, scores: list[tuple[str, int]], **kwargs: Any
) -> None:
    if detractor_scores(survey, scores):
        request_sweep()


def request_sweep() -> None:
    _sweep_requests().request()


@functools.cache
def _sweep_requests() -> Debounced:
    from feedback.tasks import sweep_detractors

    return Debounced(sweep_detractors, DEBOUNCE_SECONDS)


# Batches one sweep may examine (100,000 responses): a backlog after an outage is worked off in one run, not one
# batch per beat period, while the unsettled window (SETTLE) may itself hold more than a batch under load.
SWEEP_MAX_BATCHES = 50


def sweep(now: datetime | None = None, *, full: bool = True) -> int:
    """Open the cases of every detractor response past the watermark; returns how many were opened.

    A quick sweep (`full=False`, asked for after answers) starts past the newest response examined so far; a full
    one (beat, every minute) looks again from the settled watermark, so an answer whose transaction committed after
    a later one (a smaller id, missed by the quick sweep) gets its case there. Under load this keeps each quick
    sweep to the answers since the last, not the whole unsettled window."""
    now = now or timezone.now()
    opened = 0
    cursor: int | None = None
    for _batch in range(SWEEP_MAX_BATCHES):
        # One transaction per batch: cases (and their acknowledgements, through the outbox) leave as they are made,
        # not after the whole backlog. Two sweeps at once are harmless: a response gets one case at most.
        with transaction.atomic():
            config = lock_or_none(ComplaintSettings)
            if config is None:  # another sweep holds the watermark: it does this work; ask for a run after it
                again_later(request_sweep)
                return opened
            floor = config.loop_watermark if full else max(config.loop_watermark, config.loop_examined)
            start = floor if cursor is None else max(cursor, floor)
            candidates = list(
                Response.objects.filter(pk__gt=start)
                .order_by("pk")
                .values_list("pk", "submitted_at", "survey_id")[:SWEEP_BATCH]
            )
            if candidates:
                opened += _open_cases(candidates)
                cursor = candidates[-1][0]
                config.loop_examined = max(config.loop_examined, cursor)
                settled = [pk for pk, at, _survey in candidates if at < now - SETTLE]
                if settled and full:
                    config.loop_watermark = max(config.loop_watermark, max(settled))
            config.save(update_fields=["loop_watermark", "loop_examined"])
        if len(candidates) < SWEEP_BATCH:
            break
    return opened


def _open_cases(candidates: list[tuple[int, datetime, int]]) -> int:
    """Open the missing cases of a batch's detractors, the batch's cases together (workflow.case_create_many)."""
    ids = [pk for pk, _at, _survey in candidates]
    scores: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for response_id, kind, number in Answer.objects.filter(
        response_id__in=ids, number__isnull=False, question__kind__in=SCORED
    ).values_list("response_id", "question__kind", "number"):
        scores[response_id].append((kind, number))
    surveys = Survey.objects.in_bulk({survey for _pk, _at, survey in candidates})
    detractors = [pk for pk, _at, survey in candidates if detractor_scores(surveys[survey], scores[pk])]
    return list(cases_from_responses(detractors).values()).count("created")


def watermark_to_now() -> None:
    """Treat every response stored so far as examined (after bulk-loading history, e.g. demo data)."""
    config = ComplaintSettings.load()
    config.loop_watermark = config.loop_examined = Response.objects.aggregate(m=Max("pk"))["m"] or 0
    config.save(update_fields=["loop_watermark", "loop_examined"])


def response_summary(response: Response, language: str) -> str:
    """What the survey answer that opened a case said, in `language`: the measure, the score and the survey."""
    answers = response.answers.select_related("question").order_by("question__position")
    scores = [
        (a.question.kind, a.number)
        for a in answers
        if a.number is not None and a.question.kind in (QuestionKind.NPS, QuestionKind.CSAT, QuestionKind.CES)
    ]
    bad = detractor_scores(response.survey, scores) or scores
    if not bad:
        return response.survey.title(language)
    with translation.override(language):
        return _("%(measure)s score %(score)s in the survey “%(survey)s”.") % {
            "measure": bad[0][0].upper(),
            "score": bad[0][1],
            "survey": response.survey.title(language),
        }


def case_from_response(response_id: int) -> str:
    """Open the case for a detractor response; running it again, or for a satisfied answer, does nothing."""
    return cases_from_responses([response_id])[response_id]


def cases_from_responses(response_ids: list[int]) -> dict[int, str]:
    """Open the cases of these responses where they are detractors' and have none yet, together; for each id:
    "created", "exists", "not-a-detractor" or "missing"."""
    from feedback import workflow

    outcome = dict.fromkeys(response_ids, "missing")
    responses = Response.objects.select_related("survey", "survey__owner", "customer").in_bulk(response_ids)
    for response_id in ComplaintCase.objects.filter(response_id__in=responses).values_list("response_id", flat=True):
        outcome[response_id] = "exists"
    answers: dict[int, list[Answer]] = defaultdict(list)
    for answer in (
        Answer.objects.filter(response_id__in=[pk for pk, state in outcome.items() if state == "missing"])
        .select_related("question")
        .order_by("response_id", "question__position")
    ):
        answers[answer.response_id].append(answer)
    drafts = []
    for pk, response in responses.items():
        if outcome[pk] != "missing":
            continue
        scored = [a for a in answers[pk] if a.number is not None and a.question.kind in SCORED]
        if not detractor_scores(response.survey, [(a.question.kind, a.number) for a in scored]):
            outcome[pk] = "not-a-detractor"
            continue
        # Only the customer's own words go into the record; the summary ("NPS score 6 in the survey …") is drawn
        # when the case is read, in the reader's language (response_summary).
        customer = response.customer
        drafts.append(
            {
                "channel": Channel.SURVEY,
                "description": "\n\n".join(a.text for a in answers[pk] if a.text) or "—",
                "customer": customer,
                "contact_name": "" if customer else "—",
                "language": response.language,
                "assignee": response.survey.owner,
                "response": response,
            }
        )
    try:
        with transaction.atomic():
            workflow.case_create_many(drafts)
    except IntegrityError:
        # Another worker opened one of them between our check and our insert (the unique link to the response held):
        # open the others one by one.
        if len(drafts) == 1:
            outcome[drafts[0]["response"].pk] = "exists"
            return outcome
        for draft in drafts:
            outcome.update(cases_from_responses([draft["response"].pk]))
        return outcome
    for draft in drafts:
        outcome[draft["response"].pk] = "created"
    return outcome
