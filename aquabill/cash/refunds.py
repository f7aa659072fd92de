"""A refund at the cash desk: the receipt «возврат прихода» (tag 1054 = 2) of a fiscalized sale, with the same
lines and the same tender, in the cashier's open shift at the sale's cash point. A card refund goes back to the
card through the terminal (the command's `card` names the sale's RRN). When the agent reports it printed, the
sale's billing payment(s) are stornoed (outcomes.py); a refund that failed can be retried or cancelled, and a
cancelled one lets the sale be refunded again. One refund per sale (unique index `cash_receipts_one_refund`).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid
from aquabill.billing_core.payments import intake
from aquabill.cash import receipts, shifts


async def refund(conn: AsyncConnection, *, key: uuid.UUID, receipt_id: int, point_id: int,
                 user_id: int) -> tuple[dict[str, Any], bool]:
    """(the refund receipt, whether it was made now); a repeated key returns the same refund."""
    existing = await receipts.receipt_by_key(conn, key)
    if existing is not None:
        return existing, False
    sale = await receipts.get_receipt(conn, receipt_id, lock=True)
    if sale["operation"] != "sale":
        raise Invalid("Возврат оформляется по чеку прихода", field="receipt_id")
    if sale["status"] != "done":
        raise Conflict("Вернуть можно только пробитый чек")
    # read after the lock (a new statement sees a refund committed while this one waited for it)
    earlier = [r for r in await refunds_of(conn, sale["id"]) if r["status"] not in ("failed", "cancelled")]
    if earlier:
        raise Conflict(f"По этому чеку уже оформлен возврат (чек № {earlier[0]['id']})")
    if sale["cash_point_id"] != point_id:
        raise Invalid("Возврат оформляется на той кассе, где пробит чек", field="point_id")
    shift = await shifts.require_open_shift(conn, point_id, user_id)
    point = await shifts.get_point(conn, point_id)
    for payment_id in receipts.payment_ids(sale):
        payment = await intake.get_payment(conn, payment_id)
        if payment["status"] not in intake.LIVE:
            raise Conflict(f"Платёж № {payment_id} этого чека уже сторнирован или перенесён: возврат по чеку "
                           "не оформляется, обратитесь к бухгалтеру")
    card = None
    if sale["tender"] == "card":
        approval = sale["card"] or {}
        card = {"operation": "refund", "amount": str(sale["total"]), "original_rrn": approval.get("rrn", ""),
                "day": None}
    lines = [{k: v for k, v in line.items() if k not in ("payment_id", "own_payment")} for line in sale["lines"]]
    made, fresh = await receipts.issue(
        conn, key=key, shift=shift, point=point, operation="refund", lines=lines, total=sale["total"],
        tender=sale["tender"], given=sale["total"] if sale["tender"] == "cash" else None, change=Decimal("0.00"),
        buyer_contact=sale["buyer_contact"], user_id=user_id, account_id=sale["account_id"],
        cash_service_id=sale["cash_service_id"], commission=sale["commission"], refund_of=sale["id"], card=card)
    return made, fresh


async def refund_storno(conn: AsyncConnection, refund_receipt: dict[str, Any]) -> list[int]:
    """The sale's live payment(s) stornoed once its refund is fiscalized; the ids stornoed now."""
    sale = await receipts.get_receipt(conn, refund_receipt["refund_of"])
    done: list[int] = []
    for payment_id in receipts.payment_ids(sale):
        payment = await intake.get_payment(conn, payment_id)
        if payment["status"] in intake.LIVE:
            await intake.storno_payment(conn, payment_id, note=f"Возврат по чеку № {sale['id']} "
                                                               f"(чек возврата № {refund_receipt['id']})",
                                        fiscal_refund=True)
            done.append(payment_id)
    return done


async def refunds_of(conn: AsyncConnection, sale_id: int) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in await conn.execute(text(
        "SELECT id, status, created_at FROM cash_receipts WHERE refund_of = :s ORDER BY id"), {"s": sale_id})]
