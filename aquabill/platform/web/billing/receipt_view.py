"""Queries the receipt routes share: which month a receipt is for by default, and the QR picture."""

from __future__ import annotations

import segno
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.payments.qr import encode_payment_string
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import default_period
from aquabill.billing_core.run.queries import latest_charged_period


async def receipt_period(conn: AsyncConnection, account_id: int, raw: str | None) -> Period:
    """The month asked for (ГГГГ-ММ); by default the account's latest month with charges, else the open one."""
    if raw:
        return Period.parse(raw)
    return await latest_charged_period(conn, account_id) or await default_period(conn)


def qr_svg(payment_string: str) -> str:
    """The payment QR as inline SVG: the bytes in the encoding the string's header names, level M."""
    qr = segno.make(encode_payment_string(payment_string), error="m", micro=False)
    return qr.svg_inline(scale=3, border=2, omitsize=False)
