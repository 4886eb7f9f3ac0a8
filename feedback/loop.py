"""The closed loop: a bad survey answer opens a complaint case, once per response (ISO 10002 meets ISO 10004).

`surveys` knows nothing of this: it sends `response_submitted`, and the receiver here decides from the scores it
carries, without a query, whether a case is needed; only then is a task enqueued.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.utils import translation
from django.utils.translation import gettext as _

from feedback.models import Channel, ComplaintCase
from surveys.models import Response, Survey
from surveys.scoring import QuestionKind, is_detractor
from surveys.signals import response_submitted


def detractor_scores(survey: Survey, scores: list[tuple[str, int]]) -> list[tuple[str, int]]:
    if not survey.closed_loop:
        return []
    ranges = survey.detractor_ranges()
    return [(kind, score) for kind, score in scores if kind in ranges and is_detractor(kind, score, ranges)]


@receiver(response_submitted, dispatch_uid="feedback.open_case_for_detractor")
def open_case_for_detractor(
    sender: Any, response: Response, survey: Survey, scores: list[tuple[str, int]], **kwargs: Any
) -> None:
    if detractor_scores(survey, scores):
        from feedback.tasks import case_from_response

        case_from_response.delay(response.pk)


def case_from_response(response_id: int) -> str:
    """Open the case for a detractor response; running it again, or for a satisfied answer, does nothing."""
    from feedback import workflow

    response = Response.objects.select_related("survey", "survey__owner", "customer").get(pk=response_id)
    if ComplaintCase.objects.filter(response=response).exists():
        return "exists"
    answers = list(response.answers.select_related("question").order_by("question__position"))
    scores = [
        (a.question.kind, a.number)
        for a in answers
        if a.number is not None and a.question.kind in (QuestionKind.NPS, QuestionKind.CSAT, QuestionKind.CES)
    ]
    bad = detractor_scores(response.survey, scores)
    if not bad:
        return "not-a-detractor"
    comments = [a.text for a in answers if a.text]
    with translation.override(settings.LANGUAGE_CODE):
        summary = _("%(measure)s score %(score)s in the survey “%(survey)s”.") % {
            "measure": bad[0][0].upper(),
            "score": bad[0][1],
            "survey": response.survey.title(settings.LANGUAGE_CODE),
        }
        customer_said = _("The customer wrote:") if comments else _("The customer left no comment.")
    description = "\n\n".join([summary, customer_said, *comments])
    customer = response.customer
    try:
        with transaction.atomic():
            workflow.case_create(
                channel=Channel.SURVEY,
                description=description,
                customer=customer,
                contact_name="" if customer else "—",
                language=response.language,
                assignee=response.survey.owner,
                response=response,
            )
    except IntegrityError:
        # Another worker opened it between our check and our insert: the unique link to the response held.
        return "exists"
    return "created"
