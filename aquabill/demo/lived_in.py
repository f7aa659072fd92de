"""What makes the demo tenant look used: the payee's requisites and this month's bank registries
(`demo/payments.py`), two months of appeals and telephonograms (`demo/appeals.py`), the call journal and
requests in every state (`demo/service_desk.py`), a portal user (`demo/subscribers.py`). Each part writes only when its tables are empty (or, for the
requisites and registries, when the tenant has none of its own), and the whole seeding holds a
transaction-level advisory lock, so running it again — or twice at once — changes nothing.
A few seconds for the 320-account demo town."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.demo import billing, legal_story
from aquabill.demo.appeals import MOSCOW, seed_appeals
from aquabill.demo.cash import seed_cash
from aquabill.demo.legal_story import seed_legal_story
from aquabill.demo.notifications import seed_notifications
from aquabill.demo.organisations import seed_organisations
from aquabill.demo.payments import seed_bank_files, seed_requisites
from aquabill.demo.receipt_layout import seed_receipt_layout
from aquabill.demo.service_desk import seed_calls, seed_requests
from aquabill.demo.subscribers import seed_subscribers


async def seed_lived_in(conn: AsyncConnection, *, now: datetime) -> dict[str, int]:
    """Seed (once) what a working utility has; `now` is aware, the seeding's «current time»."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('aquabill.demo.lived_in'))"))
    admin_id = (await conn.execute(text("SELECT min(id) FROM users"))).scalar()
    today = now.astimezone(MOSCOW).date()
    await seed_receipt_layout(conn, admin_id)
    seeded = {
        "requisites": int(await seed_requisites(conn)),
        "bank_files": await seed_bank_files(conn, today=today, user_id=admin_id),
        "appeals": await seed_appeals(conn, today=today),
        "calls": await seed_calls(conn, now=now),
        "requests": await seed_requests(conn, now=now, admin_id=admin_id) if admin_id is not None else 0,
        "subscribers": await seed_subscribers(conn),
    }
    await seed_notifications(conn, now=now)  # one house ready for an outage notice (after the portal user)
    seeded["cash_receipts"] = (await seed_cash(conn, now=now))["receipts"]  # a cash point with past shifts
    await seed_organisations(conn, today=today)  # legal entities: counterparties with contracts, points, meters
    await seed_legal_story(conn, today=today)  # their last months: charges, documents, bank statements, penalties
    # every seeded tariff and norm cites its (invented) act, also in a demo tenant seeded before t0036
    seeded["bases"] = await billing.cite_bases(conn, [*billing.tariff_rows(today), *legal_story.tariff_rows(today)])
    return seeded
