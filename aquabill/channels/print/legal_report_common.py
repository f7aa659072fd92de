"""What the legal reports' PDFs share (the sales ledger, the reconciliation act): reportlab's platypus over
the shipped PT Sans faces (`ink.fonts`), paragraph styles, a table style and money as «1 234,56». Pure CPU
work; the same data give the same bytes (reportlab's invariant mode)."""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, TableStyle

from aquabill.channels.print.ink import fonts

GRID = colors.Color(0.55, 0.55, 0.55)
HEAD = colors.Color(0.9, 0.92, 0.95)


def styles() -> dict[str, ParagraphStyle]:
    fonts()
    base = ParagraphStyle("cell", fontName="Aquabill-narrow", fontSize=7.5, leading=9)
    return {
        "cell": base,
        "num": ParagraphStyle("num", parent=base, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", parent=base, fontName="Aquabill-narrow_bold", fontSize=7, leading=8.5),
        "title": ParagraphStyle("title", fontName="Aquabill-bold", fontSize=13, leading=16, spaceAfter=4),
        "text": ParagraphStyle("text", fontName="Aquabill-regular", fontSize=9, leading=11.5, spaceAfter=2),
        "small": ParagraphStyle("small", fontName="Aquabill-regular", fontSize=7.5, leading=9.5, spaceAfter=2),
    }


def money(value: Decimal | None) -> str:
    if value is None:
        return ""
    sign = "−" if value < 0 else ""
    whole, frac = f"{abs(value):.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{sign}{' '.join(groups)},{frac}"


def p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape("" if text is None else str(text)), style)


def table_style(header_rows: int = 1, *, total_row: bool = False) -> TableStyle:
    commands = [("GRID", (0, 0), (-1, -1), 0.3, GRID), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, header_rows - 1), HEAD),
                ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]
    if total_row:
        commands.append(("BACKGROUND", (0, -1), (-1, -1), HEAD))
    return TableStyle(commands)


def render(story: list, *, pagesize: tuple[float, float], title: str,
           on_page: Callable | None = None) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=pagesize, leftMargin=10 * mm, rightMargin=10 * mm,
                            topMargin=10 * mm, bottomMargin=12 * mm, title=title, author="Aquabill",
                            invariant=1)

    def footer(canvas, document) -> None:
        canvas.saveState()
        canvas.setFont("Aquabill-regular", 7)
        canvas.drawRightString(pagesize[0] - 10 * mm, 6 * mm, f"Лист {document.page}")
        canvas.restoreState()
        if on_page is not None:
            on_page(canvas, document)

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
