"""Payments: pure rules for what identifies a payment (the receipt QR code, the paid-for period)."""

from aquabill.billing_core.payments.periods import format_payment_period, parse_payment_period
from aquabill.billing_core.payments.qr import (
    ManualPaymentHint,
    PaymentQr,
    QrEncoding,
    QrError,
    build_payment_string,
    encode_payment_string,
    parse_payment_string,
    payment_hint,
)

__all__ = [
    "ManualPaymentHint",
    "PaymentQr",
    "QrEncoding",
    "QrError",
    "build_payment_string",
    "encode_payment_string",
    "format_payment_period",
    "parse_payment_period",
    "parse_payment_string",
    "payment_hint",
]
