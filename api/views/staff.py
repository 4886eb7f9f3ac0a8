"""Quality managers' pages: the API keys (list, create, revoke) and the log of calls made with them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.roles import quality_manager_required, quality_manager_users
from api.forms import ApiKeyForm
from api.keys import apikey_create, apikey_revoke
from api.models import ApiCall, ApiKey
from config.validators import parse_id


@quality_manager_required
def apikey_list(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        key, secret = apikey_create(name=form.cleaned_data["name"], scope=form.cleaned_data["scope"],
                                    actor=request.user)  # fmt: skip
        messages.success(request, _("Key “%(name)s” created. Copy it now: it is shown only once.") % {"name": key.name})
        form = ApiKeyForm()
    page = Paginator(ApiKey.objects.select_related("created_by"), 50).get_page(request.GET.get("page"))
    # A key works only while its maker is an active quality manager (api/keys.py): one query says who still is.
    makers = set(quality_manager_users().values_list("pk", flat=True))
    context = {"form": form, "page": page, "secret": secret, "makers": makers}
    response = render(request, "api/apikey_list.html", context)
    if secret:
        response["Cache-Control"] = "no-store"  # the secret must not stay in a cache
    return response


@require_POST
@quality_manager_required
def apikey_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, pk=pk)
    try:
        apikey_revoke(key=key, actor=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Key “%(name)s” revoked: it no longer works.") % {"name": key.name})
    return redirect("apikey_list")


@quality_manager_required
def apicall_list(request: HttpRequest) -> HttpResponse:
    calls = ApiCall.objects.select_related("key")
    key_id = request.GET.get("key", "")
    chosen = parse_id(key_id)  # a number too big for the column is no key, not a 500
    if chosen is not None:
        calls = calls.filter(key_id=chosen)
    page = Paginator(calls, 50).get_page(request.GET.get("page"))
    extra = f"key={chosen}" if chosen is not None else ""
    return render(request, "api/apicall_list.html", {"page": page, "extra": extra,
                                                     "keys": ApiKey.objects.all(), "key_id": key_id})  # fmt: skip


def api_docs(request: HttpRequest) -> HttpResponse:
    """The API's documentation (Swagger UI from static/, no CDN), open to anyone: it holds no data."""
    return render(request, "api/docs.html")


@csrf_exempt  # no session here: a POST to an unknown API URL is a 404, not a CSRF refusal
def api_not_found(request: HttpRequest) -> HttpResponse:
    from api.errors import json_not_found

    return json_not_found(request)
