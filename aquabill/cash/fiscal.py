"""The fiscal proof of payments (table payment_fiscal): the receipt that fiscalized a payment — FN number, FD
number, fiscal sign (ФП), when — by the register on site (source 'register') or by a cloud service ('cloud');
one per payment and operation (sale / refund). Written when the register reports a receipt printed
(outcomes.py); read for the payments' pages and API."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

OPERATIONS = {"sale": "Приход", "refund": "Возврат прихода"}
SOURCES = {"register": "Касса", "cloud": "Облачная касса"}


async def record(conn: AsyncConnection, *, payment_ids: Sequence[int], operation: str,
                 cash_receipt_id: int, fn_number: str, fd_number: int, fiscal_sign: int,
                 fiscal_at: datetime) -> int:
    """Proof rows for the payments a register receipt fiscalized (one statement; a row already there stays).
    Never refused: this runs in the transaction that records the agent's result, and a refusal there would leave
    the result unrecorded for ever (the agent resends it) — a row the table's constraints do not take is left out
    (count returned)."""
    if not payment_ids:
        return 0
    result = await conn.execute(text(
        "INSERT INTO payment_fiscal(payment_id, operation, source, cash_receipt_id, fn_number, fd_number, "
        "fiscal_sign, fiscal_at, amount) "
        "SELECT p.id, :op, 'register', :receipt, :fn, :fd, :fp, :at, p.amount FROM payments p "
        "WHERE p.id = ANY(:ids) ON CONFLICT DO NOTHING"),
        {"op": operation, "receipt": cash_receipt_id, "fn": fn_number, "fd": fd_number, "fp": fiscal_sign,
         "at": fiscal_at, "ids": list(payment_ids)})
    return result.rowcount or 0


async def of_payments(conn: AsyncConnection, payment_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """payment id → its proof rows (sale first, then refund)."""
    out: dict[int, list[dict[str, Any]]] = {}
    if not payment_ids:
        return out
    for r in await conn.execute(text(
            "SELECT payment_id, operation, source, cash_receipt_id, fn_number, fd_number, fiscal_sign, fiscal_at, "
            "amount FROM payment_fiscal WHERE payment_id = ANY(:ids) ORDER BY payment_id, operation DESC, id"),
            {"ids": list(payment_ids)}):
        row = dict(r._mapping)
        row["operation_name"] = OPERATIONS.get(row["operation"], row["operation"])
        row["source_name"] = SOURCES.get(row["source"], row["source"])
        out.setdefault(row["payment_id"], []).append(row)
    return out
