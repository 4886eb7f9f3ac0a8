"""The organisation's logo and colour, set by a quality manager, shown to customers on pages and in emails.

The respondent page reads the branding with the survey's cached snapshot (responding.survey_snapshot), so it costs
no query per visit; a change touches every survey's `updated_at`, which renews those snapshots and the campaigns'
email templates in every process, as a question edit does.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from surveys.models import Branding, Survey

LOGO_MAX_BYTES = 200 * 1024
# Raster images only, recognised by their first bytes: an SVG can carry script, and a declared type is a claim.
_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF87a": "image/gif",
               b"GIF89a": "image/gif"}  # fmt: skip
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# White text sits on the colour (the page's bar, the buttons): WCAG AA asks 4.5:1 for normal text.
MIN_CONTRAST = 4.5


@dataclass(frozen=True)
class Brand:
    colour: str
    logo_url: str  # "" when there is no logo

    @property
    def custom_colour(self) -> bool:
        return self.colour.lower() != Branding.DEFAULT_COLOUR


DEFAULT = Brand(Branding.DEFAULT_COLOUR, "")


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_with_white(colour: str) -> float:
    return 1.05 / (_luminance(colour) + 0.05)


def logo_type(data: bytes) -> str | None:
    if data[8:12] == b"WEBP" and data[:4] == b"RIFF":
        return "image/webp"
    return next((kind for magic, kind in _SIGNATURES.items() if data.startswith(magic)), None)


def branding_get() -> Branding:
    return Branding.objects.filter(pk=1).first() or Branding(pk=1)


def brand_of(branding: Branding) -> Brand:
    url = ""
    if branding.logo:
        stamp = hashlib.sha256(bytes(branding.logo)).hexdigest()[:16]
        url = reverse("brand_logo", args=[stamp])
    return Brand(branding.colour, url)


def brand_current() -> Brand:
    return brand_of(branding_get())


@transaction.atomic
def branding_update(*, colour: str, logo: bytes | None = None, remove_logo: bool = False) -> Branding:
    """Set the colour, and the logo when one is given (or remove it). Refuses what customers could not read."""
    errors: dict[str, list[str]] = {}
    colour = colour.strip()
    if not _COLOUR.match(colour):
        errors["colour"] = [_("Give the colour as # and six hexadecimal digits, e.g. #0b4f6c.")]
    elif contrast_with_white(colour) < MIN_CONTRAST:
        errors["colour"] = [
            _("White text on this colour is hard to read (contrast %(ratio).1f:1, at least 4.5:1 is needed): "
              "choose a darker colour.") % {"ratio": contrast_with_white(colour)}
        ]  # fmt: skip
    kind = None
    if logo is not None:
        kind = logo_type(logo)
        if len(logo) > LOGO_MAX_BYTES:
            errors["logo"] = [_("The logo may be at most 200 KB.")]
        elif kind is None:
            errors["logo"] = [_("The logo must be a PNG, JPEG, GIF or WebP image.")]
    if errors:
        raise ValidationError(errors)
    branding = Branding.objects.select_for_update().filter(pk=1).first() or Branding(pk=1)
    branding.colour = colour.lower()
    if remove_logo:
        branding.logo, branding.logo_type = b"", ""
    elif logo is not None and kind is not None:
        branding.logo, branding.logo_type = logo, kind
    branding.save()
    # Renew every survey's cached snapshot and email templates (see the note at the top).
    Survey.objects.update(updated_at=timezone.now())
    return branding
