"""Receipts (ЕПД) as a PDF document: one A4 page per receipt, from `billing_core.receipts.Receipt` (the one
source of the figures) and the tenant's `ReceiptLayout`. Pure CPU work: the caller gives the receipts.

The library was chosen by measurement (the same receipt-like page — 90 strings of Cyrillic text, lines, a
QR of ~1,500 module runs and a barcode — drawn with each library's own API, one process, 500 pages):
reportlab 5.1 with its C accelerators (rl_accel) 165 pages/s, fpdf2 2.8.9 92 pages/s. On top of reportlab's
document model (TrueType subsetting, compression, form XObjects) the pages are written as PDF operators
(ink.py), what every page of a document shares is drawn once into a form, and the QR matrix comes from
libzint (qr.py): a receipt takes ~1.5 ms of one core. bench/receipts.py, 100,000 receipts in bundles of
1,000 by 2 processes on this 2-core machine: 1,258 receipts/s (blank reportlab pages: 20,224/s), 3.5 KiB a
receipt, 89 MB peak memory a worker.

The same receipts give the same bytes: reportlab's invariant mode, the creation date set to the first day of
the month after the latest period (when the receipts are issued) and the file ID derived from the pages.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from aquabill.base.errors import Invalid
from aquabill.billing_core.periods import Period
from aquabill.billing_core.receipts import PayeeRequisites, Receipt
from aquabill.channels.print.ink import MM, PAGE_H, PAGE_W, Ink
from aquabill.channels.print.layout import ReceiptLayout
from aquabill.channels.print.page import LOGO_BOX, receipt_part, static_part
from aquabill.channels.print.texts import month

MSK = "+03'00'"  # receipts are dated in Moscow time


class ReceiptPdf:
    """One PDF of many receipts, page by page: `add` each receipt, then `finish` for the bytes. Fonts are
    loaded once per process, the shared part of the page drawn once per document (per payee)."""

    def __init__(self, layout: ReceiptLayout, *, compress: bool = True) -> None:
        self.layout = layout
        self.buffer = io.BytesIO()
        self.canvas = Canvas(self.buffer, pagesize=(PAGE_W * MM, PAGE_H * MM), invariant=1,
                             pageCompression=1 if compress else 0)
        self.ink = Ink(self.canvas)
        self.forms: dict[PayeeRequisites | None, str] = {}
        self.notes = self.ink.wrap(layout.notes, "regular", 2.7, 188.0, 6) if layout.notes.strip() else []
        self.latest: Period | None = None
        self.pages = 0

    def _form(self, payee: PayeeRequisites | None) -> str:
        name = self.forms.get(payee)
        if name is None:
            name = self.forms[payee] = f"receipt{len(self.forms)}"
            self.canvas.beginForm(name)
            static_part(self.ink, self.layout, payee)
            self.ink.flush()
            if self.layout.logo_png:
                x, y, w, h = LOGO_BOX
                try:
                    logo = ImageReader(io.BytesIO(self.layout.logo_png))
                    self.canvas.drawImage(logo, x * MM, (PAGE_H - y - h) * MM, w * MM, h * MM,
                                          preserveAspectRatio=True, anchor="w", mask="auto")
                except (OSError, ValueError, SyntaxError) as exc:  # what Pillow raises on a broken picture
                    raise Invalid("Логотип квитанции не читается как картинка PNG: загрузите его заново",
                                  field="logo_png") from exc
            self.canvas.endForm()
        return name

    def add(self, receipt: Receipt) -> None:
        form = self._form(receipt.payee)
        self.canvas.doForm(form)
        receipt_part(self.ink, receipt, self.notes)
        self.ink.flush()
        self.canvas.showPage()
        self.pages += 1
        if self.latest is None or receipt.period > self.latest:
            self.latest = receipt.period

    def finish(self) -> bytes:
        if not self.pages or self.latest is None:
            raise Invalid("Нет квитанций для печати")
        issued = self.latest.next().first_day
        c = self.canvas
        c.setTitle(f"Единые платёжные документы за {month(self.latest)}" if self.pages > 1
                   else f"Единый платёжный документ за {month(self.latest)}")
        c.setAuthor(self.layout.tenant_name or "")
        c.setCreator("Аквабилл")
        c.setSubject(f"Квитанций: {self.pages}")
        c.setDateFormatter(lambda *_: f"D:{issued:%Y%m%d}000000{MSK}")
        c._doc.updateSignature(self.ink.digest.digest())  # the file ID: derived from the pages' content
        c.save()
        return self.buffer.getvalue()


def render_receipts(receipts: Iterable[Receipt], layout: ReceiptLayout | None = None) -> bytes:
    """One PDF, one page per receipt, in the order given."""
    pdf = ReceiptPdf(layout or ReceiptLayout())
    for receipt in receipts:
        pdf.add(receipt)
    return pdf.finish()


def render_receipt(receipt: Receipt, layout: ReceiptLayout | None = None) -> bytes:
    return render_receipts([receipt], layout)
