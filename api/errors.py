"""One shape for every API error, in the language of Accept-Language:

    {"error": {"code": "invalid", "message": "…", "fields": {"email": ["…"]}}}

`code` is stable and meant for programs; `message` is for people; `fields` names each bad field (empty when the
error is not about a field). Unhandled exceptions answer the same shape with 500, never an HTML page.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from config import formatting

log = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "unprocessable"


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested detail ({"customer": {"email": [...]}}) as {"customer.email": [...]}."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for name, value in detail.items():
            out.update(_flatten(value, f"{prefix}.{name}" if prefix else str(name)))
        return out
    if isinstance(detail, list):
        if detail and all(isinstance(item, dict) for item in detail):
            out = {}
            for index, item in enumerate(detail):
                out.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
            return out
        return {prefix or "non_field_errors": [str(item) for item in detail]}
    return {prefix or "non_field_errors": [str(detail)]}


def django_validation_detail(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if name == "__all__" else name): [str(m) for m in messages]
            for name, messages in error.message_dict.items()
        }
    return {"non_field_errors": [str(m) for m in error.messages]}


def _validation(fields: dict[str, list[str]]) -> Response:
    general = fields.pop("non_field_errors", [])
    message = " ".join(general) if general else _("Some fields are not valid: nothing was changed.")
    if general and not fields:
        return Response(error_body("invalid", message), status=400)
    if general:
        fields["non_field_errors"] = general
    return Response(error_body("invalid", message, fields), status=400)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER. Every error rolls the request's transaction back: bad input changes nothing."""
    set_rollback()
    if isinstance(exc, DjangoValidationError):
        return _validation(django_validation_detail(exc))
    if isinstance(exc, Http404):
        return Response(error_body("not_found", _("Not found.")), status=404)
    if isinstance(exc, RequestDataTooBig):
        # Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE when DRF reads it; it reached here as a 500.
        limit = formatting.number(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        message = _("The body is too large (at most %(limit)s bytes): nothing was changed.") % {"limit": limit}
        return Response(error_body("too_large", message), status=413)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        return _validation(_flatten(exc.detail))
    if isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        headers = {}
        if isinstance(exc, exceptions.Throttled):
            wait = int(exc.wait or 60)
            minutes = -(-wait // 60)
            # The words say the wait Retry-After gives (an hour after too many wrong keys, not "a minute").
            message = (
                _("Too many requests: try again in a minute.")
                if minutes <= 1
                else ngettext(
                    "Too many requests: try again in %(minutes)s minute.",
                    "Too many requests: try again in %(minutes)s minutes.",
                    minutes,
                )
                % {"minutes": formatting.number(minutes)}
            )
            code = "rate_limited"
            headers["Retry-After"] = str(wait)
        elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            message = str(exc.detail)
            headers["WWW-Authenticate"] = 'Bearer realm="api"'
            code = "not_authenticated" if isinstance(exc, exceptions.NotAuthenticated) else "invalid_key"
        elif isinstance(exc, exceptions.NotFound):
            code, message = "not_found", _("Not found.")
        elif isinstance(exc, exceptions.MethodNotAllowed):
            code, message = "method_not_allowed", _("This method is not allowed here.")
        elif isinstance(exc, exceptions.UnsupportedMediaType):
            code, message = "unsupported_media_type", _("Send the body as JSON (Content-Type: application/json).")
        elif isinstance(exc, exceptions.ParseError):
            code, message = "parse_error", _("The body is not valid JSON.")
        elif isinstance(exc, exceptions.NotAcceptable):
            code, message = "not_acceptable", _("This API answers in JSON only.")
        elif isinstance(exc, exceptions.PermissionDenied) and str(exc.detail) == str(
            exceptions.PermissionDenied.default_detail
        ):
            code, message = "permission_denied", _("You may not do this.")
        else:
            message = str(exc.detail)
        return Response(error_body(str(code), message), status=exc.status_code, headers=headers)
    from django.db import OperationalError

    if isinstance(exc, OperationalError):
        # A database away or a lock past its timeout: the transaction rolled back, so nothing was saved.
        log.warning("database unavailable: %s", exc)
        body = error_body("unavailable", _("The database is unavailable: nothing was saved. Try again shortly."))
        return Response(body, status=503, headers={"Retry-After": "30"})
    log.exception("API error", exc_info=exc)
    return Response(error_body("server_error", _("Something went wrong on our side: nothing was changed.")), status=500)


# Django's own handlers, for /api/ paths: an unknown URL or an error outside a view answers JSON too.
def json_not_found(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_body("not_found", _("Not found.")), status=404)


def json_bad_request(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_body("bad_request", _("The request could not be read.")), status=400)


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        error_body("server_error", _("Something went wrong on our side: nothing was changed.")), status=500
    )
