"""The requests pages' forms through the test client (cookie session of the tenant's admin): register a
request, assign, accept, attach a document (a real multipart upload), record works, complete the phase, the
act, close; a request made from an appeal's card; cancel; refusals shown on the page writing nothing.

Registry of `billing_tenant`: one house (id 1), accounts ЛС1–ЛС3; the seeded paid route names no executor.
"""

from __future__ import annotations

import re
from decimal import Decimal as D

from sqlalchemy import text

from tests.integration.billing_core.api_helpers import Api, login_cookie
from tests.integration.billing_core.conftest import billing_tenant, tx  # noqa: F401


async def _post(client, url: str, data: dict, files=None):
    return await client.post(url, data=data, files=files, follow_redirects=False)


async def test_request_life_through_the_page_forms(client, billing_tenant, tx):  # noqa: F811
    api = Api(client, billing_tenant.headers)
    async with tx() as conn:
        admin_id = (await conn.execute(text("SELECT id FROM users WHERE login = 'admin'"))).scalar_one()
        await conn.execute(text("INSERT INTO periods(period, status) VALUES ('2026-11-01', 'open') "
                                "ON CONFLICT (period) DO NOTHING"))
    await login_cookie(client, billing_tenant)

    r = await client.get("/requests")
    assert r.status_code == 200 and 'action="/requests"' in r.text and "Новая заявка" in r.text
    r = await _post(client, "/requests", {"kind": "paid", "account_number": "ЛС404", "description": "x"})
    assert r.status_code == 200 and "Лицевой счёт № ЛС404 не найден" in r.text
    r = await _post(client, "/requests", {"kind": "paid", "account_number": "ЛС2",
                                          "description": "Замена счётчика"})
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    request_id = int(re.fullmatch(r"/requests/(\d+)", url).group(1))
    req = await api.ok("get", f"/api/requests/{request_id}")
    assert (req["status"], req["account_id"], req["route_name"]) == ("new", 2, "Платная услуга")

    page = (await client.get(url)).text
    assert "Назначить" in page and "Отменить заявку" in page and "Принять в работу" not in page
    assert (await _post(client, url, {"action": "assign", "user_id": str(admin_id)})).status_code == 303
    page = (await client.get(url)).text
    assert "Принять в работу" in page and "Переназначить" in page
    assert (await _post(client, url, {"action": "accept"})).status_code == 303

    # works: labour 1 000,00 + 2 × 250,50 = 1 501,00 (a comma is a decimal point on the page)
    r = await _post(client, url, {"action": "work", "description": "Замена счётчика ХВС", "labour_hours": "1,5",
                                  "labour_cost": "1000,00", "performed_on": "2026-11-20",
                                  "material_name": ["Счётчик", ""], "material_quantity": ["2", ""],
                                  "material_unit": ["шт.", "шт."], "material_price": ["250,50", ""]})
    assert r.status_code == 303, r.text
    r = await _post(client, url, {"action": "document", "name": "Акт выполненных работ", "note": "скан"},
                    files={"file": ("act.jpg", b"\xff\xd8\xff-jpeg-bytes", "image/jpeg")})
    assert r.status_code == 303, r.text
    r = await _post(client, url, {"action": "close"})
    assert r.status_code == 200 and "невозможно" in r.text  # refused on the page: not done yet
    assert (await _post(client, url, {"action": "advance"})).status_code == 303
    page = (await client.get(url)).text
    assert "Оформить акт" in page and "Закрыть заявку" in page
    r = await _post(client, url, {"action": "act", "period": "2026-13"})
    assert r.status_code == 200 and "Неверный период" in r.text
    assert (await _post(client, url, {"action": "act", "act_date": "2026-11-21"})).status_code == 303
    assert (await _post(client, url, {"action": "close", "note": "Работы приняты"})).status_code == 303

    card = await api.ok("get", f"/api/requests/{request_id}")
    assert card["status"] == "closed" and D(card["act"]["amount"]) == D("1501.00")
    assert [e["kind"] for e in card["events"]] == ["created", "phase", "unassigned", "assigned", "accepted", "work",
                                                   "document", "done", "act", "closed"]
    assert card["events"][-1]["note"] == "Работы приняты"
    doc = next(d for d in card["documents"] if d["name"] == "Акт выполненных работ")
    got = await client.get(f"/api/request-documents/{doc['id']}")
    assert got.content == b"\xff\xd8\xff-jpeg-bytes"
    page = (await client.get(url)).text
    assert "Закрыта" in page and "Работы приняты" in page and 'id="request-actions"' not in page


async def test_request_from_an_appeal_card_reassign_and_cancel(client, billing_tenant, tx):  # noqa: F811
    api = Api(client, billing_tenant.headers)
    other = await api.ok("post", "/api/users", {"login": "fitter", "password": "fitter-pass-1",
                                                "full_name": "Слесарь", "roles": ["operator"]})
    appeal = await api.ok("post", "/api/appeals", {"kind": "emergency", "source": "phone", "account_id": 3,
                                                   "subject": "Течь в подвале", "text": "Вода на полу"})
    await login_cookie(client, billing_tenant)
    page = (await client.get(f"/appeals/{appeal['id']}")).text
    assert 'id="appeal-request"' in page and f'name="appeal_id" value="{appeal["id"]}"' in page

    r = await _post(client, "/requests", {"appeal_id": str(appeal["id"]), "kind": "emergency", "description": ""})
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    request_id = int(url.rsplit("/", 1)[1])
    req = await api.ok("get", f"/api/requests/{request_id}")
    assert (req["appeal_id"], req["account_id"]) == (appeal["id"], 3)
    assert req["description"] == "Течь в подвале\nВода на полу"
    page = (await client.get(f"/appeals/{appeal['id']}")).text
    assert f'href="/requests/{request_id}"' in page

    assert (await _post(client, url, {"action": "assign", "user_id": str(other["id"])})).status_code == 303
    r = await _post(client, url, {"action": "accept"})  # the admin is not the assignee
    assert r.status_code == 200 and "только назначенный исполнитель" in r.text
    r = await _post(client, url, {"action": "cancel", "note": " "})
    assert r.status_code == 200 and "Укажите причину отмены" in r.text
    r = await _post(client, url, {"action": "fly"})
    assert r.status_code == 200 and "Неизвестное действие" in r.text
    assert (await _post(client, url, {"action": "cancel", "note": "Дубль"})).status_code == 303
    card = await api.ok("get", f"/api/requests/{request_id}")
    assert card["status"] == "cancelled"
    kinds = [e["kind"] for e in card["events"]]
    assert kinds[0] == "created" and kinds[-2:] == ["assigned", "cancelled"]
    assert card["events"][0]["note"] == f"Из обращения № {appeal['id']}"
    assert (await _post(client, "/requests/999999", {"action": "accept"})).status_code == 404
