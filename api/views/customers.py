"""Customers: create, upsert by external id, list with filters, read, erase — through customers' services."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from api.serializers import CustomerSerializer, CustomerUpsertSerializer, CustomerWriteSerializer, EraseSerializer
from api.views.common import Cursor, errors, external_id_from_path, get_or_404
from customers.models import Customer, Language
from customers.services import customer_create, customer_erase, customer_update, external_id_clean

FILTERS = [
    OpenApiParameter("segment", str),
    OpenApiParameter("language", str, enum=["vi", "en"]),
    OpenApiParameter("customer_type", str, enum=["direct", "indirect"]),
    OpenApiParameter("email", str),
    OpenApiParameter("external_id", str),
    OpenApiParameter("opted_out", bool),
]


class _Filters(serializers.Serializer):
    segment = serializers.CharField(required=False, allow_blank=True, max_length=100)
    language = serializers.ChoiceField(required=False, allow_blank=True, choices=Language.choices)
    customer_type = serializers.ChoiceField(required=False, allow_blank=True, choices=Customer.Type.choices)
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    external_id = serializers.CharField(required=False, allow_blank=True, max_length=100)
    opted_out = serializers.BooleanField(required=False)


class CustomerList(generics.GenericAPIView):
    serializer_class = CustomerSerializer
    pagination_class = Cursor

    def get_queryset(self) -> Any:
        # Checked as the responses' filters are: "opted_out=1" or "=yes" was ignored and listed everyone, opted out
        # or not, and "language=fr" answered an empty page rather than a bad value.
        params = _Filters(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        f = params.validated_data
        customers = Customer.objects.all()
        for name in ("segment", "language", "customer_type"):
            if f.get(name):
                customers = customers.filter(**{name: f[name]})
        if f.get("external_id"):
            customers = customers.filter(external_id=external_id_clean(f["external_id"]))
        if f.get("email"):
            customers = customers.filter(email__iexact=f["email"])
        if "opted_out" in f:
            customers = customers.filter(opted_out_at__isnull=not f["opted_out"])
        return customers

    @extend_schema(operation_id="customers_list", parameters=FILTERS, responses={200: CustomerSerializer(many=True),
                   **errors(400)})  # fmt: skip
    def get(self, request: Request) -> ApiResponse:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CustomerSerializer(page, many=True).data)

    @extend_schema(operation_id="customers_create", request=CustomerWriteSerializer,
                   responses={201: CustomerSerializer, **errors(400, 403)})  # fmt: skip
    @transaction.atomic
    def post(self, request: Request) -> ApiResponse:
        data = CustomerWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = customer_create(**data.validated_data)
        return ApiResponse(CustomerSerializer(customer).data, status=status.HTTP_201_CREATED)


class CustomerDetail(APIView):
    @extend_schema(operation_id="customers_read", responses={200: CustomerSerializer, **errors(404)})
    def get(self, request: Request, pk: int) -> ApiResponse:
        return ApiResponse(CustomerSerializer(get_or_404(Customer.objects, pk=pk)).data)


class CustomerByExternalId(APIView):
    @extend_schema(operation_id="customers_read_by_external_id",
                   responses={200: CustomerSerializer, **errors(400, 404)})  # fmt: skip
    def get(self, request: Request, external_id: str) -> ApiResponse:
        external_id = external_id_from_path(external_id)
        return ApiResponse(CustomerSerializer(get_or_404(Customer.objects, external_id=external_id)).data)

    @extend_schema(
        operation_id="customers_upsert",
        request=CustomerUpsertSerializer,
        responses={200: CustomerSerializer, 201: CustomerSerializer, **errors(400, 403, 409)},
        description="Create the customer with this external id, or update it: the CRM's record is the source.",
    )
    @transaction.atomic
    def put(self, request: Request, external_id: str) -> ApiResponse:
        external_id = external_id_from_path(external_id)
        data = CustomerUpsertSerializer(data={**request.data, "external_id": external_id}
                                        if isinstance(request.data, dict) else request.data)  # fmt: skip
        data.is_valid(raise_exception=True)
        fields = {k: v for k, v in data.validated_data.items() if k != "external_id"}
        existing = Customer.objects.select_for_update().filter(external_id=external_id).first()
        if existing is None:
            try:
                # A savepoint: two CRM workers upserting a new id at once both find nobody; the second's insert
                # fails on the unique index (or its check sees the first's row) and it updates that row instead,
                # as if it had come second, not 500 or 400 "Another customer already has this external ID".
                with transaction.atomic():
                    customer = customer_create(external_id=external_id, **fields)
                return ApiResponse(CustomerSerializer(customer).data, status=status.HTTP_201_CREATED)
            except (IntegrityError, DjangoValidationError):
                existing = Customer.objects.select_for_update().filter(external_id=external_id).first()
                if existing is None:
                    raise
        return ApiResponse(CustomerSerializer(customer_update(customer=existing, **fields)).data)


class CustomerErase(APIView):
    @extend_schema(operation_id="customers_erase", request=EraseSerializer,
                   responses={200: CustomerSerializer, **errors(400, 403, 404, 409)},
                   description="Erase the customer's personal data on their request (Decree 13/2023); scores stay, "
                               "anonymous. Answers 409 when the data has already been erased.")  # fmt: skip
    @transaction.atomic
    def post(self, request: Request, pk: int) -> ApiResponse:
        from django.utils.translation import gettext as _

        from api.errors import Conflict

        customer = get_or_404(Customer.objects, pk=pk)
        data = EraseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if customer.erased_at is not None:
            raise Conflict(_("This customer's data has already been erased."))
        customer_erase(customer=customer, actor=request.user, reason=data.validated_data["reason"])
        customer.refresh_from_db()
        return ApiResponse(CustomerSerializer(customer).data)
