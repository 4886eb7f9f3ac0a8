"""Responses: a list with filters (survey, period, segment, score band) and cursor pagination; one with answers."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from api.serializers import ResponseDetailSerializer, ResponseSerializer
from api.views.common import Cursor, check_dates, errors, get_or_404
from reports.rollup import local_range
from surveys.models import Answer, Response, Survey
from surveys.scoring import SCORE_BANDS, SurveyKind

BANDS = ("detractor", "passive", "promoter")
FILTERS = [
    OpenApiParameter("survey", int),
    OpenApiParameter("start", date, description="First day (local time), inclusive."),
    OpenApiParameter("end", date, description="Last day (local time), inclusive."),
    OpenApiParameter("segment", str),
    OpenApiParameter("score_min", int, description="Lowest score of the NPS, CSAT or CES question."),
    OpenApiParameter("score_max", int),
    OpenApiParameter(
        "band",
        str,
        enum=list(BANDS),
        description="The standard bands of the survey's kind, as on the dashboard: NPS 0–6 / 7–8 / 9–10, "
        "CSAT 1–2 / 3 / 4–5, CES 6–7 / 3–5 / 1–2 (not the closed-loop thresholds).",
    ),
]


class _Filters(serializers.Serializer):
    survey = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    segment = serializers.CharField(required=False, max_length=100)
    score_min = serializers.IntegerField(required=False, min_value=0, max_value=10)
    score_max = serializers.IntegerField(required=False, min_value=0, max_value=10)
    band = serializers.ChoiceField(required=False, choices=BANDS)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_dates(attrs)
        if attrs.get("start") and attrs.get("end") and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"end": [_("The end is before the start.")]})
        if "band" in attrs and "survey" not in attrs:
            raise serializers.ValidationError(
                {"band": [_("Choose a survey: the bands depend on its kind (NPS, CSAT or CES).")]}
            )
        return attrs


# The bands of every figure (scoring.SCORE_BANDS, as the dashboard counts them), not the survey's closed-loop
# thresholds: with "open a case up to 7" the API's "detractor" band held the 7s that the dashboard counts as
# passives, and a client summing the bands got another NPS than the dashboard.
def _band_range(band: str, response_survey: Any) -> tuple[int, int]:
    return SCORE_BANDS[response_survey.kind][band]


class ResponseList(generics.GenericAPIView):
    serializer_class = ResponseSerializer
    pagination_class = Cursor

    def get_queryset(self) -> Any:
        params = _Filters(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        f = params.validated_data
        responses = Response.objects.all()
        if "survey" in f:
            responses = responses.filter(survey_id=f["survey"])
        if "start" in f:
            responses = responses.filter(submitted_at__gte=local_range(f["start"], f["start"])[0])
        if "end" in f:
            responses = responses.filter(submitted_at__lt=local_range(f["end"], f["end"])[1])
        if "segment" in f:
            responses = responses.filter(segment=f["segment"])
        low, high = f.get("score_min"), f.get("score_max")
        if "band" in f:
            survey = Survey.objects.filter(pk=f["survey"]).first()
            if survey is None:
                return responses.none()
            low, high = _band_range(f["band"], survey)
        if low is not None or high is not None:
            scored = Answer.objects.filter(
                response=OuterRef("pk"), question__kind__in=[SurveyKind.NPS, SurveyKind.CSAT, SurveyKind.CES]
            )
            if low is not None:
                scored = scored.filter(number__gte=low)
            if high is not None:
                scored = scored.filter(number__lte=high)
            responses = responses.filter(Exists(scored))
        return responses

    @extend_schema(operation_id="responses_list", parameters=FILTERS,
                   responses={200: ResponseSerializer(many=True), **errors(400)})  # fmt: skip
    def get(self, request: Request) -> ApiResponse:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ResponseSerializer(page, many=True).data)


class ResponseDetail(APIView):
    @extend_schema(operation_id="responses_read", responses={200: ResponseDetailSerializer, **errors(404)})
    def get(self, request: Request, pk: int) -> ApiResponse:
        answers = Prefetch("answers", queryset=Answer.objects.select_related("question"))
        response = get_or_404(Response.objects.prefetch_related(answers), pk=pk)
        language = "en" if (request.LANGUAGE_CODE or "")[:2] == "en" else "vi"
        return ApiResponse(ResponseDetailSerializer(response, context={"language": language}).data)
