"""The subscriber's choice, per linked account, of paperless receipts («Получать квитанции только в электронном
виде»): on → the account's `receipt_delivery` becomes 'email' with the subscriber's confirmed e-mail as
`receipt_email`, or 'portal' (the personal account only) when the subscriber has no confirmed e-mail; off →
'paper' (the receipt e-mail is kept for the next time). Only an account linked (live) to the subscriber can be
changed; the change is an update of `accounts`, audited with the subscriber (the portal's transaction names
them: `aquabill.subscriber_id`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.receipts.delivery import DELIVERY, set_receipt_delivery
from aquabill.subscribers.links import linked_accounts, require_linked


async def _confirmed_email(conn: AsyncConnection, subscriber_id: int) -> str | None:
    return (await conn.execute(text(
        "SELECT email FROM subscribers WHERE id = :s AND email_confirmed_at IS NOT NULL AND is_active"),
        {"s": subscriber_id})).scalar()


async def receipt_choices(conn: AsyncConnection, subscriber_id: int) -> dict[str, Any]:
    """`email`: the subscriber's confirmed e-mail (None: none), `accounts`: each linked account with `number`,
    `address`, `delivery` ('paper' | 'email' | 'portal'), its name, `paperless` and `email` (where the receipt
    goes when by e-mail)."""
    accounts = await linked_accounts(conn, subscriber_id)
    ids = [a["id"] for a in accounts]
    rows = {r.id: r for r in await conn.execute(text(
        "SELECT id, receipt_delivery, coalesce(receipt_email, email) AS email FROM accounts WHERE id = ANY(:ids)"),
        {"ids": ids})}
    out = []
    for a in accounts:
        r = rows[a["id"]]
        out.append({"id": a["id"], "number": a["number"], "address": a.get("address", ""),
                    "delivery": r.receipt_delivery, "delivery_name": DELIVERY.get(r.receipt_delivery, ""),
                    "paperless": r.receipt_delivery != "paper", "email": r.email})
    return {"email": await _confirmed_email(conn, subscriber_id), "accounts": out}


async def set_paperless(conn: AsyncConnection, subscriber_id: int, account_id: int, paperless: bool
                        ) -> dict[str, Any]:
    """Switch the account's paperless receipts on or off (see the module); NotFound for an account not linked
    to the subscriber. Returns the account's delivery as `billing_core.receipts.receipt_delivery` does."""
    await require_linked(conn, subscriber_id, account_id)
    if not paperless:
        current = (await conn.execute(text("SELECT receipt_email FROM accounts WHERE id = :a"),
                                      {"a": account_id})).scalar()
        return await set_receipt_delivery(conn, account_id, "paper", current)
    email = await _confirmed_email(conn, subscriber_id)
    if email:
        return await set_receipt_delivery(conn, account_id, "email", email)
    return await set_receipt_delivery(conn, account_id, "portal", None)
