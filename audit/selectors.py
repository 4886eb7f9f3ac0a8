"""Reading the audit trail: the entries of one record, filtered lists for the audit page, and readable values."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from audit.models import AuditEntry
from audit.trail import canonical_type, record_type, registered, type_names
from config.validators import parse_day

ACTIONS = {
    "create": pgettext_lazy("audit", "Created"),
    "update": pgettext_lazy("audit", "Changed"),
    "delete": pgettext_lazy("audit", "Removed"),
    "activate": pgettext_lazy("audit", "Activated"),
    "close": pgettext_lazy("audit", "Closed"),
    "new_version": pgettext_lazy("audit", "New version"),
    "transition": pgettext_lazy("audit", "Status changed"),
    "reopen": pgettext_lazy("audit", "Reopened"),
    "assign": pgettext_lazy("audit", "Assigned"),
    "note": pgettext_lazy("audit", "Internal note"),
    "message": pgettext_lazy("audit", "Message to the customer"),
    "escalate": pgettext_lazy("audit", "Escalated"),
    "containment": pgettext_lazy("audit", "Correction recorded"),
    "decision": pgettext_lazy("audit", "Decision recorded"),
    "root_cause": pgettext_lazy("audit", "Root cause recorded"),
    "status": pgettext_lazy("audit", "Status changed"),
    "review": pgettext_lazy("audit", "Effectiveness reviewed"),
    "opt_out": pgettext_lazy("audit", "Opted out"),
    "erase": pgettext_lazy("audit", "Personal data erased"),
    "renew_link": pgettext_lazy("audit", "New link"),
    "cancel": pgettext_lazy("audit", "Cancelled"),
    "sign": pgettext_lazy("audit", "Signed off"),
    "revoke": pgettext_lazy("audit", "Revoked"),
    "acknowledge": pgettext_lazy("audit", "Acknowledged"),
    "assess": pgettext_lazy("audit", "Assessed"),
    "not_accepted": pgettext_lazy("audit", "Decision not accepted"),
    "handling_survey": pgettext_lazy("audit", "Handling survey sent"),
    "upload": pgettext_lazy("audit", "Evidence uploaded"),
    "start": pgettext_lazy("audit", "Sending started"),
    "enable": pgettext_lazy("audit", "Enabled"),
    "disable": pgettext_lazy("audit", "Disabled"),
    "roll_secret": pgettext_lazy("audit", "Secret renewed"),
    "resend": pgettext_lazy("audit", "Sent again"),
    "link_customer": pgettext_lazy("audit", "Linked to a customer (email address confirmed)"),
}
# Words some services write as a change's value ("link": replaced → new), shown in the reader's language.
MARKERS = {
    "replaced": pgettext_lazy("audit", "replaced"),
    "new": pgettext_lazy("audit", "new"),
    "rolled": pgettext_lazy("audit", "renewed"),
}
VIA = {
    "web": pgettext_lazy("audit", "staff pages"),
    "admin": pgettext_lazy("audit", "admin"),
    "command": pgettext_lazy("audit", "command"),
    "task": pgettext_lazy("audit", "background task"),
    "import": pgettext_lazy("audit", "import"),
    "public": pgettext_lazy("audit", "public page"),
    "system": pgettext_lazy("audit", "system"),
    "api": pgettext_lazy("audit", "API"),
}


def action_label(action: str) -> str:
    return str(ACTIONS.get(action, action))


def type_label(kind: str) -> str:
    spec = registered().get(canonical_type(kind))
    return str(spec.model._meta.verbose_name) if spec else kind


def type_choices() -> list[tuple[str, str]]:
    return sorted(((kind, type_label(kind)) for kind in registered()), key=lambda c: c[1])


def field_label(kind: str, name: str) -> str:
    extra = {
        "note": _("internal note"),
        "message": _("message"),
        "answer_texts": _("free-text answers erased"),
        "link": _("link"),
        "snapshot_sha256": _("frozen figures (SHA-256)"),
        "invitations": _("invitations"),
        "created_by": _("created by"),
        "contact_claim": _("confirmed email address (claim no.)"),
    }
    if name in extra:
        return str(extra[name])
    field = _field(kind, name)
    if field is None:
        return name
    if field.is_relation and field.related_model is not None and field.verbose_name == name.replace("_", " "):
        # A link with no label of its own ("campaign", "customer"): the linked record's name, translated.
        return str(field.related_model._meta.verbose_name)
    return str(field.verbose_name)


def _field(kind: str, name: str) -> Any:
    spec = registered().get(canonical_type(kind))
    if spec is None:
        return None
    try:
        return spec.model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def readable(value: Any, field: Any = None) -> str:
    """A trail value for a person: personal data stays hidden, choices by their label, dates and times in local time
    as the reader's language writes them, lists joined. The stored value itself stays as it was written."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str) and value.startswith("hmac:"):
        return _("(personal data, not kept in the trail)")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(readable(v, field) for v in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {readable(v)}" for k, v in value.items())
    if field is not None and getattr(field, "choices", None) and not field.is_relation:
        # "investigating" → "Đang xem xét", as the case page's history shows the same change.
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, str) and len(value) >= 20 and value[4:5] == "-" and "T" in value:
        parsed = parse_datetime(value)
        if parsed is not None:
            return formats.date_format(timezone.localtime(parsed), "SHORT_DATETIME_FORMAT")
    if isinstance(value, str) and len(value) == 10 and value[4:5] == "-" and value[7:8] == "-":
        day = _date_or_none(value)
        if day is not None:
            return formats.date_format(day, "SHORT_DATE_FORMAT")
    return str(value)


def _date_or_none(value: str) -> date | None:
    try:
        return parse_date(value)
    except ValueError:
        return None


def _decorate(entry: AuditEntry) -> AuditEntry:
    entry.action_label = action_label(entry.action)  # type: ignore[attr-defined]
    entry.type_label = type_label(entry.record_type)  # type: ignore[attr-defined]
    entry.version = (entry.context or {}).get("version")  # type: ignore[attr-defined]
    entry.fields = [field_label(entry.record_type, name) for name in entry.changes]  # type: ignore[attr-defined]
    entry.via_label = str(VIA.get(entry.via, entry.via))  # type: ignore[attr-defined]
    return entry


def entries_for(instance: models.Model, limit: int = 100) -> list[AuditEntry]:
    """The newest entries of one record, for its page."""
    rows = AuditEntry.objects.filter(record_type__in=type_names(record_type(instance)), record_id=str(instance.pk))
    rows = rows.order_by("-seq")
    return [_decorate(e) for e in rows[:limit]]


def survey_changes_after_activation(survey_id: int, limit: int = 100) -> list[AuditEntry]:
    """Document control: every recorded change to a survey or its questions once it was live, with its version."""
    rows = AuditEntry.objects.filter(context__survey=survey_id, context__after_activation=True).order_by("-seq")
    return [_decorate(e) for e in rows[:limit]]


@dataclass(frozen=True)
class TrailFilter:
    record_type: str = ""
    record_id: str = ""
    actor: str = ""
    start: date | None = None
    end: date | None = None
    # The query's date parameters ("start", "end") that were given but could not be read: not applied, and said so.
    unread: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, data: Any) -> TrailFilter:
        kind = data.get("type", "")
        days = {name: parse_day(data.get(name)) for name in ("start", "end")}
        return cls(
            record_type=kind if kind in registered() else "",
            record_id=data.get("record", "").strip()[:40],
            actor=data.get("who", "").strip()[:150],
            start=days["start"],
            end=days["end"],
            unread=tuple(n for n, day in days.items() if day is None and (data.get(n) or "").strip()),
        )

    def query(self) -> QuerySet[AuditEntry]:
        rows = AuditEntry.objects.all()
        if self.record_type:
            rows = rows.filter(record_type__in=type_names(self.record_type))
        if self.record_id:
            rows = rows.filter(record_id=self.record_id) | rows.filter(record_label__iexact=self.record_id)
        if self.actor:
            rows = rows.filter(actor_name__iexact=self.actor)
        tz = timezone.get_current_timezone()
        if self.start:
            rows = rows.filter(at__gte=datetime.combine(self.start, time.min, tzinfo=tz))
        if self.end:
            rows = rows.filter(at__lt=datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz))
        return rows.order_by("-seq")


def decorated(entries: Any) -> list[AuditEntry]:
    return [_decorate(e) for e in entries]


def change_rows(entry: AuditEntry) -> Iterator[tuple[str, str, str]]:
    """(field, before, after) per change of an entry, readable."""
    for name, pair in entry.changes.items():
        before, after = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
        if name in ("link", "secret"):
            before, after = (str(MARKERS.get(v, v)) if isinstance(v, str) else v for v in (before, after))
        field = _field(entry.record_type, name)
        spec = registered().get(canonical_type(entry.record_type))
        reader = spec.readers.get(name) if spec is not None else None
        if reader is not None and not any(isinstance(v, str) and v.startswith("hmac:") for v in (before, after)):
            # The app's own words for a structured value (a root-cause analysis), "—" when there is none.
            yield field_label(entry.record_type, name), *((reader(v) if v else "") or "—" for v in (before, after))
            continue
        yield field_label(entry.record_type, name), readable(before, field), readable(after, field)
