"""The organisation portal's tests: two organisations («Альфа», «Бета») of the legal entities' tenant, each with an
active contract, an object, a supply point and its commercial meter (installed 01.02.2025 at 100 m³); «Альфа» has
the documents and payments of `world.add_documents` and owes 1 220.00 − 500.00 = 720.00. Portal users are made
directly (tests/portal_support.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import text

from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.api_helpers import Api
from tests.integration.legal_entities.org_portal.world import Org, add_documents, make_world_org
from tests.portal_support import portal_user


@dataclass
class World:
    alfa: Org
    beta: Org


@pytest.fixture(scope="module")
async def world(legal_client, tenant, core) -> World:
    api = Api(legal_client, tenant.headers)
    async with tenant_transaction(core.engines, tenant.tenant) as conn:  # meters' ids far from the points' ids
        await conn.execute(text("SELECT setval(pg_get_serial_sequence('meters', 'id'), 1000 + coalesce(max(id), 0)) "
                                "FROM meters"))
    alfa = await make_world_org(api, "ООО «Альфа»", "АЛЬФА-1")
    beta = await make_world_org(api, "ООО «Бета»", "БЕТА-1")
    async with tenant_transaction(core.engines, tenant.tenant) as conn:
        await add_documents(conn, alfa, "А-1")
        await conn.execute(text(
            "UPDATE billing_settings SET value = '[1, 31]' WHERE key = 'portal_reading_days'"))
    return World(alfa, beta)


@pytest.fixture
async def member(core, tenant, world):
    """A portal user linked to «Альфа» only (made directly; linking itself is tested in test_link.py)."""
    user = await portal_user(core, tenant.tenant, full_name="Бухгалтер Альфы")
    async with tenant_transaction(core.engines, tenant.tenant) as conn:
        await conn.execute(text("INSERT INTO subscriber_counterparties(subscriber_id, counterparty_id) VALUES (:s, :c)"),
                           {"s": user.subscriber_id, "c": world.alfa.id})
    return user

