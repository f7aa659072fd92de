"""Legal entities' tests: a client of an app that serves the legal entities' routes (registered here when the app
factory does not list them yet), a tenant with a small registry, and its transactions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from aquabill.platform.app import create_app
from aquabill.platform.web.legal_entities.routes import ROUTES
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.api_helpers import Api


@pytest.fixture(scope="session")
async def legal_client(core, settings) -> AsyncIterator[AsyncTestClient]:
    app = create_app(settings)
    served = {route.path for route in app.routes}
    for handler in ROUTES:
        if not set(handler.paths) <= served:
            app.register(handler)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as c:
        yield c


async def town(conn, tenant=None) -> None:
    """A settlement, a street and two houses of the registry (objects may be linked to them)."""
    await conn.execute(text("INSERT INTO settlements(kind, name) VALUES ('г.', 'Тестовск')"))
    await conn.execute(text(
        "INSERT INTO streets(settlement_id, kind, name) SELECT id, 'ул.', 'Речная' FROM settlements"))
    await conn.execute(text("INSERT INTO houses(street_id, number, improvement) SELECT id, n::text, 'full' "
                            "FROM streets, generate_series(1, 2) n"))


@pytest.fixture(scope="module")
async def tenant(make_tenant):
    return await make_tenant(seed=town)


@pytest.fixture
def api(legal_client, tenant) -> Api:
    legal_client.cookies.clear()
    return Api(legal_client, tenant.headers)


@pytest.fixture
def tx(core, tenant):
    def open_tx(user_id=None):
        return tenant_transaction(core.engines, tenant.tenant, user_id)

    return open_tx
