"""A payment taken with a fiscal receipt goes back only with a refund receipt: the payments page's and the API's
storno refuse it (printing or printed), while an ordinary manual payment is stornoed as before."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.billing_core.api_helpers import Api
from tests.integration.cash.desk_support import Desk, cashier_api, fiscal, seed

REFUSED = ("Платёж принят с кассовым чеком: вернуть его можно только чеком возврата — на рабочем месте кассира "
           "(«Возврат») или возвратом онлайн-оплаты")


@pytest.fixture
async def tenant(make_tenant):
    return await make_tenant(seed=seed)


async def test_a_cash_desk_payment_is_not_stornoed_by_hand(client, core, tenant):
    desk, cashier = Desk(core, tenant), await cashier_api(client, tenant)
    admin = Api(client, tenant.headers)
    await desk.open_shift(cashier)
    sale = (await cashier.post("/api/cash/sales", {"key": str(uuid.uuid4()), "point_id": 1, "account_id": 1,
                                                   "tender": "cash", "amount": "300.00"})).json()
    for printed in (False, True):
        if printed:
            await desk.result(sale["command_id"], result=fiscal(fd_number=11))
        r = await client.post(f"/api/payments/{sale['payment_id']}/storno", json={"note": "ошибка"},
                              headers=tenant.headers)
        assert r.status_code == 409 and r.json()["error"]["message"] == REFUSED
    manual = await admin.ok("post", "/api/payments", {"account_id": 1, "amount": "50.00", "paid_on": "2026-12-01"})
    r = await client.post(f"/api/payments/{manual['id']}/storno", json={"note": "ошибка"}, headers=tenant.headers)
    assert r.status_code == 200 and r.json()["status"] == "storno"
