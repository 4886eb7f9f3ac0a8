"""Who a campaign reaches: the customers its filters select, less those opted out, erased, without a valid
address, or surveyed too recently (throttling), each skipped with its reason."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q, QuerySet
from django.utils import timezone

from customers.models import Customer
from surveys.invitations import customers_throttled
from surveys.models import Campaign, Invitation, Survey

S, Skip = Invitation.Status, Invitation.Skip
UNMATCHED_SHOWN = 10  # the preview names the first few unknown lines of a pasted list and counts the rest


def _valid_email(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


def _list_keys(audience_list: str) -> list[str]:
    return [line.strip() for line in audience_list.splitlines() if line.strip()]


def audience(campaign: Campaign) -> QuerySet[Customer]:
    customers = Customer.objects.filter(erased_at__isnull=True)
    keys = _list_keys(campaign.audience_list)
    if keys:
        customers = customers.filter(Q(email__in=[k.lower() for k in keys]) | Q(external_id__in=keys))
    if campaign.segment:
        customers = customers.filter(segment=campaign.segment)
    if campaign.language:
        customers = customers.filter(language=campaign.language)
    if campaign.customer_type:
        customers = customers.filter(customer_type=campaign.customer_type)
    return customers.order_by("id")


def audience_list_unmatched(audience_list: str) -> list[str]:
    """The lines of a pasted list that name no customer (a mistyped address, an unknown external id), in the
    list's order: without them a typo silently shrinks the audience and nobody learns which customer was missed."""
    keys = _list_keys(audience_list)
    if not keys:
        return []
    found = Customer.objects.filter(erased_at__isnull=True).filter(
        Q(email__in=[k.lower() for k in keys]) | Q(external_id__in=keys)
    )
    emails, external_ids = set(), set()
    for email, external_id in found.values_list("email", "external_id"):
        emails.add(email.lower())
        external_ids.add(external_id)
    return [k for k in dict.fromkeys(keys) if k.lower() not in emails and k not in external_ids]


# One throttle rule for campaigns and single requests (the API's, surveys/invitations.py).
_throttled_customers = customers_throttled


def skip_reasons(campaign: Campaign, now: datetime) -> list[tuple[int, str]]:
    """(customer id, skip reason or "") for each customer of the campaign's audience, in id order."""
    customers = list(audience(campaign).values_list("id", "email", "opted_out_at"))
    # By a list of ids, not a join on the audience: a join planned on a freshly imported customer table (no
    # statistics yet) took minutes; the list's lookups by index take about 1.5 s per 100,000.
    ids = [c[0] for c in customers]
    throttled = _throttled_customers(ids, now)
    already = set(
        Invitation.objects.filter(survey=campaign.survey, customer_id__in=ids)
        .exclude(status=S.SKIPPED)
        .values_list("customer_id", flat=True)
    )
    reasons = []
    for customer_id, email, opted_out_at in customers:
        reason = ""
        if opted_out_at is not None:
            reason = Skip.OPTED_OUT
        elif not email or not _valid_email(email):
            reason = Skip.INVALID_ADDRESS
        elif customer_id in already:
            reason = Skip.DUPLICATE
        elif customer_id in throttled:
            reason = Skip.THROTTLED
        reasons.append((customer_id, str(reason)))
    return reasons


def campaign_audience_preview(*, survey: Survey, now: datetime | None = None, **filters: Any) -> dict[str, Any]:
    """What sending with these filters would do, before anything is written: how many customers match, how many
    would be invited, and how many skipped for each reason (the same rules as campaign_build)."""
    campaign = Campaign(survey=survey, **filters)
    reasons = skip_reasons(campaign, now or timezone.now())
    skipped: dict[str, int] = defaultdict(int)
    for _customer_id, reason in reasons:
        if reason:
            skipped[str(Skip(reason).label)] += 1
    unfiltered = not any(filters.get(k) for k in ("segment", "language", "customer_type", "audience_list"))
    unmatched = audience_list_unmatched(filters.get("audience_list") or "")
    return {
        "unmatched": unmatched[:UNMATCHED_SHOWN],
        "unmatched_count": len(unmatched),
        "matched": len(reasons),
        "invited": len(reasons) - sum(skipped.values()),
        "skipped": dict(skipped),
        "unfiltered": unfiltered,
    }
