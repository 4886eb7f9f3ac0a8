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

    def category_names(self, language: str) -> list[tuple[str, int]]:
        """(name, count) in the language, the other language's name standing in for a missing one ("" if none)."""
        return [((en if language == "en" else vi) or vi or en, n) for vi, en, n in self.categories]


def complaint_summary(start: date, end: date) -> ComplaintSummary:
    from feedback.models import CaseStatus, ComplaintCase

    first, after = local_range(start, end)
    received = ComplaintCase.objects.filter(received_at__gte=first, received_at__lt=after)
    categories = [
        (row["category__name_vi"] or "", row["category__name_en"] or "", row["n"])
        for row in received.values("category__name_vi", "category__name_en").annotate(n=Count("id")).order_by("-n")
    ]
    closed = ComplaintCase.objects.filter(status=CaseStatus.CLOSED, closed_at__gte=first, closed_at__lt=after)
    totals = closed.aggregate(
        n=Count("id"),
        on_time=Count("id", filter=Q(closed_at__lte=F("close_due"))),
        accepted=Count("id", filter=Q(customer_accepted=True)),
    )
    return ComplaintSummary(
        received=sum(n for _vi, _en, n in categories),
        categories=categories,
        closed=totals["n"],
        on_time=totals["on_time"],
        accepted=totals["accepted"],
    )
