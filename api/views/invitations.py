"""Invitations: one survey for one customer, as a CRM, helpdesk or shop asks after an order or a ticket.

Idempotent with an `Idempotency-Key` header: the same key and body answer the same invitation (200, with
`Idempotent-Replayed: true`), the same key with another body is refused (422). The record is written in the
invitation's transaction, so a request that fails leaves no record and may be sent again. The key is not looked up
before the attempt: its record's unique index refuses a used one, the attempt rolls back, and the first answer is
given (bench/api.py measures this path).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from api.errors import Unprocessable
from api.middleware import api_call_for, api_call_logged
from api.models import ApiKey, IdempotencyRecord
from api.serializers import (
    InvitationRequestSerializer,
    InvitationSerializer,
    invitation_data,
    plain_invitation_request,
)
from api.views.common import customer_for, errors, get_or_404
from audit.trail import audit_deferred
from customers.models import Customer
from customers.services import customer_create, external_id_clean
from surveys.invitations import invitation_link, invitation_request, token_for_salt
from surveys.models import Invitation, Survey

IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, description="Any unique string (up to 200 characters)."
)


def _body_hash(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def _answer(invitation: Invitation, *, replayed: bool = False, created: bool = True) -> ApiResponse:
    link = None
    if invitation.status != Invitation.Status.SKIPPED and invitation.token_salt:
        link = invitation_link(token_for_salt(invitation.token_salt))
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    code = status.HTTP_201_CREATED if created and not replayed else status.HTTP_200_OK
    return ApiResponse(invitation_data(invitation, link=link), status=code, headers=headers)


def _customer(data: dict[str, Any]) -> Customer:
    if "customer_external_id" in data:
        return customer_for(external_id=data["customer_external_id"], field="customer_external_id")
    fields = dict(data["customer"])
    external_id = external_id_clean(fields.get("external_id", ""))
    if external_id:
        existing = Customer.objects.filter(external_id=external_id).first()
        if existing is not None:
            return existing
    return customer_create(**fields)


class InvitationCreate(APIView):
    @extend_schema(
        operation_id="invitations_create",
        parameters=[IDEMPOTENCY],
        request=InvitationRequestSerializer,
        responses={201: InvitationSerializer, 200: InvitationSerializer, **errors(400, 403, 422)},
        description=(
            "Ask one survey of one customer (by id, external id, or created on the fly). Opt-out and the throttle "
            "are honoured: such a request answers `state: skipped` with the `skip_reason` and no link. Otherwise "
            "the link is returned, for your own channel; with `send: true` it is also emailed from the outbox. "
            "An `Idempotency-Key` is kept per API key: a new key does not know the old key's requests."
        ),
    )
    def post(self, request: Request) -> ApiResponse:
        validated = plain_invitation_request(request.data)
        if validated is None:  # any other shape, and every error, is the serializer's
            data = InvitationRequestSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            validated = data.validated_data
        idem = request.headers.get("Idempotency-Key", "").strip()
        if len(idem) > 200:
            raise serializers.ValidationError({"Idempotency-Key": [_("At most 200 characters.")]})
        key: ApiKey = request.auth  # type: ignore[assignment]
        digest = _body_hash(request.data)
        try:
            # The audit entries are appended last, just before the commit: the chain's head stays locked for that
            # statement and the commit only, and a retry waiting on the Idempotency-Key below holds no lock on it.
            with transaction.atomic(), audit_deferred() as deferred:
                # No lookup of the Idempotency-Key first: a new key is the rule, a retry the exception. A used key
                # fails the record's INSERT (unique), which rolls the whole attempt back (below).
                invitation = self._create(validated, request)
                answer = _answer(invitation)
                rows: list[Model] = [api_call_for(request._request, status=answer.status_code)]
                if idem:
                    # A concurrent request with this key waits on the unique index until this one commits, then
                    # fails (its invitation rolled back) and answers this one's invitation below.
                    record = IdempotencyRecord(key=key, idempotency_key=idem, body_hash=digest, invitation=invitation)
                    rows.insert(0, record)
                # The call's log row commits with the invitation, written in the audit entries' statement (no
                # second commit, no round trip of its own).
                deferred.insert_with(rows)
            api_call_logged(request._request)
            return answer
        except (IntegrityError, serializers.ValidationError, DjangoValidationError):
            # Answered by a request that came first with this key (its invitation, or 422 for another body), even
            # when this attempt could not be made again (the survey closed since): what the key promised.
            previous = IdempotencyRecord.objects.filter(key=key, idempotency_key=idem).first() if idem else None
            if previous is None:
                raise
            return self._replay(previous, digest)

    def _replay(self, previous: IdempotencyRecord, digest: str) -> ApiResponse:
        if previous.body_hash != digest or previous.invitation is None:
            raise Unprocessable(_("This Idempotency-Key was used with another request body."))
        return _answer(previous.invitation, replayed=True)

    def _create(self, data: dict[str, Any], request: Request) -> Invitation:
        asked = {"created_by": request.user, "send": data["send"], "expires_in_days": data.get("expires_in_days")}
        if "customer_id" in data:
            # The service reads (and locks) the survey and the customer anyway: neither is read here first.
            customer_id = data["customer_id"]
        else:
            if not Survey.objects.filter(pk=data["survey"]).exists():
                raise serializers.ValidationError({"survey": [_("No survey has this id.")]})
            customer_id = _customer(data).pk
        try:
            return invitation_request(survey_id=data["survey"], customer_id=customer_id, **asked)[0]
        except Survey.DoesNotExist:
            raise serializers.ValidationError({"survey": [_("No survey has this id.")]}) from None
        except Customer.DoesNotExist:
            raise serializers.ValidationError({"customer_id": [_("No customer has this id.")]}) from None


class InvitationDetail(APIView):
    @extend_schema(operation_id="invitations_read", responses={200: InvitationSerializer, **errors(404)},
                   description="The invitation's state (its link is given only when it is made).")  # fmt: skip
    def get(self, request: Request, pk: int) -> ApiResponse:
        invitation = get_or_404(Invitation.objects, pk=pk)
        return ApiResponse(invitation_data(invitation, link=None))
