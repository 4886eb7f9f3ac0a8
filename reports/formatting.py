"""Numbers as the reader's language writes them, on pages, in charts, emails and PDFs alike.

Vietnamese groups thousands with a dot and writes decimals with a comma (5.632 and 76,9); English the other way
round (5,632 and 76.9). Every figure, p-value and count goes through here (or through Plotly's `separators`,
set from the same language), so one page never mixes the two.
"""

from __future__ import annotations

from django.utils import numberformat, translation


def _english() -> bool:
    return (translation.get_language() or "")[:2] == "en"


def number(value: float | int | None, places: int = 0) -> str:
    """A number with thousands grouped by three and `places` decimals, in the active language."""
    if value is None:
        return "—"
    rounded = round(float(value), places)
    if rounded == 0:
        rounded = 0.0  # never "−0,0"
    decimal, thousands = (".", ",") if _english() else (",", ".")
    return numberformat.format(
        rounded, decimal, decimal_pos=places, grouping=3, thousand_sep=thousands, force_grouping=True
    )


def p_value(p: float | None) -> str:
    """One p-value format everywhere: "p = 0,013", or "p < 0,001" below what three decimals can show."""
    if p is None:
        return ""
    if p < 0.001:
        return f"p < {number(0.001, 3)}"
    return f"p = {number(p, 3)}"


def plotly_separators() -> str:
    """Plotly's `separators`: the decimal mark, then the thousands separator, of the active language."""
    return ".," if _english() else ",."
