"""What every PDF the project makes shares: the DejaVu Sans font (its glyphs cover Vietnamese; shipped in
reports/fonts), the paragraph styles, and escaped paragraphs and tables. ReportLab is a pure-Python wheel, so
nothing outside pip is needed. Apps at any level may use this module; it imports none of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

FONTS = Path(__file__).resolve().parent.parent / "reports" / "fonts"
FONT, FONT_BOLD = "DejaVu", "DejaVu-Bold"


def register_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONTS / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONTS / "DejaVuSans-Bold.ttf")))


def styles() -> dict[str, Any]:
    """body, h1, h2 and h3, in DejaVu."""
    from reportlab.lib.styles import ParagraphStyle

    register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=7.5, leading=10),
        "h1": ParagraphStyle("h1", parent=body, fontName=FONT_BOLD, fontSize=15, leading=19, spaceAfter=4),
        "h2": ParagraphStyle("h2", parent=body, fontName=FONT_BOLD, fontSize=11, leading=15, spaceBefore=8,
                             spaceAfter=3),
        "h3": ParagraphStyle("h3", parent=body, fontName=FONT_BOLD, spaceBefore=4),
    }  # fmt: skip


def paragraph(text: Any, style: Any) -> Any:
    """A paragraph of plain text: markup in the text is escaped, line breaks kept."""
    from reportlab.platypus import Paragraph

    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def table(rows: list[list[Any]], widths_mm: list[float], style: Any) -> Any:
    """A grid with a shaded header row; cells are plain text."""
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Table, TableStyle

    t = Table([[paragraph(c, style) for c in r] for r in rows], colWidths=[w * mm for w in widths_mm], repeatRows=1)
    t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                           ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9eef2")),
                           ("VALIGN", (0, 0), (-1, -1), "TOP")]))  # fmt: skip
    return t


def build(story: list[Any], *, title: str) -> bytes:
    """An A4 document from the story, with the usual margins."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    register_fonts()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                                 bottomMargin=16 * mm, title=title, author="Lắng Nghe")  # fmt: skip
    document.build(story, onFirstPage=lambda canvas, doc: canvas.setFont(FONT, 8))
    return buffer.getvalue()
