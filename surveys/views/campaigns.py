"""Sending a survey to customers: create a campaign, follow its funnel while it sends."""

from __future__ import annotations

import hashlib

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import is_quality_manager, quality_manager_required
from customers.models import Customer
from surveys import campaigns
from surveys.campaigns.testsend import campaign_test_send
from surveys.forms import CampaignForm
from surveys.models import Campaign, Survey


def _get_campaign_for_user(request: HttpRequest, pk: int) -> Campaign:
    if not is_quality_manager(request.user):
        raise PermissionDenied
    return get_object_or_404(Campaign.objects.select_related("survey"), pk=pk)


AUDIENCE_FIELDS = ("segment", "language", "customer_type", "audience_list")


def _audience_key(filters: dict[str, str], preview: dict[str, object]) -> str:
    """What the quality manager confirmed: the filters and the counts they saw. A change of either (a filter edited
    after the preview, customers imported meanwhile) asks for a new look before anything is sent."""
    text = "\x1f".join([*(filters[k] for k in AUDIENCE_FIELDS), str(preview["matched"]), str(preview["invited"])])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@quality_manager_required
def campaign_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Three steps on one page: look at the audience (how many, how many skipped and why), optionally email a test
    to oneself, then confirm. Nothing is sent without a confirmation of the audience just shown."""
    survey = get_object_or_404(Survey, pk=pk)
    if survey.status != Survey.Status.ACTIVE:
        # Only an active survey can be sent (campaigns.campaign_create): say so now, not after the audience, the
        # test email and the confirmation. The survey's page says how (activate or reopen it).
        if survey.status == Survey.Status.CLOSED:
            messages.warning(request, _("This survey is closed: reopen it before sending it to customers again."))
        else:
            messages.warning(request, _("Activate the survey before sending it."))
        return redirect("survey_detail", pk=survey.pk)
    form = CampaignForm(request.POST or None, initial={"name": survey.title_vi, "expiry_days": 30, "max_reminders": 1})
    action = request.POST.get("action", "preview")
    preview, key = None, ""
    if request.method == "POST" and action == "test":
        language = request.POST.get("language") if request.POST.get("language") in ("vi", "en") else "vi"
        try:
            address = campaign_test_send(survey=survey, user=request.user, language=language)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("A test email was sent to %(email)s.") % {"email": address})
        # Keep what was typed, unbound: its errors, if any, are for the preview to show.
        form = CampaignForm(initial={name: request.POST.get(name, "") for name in form.fields})
    elif request.method == "POST" and form.is_valid():
        filters = {k: form.cleaned_data[k] or "" for k in AUDIENCE_FIELDS}
        preview = campaigns.campaign_audience_preview(survey=survey, **filters)
        key = _audience_key(filters, preview)
        if action == "send" and request.POST.get("audience_key") != key:
            messages.warning(request, _("The audience has changed since you looked at it: check it again."))
        elif action == "send":
            created = _campaign_send(request, survey, form)
            if created is not None:
                return created
    segments = Customer.objects.exclude(segment="").order_by("segment").values_list("segment", flat=True).distinct()
    context = {"form": form, "survey": survey, "segments": segments, "preview": preview, "audience_key": key}
    return render(request, "surveys/campaign_form.html", context)


def _campaign_send(request: HttpRequest, survey: Survey, form: CampaignForm) -> HttpResponse | None:
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
        return None
    if campaign.send_at <= timezone.now():
        campaigns.campaign_start(campaign=campaign)
        messages.success(request, _("Sending has started."))
    else:
        messages.success(request, _("The campaign is scheduled."))
    return redirect("campaign_detail", pk=campaign.pk)


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
