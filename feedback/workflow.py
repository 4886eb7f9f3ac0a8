"""The complaint-case workflow (ISO 10002): every change to a case goes through a function here.

Statuses move only along TRANSITIONS; each change is written to the case's timeline with who and when; time limits
come from the TimeLimit table per severity, in working hours on the business calendar (schedule.py); overdue cases
climb the escalation levels, each once. Emails leave through tasks enqueued when the transaction commits.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from audit.trail import audit_append, audit_digest, audit_entry_for, audit_record, audit_snapshot, audit_stored
from customers.models import Customer
from feedback import schedule
from feedback.calendar import WorkCalendar
from feedback.models import (
    CaseEvent,
    CaseStatus,
    Category,
    Channel,
    ComplaintCase,
    ComplaintSettings,
    EscalationLevel,
    Impact,
    Priority,
    ReferenceCounter,
    Severity,
    TimeLimit,
)
from feedback.signals import case_statuses_changed
from outbox.dispatch import outbox_add, outbox_add_many
from surveys.models import Response

S = CaseStatus
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.RECEIVED: (S.ACKNOWLEDGED, S.REJECTED),
    S.ACKNOWLEDGED: (S.INVESTIGATING, S.REJECTED),
    S.INVESTIGATING: (S.RESPONDED, S.REJECTED),
    S.RESPONDED: (S.CLOSED, S.INVESTIGATING),
    S.CLOSED: (S.REOPENED,),
    S.REJECTED: (S.REOPENED,),
    S.REOPENED: (S.INVESTIGATING,),
}
OPEN_STATUSES = (S.RECEIVED, S.ACKNOWLEDGED, S.INVESTIGATING, S.RESPONDED, S.REOPENED)
# A decision is communicated to the customer with these steps, so they need a message.
NEEDS_MESSAGE = (S.RESPONDED, S.REJECTED)

# Acknowledgements of cases opened together, per outbox row (one task, one connection to the mail server).
ACKNOWLEDGEMENT_BATCH = 50
# Used when the TimeLimit row of a severity is missing; the migration seeds the same values.
DEFAULT_LIMITS = {"low": (48, 240, 720), "medium": (24, 120, 480), "high": (8, 48, 240), "critical": (2, 24, 120)}

_PRIORITY = {
    (Severity.CRITICAL, Impact.ONE): Priority.P1,
    (Severity.CRITICAL, Impact.SEVERAL): Priority.P1,
    (Severity.CRITICAL, Impact.MANY): Priority.P1,
    (Severity.HIGH, Impact.ONE): Priority.P2,
    (Severity.HIGH, Impact.SEVERAL): Priority.P1,
    (Severity.HIGH, Impact.MANY): Priority.P1,
    (Severity.MEDIUM, Impact.ONE): Priority.P3,
    (Severity.MEDIUM, Impact.SEVERAL): Priority.P2,
    (Severity.MEDIUM, Impact.MANY): Priority.P2,
    (Severity.LOW, Impact.ONE): Priority.P4,
    (Severity.LOW, Impact.SEVERAL): Priority.P3,
    (Severity.LOW, Impact.MANY): Priority.P3,
}


def priority_for(severity: str, impact: str) -> str:
    """Priority from severity and impact: a severe problem, or one that hits many customers, comes first."""
    return _PRIORITY[(Severity(severity), Impact(impact))]


def next_reference(prefix: str, when: datetime | None = None) -> str:
    """CMP-2026-000123: a per-year sequence, safe under concurrent creation (the counter row is locked)."""
    return next_references(prefix, 1, when)[0]


def next_references(prefix: str, count: int, when: datetime | None = None) -> list[str]:
    """`count` consecutive references of the year, taken with one lock of the counter row."""
    year = timezone.localtime(when or timezone.now()).year
    with transaction.atomic():
        ReferenceCounter.objects.get_or_create(prefix=prefix, year=year)
        counter = ReferenceCounter.objects.select_for_update().get(prefix=prefix, year=year)
        first = counter.last + 1
        counter.last += count
        counter.save(update_fields=["last"])
    width = 6 if prefix == "CMP" else 4
    return [f"{prefix}-{year}-{number:0{width}d}" for number in range(first, counter.last + 1)]


def time_limits(severity: str) -> tuple[int, int, int]:
    row = TimeLimit.objects.filter(severity=severity).first()
    if row is None:
        return DEFAULT_LIMITS[severity]
    return row.acknowledge_hours, row.respond_hours, row.close_hours


def _set_due_dates(
    case: ComplaintCase, calendar: WorkCalendar | None = None, limits: dict[str, tuple[int, int, int]] | None = None
) -> None:
    # Limits are working hours on the business calendar: a case received at 17:55 before a holiday starts its
    # clock on the next working morning. Many cases made together share one read of the limits and the calendar.
    limits = {} if limits is None else limits
    if case.severity not in limits:
        limits[case.severity] = time_limits(case.severity)
    ack, respond, close = limits[case.severity]
    calendar = calendar or schedule.business_calendar()
    case.acknowledge_due = schedule.due_after(case.received_at, ack, calendar)
    case.respond_due = schedule.due_after(case.received_at, respond, calendar)
    case.close_due = schedule.due_after(case.received_at, close, calendar)


def _event(case: ComplaintCase, kind: str, actor: AbstractBaseUser | None, text: str = "", **extra: Any) -> CaseEvent:
    event = CaseEvent.objects.create(case=case, kind=kind, actor=actor, text=text, at=timezone.now(), **extra)
    if kind in (CaseEvent.Kind.CREATED, CaseEvent.Kind.STATUS):
        _statuses_changed([(case, event)])
    return event


def _after_commit(task_name: str, *args: Any) -> None:
    # An outbox row in the case's own transaction: the email exists exactly when the change does, and reaches a
    # worker whatever happens to Redis or a worker meanwhile (outbox/dispatch.py). No broker call here.
    outbox_add(task=f"feedback.tasks.{task_name}", args=list(args))


def _new_case(
    *,
    channel: str,
    description: str,
    actor: AbstractBaseUser | None = None,
    customer: Customer | None = None,
    contact_name: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    language: str = "vi",
    product: str = "",
    remedy_sought: str = "",
    category: Category | None = None,
    severity: str = Severity.MEDIUM,
    impact: str = Impact.ONE,
    assignee: AbstractBaseUser | None = None,
    response: Response | None = None,
    now: datetime,
    calendar: WorkCalendar | None = None,
    limits: dict[str, tuple[int, int, int]] | None = None,
) -> ComplaintCase:
    """An unsaved, validated case with its priority and time limits; the reference is given when it is stored."""
    if customer is None and not (contact_name.strip() or contact_email.strip() or contact_phone.strip()):
        raise ValidationError({"contact_name": _("Give the customer, or at least one way to reach them.")})
    case = ComplaintCase(
        reference="pending",
        channel=channel,
        customer=customer,
        contact_name=contact_name.strip(),
        contact_email=contact_email.strip(),
        contact_phone=contact_phone.strip(),
        language=customer.language if customer is not None else language,
        product=product.strip(),
        description=description.strip(),
        remedy_sought=remedy_sought.strip(),
        category=category,
        severity=severity,
        impact=impact,
        priority=priority_for(severity, impact),
        assignee=assignee,
        created_by=actor if actor is not None and actor.is_authenticated else None,
        response=response,
        received_at=now,
    )
    _set_due_dates(case, calendar, limits)
    # Field checks only: the database holds the unique reference and the one case per response.
    case.full_clean(
        exclude=["reference", "response", "customer", "assignee", "created_by", "category"],
        validate_unique=False,
        validate_constraints=False,
    )
    return case


@transaction.atomic
def case_create(*, acknowledge: bool = True, **fields: Any) -> ComplaintCase:
    """Log a complaint (the fields of `_new_case`). The customer, when their email is known, gets an
    acknowledgement with a tracking link, unless `acknowledge` is False (the public form's limit per mailbox)."""
    return case_create_many([fields], acknowledge=acknowledge)[0]


@transaction.atomic
def case_create_many(drafts: list[dict[str, Any]], *, acknowledge: bool = True) -> list[ComplaintCase]:
    """Log several complaints at once (the closed loop's sweep opens a batch of detractors' cases): the same rows as
    one `case_create` each (the case, its history row, its audit entry, its timeline lines, its acknowledgement in
    the outbox), written with one statement per table instead of a dozen per case. A draft that does not validate
    raises before anything is written."""
    if not drafts:
        return []
    now = timezone.now()
    calendar, limits = schedule.business_calendar(), {}
    cases = [_new_case(**draft, now=now, calendar=calendar, limits=limits) for draft in drafts]
    for case, reference in zip(cases, next_references("CMP", len(cases), now), strict=True):
        case.reference = reference
    bulk_create_with_history(cases, ComplaintCase, default_date=now)
    audit_append([audit_entry_for(case, action="create", actor=case.created_by) for case in cases])
    # The channel's code, not its label: the timeline draws it in the reader's language.
    created = [
        CaseEvent(case=c, kind=CaseEvent.Kind.CREATED, actor=c.created_by, text=Channel(c.channel).value,
                  to_status=S.RECEIVED, at=now)
        for c in cases
    ]  # fmt: skip
    assigned = [
        CaseEvent(case=c, kind=CaseEvent.Kind.ASSIGNED, actor=c.created_by, text=_display_user(c.assignee), at=now)
        for c in cases
        if c.assignee is not None
    ]
    CaseEvent.objects.bulk_create([*created, *assigned])
    _statuses_changed(list(zip(cases, created, strict=True)))
    emailed = [c.pk for c in cases if c.email] if acknowledge else []
    if len(cases) == 1:
        outbox_add_many(task="feedback.tasks.send_acknowledgement", calls=[[pk] for pk in emailed])
    else:  # a few rows of many: each sent over one connection to the mail server (notify.send_acknowledgements)
        chunks = [emailed[i : i + ACKNOWLEDGEMENT_BATCH] for i in range(0, len(emailed), ACKNOWLEDGEMENT_BATCH)]
        outbox_add_many(task="feedback.tasks.send_acknowledgements", calls=[[chunk] for chunk in chunks])
    return cases


@transaction.atomic
def case_link_customer(*, case: ComplaintCase, customer: Customer) -> bool:
    """A case opened from an anonymous answer whose author has since proved their address (surveys/public.py)."""
    case = ComplaintCase.objects.select_for_update().get(pk=case.pk)
    if case.customer_id is not None:
        return False
    case.customer, case.language = customer, customer.language
    case.save(update_fields=["customer", "language"])
    with translation.override(settings.LANGUAGE_CODE):
        _event(case, CaseEvent.Kind.EDITED, None, text=_("The customer confirmed their email address."))
    if case.email and case.status in OPEN_STATUSES:
        _after_commit("send_acknowledgement", case.pk)
    return True


def _display_user(user: AbstractBaseUser | None) -> str:
    if user is None:
        return _("nobody")
    return user.get_full_name() or user.get_username()


def _ensure_open(case: ComplaintCase) -> None:
    # A closed or rejected case is a record of what was decided: it changes only after an explicit reopen.
    if ComplaintCase.objects.filter(pk=case.pk, status__in=(S.CLOSED, S.REJECTED)).exists():
        raise ValidationError(_("This case is closed: reopen it, with the reason, before changing it."))


def allowed_transitions(case: ComplaintCase) -> tuple[str, ...]:
    return TRANSITIONS.get(case.status, ())


@transaction.atomic
def case_transition(
    *,
    case: ComplaintCase,
    to_status: str,
    actor: AbstractBaseUser,
    note: str = "",
    message: str = "",
    resolution: str = "",
    customer_accepted: bool | None = None,
) -> ComplaintCase:
    """Move a case along the workflow; refuse anything TRANSITIONS does not allow."""
    case = ComplaintCase.objects.select_for_update().get(pk=case.pk)
    if to_status not in allowed_transitions(case):
        raise ValidationError(
            _("A case that is “%(current)s” cannot become “%(target)s”.")
            % {"current": case.get_status_display(), "target": CaseStatus(to_status).label}
        )
    message, note = message.strip(), note.strip()
    if to_status == S.REOPENED and not note:
        raise ValidationError({"note": _("Say why the case is reopened: the reason is kept on its timeline.")})
    before = audit_stored(case)
    if to_status in NEEDS_MESSAGE and not message:
        raise ValidationError({"message": _("Write the decision for the customer: it is sent to them and kept.")})
    if to_status == S.CLOSED:
        if customer_accepted is None:
            raise ValidationError({"customer_accepted": _("Record whether the customer accepted the resolution.")})
        case.customer_accepted = customer_accepted
    # The resolution is usually decided when the case is answered, not when it is closed: keep it whenever given.
    if resolution.strip() and to_status in (S.RESPONDED, S.REJECTED, S.CLOSED):
        case.resolution = resolution.strip()
    now = timezone.now()
    previous = case.status
    case.status = to_status
    if to_status == S.ACKNOWLEDGED:
        case.acknowledged_at = now
    elif to_status in NEEDS_MESSAGE:
        case.responded_at = now
    elif to_status == S.CLOSED:
        case.closed_at = now
    elif to_status == S.REOPENED:
        case.closed_at = None
        case.customer_accepted = None
        _restart_clock(case, now)
    if to_status in (S.CLOSED, S.REJECTED) and case.acknowledged_at is None:
        case.acknowledged_at = now
    case.save()
    _event(case, CaseEvent.Kind.STATUS, actor, text=note, from_status=previous, to_status=to_status)
    audit_record(case, action="reopen" if to_status == S.REOPENED else "transition", before=before, actor=actor,
                 reason=note)  # fmt: skip
    if message:
        _record_message(case, actor, message)
    if to_status == S.CLOSED:
        _after_commit("send_handling_survey", case.pk, actor.pk)
    return case


def _restart_clock(case: ComplaintCase, now: datetime) -> None:
    # A reopened complaint is handled again (ISO 10002 8.3: a defined time to respond at each handling): its
    # respond and close limits run anew from the reopening, in working hours of its severity. Kept from the first
    # receipt, they had passed long ago: the case showed "overdue" the moment it was reopened and the next sweep
    # sent every escalation level at once (or none, when all were used in the first round). The levels start again.
    _ack, respond, close = time_limits(case.severity)
    calendar = schedule.business_calendar()
    case.respond_due = schedule.due_after(now, respond, calendar)
    case.close_due = schedule.due_after(now, close, calendar)
    case.escalation_level = EscalationLevel.NONE


@transaction.atomic
def case_acknowledgement_sent(*, case_id: int) -> bool:
    """The automatic acknowledgement reached the mail server: that is the acknowledgement ISO 10002 asks for, so
    the acknowledgement clock stops here (the case must not later escalate as "acknowledgement overdue")."""
    return bool(cases_acknowledgement_sent(case_ids=[case_id]))


@transaction.atomic
def cases_acknowledgement_sent(*, case_ids: list[int]) -> int:
    """`case_acknowledgement_sent` for many cases at once (an acknowledgement batch); returns how many changed."""
    now = timezone.now()
    cases = list(
        ComplaintCase.objects.select_for_update(of=("self",))
        .select_related("customer", "category")
        .filter(pk__in=case_ids, acknowledged_at__isnull=True)
        .order_by("pk")
    )
    if not cases:
        return 0
    entries, moved = [], []
    for case in cases:
        before = audit_snapshot(case)
        case.acknowledged_at, previous = now, case.status
        if previous == S.RECEIVED:
            case.status = S.ACKNOWLEDGED
            moved.append((case, CaseEvent(case=case, kind=CaseEvent.Kind.STATUS, from_status=previous,
                                          to_status=case.status, at=now)))  # fmt: skip
        sent = {"email": "sent"}
        entries.append(audit_entry_for(case, action="acknowledge", before=before, actor=None, via="task", context=sent))
    bulk_update_with_history(cases, ComplaintCase, ["acknowledged_at", "status"], default_date=now)
    CaseEvent.objects.bulk_create([event for _case, event in moved])
    _statuses_changed([(case, event) for case, event in moved])
    audit_append([e for e in entries if e is not None])
    return len(cases)


def _statuses_changed(changes: list[tuple[ComplaintCase, CaseEvent]]) -> None:
    """Tell listeners (webhooks) of cases opened or moved, by their saved timeline lines, in one signal."""
    if changes:
        case_statuses_changed.send(
            sender=ComplaintCase, changes=[(c, e.from_status, e.to_status, e.pk) for c, e in changes]
        )


def _record_message(case: ComplaintCase, actor: AbstractBaseUser, text: str) -> None:
    message = _event(case, CaseEvent.Kind.MESSAGE, actor, text=text)
    if case.email:
        # The message's own event id: a re-run of this row (or a duplicate task) finds it emailed and sends nothing.
        # The task reads the text from the timeline by that id: the queue keeps no copy of it (an erasure redacts
        # the timeline; rows are kept for OUTBOX_KEEP_DAYS).
        _after_commit("send_customer_message", case.pk, "", message.pk)


@transaction.atomic
def case_message_customer(*, case: ComplaintCase, actor: AbstractBaseUser, text: str) -> None:
    if not text.strip():
        raise ValidationError({"text": _("Write the message.")})
    if not case.email:
        raise ValidationError(
            {"text": _("We have no email address for this customer: tell them by phone and record an internal note.")}
        )
    _record_message(case, actor, text.strip())
    audit_record(case, action="message", actor=actor, extra={"message": [None, audit_digest(text.strip())]})


@transaction.atomic
def case_add_note(*, case: ComplaintCase, actor: AbstractBaseUser, text: str) -> None:
    if not text.strip():
        raise ValidationError({"text": _("Write the note.")})
    _event(case, CaseEvent.Kind.NOTE, actor, text=text.strip())
    audit_record(case, action="note", actor=actor, extra={"note": [None, audit_digest(text.strip())]})


@transaction.atomic
def case_assign(*, case: ComplaintCase, assignee: AbstractBaseUser | None, actor: AbstractBaseUser) -> None:
    _ensure_open(case)
    if case.assignee_id == (assignee.pk if assignee else None):
        return
    before = audit_stored(case)
    case.assignee = assignee
    case.save(update_fields=["assignee"])
    _event(case, CaseEvent.Kind.ASSIGNED, actor, text=_display_user(assignee))
    audit_record(case, action="assign", before=before, actor=actor)


@transaction.atomic
def case_assess(
    *,
    case: ComplaintCase,
    actor: AbstractBaseUser,
    severity: str,
    impact: str,
    complexity: str,
    immediate_action_needed: bool,
    immediate_action: str = "",
) -> ComplaintCase:
    """Record the initial assessment (ISO 10002 8.4). A new severity re-prioritises the case and moves its limits."""
    _ensure_open(case)
    case = ComplaintCase.objects.select_for_update().get(pk=case.pk)
    immediate_action = immediate_action.strip()
    if immediate_action_needed and not immediate_action:
        raise ValidationError({"immediate_action": _("Say what is done at once: it is kept on the case.")})
    before = audit_stored(case)
    limits_move = severity != case.severity
    case.severity, case.impact, case.complexity = severity, impact, complexity
    case.immediate_action_needed = immediate_action_needed
    case.immediate_action = immediate_action if immediate_action_needed else ""
    case.priority = priority_for(severity, impact)
    if limits_move:
        _set_due_dates(case)
    case.assessed_by, case.assessed_at = actor, timezone.now()
    case.full_clean(exclude=["response", "customer", "assignee", "created_by", "category", "assessed_by"])
    case.save()
    lines = [
        f"{_('Severity')}: {case.get_severity_display()}",
        f"{_('Impact')}: {case.get_impact_display()}",
        f"{_('Complexity')}: {case.get_complexity_display()}",
        f"{_('Immediate action')}: {case.immediate_action or _('none needed')}",
    ]
    _event(case, CaseEvent.Kind.ASSESSED, actor, text="\n".join(lines))
    audit_record(case, action="assess", before=before, actor=actor)
    return case


@transaction.atomic
def case_record_non_acceptance(*, case: ComplaintCase, actor: AbstractBaseUser, reason: str) -> ComplaintCase:
    """The customer does not accept the decision (ISO 10002 8.6): record why, keep the case open for an internal
    review, and tell the customer, in their language, of the recourse: internal review, then external dispute
    resolution (ISO 10003)."""
    case = ComplaintCase.objects.select_for_update().get(pk=case.pk)
    if case.status != S.RESPONDED:
        raise ValidationError(_("Only a decision sent to the customer can be refused by them."))
    if not reason.strip():
        raise ValidationError({"reason": _("Write what the customer said: it is kept on the case.")})
    before = audit_stored(case)
    case.customer_accepted = False
    case.non_acceptance_reason = reason.strip()
    case.recourse_offered_at = timezone.now()
    case.save(update_fields=["customer_accepted", "non_acceptance_reason", "recourse_offered_at"])
    _event(case, CaseEvent.Kind.NOT_ACCEPTED, actor, text=reason.strip())
    audit_record(case, action="not_accepted", before=before, actor=actor)
    if case.email:
        _after_commit("send_recourse", case.pk)
    return case


EDITABLE = (
    "product",
    "description",
    "remedy_sought",
    "category",
    "severity",
    "impact",
    "contact_name",
    "contact_email",
    "contact_phone",
    "language",
)


class EditConflict(ValidationError):
    """The case's details changed after the edit form was opened."""


def case_edit_stamp(case: ComplaintCase) -> str:
    """A digest of the details the edit form shows, as they are now: the form carries the one it was opened with, so
    a save made on top of a colleague's (two people editing the same case) is noticed instead of undoing theirs."""
    values = [str(getattr(case, "category_id" if name == "category" else name) or "") for name in EDITABLE]
    return hashlib.sha256("\x1f".join(values).encode()).hexdigest()[:32]


@transaction.atomic
def case_update(
    *, case: ComplaintCase, actor: AbstractBaseUser, expected: str | None = None, **fields: Any
) -> ComplaintCase:
    """Edit a case's details; every changed field is written to the timeline (and to the field history).

    `expected` is the `case_edit_stamp` the form was opened with: when the details have changed since, nothing is
    saved. The case is re-read under a lock, so a status or an assignee changed meanwhile is not written back."""
    _ensure_open(case)
    case = ComplaintCase.objects.select_for_update().get(pk=case.pk)
    if expected is not None and case_edit_stamp(case) != expected:
        raise EditConflict(
            _(
                "Someone else changed this case while you were editing it, so nothing was saved. Your text is kept "
                "below: check the case's timeline, then save again to record it."
            )
        )
    before = audit_stored(case)
    changes = []
    for name, value in fields.items():
        if name not in EDITABLE:
            # Bandit B608 reads "update ... set" in this message as SQL; it is an exception text.
            raise ValueError(f"case_update cannot set {name}")  # nosec B608
        old = getattr(case, name)
        if old != value:
            label = ComplaintCase._meta.get_field(name).verbose_name
            changes.append(f"{label}: {old or '—'} → {value or '—'}")
            setattr(case, name, value)
    if not changes:
        return case
    if "severity" in fields or "impact" in fields:
        case.priority = priority_for(case.severity, case.impact)
        _set_due_dates(case)
    case.full_clean(exclude=["response", "customer", "assignee", "created_by", "category"])
    case.save()
    _event(case, CaseEvent.Kind.EDITED, actor, text="\n".join(str(c) for c in changes))
    audit_record(case, action="update", before=before, actor=actor)
    return case


def overdue_q(now: datetime | None = None) -> Q:
    """Cases past a time limit for the step they are at."""
    now = now or timezone.now()
    return (
        Q(status=S.RECEIVED, acknowledged_at__isnull=True, acknowledge_due__lt=now)
        | Q(status__in=(S.RECEIVED, S.ACKNOWLEDGED, S.INVESTIGATING, S.REOPENED), respond_due__lt=now)
        | Q(status__in=OPEN_STATUSES, close_due__lt=now)
    )


def overdue_step(case: ComplaintCase, now: datetime | None = None) -> str | None:
    """Which time limit a case has missed ("acknowledge", "respond" or "close"), or None."""
    now = now or timezone.now()
    if case.status == S.RECEIVED and case.acknowledged_at is None and case.acknowledge_due < now:
        return "acknowledge"
    if case.status in (S.RECEIVED, S.ACKNOWLEDGED, S.INVESTIGATING, S.REOPENED) and case.respond_due < now:
        return "respond"
    if case.status in OPEN_STATUSES and case.close_due < now:
        return "close"
    return None


def cases_overdue_first(queryset: QuerySet[ComplaintCase], now: datetime | None = None) -> list[ComplaintCase]:
    cases = list(queryset)
    now = now or timezone.now()
    for case in cases:
        case.overdue_step = overdue_step(case, now)
    return sorted(cases, key=lambda c: (c.overdue_step is None, c.priority, c.received_at))


def escalation_target(case: ComplaintCase, now: datetime, config: ComplaintSettings, calendar: WorkCalendar) -> int:
    """The level an overdue case should have reached: 1 once past its limit, 2 and 3 at the configured overruns."""
    step = overdue_step(case, now)
    if step is None:
        return 0
    late = schedule.overrun(getattr(case, f"{step}_due"), now, calendar)
    if late >= timedelta(hours=config.escalate_top_after):
        return 3
    if late >= timedelta(hours=config.escalate_managers_after):
        return 2
    return 1


def case_escalate_overdue(now: datetime | None = None) -> int:
    """Escalate overdue cases level by level (assignee → quality managers → top management), each level once.

    A case whose sweep was missed for a while climbs every level it passed, in order, so nobody is skipped.
    Returns how many escalations were made.
    """
    now = now or timezone.now()
    config = ComplaintSettings.load()
    calendar = schedule.business_calendar()
    escalated = 0
    with transaction.atomic():
        overdue = (
            ComplaintCase.objects.select_for_update(skip_locked=True)
            .filter(overdue_q(now), escalation_level__lt=EscalationLevel.TOP_MANAGEMENT)
            .order_by("id")
        )
        for case in overdue:
            target = escalation_target(case, now, config, calendar)
            if target <= case.escalation_level:
                continue
            before = audit_stored(case)
            first, case.escalation_level = case.escalation_level + 1, target
            case.escalated_at = case.escalated_at or now
            case.save(update_fields=["escalated_at", "escalation_level"])
            audit_record(case, action="escalate", before=before, actor=None, via="task")
            step = overdue_step(case, now) or "close"
            for level in range(first, target + 1):
                _event(case, CaseEvent.Kind.ESCALATED, None, text=f"{step}:{level}")
                _after_commit("send_escalation", case.pk, level)
                escalated += 1
    return escalated
