"""Template filters for figures: {{ n|num }}, {{ value|dec:1 }}, {{ p|pvalue }} (see reports/formatting.py)."""

from __future__ import annotations

from django import template

from reports import formatting

register = template.Library()


@register.filter
def num(value: float | int | None) -> str:
    return formatting.number(value)


@register.filter
def dec(value: float | None, places: int | str = 1) -> str:
    try:
        digits = int(places)
    except (TypeError, ValueError):
        digits = 1
    return formatting.number(value, digits)


@register.filter
def pvalue(value: float | None) -> str:
    return formatting.p_value(value)
