"""Quality managers' pages for webhook endpoints and their deliveries; every rule lives in services.py."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import quality_manager_required
from webhooks import services
from webhooks.delivery import body_of
from webhooks.forms import DisableForm, EndpointForm
from webhooks.models import WebhookDelivery, WebhookEndpoint

PAGE_SIZE = 25
D = WebhookDelivery.State


def _endpoint(pk: int) -> WebhookEndpoint:
    # Endpoints belong to the organisation, not to a person: any quality manager manages all of them.
    return get_object_or_404(WebhookEndpoint, pk=pk)


def _secret_page(request: HttpRequest, endpoint: WebhookEndpoint, created: bool) -> HttpResponse:
    # Rendered in answer to the POST, never stored in the session or a URL: this is the one time it is shown.
    response = render(request, "webhooks/secret.html", {"endpoint": endpoint, "created": created})
    response.headers["Cache-Control"] = "private, no-store"
    return response


@quality_manager_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    endpoints = WebhookEndpoint.objects.annotate(
        waiting=Count("deliveries", filter=Q(deliveries__state=D.PENDING)),
        failed=Count("deliveries", filter=Q(deliveries__state=D.FAILED)),
    ).order_by("-active", "-created_at", "-id")
    page = Paginator(endpoints, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "webhooks/list.html", {"page": page})


@quality_manager_required
def webhook_create(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.endpoint_create(**form.cleaned_data, actor=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _secret_page(request, endpoint, created=True)
    return render(request, "webhooks/form.html", {"form": form, "title": _("New webhook endpoint")})


@quality_manager_required
def webhook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(pk)
    initial = {"url": endpoint.url, "description": endpoint.description, "events": endpoint.events}
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_update(endpoint=endpoint, **form.cleaned_data, actor=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Webhook endpoint saved."))
            return redirect("webhook_detail", endpoint.pk)
    context = {"form": form, "title": _("Edit webhook endpoint"), "endpoint": endpoint}
    return render(request, "webhooks/form.html", context)


@quality_manager_required
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(pk)
    state = request.GET.get("state", "")
    deliveries = endpoint.deliveries.select_related("event").order_by("-created_at", "-id")
    if state in D.values:
        deliveries = deliveries.filter(state=state)
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "endpoint": endpoint,
        "page": page,
        "state": state,
        "states": D.choices,
        "extra": f"state={state}" if state in D.values else "",
        "disable_form": DisableForm(),
    }
    return render(request, "webhooks/detail.html", context)


@quality_manager_required
@require_POST
def webhook_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(pk)
    if endpoint.active:
        form = DisableForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        services.endpoint_disable(endpoint=endpoint, actor=request.user, reason=reason)
        messages.success(request, _("Webhook endpoint disabled: nothing is sent to it until it is enabled again."))
    else:
        services.endpoint_enable(endpoint=endpoint, actor=request.user)
        messages.success(request, _("Webhook endpoint enabled: deliveries that waited are sent now."))
    return redirect("webhook_detail", endpoint.pk)


@quality_manager_required
@require_POST
def webhook_roll_secret(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = services.endpoint_roll_secret(endpoint=_endpoint(pk), actor=request.user)
    return _secret_page(request, endpoint, created=False)


@quality_manager_required
def webhook_delivery(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("event", "endpoint"), pk=delivery_id)
    attempts = Paginator(delivery.attempt_log.order_by("-at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    body = body_of(delivery.event).decode()
    return render(request, "webhooks/delivery.html", {"delivery": delivery, "page": attempts, "body": body})


@quality_manager_required
@require_POST
def webhook_resend(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_id)
    try:
        services.delivery_resend(delivery=delivery, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The delivery will be sent again in a moment."))
    return redirect("webhook_delivery", delivery.pk)
