"""What feedback adds to customers: their complaints on the customer page, and erasure of contact details."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Q
from django.dispatch import receiver
from django.utils import translation
from django.utils.translation import gettext as _

from audit.trail import audit_append, audit_entry_for, audit_snapshot
from customers.models import Customer
from customers.services import ErasedData, customer_erased, customer_panels
from feedback.models import CaseEvent, ComplaintCase, CorrectiveAction
from outbox.dispatch import outbox_redact
from surveys.models import Response
from surveys.public import contact_confirmed


def complaints_panel(customer: Customer) -> dict[str, Any] | None:
    cases = list(customer.cases.select_related("category").order_by("-received_at")[:50])
    return {"template": "feedback/includes/customer_cases.html", "cases": cases}


# Free-text fields of a case (and of its history rows) that can quote the customer.
TEXT_FIELDS = ("description", "remedy_sought", "resolution")
CONTACT = {"contact_name": "", "contact_email": "", "contact_phone": ""}


@receiver(customer_erased, dispatch_uid="feedback.erase_contact_details")
def erase_contact_details(sender: Any, customer: Customer, data: ErasedData | None = None, **kwargs: Any) -> None:
    """The complaint stays as a quality record; who made it, and what they wrote in their answers, do not.

    Their cases (linked, or logged with their address) lose the contact details; every copy of their answers,
    name, address and phone is replaced in the case text, the timeline (notes, messages, email log lines) and the
    field-by-field history kept by django-simple-history, which would otherwise show the old values to staff. The
    audit trail records the removal (as digests)."""
    cases = ComplaintCase.objects.filter(customer=customer)
    if data is not None and data.email:
        cases = cases | ComplaintCase.objects.filter(contact_email__iexact=data.email)
    ids = list(cases.values_list("pk", flat=True))
    before = {case.pk: audit_snapshot(case) for case in ComplaintCase.objects.filter(pk__in=ids)}
    ComplaintCase.objects.filter(pk__in=ids).update(**CONTACT)
    if data is not None and ids:
        _redact_cases(ids, data)
    after = ComplaintCase.objects.filter(pk__in=ids)
    audit_append([e for e in (audit_entry_for(c, action="erase", before=before[c.pk]) for c in after) if e])
    if data is not None:
        _redact_outbox(ids, data)


def _redact_outbox(ids: list[int], data: ErasedData) -> None:
    """The emails queued about these cases (a message written before its text stayed out of the queue), and any
    row whose last error quotes the customer's address (a mail server's refusal)."""
    with translation.override(settings.LANGUAGE_CODE):
        marker = str(_("[erased]"))
    rows = Q(task__startswith="feedback.tasks.", args__0__in=ids)
    if data.email:
        rows |= Q(last_error__icontains=data.email)
    outbox_redact(rows, lambda text: data.redact(text, marker))


def _redact_cases(ids: list[int], data: ErasedData) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        marker = str(_("[erased]"))
    for case in ComplaintCase.objects.filter(pk__in=ids).only("pk", *TEXT_FIELDS):
        _redact_row(ComplaintCase.objects.filter(pk=case.pk), case, data, marker)
    for event in CaseEvent.objects.filter(case_id__in=ids).exclude(text="").only("pk", "text"):
        redacted = data.redact(event.text, marker)
        if redacted != event.text:
            CaseEvent.objects.filter(pk=event.pk).update(text=redacted)
    history = ComplaintCase.history.model
    history.objects.filter(id__in=ids).update(**CONTACT)
    for row in history.objects.filter(id__in=ids).only("history_id", *TEXT_FIELDS):
        _redact_row(history.objects.filter(history_id=row.history_id), row, data, marker)
    # A corrective action raised from one of these cases starts with the case's words (its title and
    # nonconformity are pre-filled from the description).
    actions = list(CorrectiveAction.objects.filter(cases__in=ids).distinct().values_list("pk", flat=True))
    before = {action.pk: audit_snapshot(action) for action in CorrectiveAction.objects.filter(pk__in=actions)}
    for action in CorrectiveAction.objects.filter(pk__in=actions).only("pk", *ACTION_TEXT):
        _redact_row(CorrectiveAction.objects.filter(pk=action.pk), action, data, marker, ACTION_TEXT)
    # The redaction is a change of the action's audited text, on the trail (as digests) like the cases' erasure:
    # without it audit_verify reported every such action as changed outside the trail after a lawful erasure.
    entries = (
        audit_entry_for(a, action="erase", before=before[a.pk]) for a in CorrectiveAction.objects.filter(pk__in=actions)
    )
    audit_append([e for e in entries if e is not None and e.changes])
    action_history = CorrectiveAction.history.model
    for row in action_history.objects.filter(id__in=actions).only("history_id", *ACTION_TEXT):
        _redact_row(action_history.objects.filter(history_id=row.history_id), row, data, marker, ACTION_TEXT)


ACTION_TEXT = ("title", "nonconformity", "containment", "decision_reason", "root_cause", "root_cause_analysis")


def _redact_value(value: Any, data: ErasedData, marker: str) -> Any:
    """Text redacted; a structure (the root-cause analysis: whys, causes, 8D texts) redacted in each of its texts."""
    if isinstance(value, dict):
        return {key: _redact_value(item, data, marker) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact_value(item, data, marker) for item in value]
    return data.redact(value, marker) if isinstance(value, str) else value


def _redact_row(queryset: Any, row: Any, data: ErasedData, marker: str, fields: tuple[str, ...] = TEXT_FIELDS) -> None:
    changed = {}
    for name in fields:
        value = getattr(row, name)
        redacted = _redact_value(value, data, marker)
        if redacted != value:
            changed[name] = redacted
    if changed:
        queryset.update(**changed)


@receiver(contact_confirmed, dispatch_uid="feedback.link_confirmed_contact")
def link_confirmed_contact(sender: Any, response: Response, customer: Customer, **kwargs: Any) -> None:
    from feedback import workflow

    case = ComplaintCase.objects.filter(response=response).first()
    if case is not None:
        workflow.case_link_customer(case=case, customer=customer)


customer_panels.append(complaints_panel)
