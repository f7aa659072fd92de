"""How an account gets its receipt (t0026): on paper (printed and delivered, the default), by e-mail
(paperless: the PDF is sent to `receipt_email`, or else to the account's own e-mail), or only in the
personal account (paperless). Set by staff; the change is an update of `accounts`, audited by its triggers
with the transaction's user."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid, NotFound

DELIVERY = {"paper": "Бумажная квитанция", "email": "По электронной почте (без бумаги)",
            "portal": "Только в личном кабинете (без бумаги)"}
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
BAD_EMAIL = "Адрес электронной почты для квитанций указан неверно, пример: ivanov@mail.ru"
NEEDS_EMAIL = ("Чтобы получать квитанции по электронной почте, укажите адрес: у лицевого счёта нет "
               "электронной почты")


def _row(r: Any) -> dict[str, Any]:
    return {"account_id": r.id, "delivery": r.receipt_delivery, "delivery_name": DELIVERY.get(r.receipt_delivery, ""),
            "receipt_email": r.receipt_email, "account_email": r.email,
            "email": r.receipt_email or r.email or None}


async def receipt_delivery(conn: AsyncConnection, account_id: int) -> dict[str, Any]:
    """`delivery` and its name, `receipt_email` (as set), `account_email`, and `email`: where the receipt goes
    when it goes by e-mail (the receipt's address, else the account's)."""
    row = (await conn.execute(text("SELECT id, receipt_delivery, receipt_email, email FROM accounts WHERE id = :a"),
                              {"a": account_id})).first()
    if row is None:
        raise NotFound("Лицевой счёт не найден", field="account_id")
    return _row(row)


def clean_email(raw: str | None) -> str | None:
    """An e-mail typed by staff: trimmed, lower case; empty is None; a malformed one is refused."""
    email = (raw or "").strip().lower()
    if not email:
        return None
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise Invalid(BAD_EMAIL, field="email")
    return email


async def set_receipt_delivery(conn: AsyncConnection, account_id: int, delivery: str,
                               email: str | None = None) -> dict[str, Any]:
    """Set how the account gets its receipts and the e-mail for them (None or empty: the account's own).
    By e-mail needs an address, the receipt's or the account's."""
    current = await receipt_delivery(conn, account_id)
    if delivery not in DELIVERY:
        raise Invalid("Выберите способ доставки квитанции: " + ", ".join(DELIVERY.values()).lower(),
                      field="delivery")
    receipt_email = clean_email(email)
    if delivery == "email" and not (receipt_email or current["account_email"]):
        raise Invalid(NEEDS_EMAIL, field="email")
    row = (await conn.execute(text(
        "UPDATE accounts SET receipt_delivery = :d, receipt_email = :e WHERE id = :a "
        "AND (receipt_delivery, receipt_email) IS DISTINCT FROM (CAST(:d AS varchar), CAST(:e AS text)) "
        "RETURNING id, receipt_delivery, receipt_email, email"),
        {"a": account_id, "d": delivery, "e": receipt_email})).first()
    return _row(row) if row is not None else current
