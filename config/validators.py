"""Validators shared by every app."""

from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

# C0 and C1 control characters (CR, LF, NUL, TAB, ...), and Unicode's own line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def has_control_characters(value: str) -> bool:
    return bool(_CONTROL.search(value or ""))


def validate_one_line(value: str) -> None:
    """Names, phones, titles and anything else that can reach an email header or the SMTP stream are one line.

    A line break in a name is how a message is smuggled into someone else's SMTP session (a "\\r\\n.\\r\\n" ends
    the DATA and what follows is read as commands), so such values are refused where they enter: forms, imports
    and the API. Sending also folds them (surveys/campaigns/messages.py), for values stored before this rule."""
    if has_control_characters(value):
        raise ValidationError(
            _("Write this on one line, without line breaks, tabs or other control characters."), code="one_line"
        )


def one_line(value: str) -> str:
    """The value with every run of control characters and whitespace folded into one space."""
    return " ".join(_CONTROL.sub(" ", value or "").split())


def parse_day(value: str | None) -> date | None:
    """A day from a query string (YYYY-MM-DD), or None: also for a day outside 1900–2999, whose local day's bounds
    overflow (date.max + 1 day) and which no record holds anyway."""
    try:
        day = parse_date(value or "")
    except ValueError:  # a date that does not exist (2026-02-30)
        return None
    return day if day is not None and 1900 <= day.year <= 2999 else None


def parse_id(value: str | None) -> int | None:
    """A database id from a query string, or None: ASCII digits only (str.isdigit() accepts "²", which int() does
    not) and small enough for a 64-bit column (SQLite raises OverflowError on larger numbers)."""
    if not value or len(value) > 18 or not value.isascii() or not value.isdigit():
        return None
    return int(value)
