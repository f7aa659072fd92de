"""EDO tests: a tenant with the legal entities' routes, the fake Diadoc over real HTTP (in a thread of its own),
the tenant's EDO settings pointing at it, and documents with a real UPD XML (built by `channels/fns_upd`)."""

from __future__ import annotations

import pytest

from aquabill.channels.edo.runner import seal_credentials
from aquabill.devserver.fakes.diadoc import FakeDiadoc
from aquabill.legal_entities import edo_store
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.api_helpers import Api
from tests.integration.edo.helpers import OURS
from tests.integration.legal_entities.conftest import legal_client, town  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
async def tenant(make_tenant):
    return await make_tenant(seed=town)


@pytest.fixture
def api(legal_client, tenant) -> Api:  # noqa: F811
    legal_client.cookies.clear()
    return Api(legal_client, tenant.headers)


@pytest.fixture
def tx(core, tenant):
    def open_tx(user_id=None):
        return tenant_transaction(core.engines, tenant.tenant, user_id)

    return open_tx


@pytest.fixture(scope="module")
def diadoc():
    fake = FakeDiadoc().start_in_thread()
    yield fake
    fake.stop_thread()


@pytest.fixture(scope="module")
async def edo_on(diadoc, tenant, core):
    """The tenant's Diadoc settings (switched on) and our box at the fake."""
    client_id = diadoc.add_client()
    login, password = diadoc.add_user()
    box = diadoc.add_box(OURS, owner=login, title="МУП «Водоканал»")
    async with tenant_transaction(core.engines, tenant.tenant) as conn:
        await edo_store.save_settings(
            conn, {"enabled": True, "api_url": diadoc.url, "client_id": client_id, "box_id": box.box_id,
                   "participant_id": OURS}, sealed=seal_credentials(core.settings.secret_key, login, password),
            user_id=None)
    return box
