"""A fast writer of PDF page content on a reportlab canvas: text, lines, rectangles, barcode bars and 1-bit
image masks as PDF operators.

Coordinates are millimetres from the top-left corner of an A4 page (a `cm` operator flips the page once),
font sizes are in millimetres too. The shipped fonts (PT Sans, `fonts/`) are loaded once per process.
A string is encoded with one `str.translate` (C speed) instead of reportlab's per-character loop and written
as a hex string: the translate table of a face learns each character the first time reportlab's subsetting
(`splitString`) assigns it a code in the document, so only the glyphs used are embedded and later pages
take the fast path.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
FACES = {"regular": "PTSans-Regular.ttf", "bold": "PTSans-Bold.ttf", "narrow": "PTSansNarrow-Regular.ttf",
         "narrow_bold": "PTSansNarrow-Bold.ttf"}
MM = 72 / 25.4  # points in a millimetre
PAGE_W, PAGE_H = 210.0, 297.0  # A4, mm
_NOT_MAPPED = "\uffff"  # a stand-in that cannot be latin-1 encoded: sends the string to the slow path


@cache
def fonts() -> dict[str, TTFont]:
    """The shipped faces, registered with reportlab once per process."""
    # page streams Flate-compressed only: reportlab's default ASCII85 layer on top costs time and a quarter more
    # bytes (a process-wide reportlab setting; Aquabill writes no other PDFs)
    rl_config.useA85 = 0
    loaded = {}
    for face, file in FACES.items():
        font = TTFont(f"Aquabill-{face}", str(FONTS_DIR / file), asciiReadable=False)
        pdfmetrics.registerFont(font)
        loaded[face] = font
    return loaded


class Ink:
    """Content of one document's pages and forms, collected as operator strings and handed to the canvas."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.doc = canvas._doc  # reportlab's document: the per-document font subsets live on it
        self.fonts = fonts()
        self.ops: list[str] = []
        self.digest = hashlib.sha256()  # of everything drawn: the document's ID is derived from it
        self._tables: dict[str, dict[int, str]] = {}
        self._names: dict[str, str] = {}
        for face, font in self.fonts.items():
            font.splitString(" ", self.doc)  # the document's subsets of the face (ASCII pre-assigned)
            self._tables[face] = {c: _NOT_MAPPED for c in range(256)}
            self._names[face] = font.getSubsetInternalName(0, self.doc)

    # ---- measuring -------------------------------------------------------------------------------------

    def width(self, text: str, face: str, size: float) -> float:
        return self.fonts[face].stringWidth(text, size)

    def wrap(self, text: str, face: str, size: float, width: float, max_lines: int = 99) -> list[str]:
        """Greedy word wrap; a word longer than the line is cut; the last line ends with … when cut short."""
        measure = self.fonts[face].stringWidth
        space = measure(" ", size)
        lines: list[str] = []
        for paragraph in text.splitlines() or [""]:
            line, used = "", 0.0
            for word in paragraph.split():
                w = measure(word, size)
                while w > width:  # an overlong word: cut it where it fits
                    cut = max(1, int(len(word) * width / w))
                    while cut > 1 and measure(word[:cut], size) > width:
                        cut -= 1
                    if line:
                        lines.append(line)
                    lines.append(word[:cut])
                    line, used, word = "", 0.0, word[cut:]
                    w = measure(word, size)
                if line and used + space + w > width:
                    lines.append(line)
                    line, used = "", 0.0
                line, used = (f"{line} {word}", used + space + w) if line else (word, w)
            if line or not paragraph.strip():
                lines.append(line)
        while lines and not lines[-1]:
            lines.pop()
        if len(lines) > max_lines:
            last = lines[max_lines - 1]
            while last and measure(last + "…", size) > width:
                last = last[:-1]
            lines = [*lines[: max_lines - 1], last.rstrip() + "…"]
        return lines

    def fit(self, text: str, face: str, size: float, width: float, smallest: float) -> float:
        """The largest size from `size` down to `smallest` at which the text fits the width."""
        w = self.fonts[face].stringWidth(text, size)
        return size if w <= width else max(smallest, size * width / w)

    def fitted(self, x: float, y: float, text: str, face: str, size: float, width: float,
               smallest: float | None = None) -> None:
        """One line in a box of `width`: smaller down to `smallest` (¾ of the size), then cut with «…»."""
        size = self.fit(text, face, size, width, smallest or size * 0.75)
        if self.fonts[face].stringWidth(text, size) > width:
            text = self.wrap(text, face, size, width, 1)[0] if text.strip() else text
        self.text(x, y, text, face, size)

    # ---- drawing ---------------------------------------------------------------------------------------

    def _learn(self, face: str, text: str) -> None:
        """Let the translate table know the characters of `text` that sit in subset 0."""
        assigned = self.fonts[face].state[self.doc].assignments
        table = self._tables[face]
        for ch in set(text):
            code = assigned.get(ord(ch), 256)
            if code < 256:
                table[ord(ch)] = chr(code)
        table[0xA0] = chr(assigned[32])  # a no-break space prints as a space

    def _encoded(self, text: str, face: str) -> list[tuple[str, str]]:
        try:
            return [(self._names[face], text.translate(self._tables[face]).encode("latin-1").hex())]
        except UnicodeEncodeError:  # a character not met before: reportlab assigns it, the table learns it
            font = self.fonts[face]
            chunks = font.splitString(text, self.doc)
            self._learn(face, text)
            return [(font.getSubsetInternalName(subset, self.doc), chunk.hex()) for subset, chunk in chunks]

    def text(self, x: float, y: float, text: str, face: str = "regular", size: float = 2.8,
             align: str = "left") -> None:
        """A line of text with its baseline at y; align 'left', 'right' (x is the right edge) or 'center'."""
        if not text:
            return
        if align != "left":
            w = self.fonts[face].stringWidth(text, size)
            x -= w if align == "right" else w / 2
        shown = " ".join(f"{name} 1 Tf <{hexed}> Tj" for name, hexed in self._encoded(text, face))
        self.ops.append(f"BT {size:.3f} 0 0 -{size:.3f} {x:.2f} {y:.2f} Tm {shown} ET")

    def lines(self, x: float, y: float, lines: list[str], face: str, size: float, leading: float,
              align: str = "left") -> float:
        """Lines from baseline y down; returns the baseline after the last."""
        for line in lines:
            self.text(x, y, line, face, size, align)
            y += leading
        return y

    def line(self, x1: float, y1: float, x2: float, y2: float, width: float = 0.2, dash: str = "") -> None:
        """A straight line; `dash` a PDF dash array in mm (e.g. "1.5 1") for a dashed one."""
        if dash:
            self.ops.append(f"[{dash}] 0 d {width:.2f} w {x1:.2f} {y1:.2f} m {x2:.2f} {y2:.2f} l S [] 0 d")
        else:
            self.ops.append(f"{width:.2f} w {x1:.2f} {y1:.2f} m {x2:.2f} {y2:.2f} l S")

    def rect(self, x: float, y: float, w: float, h: float, *, fill: float | None = None,
             stroke: float | None = 0.2) -> None:
        """A rectangle; fill is a grey level (0 black … 1 white), stroke a line width (None: no outline)."""
        ops = self.ops
        if fill is not None:
            ops.append(f"{fill:.2f} g {x:.2f} {y:.2f} {w:.2f} {h:.2f} re f 0 g")
        if stroke is not None:
            ops.append(f"{stroke:.2f} w {x:.2f} {y:.2f} {w:.2f} {h:.2f} re S")

    def bars(self, x: float, y: float, module: float, height: float, bars: list[tuple[int, int]]) -> None:
        """Vertical bars of a linear barcode, given as (offset, width) in modules of `module` mm, as one path."""
        h = height / module
        path = " ".join(f"{offset} 0 {width} {h:.2f} re" for offset, width in bars)
        self.ops.append(f"q {module:.4f} 0 0 {module:.4f} {x:.3f} {y:.3f} cm {path} f Q")

    def bitmap(self, x: float, y: float, side: float, columns: int, bits: bytes) -> None:
        """A square 1-bit matrix (rows top down, each padded to whole bytes, 1 = dark) painted as an inline
        image mask of `side` mm from (x, y)."""
        rows = len(bits) // ((columns + 7) // 8)
        self.ops.append(f"q {side:.3f} 0 0 {-side:.3f} {x:.3f} {y + side:.3f} cm "
                        f"BI /W {columns} /H {rows} /IM true /BPC 1 /D [1 0] /F /AHx ID\n{bits.hex()}>\nEI Q")

    # ---- pages and forms -------------------------------------------------------------------------------

    def flush(self) -> None:
        """Hand what was drawn to the canvas (the current page or form), in millimetres from the top."""
        body = "\n".join(self.ops)
        self.ops.clear()
        self.digest.update(body.encode())
        self.canvas.addLiteral(f"q {MM:.6f} 0 0 {-MM:.6f} 0 {PAGE_H * MM:.4f} cm 0 g 0 G\n{body}\nQ")
