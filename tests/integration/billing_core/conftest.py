"""A tenant with a tiny registry: one house, a few premises and accounts, for billing tests."""

import pytest
from sqlalchemy import text

from aquabill.tenants.context import tenant_transaction


async def small_registry(conn, tenant=None, accounts: int = 3) -> None:
    await conn.execute(text("INSERT INTO settlements(kind, name) VALUES ('г.', 'Тестовск')"))
    await conn.execute(text("INSERT INTO streets(settlement_id, kind, name) VALUES (1, 'ул.', 'Речная')"))
    await conn.execute(text("INSERT INTO houses(street_id, number, improvement) VALUES (1, '1', 'full')"))
    await conn.execute(text(
        "INSERT INTO premises(house_id, number, area_m2) "
        "SELECT 1, n::text, 40 + n FROM generate_series(1, :n) n"), {"n": accounts})
    await conn.execute(text(
        "INSERT INTO accounts(number, premise_id, holder, opened_on) "
        "SELECT 'ЛС' || n, n, 'Абонент ' || n, DATE '2020-01-01' FROM generate_series(1, :n) n"), {"n": accounts})


@pytest.fixture
async def billing_tenant(make_tenant):
    return await make_tenant(seed=small_registry)


@pytest.fixture
def tx(core, billing_tenant):
    def open_tx(user_id=None):
        return tenant_transaction(core.engines, billing_tenant.tenant, user_id)

    return open_tx
