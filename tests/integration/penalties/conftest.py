"""Penalty tests: a tenant with two houses and a few hundred accounts (house 2: every fifth premise)."""

import pytest
from sqlalchemy import text

from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.conftest import small_registry

ACCOUNTS = 240


async def penalty_registry(conn, tenant=None) -> None:
    await small_registry(conn, tenant, ACCOUNTS)
    await conn.execute(text("INSERT INTO houses(street_id, number, improvement) VALUES (1, '2', 'partial')"))
    await conn.execute(text("UPDATE premises SET house_id = 2 WHERE id % 5 = 0"))


@pytest.fixture
async def penalty_tenant(make_tenant):
    return await make_tenant(seed=penalty_registry)


@pytest.fixture
def tx(core, penalty_tenant):
    def open_tx(user_id=None):
        return tenant_transaction(core.engines, penalty_tenant.tenant, user_id)

    return open_tx
