"""Pages that customers reach without an account (survey links, unsubscribe, complaint tracking), shared by the apps.

They are rendered in the page's own language, kept out of shared caches and out of other sites' Referer headers,
because their links are personal."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation

from config import ratelimit


def personal_page(
    request: HttpRequest, template: str, context: dict[str, Any], language: str, status: int = 200
) -> HttpResponse:
    with translation.override(language):
        response = render(request, template, {**context, "lang": language}, status=status)
    response.headers["Content-Language"] = language
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def unavailable_page(request: HttpRequest, language: str) -> HttpResponse:
    """The page for a link that leads nowhere; past BAD_TOKEN_RATE_PER_HOUR failures from one client, a 429.

    Only failures are counted, after the lookup: a good link costs nothing here and always works, whatever the
    client did before, and a flood of guesses neither blocks customers nor staff logins (separate scopes)."""
    client = ratelimit.client_address(request)
    if not ratelimit.hit("bad-token", client, limit=settings.BAD_TOKEN_RATE_PER_HOUR):
        response = personal_page(request, "respond/unavailable.html", {"flood": True}, language, status=429)
        response.headers["Retry-After"] = "3600"
        return response
    return personal_page(request, "respond/unavailable.html", {}, language, status=404)
