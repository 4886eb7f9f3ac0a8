"""Complaint figures for a period (ISO 10002), shared by the dashboard, the objectives and the review pack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, F, Q

from reports.rollup import local_range


@dataclass(frozen=True)
class ComplaintSummary:
    received: int
    categories: list[tuple[str, str, int]]  # (Vietnamese name, English name, complaints received), most first
    closed: int  # closed in the period
    on_time: int  # of those, closed by their time limit
    accepted: int  # of those, the customer accepted the resolution
    # Open at the period's end (or now) and already past their closing limit: they have missed it as surely as a
    # late close, so the on-time share counts them (ISO 10002 asks how far the limits are met, not only by the closed).
    overdue_open: int = 0

    @property
    def due(self) -> int:
        """The cases the on-time share is taken over: closed in the period, plus open ones past their limit."""
        return self.closed + self.overdue_open

    def category_names(self, language: str) -> list[tuple[str, int]]:
        """(name, count) in the language, the other language's name standing in for a missing one ("" if none)."""
        return [((en if language == "en" else vi) or vi or en, n) for vi, en, n in self.categories]


def complaint_summary(start: date, end: date) -> ComplaintSummary:
    from django.utils import timezone

    from feedback.models import CaseStatus, ComplaintCase
    from feedback.workflow import OPEN_STATUSES

    first, after = local_range(start, end)
    received = ComplaintCase.objects.filter(received_at__gte=first, received_at__lt=after)
    categories = [
        (row["category__name_vi"] or "", row["category__name_en"] or "", row["n"])
        for row in received.values("category__name_vi", "category__name_en").annotate(n=Count("id")).order_by("-n")
    ]
    closed = Q(status=CaseStatus.CLOSED, closed_at__gte=first, closed_at__lt=after)
    overdue_open = Q(
        Q(status__in=OPEN_STATUSES) | Q(status=CaseStatus.CLOSED, closed_at__gte=after),
        received_at__lt=after,
        close_due__lt=min(after, timezone.now()),
    )
    # One query for both sets (the dashboard's query count is pinned).
    totals = ComplaintCase.objects.filter(closed | overdue_open).aggregate(
        n=Count("id", filter=closed),
        on_time=Count("id", filter=closed & Q(closed_at__lte=F("close_due"))),
        accepted=Count("id", filter=closed & Q(customer_accepted=True)),
        overdue_open=Count("id", filter=overdue_open),
    )
    return ComplaintSummary(
        received=sum(n for _vi, _en, n in categories),
        categories=categories,
        closed=totals["n"],
        on_time=totals["on_time"],
        accepted=totals["accepted"],
        overdue_open=totals["overdue_open"],
    )
