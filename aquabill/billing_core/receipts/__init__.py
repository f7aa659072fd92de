"""Receipts (ЕПД): the account's month receipt with penalties and the GOST R 56042 payment QR string,
and the payee's requisites printed on it."""

from aquabill.billing_core.receipts.assemble import Receipt, ReceiptLine, build_receipt
from aquabill.billing_core.receipts.requisites import (
           PayeeRequisites,
           load_requisites,
           save_requisites,
           validate,
)

__all__ = ["PayeeRequisites", "Receipt", "ReceiptLine", "build_receipt", "load_requisites", "save_requisites",
           "validate"]
