"""Fixtures the cash desk's tests share: the seeded tenant (`desk_support.seed`), the agent's side by hand
(`Desk`), a cashier logged in over the API, and a started realtime hub for the gateway's tests. A test module
that needs another tenant (the edge tests' bare one, module-scoped) defines its own `tenant`."""

from __future__ import annotations

import pytest

from aquabill.platform.realtime import Hub
from tests.integration.cash.desk_support import Desk, cashier_api, seed


@pytest.fixture
async def tenant(make_tenant):
    return await make_tenant(seed=seed)


@pytest.fixture
def desk(core, tenant) -> Desk:
    return Desk(core, tenant)


@pytest.fixture
async def cashier(client, tenant):
    return await cashier_api(client, tenant)


@pytest.fixture
async def hub(core):
    h = Hub(core.redis, core.keys)
    await h.start()
    yield h
    await h.stop()
