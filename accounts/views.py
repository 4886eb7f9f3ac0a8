"""Account pages beyond Django's stock ones: throttled password-reset mail and the lockout list."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import quality_manager_required
from config import ratelimit

log = logging.getLogger(__name__)


class PasswordResetView(auth_views.PasswordResetView):
    # The link in the email is built from SITE_URL, never from the request's Host header, which a client sets.
    email_template_name = "registration/password_reset_email.txt"

    def form_valid(self, form: Any) -> Any:
        self.extra_email_context = {"site_url": settings.SITE_URL}
        limit = settings.PASSWORD_RESET_RATE_PER_HOUR
        address = form.cleaned_data["email"].strip().lower()
        client = ratelimit.client_address(self.request)
        # Both counted on every request, so neither a flood at one address nor one client spraying many addresses
        # sends more than `limit` mails an hour. The page looks the same either way: it must not tell whether an
        # address has an account, nor whether mail went.
        by_address = ratelimit.hit("password-reset-address", address, limit=limit)
        by_client = ratelimit.hit("password-reset-client", client, limit=limit * 3)
        if not (by_address and by_client):
            log.warning("password reset mail throttled (%s)", "address" if not by_address else "client")
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


def _locked(now: Any) -> Any:
    since = now - timedelta(hours=settings.AXES_COOLOFF_TIME)
    return AccessAttempt.objects.filter(attempt_time__gte=since).order_by("-attempt_time", "-id")


@quality_manager_required
def lockout_list(request: HttpRequest) -> HttpResponse:
    """Failed logins of the cool-off period, with the accounts and addresses they locked, for quality managers."""
    attempts = _locked(timezone.now())
    page = Paginator(attempts, 50).get_page(request.GET.get("page"))
    context = {"page": page, "limit": settings.AXES_FAILURE_LIMIT}
    return render(request, "registration/lockout_list.html", context)


@require_POST
@quality_manager_required
def lockout_unlock(request: HttpRequest) -> HttpResponse:
    username = request.POST.get("username", "").strip()[:255]
    address = request.POST.get("ip_address", "").strip()[:64]
    if username:
        axes_reset(username=username)
        messages.success(request, _("The account “%(name)s” can log in again.") % {"name": username})
    elif address:
        axes_reset(ip=address)
        messages.success(request, _("Logins from %(address)s are allowed again.") % {"address": address})
    else:
        messages.error(request, _("Choose an account or an address to unlock."))
    log.info("lockout lifted by %s", request.user.pk)
    return redirect("lockout_list")
