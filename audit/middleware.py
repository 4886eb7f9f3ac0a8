"""Attribute every write made while serving a request to its signed-in user, and say whether it came via the admin."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit.trail import acting


class AuditActorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            via = "admin" if request.path.startswith("/admin/") else "web"
            with acting(user, via):
                return self.get_response(request)
        with acting(None, "public"):
            return self.get_response(request)
