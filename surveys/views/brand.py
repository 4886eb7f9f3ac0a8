"""The organisation's logo and colour: the quality managers' settings page, and the logo as customers load it."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from accounts.roles import quality_manager_required
from surveys import branding


class BrandingForm(forms.Form):
    colour = forms.CharField(
        label=_("Colour"),
        max_length=7,
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text=_("Used for the bar at the top of the survey page, its buttons and the emails' score buttons."),
    )
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
        help_text=_("PNG, JPEG, GIF or WebP, at most 200 KB; shown about 32 pixels high."),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)


@quality_manager_required
def branding_edit(request: HttpRequest) -> HttpResponse:
    current = branding.branding_get()
    form = BrandingForm(request.POST or None, request.FILES or None, initial={"colour": current.colour})
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["logo"]
        try:
            # Read one byte past the limit, so an oversized file is refused without reading all of it.
            data = upload.read(branding.LOGO_MAX_BYTES + 1) if upload else None
            branding.branding_update(
                colour=form.cleaned_data["colour"], logo=data, remove_logo=form.cleaned_data["remove_logo"]
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field, errors)
        else:
            messages.success(request, _("Saved: customers see the new logo and colour from now on."))
            return redirect("branding")
    brand = branding.brand_of(current)
    return render(request, "surveys/branding.html", {"form": form, "brand": brand})


@require_GET
def brand_logo(request: HttpRequest, stamp: str) -> HttpResponse:
    """The logo, for anyone (it is on customers' pages and emails). Its URL changes with its content, so it may
    be cached for a year: a returning customer's page loads it from the cache."""
    current = branding.branding_get()
    brand = branding.brand_of(current)
    if not current.logo or brand.logo_url.rstrip("/").rsplit("/", 1)[-1] != stamp:
        raise Http404
    response = HttpResponse(bytes(current.logo), content_type=current.logo_type)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response
