"""Every call to /api/v1/ is logged: key, endpoint (its route, never the path), method, status, duration, time.
Calls without a valid key are logged up to BAD_TOKEN_RATE_PER_HOUR per client address an hour (a flood of them
would otherwise be a flood of rows).

The middleware writes the row after the answer, in a transaction of its own. A view that writes anyway (an
invitation request) may write the row itself, in its own transaction (`api_call_for`, then `api_call_logged` once
committed): the call is then logged exactly when its writes are, timed up to those writes."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from api.models import ApiCall
from config import ratelimit
from config.retention import delete_in_batches, kept_since

log = logging.getLogger(__name__)
PREFIX = "/api/v1/"
# The documentation page and its schema are read by people and tools alike, without a key: not integration calls.
UNLOGGED = ("/api/v1/docs/",)
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def api_call_for(request: HttpRequest, *, status: int) -> ApiCall:
    """The (unsaved) log row of this call, answered with `status`, timed from the middleware's start until now."""
    match = request.resolver_match
    endpoint = ("/" + match.route) if match is not None else "(unknown)"
    started = getattr(request, "api_started", None)
    return ApiCall(
        key=getattr(request, "api_key", None),
        method=request.method or "",
        endpoint=_CONVERTER.sub(r"{\1}", endpoint)[:200],
        status=status,
        duration_ms=int((time.perf_counter() - started) * 1000) if started is not None else 0,
    )


def api_call_logged(request: HttpRequest) -> None:
    """Say that the view wrote this call's row in its own transaction, which has committed: the middleware then
    writes none. Call it only after the commit, so that a transaction that fails leaves the call to the middleware."""
    request.api_call_logged = True  # type: ignore[attr-defined]


KEYLESS_SCOPE = "api-keyless-log"


def _keyless_logged(request: HttpRequest) -> bool:
    """Whether this call without a valid key (none, unknown, revoked, or refused before its check) still gets its
    row: BAD_TOKEN_RATE_PER_HOUR of them per client address an hour, enough to show that someone is trying."""
    client = ratelimit.client_address(request)
    return ratelimit.hit(KEYLESS_SCOPE, client, limit=settings.BAD_TOKEN_RATE_PER_HOUR)


class ApiCallLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(PREFIX) or request.path.startswith(UNLOGGED):
            return self.get_response(request)
        request.api_started = time.perf_counter()  # type: ignore[attr-defined]
        response = self.get_response(request)
        if getattr(request, "api_call_logged", False):
            # Logged with the view's writes (an invitation request): same row, one commit less per call.
            return response
        if getattr(request, "api_key", None) is None and not _keyless_logged(request):
            # Past its budget, a client's calls without a valid key leave no row: each one was a row kept for
            # API_CALL_KEEP_DAYS, so anyone could grow the table (and bury the log) at the speed of their line.
            return response
        try:
            api_call_for(request, status=response.status_code).save(force_insert=True)
        except DatabaseError:
            # The answer is given already; a log row lost to a database fault must not turn it into an error.
            log.warning("API call not logged", exc_info=True)
        return response


def api_calls_remove_old(now: datetime | None = None) -> int:
    """Beat, daily: the call log keeps API_CALL_KEEP_DAYS of calls (each key's last use stays on the key)."""
    return delete_in_batches(ApiCall.objects.filter(at__lt=kept_since(settings.API_CALL_KEEP_DAYS, now)))
