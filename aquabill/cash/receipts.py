"""Cash receipts: reading them back, and issuing one (the row + its `receipt` command for the agent), shared by
sales, third-party services and refunds.

A receipt's `key` (UUID) is its idempotency key end to end: the page posts it, a repeated key returns the
receipt already made, the edge command carries it as its own key and as `payload.key` (the register prints a
receipt once per key; a retry is a new command with the same `payload.key`, commands.retry).
Status: pending (the row, inside the issuing transaction) → printing (its command is queued for the agent) →
done (fiscalized: FN, FD №, fiscal sign) | failed (the agent's Russian message) | cancelled.
The billing payment(s) a receipt made: `payment_id` (the first) and each line's `payment_id` when the receipt
paid its lines one payment each (`payment_ids`)."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import NotFound
from aquabill.cash import commands
from aquabill.cash.lines import register_items

STATUSES = {"pending": "Ожидает", "printing": "Печатается…", "done": "Пробит", "failed": "Ошибка",
            "cancelled": "Отменён"}
OPERATIONS = {"sale": "Приход", "refund": "Возврат прихода"}
TENDERS = {"cash": "Наличные", "card": "Карта"}
OPERATION_TAG = {"sale": 1, "refund": 2}  # tag 1054: 1 приход, 2 возврат прихода
UNFINISHED = ("pending", "printing")

COLUMNS = """r.id, r.key, r.shift_id, r.operation, r.status, r.account_id, r.cash_service_id, r.payment_id,
    r.refund_of, r.lines, r.total, r.commission, r.tender, r.given, r.change, r.buyer_contact, r.card,
    r.command_id, r.fn_number, r.fd_number, r.fiscal_sign, r.fiscal_at, r.error, r.created_at, r.created_by,
    s.cash_point_id, s.agent_id, s.cashier_name, s.shift_number, a.number AS account_number,
    a.holder AS account_holder, cs.name AS service_name,
    (SELECT x.id FROM cash_receipts x WHERE x.refund_of = r.id AND x.status NOT IN ('failed', 'cancelled')
     ORDER BY x.id DESC LIMIT 1) AS refund_id,
    c.status AS command_status"""
FROM = """cash_receipts r JOIN cash_shifts s ON s.id = r.shift_id LEFT JOIN accounts a ON a.id = r.account_id
    LEFT JOIN cash_services cs ON cs.id = r.cash_service_id LEFT JOIN edge_commands c ON c.id = r.command_id"""


def _row(r: Any) -> dict[str, Any]:
    return dict(r._mapping)


def payment_ids(receipt: dict[str, Any]) -> list[int]:
    """The billing payments a receipt made (none for a card sale not yet approved, a third party's service)."""
    ids = [line["payment_id"] for line in receipt["lines"] if line.get("payment_id")]
    if receipt.get("payment_id") and receipt["payment_id"] not in ids:
        ids.insert(0, receipt["payment_id"])
    return ids


async def get_receipt(conn: AsyncConnection, receipt_id: int, *, lock: bool = False) -> dict[str, Any]:
    r = (await conn.execute(text(f"SELECT {COLUMNS} FROM {FROM} WHERE r.id = :id"
                                 + (" FOR UPDATE OF r" if lock else "")), {"id": receipt_id})).first()
    if r is None:
        raise NotFound("Чек не найден")
    return _row(r)


async def receipt_by_key(conn: AsyncConnection, key: uuid.UUID | str, *, lock: bool = False
                         ) -> dict[str, Any] | None:
    r = (await conn.execute(text(f"SELECT {COLUMNS} FROM {FROM} WHERE r.key = :k"
                                 + (" FOR UPDATE OF r" if lock else "")), {"k": str(key)})).first()
    return _row(r) if r else None


async def list_receipts(conn: AsyncConnection, *, shift_id: int | None = None, account_id: int | None = None,
                        limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Receipts of a shift (or of an account), newest first, and how many there are."""
    conds, params = [], {"lim": limit, "off": offset}
    if shift_id is not None:
        conds.append("r.shift_id = :shift")
        params["shift"] = shift_id
    if account_id is not None:
        conds.append("r.account_id = :account")
        params["account"] = account_id
    where = ("WHERE " + " AND ".join(conds)) if conds else ""
    rows = await conn.execute(text(f"SELECT {COLUMNS} FROM {FROM} {where} ORDER BY r.id DESC "
                                   "LIMIT :lim OFFSET :off"), params)
    total = (await conn.execute(text(f"SELECT count(*) FROM cash_receipts r {where}"),
                                {k: v for k, v in params.items() if k not in ("lim", "off")})).scalar_one()
    return [_row(r) for r in rows], total


def receipt_payload(*, key: uuid.UUID, operation: str, point: dict[str, Any], cashier_name: str,
                    buyer_contact: str, lines: list[dict[str, Any]], tender: str, total: Decimal,
                    given: Decimal | None, card: dict[str, Any] | None) -> dict[str, Any]:
    """The `receipt` command's payload (common.md): money as decimal strings; cash `given` may exceed the
    total (the register computes the change)."""
    cash = given if tender == "cash" and given is not None else total if tender == "cash" else Decimal("0.00")
    return {
        "key": str(key), "operation": OPERATION_TAG[operation], "tax_system": point["tax_system"],
        "cashier": {"name": cashier_name, "inn": ""}, "buyer_contact": buyer_contact,
        "items": register_items(lines),
        "payments": {"cash": str(cash), "electronic": str(total if tender == "card" else Decimal("0.00"))},
        "card": card,
    }


async def issue(conn: AsyncConnection, *, key: uuid.UUID, shift: dict[str, Any], point: dict[str, Any],
                operation: str, lines: list[dict[str, Any]], total: Decimal, tender: str, given: Decimal | None,
                change: Decimal, buyer_contact: str, user_id: int | None, account_id: int | None = None,
                cash_service_id: int | None = None, commission: Decimal = Decimal("0.00"),
                refund_of: int | None = None, card: dict[str, Any] | None = None,
                before_command=None) -> tuple[dict[str, Any], bool]:
    """Insert the receipt (a repeated `key` returns the existing one: (receipt, False)), let `before_command`
    (async, given the new receipt) do its part (the billing payments of a cash sale), queue its `receipt`
    command for the shift's agent; (receipt, True)."""
    receipt_id = (await conn.execute(text(
        "INSERT INTO cash_receipts(key, shift_id, operation, account_id, cash_service_id, refund_of, lines, total, "
        "commission, tender, given, change, buyer_contact, card, created_by) VALUES (:key, :shift, :op, :account, "
        ":service, :refund_of, CAST(:lines AS jsonb), :total, :commission, :tender, :given, :change, :contact, "
        "CAST(:card AS jsonb), :user) ON CONFLICT (key) DO NOTHING RETURNING id"),
        {"key": str(key), "shift": shift["id"], "op": operation, "account": account_id, "service": cash_service_id,
         "refund_of": refund_of, "lines": json.dumps(lines, ensure_ascii=False), "total": total,
         "commission": commission, "tender": tender, "given": given, "change": change, "contact": buyer_contact,
         "card": json.dumps(card, ensure_ascii=False) if card is not None else None, "user": user_id})).scalar()
    if receipt_id is None:
        existing = await receipt_by_key(conn, key)
        assert existing is not None
        return existing, False
    receipt = await get_receipt(conn, receipt_id)
    if before_command is not None:
        await before_command(receipt)
        receipt = await get_receipt(conn, receipt_id)
    card_request = None
    if card is not None:
        card_request = {k: card[k] for k in ("amount", "operation", "original_rrn") if k in card}
    command = await commands.enqueue(
        conn, agent_id=shift["agent_id"], kind="receipt", key=key, user_id=user_id,
        payload=receipt_payload(key=key, operation=operation, point=point, cashier_name=shift["cashier_name"],
                                buyer_contact=buyer_contact, lines=receipt["lines"], tender=tender, total=total,
                                given=given, card=card_request))
    await conn.execute(text("UPDATE cash_receipts SET status = 'printing', command_id = :c WHERE id = :id"),
                       {"c": command["id"], "id": receipt_id})
    return await get_receipt(conn, receipt_id), True


async def set_lines_payments(conn: AsyncConnection, receipt_id: int, lines: list[dict[str, Any]],
                             first_payment: int | None) -> None:
    await conn.execute(text("UPDATE cash_receipts SET lines = CAST(:lines AS jsonb), payment_id = :p WHERE id = :id"),
                       {"lines": json.dumps(lines, ensure_ascii=False), "p": first_payment, "id": receipt_id})
