"""Finding the account at the cash desk from the one search field (codes.classify): the receipt's barcode or
QR code names the account (and the receipt's month and sum); digits are an account number (exact first, then
as a prefix); anything else is searched by address, holder, phone (`registry.queries.search_accounts`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid
from aquabill.billing_core.registry.queries import account_card, search_accounts
from aquabill.cash.codes import CodeError, Scanned, account_candidates, classify

MIN_TEXT = 2  # fewer characters of words find too much


async def _by_numbers(conn: AsyncConnection, numbers: list[str]) -> list[int]:
    if not numbers:
        return []
    return list((await conn.execute(text("SELECT id FROM accounts WHERE number = ANY(:n) ORDER BY length(number), id"),
                                    {"n": numbers})).scalars())


async def lookup(conn: AsyncConnection, raw: str, *, limit: int = 20) -> dict[str, Any]:
    """{"kind", "items": [account rows], "total", "scanned": {period, amount} | None, "exact": bool} — `exact`
    when the input names one account (a code, or a whole account number): the desk opens it at once."""
    try:
        scanned = classify(raw)
    except CodeError as exc:
        raise Invalid(str(exc), field="q") from exc
    found: dict[str, Any] = {"kind": scanned.kind, "items": [], "total": 0, "scanned": None, "exact": False}
    if scanned.kind in ("barcode", "qr"):
        assert scanned.account is not None
        numbers = account_candidates(scanned.account) if scanned.kind == "barcode" else [scanned.account]
        ids = await _by_numbers(conn, numbers)
        if not ids:
            what = "штрихкоде" if scanned.kind == "barcode" else "QR-коде"
            raise Invalid(f"Лицевой счёт {scanned.account.lstrip('0') or scanned.account} из {what} квитанции "
                          "не найден", field="q")
        found.update(items=[await account_card(conn, ids[0])], total=1, exact=True, scanned=_scanned(scanned))
        return found
    if scanned.kind == "number":
        ids = await _by_numbers(conn, [scanned.text])
        if ids:
            found.update(items=[await account_card(conn, ids[0])], total=1, exact=True)
            return found
    if len(scanned.text) < MIN_TEXT:
        return found
    items, total = await search_accounts(conn, scanned.text, limit=limit)
    found.update(items=items, total=total)
    return found


def _scanned(s: Scanned) -> dict[str, Any]:
    return {"period": str(s.period) if s.period else None, "amount": str(s.amount) if s.amount is not None else None}
