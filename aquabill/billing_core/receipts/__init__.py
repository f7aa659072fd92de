"""Receipts (ЕПД): the account's month receipt with penalties and the GOST R 56042 payment QR string, the
payee's requisites printed on it; receipts of many accounts at once and which accounts get one (batch), how
each account gets its receipt (delivery), the archive of issued receipts (issues) and the tenant's receipt
layout (layout_store)."""

from aquabill.billing_core.receipts.assemble import Receipt, ReceiptLine, build_receipt
from aquabill.billing_core.receipts.batch import build_receipts, select_accounts
from aquabill.billing_core.receipts.delivery import DELIVERY, receipt_delivery, set_receipt_delivery
from aquabill.billing_core.receipts.issues import issue_receipts, issued_receipt, issues_of, set_pdf_hash
from aquabill.billing_core.receipts.layout_store import load_layout, png_size, save_layout, save_logo
from aquabill.billing_core.receipts.requisites import (
           PayeeRequisites,
           load_requisites,
           save_requisites,
           validate,
)

__all__ = ["DELIVERY", "PayeeRequisites", "Receipt", "ReceiptLine", "build_receipt", "build_receipts",
           "issue_receipts", "issued_receipt", "issues_of", "load_layout", "load_requisites", "png_size",
           "receipt_delivery", "save_layout", "save_logo", "save_requisites", "select_accounts",
           "set_pdf_hash", "set_receipt_delivery", "validate"]
