"""What an integration looks ids up in: the surveys it may ask (POST /invitations/) and the complaint categories
it may file a case under (POST /cases/), so that nobody copies ids out of the web pages."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse

from api.serializers import CategorySerializer, SurveySummarySerializer
from api.views.common import Cursor, errors
from feedback.models import Category
from surveys.models import Survey


class _SurveyFilters(serializers.Serializer):
    status = serializers.ChoiceField(required=False, choices=Survey.Status.choices)


class SurveyList(generics.GenericAPIView):
    serializer_class = SurveySummarySerializer
    pagination_class = Cursor

    def get_queryset(self) -> Any:
        params = _SurveyFilters(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        surveys = Survey.objects.all()
        if "status" in params.validated_data:
            surveys = surveys.filter(status=params.validated_data["status"])
        return surveys

    @extend_schema(
        operation_id="surveys_list",
        parameters=[OpenApiParameter("status", str, enum=list(Survey.Status.values))],
        responses={200: SurveySummarySerializer(many=True), **errors(400)},
        description="The surveys, newest first; only an active one can be asked (POST /invitations/).",
    )
    def get(self, request: Request) -> ApiResponse:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SurveySummarySerializer(page, many=True).data)


class CategoryList(generics.GenericAPIView):
    serializer_class = CategorySerializer
    pagination_class = Cursor
    queryset = Category.objects.all()

    @extend_schema(
        operation_id="categories_list",
        responses={200: CategorySerializer(many=True), **errors(400)},
        description="The complaint categories (those no longer in use too, as older cases name them).",
    )
    def get(self, request: Request) -> ApiResponse:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CategorySerializer(page, many=True).data)
