"""Pages for customers, without an account: the complaint form and the case-tracking page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation
from django.views.decorators.http import require_http_methods

from config import ratelimit
from config.pages import personal_page as _render
from config.pages import unavailable_page
from feedback import workflow
from feedback.forms import PublicComplaintForm
from feedback.models import CaseEvent, Channel
from feedback.notify import case_for_tracking_token, tracking_token
from surveys.public import mailbox

LANGUAGES = ("vi", "en")


def _language(request: HttpRequest) -> str:
    chosen = request.POST.get("lang") or request.GET.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return translation.get_language_from_request(request)


def _over_rate(request: HttpRequest) -> bool:
    client = ratelimit.client_address(request)
    return not ratelimit.hit("complaint-form", client, limit=settings.COMPLAINT_FORM_RATE_PER_HOUR)


# Acknowledgements of complaints from this form per mailbox per day. The address typed is anyone's, and the mail
# greets the name typed beside it: without a limit per mailbox (the limit per client does not stop a visitor who
# changes address), the form mailed a victim our letterhead with a stranger's text as often as it was sent. Past
# the limit the complaint is still recorded, without the email; staff acknowledge it as they do a phoned one.
ACKNOWLEDGEMENTS_PER_MAILBOX_PER_DAY = 3


def _acknowledge(email: str) -> bool:
    if not email:
        return True
    return ratelimit.hit("complaint-ack", mailbox(email), limit=ACKNOWLEDGEMENTS_PER_MAILBOX_PER_DAY, window=86400)


@require_http_methods(["GET", "POST"])
def complaint_form(request: HttpRequest) -> HttpResponse:
    language = _language(request)
    with translation.override(language):
        form = PublicComplaintForm(request.POST or None, language=language)
        if request.method == "POST":
            if request.POST.get("website"):
                # A bot filled the hidden field: look successful, store nothing.
                return _render(request, "feedback/public/received.html", {"case": None}, language)
            if _over_rate(request):
                context = {"form": form, "rate_limited": True}
                return _form_page(
                    _render(request, "feedback/public/complaint_form.html", context, language, status=429)
                )
            if form.is_valid():
                data = form.cleaned_data
                case = workflow.case_create(
                    acknowledge=_acknowledge(data["email"]),
                    channel=Channel.WEB_FORM,
                    contact_name=data["name"],
                    contact_email=data["email"],
                    contact_phone=data["phone"],
                    language=language,
                    product=data["product"],
                    category=data["category"],
                    description=data["description"],
                    remedy_sought=data["remedy_sought"],
                )
                return redirect(f"/c/{tracking_token(case)}/?lang={language}&new=1")
    status = 400 if request.method == "POST" else 200
    return _form_page(_render(request, "feedback/public/complaint_form.html", {"form": form}, language, status=status))


def _form_page(response: HttpResponse) -> HttpResponse:
    """The form's URL holds nothing personal; and under "no-referrer" a browser posts it with `Origin: null`, which
    Django's CSRF check refuses. Same-origin keeps the URL out of other sites and lets the form be sent."""
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@require_http_methods(["GET"])
def case_track(request: HttpRequest, token: str) -> HttpResponse:
    case = case_for_tracking_token(token)
    if case is None:
        return unavailable_page(request, _language(request))
    language = request.GET.get("lang") if request.GET.get("lang") in LANGUAGES else case.language
    messages_sent = case.events.filter(kind=CaseEvent.Kind.MESSAGE).order_by("at")
    context = {
        "case": case,
        "messages_sent": messages_sent,
        "new": request.GET.get("new") == "1",
        "category": case.category.name(language) if case.category else "",
    }
    return _render(request, "feedback/public/track.html", context, language)
