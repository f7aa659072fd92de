"""The demo's cash desk (aquabill/demo/cash.py): the point, the cashier who can sign in, the services, three closed
shifts with printed receipts whose payments carry their fiscal proof, the shifts' cash orders balancing the book;
seeding again adds nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from sqlalchemy import text

from aquabill.demo.cash import CASHIER, seed_cash
from aquabill.demo.tenant import seed_registry
from aquabill.tenants.context import tenant_transaction

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


async def test_demo_cash_desk_is_seeded_once(make_tenant, core, client):
    async def seed(conn, _tenant):
        await seed_registry(conn, accounts_count=20)

    handle = await make_tenant(seed=seed)
    async with tenant_transaction(core.engines, handle.tenant) as conn:
        first = await seed_cash(conn, now=NOW)
    async with tenant_transaction(core.engines, handle.tenant) as conn:
        again = await seed_cash(conn, now=NOW)
        counts = (await conn.execute(text(
            "SELECT (SELECT count(*) FROM cash_points), (SELECT count(*) FROM cash_services), "
            "(SELECT count(*) FROM cash_shifts WHERE status = 'closed'), "
            "(SELECT count(*) FROM cash_receipts WHERE status = 'done'), "
            "(SELECT count(*) FROM payments WHERE source = 'cash'), (SELECT count(*) FROM payment_fiscal), "
            "(SELECT sum(CASE kind WHEN 'in' THEN amount ELSE -amount END) FROM cash_orders), "
            "(SELECT count(*) FROM cash_orders WHERE kind = 'in')"))).one()
        vat = (await conn.execute(text("SELECT vat, tax_system FROM cash_points"))).one()
        inns = sorted((await conn.execute(text("SELECT supplier_inn FROM cash_services"))).scalars())
    assert first == {"points": 1, "shifts": 3, "receipts": 18} and again == {"points": 0, "shifts": 0, "receipts": 0}
    points, services, shifts, receipts, payments, proofs, book, pko = counts
    assert (points, services, shifts, receipts) == (1, 2, 3, 18)
    assert payments == proofs == 15  # the third parties' receipts make no payment
    assert book == D("0.00") and pko == 3  # each shift's cash in, then all of it handed over to the bank
    assert tuple(vat) == ("22", 1) and inns == ["500100732259", "7707083893"]
    r = await client.post("/api/auth/login", json={"tenant": handle.tenant.slug, "login": CASHIER[0],
                                                   "password": CASHIER[1]})
    assert r.status_code == 200
    token = r.json()["token"]
    shifts_page = await client.get("/api/cash/shifts", headers={"Authorization": f"Bearer {token}"})
    assert shifts_page.status_code == 200 and shifts_page.json()["total"] == 3
