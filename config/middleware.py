import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

# Every front-end file is served from our own origin and no page has inline script, so a strict policy holds.
# 'unsafe-inline' for styles only: crispy-forms and Django admin emit a few style attributes.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response


class NulCharacterMiddleware:
    """A NUL character in the address (path or query) names nothing here, and PostgreSQL refuses one in any query
    ("A string literal cannot contain NUL"): wherever it reached a lookup, a survey key, a case reference, an API
    filter, it answered 500. No client has a reason to send one: the request is refused first, with a 400."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            return _bad_address(request)
        return self.get_response(request)


def _bad_address(request: HttpRequest) -> HttpResponse:
    from django.template import loader
    from django.utils.translation import gettext as _

    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        from api.errors import error_body

        message = _("The address contains a NUL character: no resource has one.")
        return JsonResponse(error_body("invalid", message), status=400)
    # Rendered without the request, like the 500 page: nothing here needs the user or the database.
    return HttpResponse(loader.get_template("errors/400.html").render({}), status=400)


class DatabaseUnavailableMiddleware:
    """A database that is away (restarting, a lock past lock_timeout, a statement past statement_timeout) gets a
    plain 503 page saying nothing was saved, not a 500: the request's transaction rolled back, so that is true."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.db import OperationalError, connection
        from django.template import loader

        if not isinstance(exception, OperationalError):
            return None
        logger.warning("database unavailable: %s", exception)
        connection.close_if_unusable_or_obsolete()
        if request.path.startswith("/api/"):
            from django.http import JsonResponse
            from django.utils.translation import gettext as _

            from api.errors import error_body

            body = error_body("unavailable", _("The database is unavailable: nothing was saved. Try again shortly."))
            response: HttpResponse = JsonResponse(body, status=503)
            response["Retry-After"] = "30"
            return response
        # Rendered without the request: the context processors would ask the database again.
        response = HttpResponse(loader.get_template("errors/503.html").render({}), status=503)
        response["Retry-After"] = "30"
        return response
