"""The cloud fiscalization settings over the API and the page: never together with ЮKassa's receipts, the password
sealed and kept out of answers and the audit log, «Проверить подключение» against the fake's getToken."""

from __future__ import annotations

import json

from aquabill.cash.cloud_settings import BOTH_RECEIPTS
from aquabill.platform.secret_box import SecretBox
from aquabill.subscribers.acquiring_settings import save_acquiring
from aquabill.tenants.context import tenant_transaction


def _body(atol, group, **kw):
    return {"api_url": atol.api_url, "login": group.login, "password": group.password, "group_code": group.code,
            "inn": "7707083893", "email": "kassa@vodokanal.ru", "payment_address": "https://lk.vodokanal.ru",
            "sno": "osn", **kw}


async def test_cloud_receipts_and_yookassa_receipts_are_never_both_on(make_tenant, fiscal_client, atol, core):
    handle = await make_tenant()
    group = atol.add_group()
    # ЮKassa sends the receipt data by default: switching the cloud on is refused, with the reason
    r = await fiscal_client.put("/api/cloud-fiscal/settings", headers=handle.headers,
                                json=_body(atol, group, enabled=True))
    assert r.status_code == 422
    assert r.json()["error"]["message"] == BOTH_RECEIPTS
    assert r.json()["error"]["fields"][0]["field"] == "enabled"
    # the same on the page: the form comes back with the message and what was typed
    page = await fiscal_client.post("/acquiring/cloud-fiscal", headers=handle.headers, data={
        **{k: v for k, v in _body(atol, group).items()}, "enabled": "1", "action": "save"})
    assert page.status_code == 200
    assert BOTH_RECEIPTS.split(" (")[0] in page.text and f'value="{group.code}"' in page.text

    async with tenant_transaction(core.engines, handle.tenant) as conn:
        await save_acquiring(conn, shop_id="100500", sealed_secret=SecretBox(core.settings.secret_key).seal("s"),
                             vat="none", enabled=True, send_receipt=False)
    r = await fiscal_client.put("/api/cloud-fiscal/settings", headers=handle.headers,
                                json=_body(atol, group, enabled=True))
    assert r.status_code == 200, r.text
    assert r.json()["enabled"] is True


async def test_the_password_is_sealed_and_never_shown(make_tenant, fiscal_client, atol, core):
    handle = await make_tenant()
    group = atol.add_group()
    r = await fiscal_client.put("/api/cloud-fiscal/settings", headers=handle.headers, json=_body(atol, group))
    assert r.status_code == 200, r.text
    saved = r.json()
    assert saved["password_set"] is True and "password" not in saved and group.password not in r.text
    async with tenant_transaction(core.engines, handle.tenant) as conn:
        stored = (await conn.exec_driver_sql("SELECT password FROM cloud_fiscal_settings")).scalar_one()
    assert stored != group.password and SecretBox(core.settings.secret_key).open(stored) == group.password
    # saving without a password keeps it
    r = await fiscal_client.put("/api/cloud-fiscal/settings", headers=handle.headers,
                                json={**_body(atol, group), "password": "", "email": "buh@vodokanal.ru"})
    assert r.status_code == 200 and r.json()["password_set"] is True and r.json()["email"] == "buh@vodokanal.ru"
    history = await fiscal_client.get("/api/audit/cloud_fiscal_settings/1", headers=handle.headers)
    assert history.status_code == 200
    entries = history.json()["items"]
    assert [e["action"] for e in entries] == ["insert", "update"]
    assert all("password" not in (e[side] or {}) for e in entries for side in ("old", "new"))
    assert "password_changed_at" in entries[0]["new"] and stored not in json.dumps(entries)
    page = await fiscal_client.get("/acquiring/cloud-fiscal", headers=handle.headers)
    assert page.status_code == 200 and "Облачная фискализация (АТОЛ Онлайн)" in page.text
    assert group.password not in page.text and stored not in page.text


async def test_check_the_connection(make_tenant, fiscal_client, atol):
    handle = await make_tenant()
    group = atol.add_group()
    r = await fiscal_client.put("/api/cloud-fiscal/settings", headers=handle.headers, json=_body(atol, group))
    assert r.status_code == 200, r.text
    ok = await fiscal_client.post("/api/cloud-fiscal/test", headers=handle.headers, json={})
    assert ok.json() == {"ok": True, "message": "Подключение работает: АТОЛ Онлайн принял логин и пароль"}
    wrong = await fiscal_client.post("/api/cloud-fiscal/test", headers=handle.headers, json={"password": "nope"})
    assert wrong.json() == {"ok": False, "message": "Подключение не работает: Неверный логин или пароль АТОЛ Онлайн: "
                                                    "Неверный логин или пароль (код 12)"}
    page = await fiscal_client.post("/acquiring/cloud-fiscal", headers=handle.headers,
                                    data={**_body(atol, group), "password": "", "action": "test"})
    assert page.status_code == 200 and "Подключение работает: АТОЛ Онлайн принял логин и пароль" in page.text


async def test_bad_settings_are_refused_by_field(make_tenant, fiscal_client, atol):
    handle = await make_tenant()
    group = atol.add_group()
    for field, value, status in (("inn", "7707083894", 422), ("api_url", "http://example.org/v5", 422),
                                 ("sno", "envd", 422), ("email", "kassa", 422)):
        r = await fiscal_client.put("/api/cloud-fiscal/settings", headers=handle.headers,
                                    json=_body(atol, group, **{field: value}))
        assert r.status_code == status, (field, r.text)
        assert r.json()["error"]["fields"][0]["field"] == field
    r = await fiscal_client.put("/api/cloud-fiscal/settings", headers=handle.headers,
                                json=_body(atol, group, login="x" * 101))
    assert r.status_code == 400  # longer than the API takes at all
    listing = await fiscal_client.get("/api/cloud-fiscal/requests?limit=501", headers=handle.headers)
    assert listing.status_code == 400
