"""Numbers as the reader's language writes them, on pages, in charts, emails, PDFs and messages alike.

Vietnamese groups thousands with a dot and writes decimals with a comma (5.632 and 76,9); English the other way
round (5,632 and 76.9). Every figure, p-value and count goes through here (or through Plotly's `separators`,
set from the same language), so one page never mixes the two. It lives in config so that every app can use it
(customers and insight sit below reports); reports.formatting adds the p-value and chart formats.
"""

from __future__ import annotations

from django.utils import numberformat, translation


def english() -> bool:
    return (translation.get_language() or "")[:2] == "en"


def number(value: float | int | None, places: int = 0) -> str:
    """A number with thousands grouped by three and `places` decimals, in the active language."""
    if value is None:
        return "—"
    rounded = round(float(value), places)
    if rounded == 0:
        rounded = 0.0  # never "−0,0"
    decimal, thousands = (".", ",") if english() else (",", ".")
    return numberformat.format(
        rounded, decimal, decimal_pos=places, grouping=3, thousand_sep=thousands, force_grouping=True
    )
