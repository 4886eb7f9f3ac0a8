"""Every call to /api/v1/ is logged: key, endpoint (its route, never the path), method, status, duration, time."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from api.models import ApiCall

log = logging.getLogger(__name__)
PREFIX = "/api/v1/"
# The documentation page and its schema are read by people and tools alike, without a key: not integration calls.
UNLOGGED = ("/api/v1/docs/",)
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


class ApiCallLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(PREFIX) or request.path.startswith(UNLOGGED):
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        endpoint = ("/" + match.route) if match is not None else "(unknown)"
        key = getattr(request, "api_key", None)
        try:
            ApiCall.objects.create(
                key=key,
                method=request.method or "",
                endpoint=_CONVERTER.sub(r"{\1}", endpoint)[:200],
                status=response.status_code,
                duration_ms=int((time.perf_counter() - started) * 1000),
            )
        except DatabaseError:
            # The answer is given already; a log row lost to a database fault must not turn it into an error.
            log.warning("API call not logged", exc_info=True)
        return response
