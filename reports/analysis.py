"""Analysis snapshots (ISO 9001 9.1.3): a dashboard view kept as a record with its figures and conclusion.

The figures are computed again on the server from the view's filters when it is saved (never taken from the
page), and stored as language-neutral numbers; labels are translated when shown. A snapshot is never changed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.trail import audit_record
from reports import dashboard, stats
from reports.models import AnalysisSnapshot


def _estimate(e: stats.Estimate) -> dict[str, Any]:
    return {"value": e.value, "low": e.low, "high": e.high, "n": e.n, "enough": e.enough}


def view_figures(filters: dashboard.Filters) -> dict[str, Any]:
    """The dashboard's figures for these filters, as stored in a snapshot."""
    board = dashboard.dashboard_build(filters)
    complaints = board.complaints or {}
    return {
        "kind": filters.survey.kind,
        "total": _estimate(board.total),
        "previous": _estimate(board.previous_total),
        "change": {
            "difference": board.change.difference,
            "p_value": board.change.p_value,
            "significant": board.change.significant,
        },
        "detractor_share": _estimate(board.detractor_share),
        "response_rate": _estimate(board.response_rate),
        "special_causes": len(board.special_causes),
        "periods": [{"label": p["label"], **_estimate(p["estimate"])} for p in board.periods],
        "complaints": complaints.get("received"),
    }


@transaction.atomic
def analysis_save(*, filters: dashboard.Filters, title: str, conclusion: str, user: Any) -> AnalysisSnapshot:
    if not title.strip():
        raise ValidationError({"title": _("Give the analysis a title.")})
    if not conclusion.strip():
        raise ValidationError({"conclusion": _("Write the conclusion drawn from these figures.")})
    stored_filters = {
        "survey": filters.survey.pk,
        "start": filters.start.isoformat(),
        "end": filters.end.isoformat(),
        "segment": filters.segment,
        "granularity": filters.granularity,
        "baseline_start": filters.baseline_start.isoformat() if filters.baseline_start else None,
        "baseline_end": filters.baseline_end.isoformat() if filters.baseline_end else None,
    }
    snapshot = AnalysisSnapshot.objects.create(
        title=title.strip()[:200],
        survey=filters.survey,
        filters=stored_filters,
        figures=view_figures(filters),
        conclusion=conclusion.strip(),
        created_by=user,
    )
    audit_record(snapshot, action="create", actor=user)
    return snapshot


def analysis_summary(a: AnalysisSnapshot) -> dict[str, Any]:
    """What a review or the evidence pack keeps of a snapshot (copied into a signed review's frozen figures)."""
    return {
        "id": a.pk,
        "title": a.title,
        "survey": {"vi": a.survey.title_vi, "en": a.survey.title_en},
        "filters": a.filters,
        "figures": a.figures,
        "conclusion": a.conclusion,
        "by": a.created_by.get_full_name() or a.created_by.get_username(),
        "at": timezone.localtime(a.created_at).isoformat(),
    }


def analyses_in(start: date, end: date) -> list[AnalysisSnapshot]:
    """Snapshots whose view overlaps the period (by their filters' dates)."""
    rows = AnalysisSnapshot.objects.select_related("survey", "created_by").order_by("created_at", "id")
    return [
        a
        for a in rows
        if a.filters.get("start", "") <= end.isoformat() and a.filters.get("end", "") >= start.isoformat()
    ]
