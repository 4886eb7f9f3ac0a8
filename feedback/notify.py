"""Emails about complaint cases, each in its reader's language. Called by tasks (feedback/tasks.py) after commit."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from accounts.roles import quality_manager_addresses, top_management_addresses
from audit.trail import audit_record, audit_stored
from customers.services import customer_for_email
from feedback import workflow
from feedback.models import CaseEvent, CaseStatus, ComplaintCase, ComplaintSettings
from surveys import building
from surveys.invitations import invitation_create, invitation_email_now
from surveys.models import Invitation, Survey

TRACK_SALT = "feedback.case-track"


def tracking_token(case: ComplaintCase) -> str:
    # Signed, not stored: nobody can forge one for another case. The signature carries its time (signing.dumps), so
    # each email's link differs; every one of them keeps working.
    return signing.dumps(case.pk, salt=TRACK_SALT)


def case_for_tracking_token(token: str) -> ComplaintCase | None:
    try:
        pk = signing.loads(token, salt=TRACK_SALT)
    except signing.BadSignature:
        return None
    return ComplaintCase.objects.filter(pk=pk).select_related("category").first()


def tracking_link(case: ComplaintCase) -> str:
    return settings.SITE_URL + reverse("case_track", args=[tracking_token(case)])


def _one_line(text: str) -> str:
    return " ".join(text.split())


# RFC 3834: a message the system writes on its own (not a person's words) says so, so that holiday auto-replies
# and ticket systems do not answer it.
AUTOMATIC = {"Auto-Submitted": "auto-generated"}


def _send(template: str, context: dict, language: str, to: list[str], connection: Any = None) -> None:
    with translation.override(language):
        subject = _one_line(render_to_string(f"feedback/email/{template}_subject.txt", context))
        body = render_to_string(f"feedback/email/{template}.txt", context)
    # A staff member's message to the customer is their words; every other email here is written by the system.
    headers = {} if template == "message" else AUTOMATIC
    EmailMessage(subject, body, None, to, headers=headers, connection=connection).send()


def _record(case: ComplaintCase, text: str) -> None:
    CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.EMAIL, text=text)


def _customer_context(case: ComplaintCase) -> dict:
    return {
        "case": case,
        "name": case.customer.name if case.customer_id else case.contact_name,
        "organisation": settings.ORGANISATION_NAME,
        "link": tracking_link(case),
    }


def send_acknowledgement(case_id: int) -> str:
    return send_acknowledgements([case_id])[case_id]


def send_acknowledgements(case_ids: list[int]) -> dict[int, str]:
    """The acknowledgement of each case, once, over one connection to the mail server: "sent", "already-sent" or
    "no-address" per case. Each email's record is written as soon as the server took it, so a worker dying in the
    middle re-sends at most the one in flight; the cases' acknowledged state is then set together (a re-run sets it
    for cases whose email went out before the crash). A failure of one email does not stop the others: they are all
    tried, then the first failure is raised, so the outbox runs the batch again later (sent ones are skipped)."""
    cases = ComplaintCase.objects.select_related("customer").in_bulk(case_ids)
    missing = [pk for pk in case_ids if pk not in cases]
    if missing:
        raise ComplaintCase.DoesNotExist(f"no complaint case {missing}")
    done = set(
        CaseEvent.objects.filter(
            case_id__in=case_ids, kind=CaseEvent.Kind.EMAIL, text__startswith="acknowledgement"
        ).values_list("case_id", flat=True)
    )
    outcome: dict[int, str] = {}
    failure: Exception | None = None
    with get_connection() as connection:
        for pk, case in cases.items():
            if not case.email:
                outcome[pk] = "no-address"
                continue
            if pk in done:
                outcome[pk] = "already-sent"
                continue
            try:
                _send("acknowledgement", _customer_context(case), case.language, [case.email], connection)
            except Exception as error:  # noqa: BLE001 - the others are still tried; raised below
                failure = failure or error
                continue
            _record(case, f"acknowledgement → {case.email}")
            outcome[pk] = "sent"
    workflow.cases_acknowledgement_sent(case_ids=[pk for pk, state in outcome.items() if state != "no-address"])
    if failure is not None:
        raise failure
    return outcome


def send_customer_message(case_id: int, text: str, message_id: int | None = None) -> str:
    """Email one message staff wrote to the customer (the MESSAGE event `message_id`), once.

    The email's record names the message ("message #12 → …"), and the message's row is locked while it is sent, so
    a re-run of the same outbox row or a duplicate task finds it sent and sends nothing. Only a worker dying between
    the server's 250 and the commit of the record can send it twice (one duplicate, never a loss: the outbox row
    runs again). Rows written before messages carried their id name the newest message of the case with that text.
    """
    case = ComplaintCase.objects.select_related("customer").get(pk=case_id)
    if not case.email:
        return "no-address"
    messages = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.MESSAGE)
    with transaction.atomic():
        if message_id is None:
            message_id = messages.filter(text=text).order_by("-pk").values_list("pk", flat=True).first()
        message = messages.select_for_update().filter(pk=message_id).first()
        if message is None:
            return "no-message"
        marker = f"message #{message.pk} → "
        if case.events.filter(kind=CaseEvent.Kind.EMAIL, text__startswith=marker).exists():
            return "already-sent"
        _send("message", {**_customer_context(case), "message": message.text}, case.language, [case.email])
        _record(case, marker + case.email)
    return "sent"


def send_recourse(case_id: int) -> str:
    """The recourse open to a customer who does not accept the decision, in their language; sent once."""
    case = ComplaintCase.objects.select_related("customer").get(pk=case_id)
    if not case.email:
        return "no-address"
    if case.events.filter(kind=CaseEvent.Kind.EMAIL, text__startswith="recourse").exists():
        return "already-sent"
    _send("recourse", _customer_context(case), case.language, [case.email])
    _record(case, f"recourse → {case.email}")
    return "sent"


def escalation_addresses(case: ComplaintCase, level: int) -> list[str]:
    """Level 1 the assignee (the quality managers when nobody is assigned), 2 the quality managers, 3 top management."""
    if level >= 3:
        return top_management_addresses()
    assignee = case.assignee.email if case.assignee_id and case.assignee.email else ""
    if level == 1 and assignee:
        return [assignee]
    return quality_manager_addresses(also=case.assignee_id)


def send_escalation(case_id: int, level: int = 2) -> str:
    """One level's email, in the site's language; a retried task does not send the same level twice."""
    case = ComplaintCase.objects.select_related("assignee").get(pk=case_id)
    addresses = escalation_addresses(case, level)
    if not addresses:
        return "nobody"
    marker = f"escalation {level} "
    sent = case.events.filter(kind=CaseEvent.Kind.EMAIL, text__startswith=marker)
    # Once per handling round: a reopened case climbs the levels again (workflow._restart_clock).
    reopened = case.events.filter(kind=CaseEvent.Kind.STATUS, to_status=CaseStatus.REOPENED).order_by("-pk").first()
    if reopened is not None:
        sent = sent.filter(pk__gt=reopened.pk)
    if sent.exists():
        return "already-sent"
    context = {"case": case, "level": level, "link": settings.SITE_URL + reverse("case_detail", args=[case.reference])}
    _send("escalation", context, settings.LANGUAGE_CODE, addresses)
    _record(case, marker + "→ " + ", ".join(addresses))
    return "sent"


HANDLING = {
    "title_en": "How did we handle your complaint?",
    "title_vi": "Chúng tôi đã xử lý khiếu nại của bạn thế nào?",
}


def handling_survey(owner) -> Survey:  # type: ignore[no-untyped-def]
    """The short CSAT survey about complaint handling, made on first use; quality managers may edit it."""
    config = ComplaintSettings.load()
    survey = config.handling_survey
    if survey is None or survey.status != Survey.Status.ACTIVE:
        survey = building.survey_create(owner=owner, kind="csat", **HANDLING)
        # Its answers are about our complaint handling: they must not open complaints of their own.
        building.survey_update(survey=survey, closed_loop=False)
        building.survey_activate(survey=survey)
        config.handling_survey = survey
        config.save(update_fields=["handling_survey"])
    return survey


def send_handling_survey(case_id: int, actor_id: int) -> str:
    """Invite the customer of a closed case to the handling survey, and link the invitation to the case (its answer
    is then read per category and handler: reports/handling.py). One transaction: the link, the trail entry, the
    timeline line and the outbox row that sends the email commit together or not at all."""
    with transaction.atomic():
        # of=self: PostgreSQL locks no row of the nullable customer join.
        case = ComplaintCase.objects.select_for_update(of=("self",)).select_related("customer").get(pk=case_id)
        if not case.email:
            return "no-address"
        if (
            case.handling_invitation_id
            or case.events.filter(kind=CaseEvent.Kind.EMAIL, text__startswith="handling survey").exists()
        ):
            return "already-sent"
        customer = case.customer
        if customer is None:
            customer = customer_for_email(
                email=case.contact_email, name=case.contact_name, language=case.language, phone=case.contact_phone
            )
        owner = get_user_model().objects.get(pk=actor_id)
        invitation, _token = invitation_create(
            survey=handling_survey(owner), customer=customer, created_by=owner, channel=Invitation.Channel.EMAIL
        )
        before = audit_stored(case)
        case.handling_invitation = invitation
        case.save(update_fields=["handling_invitation"])
        audit_record(case, action="handling_survey", before=before)
        invitation_email_now(invitation=invitation)
        _record(case, f"handling survey → {customer.email}")
    return "sent"
