"""Sending a survey to customers: create a campaign, follow its funnel while it sends."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import is_quality_manager, quality_manager_required
from surveys import campaigns
from surveys.forms import CampaignForm
from surveys.models import Campaign, Customer, Survey


def _get_campaign_for_user(request: HttpRequest, pk: int) -> Campaign:
    if not is_quality_manager(request.user):
        raise PermissionDenied
    return get_object_or_404(Campaign.objects.select_related("survey"), pk=pk)


@quality_manager_required
def campaign_new(request: HttpRequest, pk: int) -> HttpResponse:
    survey = get_object_or_404(Survey, pk=pk)
    form = CampaignForm(request.POST or None, initial={"name": survey.title_vi, "expiry_days": 30, "max_reminders": 1})
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("name", "send_at")}
        try:
            campaign = campaigns.campaign_create(
                survey=survey,
                created_by=request.user,
                name=form.cleaned_data["name"],
                send_at=form.cleaned_data["send_at"],
                **data,
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            if campaign.send_at <= timezone.now():
                campaigns.campaign_start(campaign=campaign)
                messages.success(request, _("Sending has started."))
            else:
                messages.success(request, _("The campaign is scheduled."))
            return redirect("campaign_detail", pk=campaign.pk)
    segments = Customer.objects.exclude(segment="").order_by("segment").values_list("segment", flat=True).distinct()
    return render(request, "surveys/campaign_form.html", {"form": form, "survey": survey, "segments": segments})


@quality_manager_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _get_campaign_for_user(request, pk)
    return render(request, "surveys/campaign_detail.html", {"campaign": campaign, "funnel": campaigns.funnel(campaign)})


@quality_manager_required
def campaign_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """Polled by static/js/campaign.js while a campaign sends."""
    campaign = _get_campaign_for_user(request, pk)
    return JsonResponse({"status": campaign.status, **campaigns.funnel(campaign)})


@require_POST
@quality_manager_required
def campaign_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _get_campaign_for_user(request, pk)
    try:
        campaigns.campaign_cancel(campaign=campaign)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The campaign is cancelled."))
    return redirect("campaign_detail", pk=campaign.pk)
