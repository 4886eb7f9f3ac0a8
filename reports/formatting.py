"""Figures as the reader's language writes them: counts and numbers (config.formatting.number, here for the
reports' callers), p-values and Plotly's separators."""

from __future__ import annotations

from config.formatting import english, number

__all__ = ["number", "p_value", "plotly_separators"]


def p_value(p: float | None) -> str:
    """One p-value format everywhere: "p = 0,013", or "p < 0,001" below what three decimals can show."""
    if p is None:
        return ""
    if p < 0.001:
        return f"p < {number(0.001, 3)}"
    return f"p = {number(p, 3)}"


def plotly_separators() -> str:
    """Plotly's `separators`: the decimal mark, then the thousands separator, of the active language."""
    return ".," if english() else ",."
