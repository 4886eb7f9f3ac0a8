"""Invitations and their links.

A token is HMAC-SHA256(server key, random salt): 256 bits, the same every time it is needed (the first email, each
reminder), yet the database keeps only the salt and the token's SHA-256 hash, so a copy of the database alone opens
no survey. Renewing a link draws a new salt; the old link stops working.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.trail import audit_record
from config.sqlrows import insert_one
from customers.models import Customer
from surveys import fastpath
from surveys.models import Invitation, Survey, hash_token


def _token_key() -> bytes:
    # A key of its own, derived from SECRET_KEY: rotating SECRET_KEY invalidates outstanding links.
    return _derived_key(settings.SECRET_KEY)


@lru_cache(maxsize=4)
def _derived_key(secret: str) -> bytes:
    # Keyed on the secret itself, so a changed SECRET_KEY (tests override it) derives its own key.
    return hashlib.sha256(b"lang-nghe invitation token|" + secret.encode()).digest()


def token_for_salt(salt: str) -> str:
    digest = hmac.new(_token_key(), salt.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_salt() -> str:
    return secrets.token_hex(16)


def invitation_token(invitation: Invitation) -> str:
    """The invitation's link token; gives it one (and stores its hash) if it has none yet."""
    if not invitation.token_salt:
        invitation.token_salt = new_salt()
        invitation.token_hash = hash_token(token_for_salt(invitation.token_salt))
        invitation.save(update_fields=["token_salt", "token_hash"])
    return token_for_salt(invitation.token_salt)


def invitation_link(token: str, *, score: int | None = None) -> str:
    """The customer's link, built from SITE_URL: never from a request's Host header, which a client controls."""
    url = settings.SITE_URL + reverse("respond", args=[token])
    return f"{url}?score={score}" if score is not None else url


def invitation_create(
    *,
    survey: Survey,
    customer: Customer,
    created_by: AbstractBaseUser | None = None,
    expires_in_days: int | None = None,
    now: datetime | None = None,
    channel: str = Invitation.Channel.LINK,
) -> tuple[Invitation, str]:
    """A new invitation and its raw token. The token is returned once and cannot be recovered later.

    `channel` says how the link is meant to reach the customer: handed out (shown once, printed) by default, or
    by email (the funnel then counts it as delivered only once it was sent)."""
    if survey.status != Survey.Status.ACTIVE:
        raise ValidationError(_("Activate the survey before inviting customers."))
    days = settings.INVITATION_EXPIRY_DAYS if expires_in_days is None else expires_in_days
    if not 1 <= days <= 365:
        raise ValidationError(_("A link can stay valid for 1 to 365 days."))
    now = now or timezone.now()
    salt = new_salt()
    token = token_for_salt(salt)
    invitation = Invitation(
        survey=survey,
        customer=customer,
        created_by=created_by,
        token_hash=hash_token(token),
        token_salt=salt,
        channel=channel,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    # The checks above come before the transaction, so a refusal leaves a caller's transaction usable; no savepoint
    # inside one (two more round trips on the API's busiest write).
    with transaction.atomic(savepoint=False):
        _invitation_insert(invitation)
        audit_record(invitation, action="create", actor=created_by)
    return invitation, token


def _invitation_insert(invitation: Invitation) -> None:
    # An invitation has no save() of its own and no signal receivers (tests/api/test_invitation_fast_path.py checks
    # both), so its INSERT may be a plain statement, built once: the ORM compiling it cost more than running it.
    insert_one(invitation)


def invitation_renew_link(*, invitation: Invitation) -> str:
    """Replace the token (the old link stops working) and return the new one, e.g. when a link was lost."""
    if invitation.answered_at is not None:
        raise ValidationError(_("This invitation has already been answered."))
    with transaction.atomic():
        invitation.token_salt = ""
        token = invitation_token(invitation)
        # The trail says that the link changed, never what it is.
        audit_record(invitation, action="renew_link", extra={"link": ["replaced", "new"]})
    return token


def invitation_email_now(*, invitation: Invitation) -> None:
    """Email the link to the customer, from a worker: an outbox row in the caller's transaction, so the email is
    sent once that commits, whatever happens to Redis or a worker meanwhile (outbox/dispatch.py)."""
    from outbox.dispatch import outbox_add

    if not invitation.customer.email:
        raise ValidationError(_("This customer has no email address."))
    outbox_add(task="surveys.tasks.invitation_email", args=[invitation.pk])


def customers_throttled(customer_ids: list[int], now: datetime) -> set[int]:
    """Customers invited (not skipped) to any survey within INVITATION_THROTTLE_DAYS; reminders do not count."""
    since = now - timedelta(days=settings.INVITATION_THROTTLE_DAYS)
    return set(
        Invitation.objects.filter(customer_id__in=customer_ids, created_at__gte=since)
        .exclude(status=Invitation.Status.SKIPPED)
        .values_list("customer_id", flat=True)
    )


def _ask_rows_plain(*, customer_id: int, survey_id: int, since: datetime) -> tuple[Customer, Survey, bool] | None:
    """fastpath.ask_rows through the ORM (other databases; the reference the tests hold the fast one to)."""
    survey = Survey.objects.filter(pk=survey_id).first()
    customer = Customer.objects.select_for_update().filter(pk=customer_id).first()
    if survey is None or customer is None:
        return None
    # After the lock, in a statement of its own: it sees an invitation another request committed while we waited.
    asked = (
        Invitation.objects.filter(customer_id=customer_id, created_at__gte=since)
        .exclude(status=Invitation.Status.SKIPPED)
        .exists()
    )
    return customer, survey, asked


def _ask_rows(*, customer_id: int, survey_id: int, since: datetime) -> tuple[Customer, Survey, bool] | None:
    if connection.vendor == "postgresql":
        return fastpath.ask_rows(customer_id=customer_id, survey_id=survey_id, since=since)
    return _ask_rows_plain(customer_id=customer_id, survey_id=survey_id, since=since)


def _skip_reason(customer: Customer, *, email: bool, asked: bool) -> str:
    """Why this customer must not be asked now (a Skip value), or "": the rules a campaign applies to each one."""
    if customer.erased_at is not None or customer.opted_out_at is not None:
        return Invitation.Skip.OPTED_OUT
    if email and not customer.email:
        return Invitation.Skip.INVALID_ADDRESS
    if asked:
        return Invitation.Skip.THROTTLED
    return ""


@transaction.atomic(savepoint=False)  # what it raises is not caught inside a caller's transaction (api/)
def invitation_request(
    *,
    survey: Survey | None = None,
    survey_id: int | None = None,
    customer: Customer | None = None,
    customer_id: int | None = None,
    created_by: AbstractBaseUser | None = None,
    send: bool = False,
    expires_in_days: int | None = None,
    now: datetime | None = None,
) -> tuple[Invitation, str | None]:
    """Ask one customer one survey, as a shop, CRM or helpdesk does after an order or a ticket: honours opt-out and
    the throttle like a campaign. A customer who must not be asked gets a skipped invitation with the reason (the
    record that the request came and why nothing was sent) and no link; otherwise the invitation and its token,
    emailed from the outbox when `send`, or handed back for the caller's own channel.

    The survey and the customer are given as records or by id: both are read here anyway, the customer with its
    lock. Survey.DoesNotExist or Customer.DoesNotExist when one is missing (the survey is checked first)."""
    survey_pk = survey.pk if survey is not None else survey_id
    customer_pk = customer.pk if customer is not None else customer_id
    if survey_pk is None or customer_pk is None:
        raise TypeError("invitation_request needs a survey and a customer")
    now = now or timezone.now()
    days = settings.INVITATION_EXPIRY_DAYS if expires_in_days is None else expires_in_days
    # The customer locked, so that two requests for one customer at once cannot both pass the throttle; then whether
    # they were asked lately (as customers_throttled counts it), read after the lock.
    since = now - timedelta(days=settings.INVITATION_THROTTLE_DAYS)
    found = _ask_rows(customer_id=customer_pk, survey_id=survey_pk, since=since)
    if found is None:
        if not Survey.objects.filter(pk=survey_pk).exists():
            raise Survey.DoesNotExist
        raise Customer.DoesNotExist
    customer, survey, asked = found
    if survey.status != Survey.Status.ACTIVE:
        raise ValidationError(_("Activate the survey before inviting customers."))
    if not 1 <= days <= 365:
        raise ValidationError({"expires_in_days": _("A link can stay valid for 1 to 365 days.")})
    reason = _skip_reason(customer, email=send, asked=asked)
    if reason:
        invitation = Invitation(
            survey=survey,
            customer=customer,
            created_by=created_by,
            token_hash=hash_token(secrets.token_urlsafe(32)),  # no link: the hash of a token nobody holds
            channel=Invitation.Channel.EMAIL if send else Invitation.Channel.LINK,
            status=Invitation.Status.SKIPPED,
            status_reason=str(reason),
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        _invitation_insert(invitation)
        audit_record(invitation, action="create", actor=created_by)
        return invitation, None
    channel = Invitation.Channel.EMAIL if send else Invitation.Channel.LINK
    invitation, token = invitation_create(
        survey=survey, customer=customer, created_by=created_by, expires_in_days=days, now=now, channel=channel
    )
    if send:
        invitation_email_now(invitation=invitation)
    return invitation, token
