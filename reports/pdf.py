"""The small kit the PDFs share: DejaVu Sans (its glyphs cover Vietnamese) from reports/fonts, the styles, and
paragraphs and tables that escape what they are given. ReportLab only; nothing outside pip."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

FONTS = Path(__file__).resolve().parent / "fonts"


class Kit:
    def __init__(self) -> None:
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        if "DejaVu" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("DejaVu", str(FONTS / "DejaVuSans.ttf")))
            pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(FONTS / "DejaVuSans-Bold.ttf")))
        self.body = ParagraphStyle("body", fontName="DejaVu", fontSize=9, leading=12)
        self.small = ParagraphStyle("small", parent=self.body, fontSize=8, leading=10)
        self.h1 = ParagraphStyle("h1", parent=self.body, fontName="DejaVu-Bold", fontSize=15, leading=19,
                                 spaceAfter=4)  # fmt: skip
        self.h2 = ParagraphStyle("h2", parent=self.body, fontName="DejaVu-Bold", fontSize=11, leading=15,
                                 spaceBefore=8, spaceAfter=3)  # fmt: skip
        self.h3 = ParagraphStyle("h3", parent=self.body, fontName="DejaVu-Bold", spaceBefore=4)

    def p(self, text: Any, style: Any = None) -> Any:
        from xml.sax.saxutils import escape

        from reportlab.platypus import Paragraph

        return Paragraph(escape(str(text)).replace("\n", "<br/>"), style or self.body)

    def table(self, rows: list[list[Any]], widths: list[float]) -> Any:
        from reportlab.lib import colors
        from reportlab.lib.units import mm
        from reportlab.platypus import Table, TableStyle

        t = Table([[self.p(c) for c in r] for r in rows], colWidths=[w * mm for w in widths], repeatRows=1)
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9eef2")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))  # fmt: skip
        return t

    def build(self, story: list[Any], *, title: str) -> bytes:
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.units import mm
        from reportlab.platypus import SimpleDocTemplate

        buffer = io.BytesIO()
        document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                                     topMargin=16 * mm, bottomMargin=16 * mm, title=title,
                                     author="Lắng Nghe")  # fmt: skip
        document.build(story, onFirstPage=lambda canvas, doc: canvas.setFont("DejaVu", 8))
        return buffer.getvalue()
