"""Complaint cases from a call centre or helpdesk: created through feedback's workflow, read with their timeline."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from api.serializers import CaseCreateSerializer, CaseSerializer
from api.views.common import customer_for, errors, get_or_404
from feedback import workflow
from feedback.models import Category, ComplaintCase


class CaseCreate(APIView):
    @extend_schema(
        operation_id="cases_create",
        request=CaseCreateSerializer,
        responses={201: CaseSerializer, **errors(400, 403)},
        description="Log a complaint taken by a call centre or helpdesk (ISO 10002): time limits and the "
        "acknowledgement email follow, as for a complaint logged on the staff pages.",
    )
    @transaction.atomic
    def post(self, request: Request) -> ApiResponse:
        data = CaseCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        customer = None
        if "customer_id" in fields:
            customer = customer_for(customer_id=fields.pop("customer_id"), field="customer_id")
        elif "customer_external_id" in fields:
            customer = customer_for(external_id=fields.pop("customer_external_id"), field="customer_external_id")
        if customer is not None and customer.erased_at is not None:
            raise serializers.ValidationError({"customer_id": [_("This customer's data has been erased.")]})
        category = None
        if "category" in fields:
            category = Category.objects.filter(pk=fields.pop("category"), active=True).first()
            if category is None:
                raise serializers.ValidationError({"category": [_("No category has this id.")]})
        case = workflow.case_create(actor=request.user, customer=customer, category=category, **fields)
        return ApiResponse(CaseSerializer(case).data, status=status.HTTP_201_CREATED)


class CaseDetail(APIView):
    @extend_schema(operation_id="cases_read", responses={200: CaseSerializer, **errors(404)})
    def get(self, request: Request, reference: str) -> ApiResponse:
        # References are written in capitals (CMP-2026-000123); one typed or copied in lower case is the same case.
        case = get_or_404(ComplaintCase.objects.prefetch_related("events"), reference=reference.strip().upper())
        return ApiResponse(CaseSerializer(case).data)
