"""Drawing helpers for the printed documents to legal entities (UPD, act, bill): a reportlab canvas in
millimetres from the top-left corner, PT Sans (the shipped faces, `ink.fonts`), wrapped text and ruled tables.

Same document → same bytes: reportlab's invariant mode (no creation time, a fixed file ID) and nothing taken
from the clock. Money is printed with a space between thousands and a comma before kopecks.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from aquabill.channels.print.ink import MM, fonts

FACE = {"regular": "Aquabill-regular", "bold": "Aquabill-bold", "narrow": "Aquabill-narrow",
        "narrow_bold": "Aquabill-narrow_bold"}
NBSP = "\u00a0"


def money(value: Any) -> str:
    if value is None or value == "":
        return "—"
    d = Decimal(str(value)).quantize(Decimal("0.01"))
    whole, frac = f"{d:.2f}".split(".")
    sign = "-" if whole.startswith("-") else ""
    whole = whole.lstrip("-")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{sign}{NBSP.join(groups)},{frac}"


def number(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return format(Decimal(str(value)).normalize(), "f").replace(".", ",")


def day(value: Any) -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value:%d.%m.%Y}" if value else "—"


class Sheet:
    """A PDF of pages drawn in mm from the top-left corner."""

    def __init__(self, *, landscape_page: bool = False, title: str = "") -> None:
        fonts()
        self.buffer = io.BytesIO()
        size = landscape(A4) if landscape_page else A4
        self.width, self.height = size[0] / MM, size[1] / MM
        self.c = Canvas(self.buffer, pagesize=size, invariant=1, pageCompression=1)
        self.c.setTitle(title)
        self.c.setAuthor("Aquabill")
        self.c.setCreator("Aquabill")

    def text(self, x: float, y: float, s: str, *, size: float = 8, face: str = "regular",
             align: str = "left") -> None:
        self.c.setFont(FACE[face], size)
        px, py = x * MM, (self.height - y) * MM
        if align == "right":
            self.c.drawRightString(px, py, s)
        elif align == "center":
            self.c.drawCentredString(px, py, s)
        else:
            self.c.drawString(px, py, s)

    def wrap(self, s: str, width: float, *, size: float = 8, face: str = "regular") -> list[str]:
        return simpleSplit(s or "", FACE[face], size, width * MM) or [""]

    def para(self, x: float, y: float, s: str, width: float, *, size: float = 8, face: str = "regular",
             leading: float | None = None) -> float:
        """Wrapped text from the baseline `y`; returns the y below it."""
        step = leading or size * 0.42
        for line in self.wrap(s, width, size=size, face=face):
            self.text(x, y, line, size=size, face=face)
            y += step
        return y

    def line(self, x1: float, y1: float, x2: float, y2: float, width: float = 0.2) -> None:
        self.c.setLineWidth(width * MM)
        self.c.line(x1 * MM, (self.height - y1) * MM, x2 * MM, (self.height - y2) * MM)

    def rect(self, x: float, y: float, w: float, h: float, width: float = 0.2) -> None:
        self.c.setLineWidth(width * MM)
        self.c.rect(x * MM, (self.height - y - h) * MM, w * MM, h * MM)

    def table(self, x: float, y: float, widths: Sequence[float], rows: Sequence[Sequence[str]], *,
              size: float = 7, header_rows: int = 1, aligns: Sequence[str] = ()) -> float:
        """A ruled table; cells wrap; numbers right-aligned by `aligns` ("l", "r", "c"); returns the y below."""
        pad = 0.8
        step = size * 0.40
        for r, row in enumerate(rows):
            face = "bold" if r < header_rows else "regular"
            cells = [self.wrap(str(v), w - 2 * pad, size=size, face=face) for v, w in zip(row, widths, strict=True)]
            height = max(len(c) for c in cells) * step + 2 * pad
            if y + height > self.height - 12:
                self.c.showPage()
                y = 12
            cx = x
            for i, (lines, w) in enumerate(zip(cells, widths, strict=True)):
                self.rect(cx, y, w, height)
                align = "c" if r < header_rows else (aligns[i] if i < len(aligns) else "l")
                ty = y + pad + step * 0.85
                for ln in lines:
                    if align == "r":
                        self.text(cx + w - pad, ty, ln, size=size, face=face, align="right")
                    elif align == "c":
                        self.text(cx + w / 2, ty, ln, size=size, face=face, align="center")
                    else:
                        self.text(cx + pad, ty, ln, size=size, face=face)
                    ty += step
                cx += w
            y += height
        return y

    def bitmap(self, x: float, y: float, side: float, columns: int, bits: bytes) -> None:
        """A square 1-bit matrix (rows top down, each padded to whole bytes, 1 = dark) of `side` mm."""
        per_row = (columns + 7) // 8
        unit = side / columns
        self.c.setFillGray(0)
        for r in range(len(bits) // per_row):
            row = bits[r * per_row:(r + 1) * per_row]
            for col in range(columns):
                if row[col // 8] & (0x80 >> (col % 8)):
                    self.c.rect((x + col * unit) * MM, (self.height - y - (r + 1) * unit) * MM, unit * MM + 0.05,
                                unit * MM + 0.05, stroke=0, fill=1)

    def finish(self) -> bytes:
        self.c.showPage()
        self.c.save()
        return self.buffer.getvalue()
