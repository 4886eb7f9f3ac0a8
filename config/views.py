from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.roles import is_quality_manager, is_staff_member, is_top_management, staff_required
from customers.models import Customer
from surveys.models import Response, Survey


def home(request: HttpRequest) -> HttpResponse:
    # A director who works no cases (top management only) has one thing to do here: the management reviews.
    if request.user.is_authenticated and not is_staff_member(request.user) and is_top_management(request.user):
        return redirect("review_list")
    return _staff_home(request)


@staff_required
def _staff_home(request: HttpRequest) -> HttpResponse:
    from feedback.views.cases import my_work

    context = my_work(request)
    if is_quality_manager(request.user):
        context |= {
            "active_surveys": Survey.objects.filter(status=Survey.Status.ACTIVE).count(),
            "draft_surveys": Survey.objects.filter(status=Survey.Status.DRAFT).count(),
            "response_count": Response.objects.count(),
            "customer_count": Customer.objects.count(),
            "recent_surveys": Survey.objects.order_by("-updated_at")[:5],
        }
    return render(request, "home.html", context)


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. No I/O, so it answers even when the database or Redis is away."""
    return JsonResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: database, broker, outbox lag, dispatcher and worker heartbeats (config/health.py)."""
    from config.health import readiness

    ready, report = readiness()
    return JsonResponse(report, status=200 if ready else 503, headers={"Cache-Control": "no-store"})


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # A refusal that says why (PermissionDenied(message), e.g. the object policy) shows its message.
    reason = str(exception.args[0]) if exception is not None and exception.args else ""
    return render(request, "errors/403.html", {"reason": reason}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        from api.errors import json_not_found

        return json_not_found(request)
    return render(request, "errors/404.html", status=404)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Django's own answer is a bare English "Bad Request (400)"; a too-large form or a bad host gets this instead.
    if request.path.startswith("/api/"):
        from api.errors import json_bad_request

        return json_bad_request(request)
    return render(request, "errors/400.html", status=400)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    # CSRF_FAILURE_VIEW: a form sent after its page went stale, or with cookies blocked (some in-app browsers).
    # Django's page is in English and speaks of DEBUG; customers meet this on the complaint form and public links.
    # Back to the page the form was on (a POST-only address would answer 405), when it is one of ours.
    referer = request.META.get("HTTP_REFERER", "")
    safe = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return render(request, "errors/csrf.html", {"retry_url": referer if safe else request.path}, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        from api.errors import json_server_error

        return json_server_error(request)
    return render(request, "errors/500.html", status=500)
