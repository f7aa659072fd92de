"""Printed receipts (ЕПД): PDF pages from `billing_core.receipts.Receipt` with the tenant's layout, the payment
QR and a Code 128 barcode for cash desks; fonts shipped in `fonts/` (PT Sans, ParaType Free Font License)."""

from aquabill.channels.print.code128 import receipt_barcode
from aquabill.channels.print.layout import ReceiptLayout
from aquabill.channels.print.receipt_pdf import ReceiptPdf, render_receipt, render_receipts

__all__ = ["ReceiptLayout", "ReceiptPdf", "receipt_barcode", "render_receipt", "render_receipts"]
