"""The dev server's fake Diadoc (`make run`): the demo tenant is configured for it, any counterparty's EDO id
gets a box, and a sent document is signed after the auto-sign delay — the whole path over real HTTP."""

from __future__ import annotations

import pytest

from aquabill.channels.edo.runner import poll_tenant, send_tenant
from aquabill.devserver.fakes import diadoc as fake_module
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.api_helpers import Api
from tests.integration.edo.helpers import make_document, message, time_passes
from tests.integration.legal_entities.conftest import town


@pytest.fixture(scope="module")
def dev_fake():
    fake, extra = fake_module.start_for_dev()
    fake.auto_sign_after = 0.0  # the demo's delay, shortened
    yield fake, extra
    fake.stop_thread()


async def test_dev_fake_signs_what_is_sent(make_tenant, legal_client, core, dev_fake):
    fake, extra = dev_fake
    handle = await make_tenant(seed=town)
    api = Api(legal_client, handle.headers)

    def tx(user_id=None):
        return tenant_transaction(core.engines, handle.tenant, user_id)

    doc = await make_document(api, tx, None, seller_edo=fake_module.DEV_PARTICIPANT)
    r = await api.post(f"/api/legal/documents/{doc['id']}/edo")  # EDO not configured yet
    assert r.status_code == 422
    assert r.json()["error"]["message"] == ("Обмен через ЭДО не включён: настройте оператора на странице «ЭДО» "
                                            "(/legal/edo)")
    await fake_module.configure_dev_tenant(core, handle.tenant, extra["diadoc_api_url"])
    await api.ok("post", f"/api/legal/documents/{doc['id']}/edo", status=200)
    await send_tenant(core, handle.tenant)
    await poll_tenant(core, handle.tenant)  # delivered
    await time_passes(tx)
    await poll_tenant(core, handle.tenant)  # signed by the (auto-signing) buyer
    row = await message(tx, doc["id"])
    assert [h["status"] for h in row["history"]] == ["queued", "sent", "delivered", "signed"]
    assert fake.boxes[row["to_box"]].participant_id == doc["participant"]
