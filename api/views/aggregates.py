"""NPS, CSAT and CES with n and their intervals, per period and per segment, from the daily rollups: the same
figures as the dashboard (reports/dashboard.py, reports/stats.py), never computed from raw responses."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from api.serializers import AggregateSerializer
from api.views.common import check_dates, errors
from reports import dashboard, stats
from surveys.models import Survey

MAX_DAYS = 3 * 366 + 1


class _Query(serializers.Serializer):
    survey = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    segment = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    granularity = serializers.ChoiceField(choices=list(dashboard.GRANULARITIES), default="month")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_dates(attrs)
        first, last = dashboard.default_range()
        attrs.setdefault("start", first)
        attrs.setdefault("end", last)
        if attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"end": [_("The end is before the start.")]})
        if (attrs["end"] - attrs["start"]).days > MAX_DAYS:
            raise serializers.ValidationError({"end": [_("Ask for at most three years at a time.")]})
        return attrs


def _estimate(estimate: stats.Estimate) -> dict[str, Any]:
    return {
        "n": estimate.n,
        "value": estimate.value,
        "low": estimate.low,
        "high": estimate.high,
        "enough": estimate.enough,
        "method": estimate.method,
        "note": estimate.note,
    }


def _sums(frame: pd.DataFrame) -> dict[str, int]:
    return {s: int(frame[s].sum()) for s in dashboard.STATS} if len(frame) else {s: 0 for s in dashboard.STATS}


def aggregates_for(survey: Survey, start: date, end: date, segment: str, granularity: str) -> dict[str, Any]:
    frame = dashboard.rollup_frame(survey, start, end, segment)
    freq = dashboard.GRANULARITIES[granularity]
    periods = []
    for period in pd.period_range(pd.Timestamp(start), pd.Timestamp(end), freq=freq):
        first, last = period.start_time.date(), period.end_time.date()
        rows = frame[(frame["day"] >= pd.Timestamp(first)) & (frame["day"] <= pd.Timestamp(last))]
        label = dashboard._label(period, granularity)
        periods.append(
            {"label": label, "start": max(first, start), "end": min(last, end),
             "partial": first < start or last > end, **_estimate(dashboard.headline(survey.kind, _sums(rows)))}
        )  # fmt: skip
    segments = [
        {"segment": name, **_estimate(dashboard.headline(survey.kind, _sums(rows)))}
        for name, rows in (frame.groupby("segment") if len(frame) else [])
    ]
    return {
        "survey": survey.pk,
        "measure": survey.kind,
        "start": start,
        "end": end,
        "granularity": granularity,
        "segment": segment,
        "total": _estimate(dashboard.headline(survey.kind, _sums(frame))),
        "periods": periods,
        "segments": segments,
    }


class Aggregates(APIView):
    @extend_schema(
        operation_id="aggregates_read",
        parameters=[
            OpenApiParameter("survey", int, required=True),
            OpenApiParameter("start", date, description="Default: twelve months back."),
            OpenApiParameter("end", date, description="Default: today."),
            OpenApiParameter("segment", str),
            OpenApiParameter("granularity", str, enum=list(dashboard.GRANULARITIES)),
        ],
        responses={200: AggregateSerializer, **errors(400, 404)},
        description="The survey's headline figure (NPS: adjusted Wald; CSAT: % satisfied, Wilson; CES: mean, t) "
        "with n and a 95 % interval, per period and per segment. `enough` is false below the minimum n.",
    )
    def get(self, request: Request) -> ApiResponse:
        query = _Query(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        survey = Survey.objects.filter(pk=q["survey"]).first()
        if survey is None:
            raise serializers.ValidationError({"survey": [_("No survey has this id.")]})
        data = aggregates_for(survey, q["start"], q["end"], q["segment"], q["granularity"])
        return ApiResponse(AggregateSerializer(data).data)
