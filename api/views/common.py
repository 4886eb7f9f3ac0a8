"""What every API view shares: cursor pagination, the error responses in the schema, and looking things up."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from api.serializers import ErrorSerializer
from config.validators import validate_one_line
from customers.models import Customer
from customers.services import external_id_clean


class Cursor(CursorPagination):
    """Cursor pagination: stable under inserts (a page never repeats or skips a row added meanwhile) and as fast
    on the last page as on the first, which offsets are not."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def decode_cursor(self, request: Any) -> Any:
        # DRF answers a bad cursor 404 ("Invalid cursor"); it is bad input in the query, so 400 with the field. DRF
        # also takes the position as written: it is an id here (the ordering), and any other text a client puts in
        # a cursor would reach the query and answer 500.
        invalid = serializers.ValidationError({self.cursor_query_param: [_("This cursor is not valid.")]})
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise invalid from None
        position = cursor.position if cursor is not None else None
        if position is not None and not (position.isascii() and position.isdigit() and int(position) < 2**63):
            raise invalid
        return cursor


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    text = {
        400: "Bad input: nothing was changed",
        401: "No key, or a revoked or unknown key",
        403: "The key may only read",
        404: "Not found",
        409: "Conflict with the current state",
        422: "Idempotency-Key reused with another body",
        429: "Rate limit reached (Retry-After)",
    }
    return {code: OpenApiResponse(ErrorSerializer, description=text[code]) for code in (401, 429, *codes)}


def get_or_404(queryset: QuerySet[Any], **lookup: Any) -> Any:
    found = queryset.filter(**lookup).first()
    if found is None:
        raise NotFound()
    return found


_EXTERNAL_ID = serializers.CharField(max_length=100, validators=[validate_one_line])


def external_id_from_path(value: str) -> str:
    """The external id in a URL, checked and trimmed as the same id in a body is (CustomerWriteSerializer): the
    customer was stored under the trimmed id, so "CRM-7 " found nobody and an upsert tried to make a second
    "CRM-7" (400); a blank id made a new customer on every PUT; a tab or line break got in unchecked."""
    try:
        return external_id_clean(_EXTERNAL_ID.run_validation(value))
    except serializers.ValidationError as error:
        raise serializers.ValidationError({"external_id": error.detail}) from None


def customer_for(*, customer_id: int | None = None, external_id: str | None = None, field: str) -> Customer:
    """The customer named by id or external id; a field error (400) when there is none, since it was in the body."""
    found: Model | None
    if customer_id is not None:
        found = Customer.objects.filter(pk=customer_id).first()
    else:
        found = (
            Customer.objects.filter(external_id=external_id_clean(external_id or "")).exclude(external_id="").first()
        )
    if found is None:
        raise serializers.ValidationError({field: [_("No customer has this id.")]})
    return found  # type: ignore[return-value]


def check_dates(attrs: dict[str, Any], *names: str) -> None:
    """Dates within 1900–2999: beyond them the local day's bounds overflow, and no answer was given then anyway."""
    for name in names or ("start", "end"):
        value = attrs.get(name)
        if value is not None and not 1900 <= value.year <= 2999:
            raise serializers.ValidationError({name: [_("Give a date between 1900 and 2999.")]})
