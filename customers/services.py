"""Customers: opting out, erasure on request, and the panels other apps add to the customer page."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.trail import audit_record, audit_stored
from customers.models import Customer, ErasureRecord

# The salt signs the links already in customers' mailboxes: it keeps the name it had when this lived in `surveys`.
UNSUBSCRIBE_SALT = "surveys.unsubscribe"
# Sent inside the erasure's transaction, before the customer row is cleared: each app that keeps copies of the
# customer's words returns an `ErasureFindings` (their free-text answers, the surveys they answered), so that every
# app can find the copies of those words it made elsewhere.
customer_erasing = Signal()
# Sent inside the erasure's transaction, after: listeners remove what they hold about the customer (arguments:
# customer, data: ErasedData, what the data was, to find its copies). A listener may return {field: count} of what
# it removed, which the audit entry keeps.
customer_erased = Signal()
# Other apps add sections to the customer page: each provider returns {"template": ..., **context} or None.
CustomerPanel = Callable[[Customer], dict[str, Any] | None]
customer_panels: list[CustomerPanel] = []


def unsubscribe_token(customer: Customer) -> str:
    # Signed, not stored: every email carries a working link, and nobody can make one for another customer.
    # Without a timestamp, so a customer's link is the same in every email (and in every test, at any second).
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(str(customer.pk))


def customer_for_unsubscribe_token(token: str) -> Customer | None:
    try:
        value = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token)
        # Links in emails sent before the link lost its timestamp carry "<base64 id>:<timestamp>".
        pk = int(value) if value.isdigit() else signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(pk, int):
        return None
    return Customer.objects.filter(pk=pk).first()


CUSTOMER_FIELDS = ("name", "email", "phone", "language", "segment", "customer_type", "external_id")


def external_id_clean(value: str) -> str:
    """An external id as it is stored and looked up: trimmed, and in Unicode's composed form (NFC). "Hoà" typed on
    a Mac arrives decomposed ("a" + a combining grave): it looks the same, and was another customer."""
    return unicodedata.normalize("NFC", value.strip())


@transaction.atomic
def customer_create(*, name: str, email: str = "", **fields: Any) -> Customer:
    unknown = set(fields) - set(CUSTOMER_FIELDS)
    if unknown:
        raise ValueError(f"customer_create cannot set {sorted(unknown)}")
    if "external_id" in fields:
        fields["external_id"] = external_id_clean(fields["external_id"])
    customer = Customer(name=name.strip(), email=email.strip().lower(), **fields)
    customer.full_clean()
    customer.save()
    audit_record(customer, action="create")
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, **fields: Any) -> Customer:
    """Change a customer's details; an erased customer's record stays as the erasure left it."""
    stored = Customer.objects.select_for_update().get(pk=customer.pk)
    if stored.erased_at is not None:
        raise ValidationError(_("This customer's data has been erased and cannot be edited."))
    before = audit_stored(customer)
    for name, value in fields.items():
        if name not in CUSTOMER_FIELDS:
            # Bandit B608 reads "update ... set" in this message as SQL; it is an exception text.
            raise ValueError(f"customer_update cannot set {name}")  # nosec B608
        setattr(customer, name, value)
    customer.email = customer.email.strip().lower()
    customer.external_id = external_id_clean(customer.external_id)
    customer.full_clean()
    customer.save()
    audit_record(customer, action="update", before=before)
    return customer


@transaction.atomic
def customer_for_email(*, email: str, name: str = "", language: str = "vi", phone: str = "") -> Customer:
    """The customer with this email address (the oldest not erased), created when there is none."""
    email = email.strip().lower()
    if not email:
        raise ValueError("customer_for_email needs an email address")
    customer = Customer.objects.filter(email__iexact=email, erased_at__isnull=True).order_by("id").first()
    if customer is not None:
        return customer
    return customer_create(name=(name.strip() or email)[:200], email=email, language=language, phone=phone.strip())


@transaction.atomic
def customer_opt_out(*, customer: Customer) -> Customer:
    if customer.opted_out_at is None:
        before = audit_stored(customer)
        customer.opted_out_at = timezone.now()
        customer.save(update_fields=["opted_out_at"])
        audit_record(customer, action="opt_out", before=before)
    return customer


ERASED_NAME = "—"


@dataclass(frozen=True)
class ErasureFindings:
    texts: tuple[str, ...] = ()
    survey_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ErasedData:
    """What a customer's data was, handed to the apps that copied it so they can find and remove the copies."""

    name: str
    email: str
    phone: str
    texts: tuple[str, ...]  # their free-text answers
    survey_ids: frozenset[int]  # surveys they answered: exports of these may hold their rows

    def redact(self, text: str, marker: str) -> str:
        """`text` with every copy of the customer's answers, name, address and phone replaced by `marker`."""
        if not text:
            return text
        for answer in sorted(self.texts, key=len, reverse=True):
            text = text.replace(answer, marker)
        for value in (self.email, self.phone, self.name):
            if value and value != ERASED_NAME:
                text = re.sub(r"(?<!\w)" + re.escape(value) + r"(?!\w)", marker, text, flags=re.IGNORECASE)
        return text


@transaction.atomic
def customer_erase(*, customer: Customer, actor: AbstractBaseUser, reason: str) -> ErasureRecord:
    """Remove a customer's personal data from everywhere it was copied; their scores stay, anonymous. Recorded.

    Decree 13/2023 art. 16: the data goes from the customer row here, and through `customer_erased` from the apps
    that copied it: free-text answers, unconfirmed contact claims and send errors (surveys), complaint cases,
    timelines and their history tables (feedback), kept export files (reports), the stored webhook
    events and the receivers' answers to them (webhooks). The row lock makes concurrent
    requests erase once: the others wait, then find the customer erased (and the unique erasure record is the
    backstop).
    """
    if not reason.strip():
        raise ValidationError({"reason": _("Say who asked and how (e.g. “email of 3 May from the customer”).")})
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.erased_at is not None:
        raise ValidationError(_("This customer's data has already been erased."))
    before = audit_stored(customer)
    texts: dict[str, None] = {}  # ordered and without repeats
    survey_ids: set[int] = set()
    for _receiver, found in customer_erasing.send(sender=Customer, customer=customer):
        if isinstance(found, ErasureFindings):
            texts.update(dict.fromkeys(found.texts))
            survey_ids |= found.survey_ids
    data = ErasedData(
        name=customer.name,
        email=customer.email,
        phone=customer.phone,
        texts=tuple(texts),
        survey_ids=frozenset(survey_ids),
    )
    customer.name, customer.email, customer.phone, customer.external_id = ERASED_NAME, "", "", ""
    customer.erased_at = timezone.now()
    customer.opted_out_at = customer.opted_out_at or customer.erased_at
    customer.save()
    removed: dict[str, list[int]] = {}
    for _receiver, counts in customer_erased.send(sender=Customer, customer=customer, data=data):
        for name, count in (counts or {}).items():
            removed[name] = [removed.get(name, [0, 0])[0] + count, 0]
    record = ErasureRecord.objects.create(customer=customer, erased_by=actor, reason=reason.strip())
    # The reason is the request's description, not personal data; the trail keeps that and what was removed.
    audit_record(customer, action="erase", before=before, actor=actor, reason=reason, extra=removed or None)
    return record
