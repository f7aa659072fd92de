"""The demo's paperless receipts: a few accounts get their receipts by e-mail (and one in the personal account
only), so a person running `make run` can print the month (the printing's printing page: the receipts are issued), then
send them at /receipts/delivery and find the letters with their PDFs in `var/mail/` (the dev SMTP sink).

Six open accounts of the town's last house (not the notification demo's house): five by e-mail to
`ls<number>@demo.example`, the last one in the personal account only. Written once — when no account of the
tenant is paperless yet — under the lived-in seeding's advisory lock; an update of `accounts` (audited)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

BY_EMAIL = 5


async def seed_paperless(conn: AsyncConnection) -> int:
    """How many accounts were made paperless (0: the tenant already has some)."""
    if (await conn.execute(text("SELECT 1 FROM accounts WHERE receipt_delivery <> 'paper' LIMIT 1"))).first():
        return 0
    ids = list((await conn.execute(text(
        "SELECT a.id FROM accounts a JOIN premises p ON p.id = a.premise_id "
        "WHERE a.status = 'open' AND p.house_id = (SELECT max(house_id) FROM premises) "
        "ORDER BY a.number LIMIT :n"), {"n": BY_EMAIL + 1})).scalars())
    if not ids:
        return 0
    await conn.execute(text(
        "UPDATE accounts SET receipt_delivery = 'email', receipt_email = 'ls' || number || '@demo.example' "
        "WHERE id = ANY(:ids)"), {"ids": ids[:BY_EMAIL]})
    if len(ids) > BY_EMAIL:
        await conn.execute(text("UPDATE accounts SET receipt_delivery = 'portal' WHERE id = :a"), {"a": ids[-1]})
    return len(ids)
