"""The EDO settings over the API and the pages: the password is sealed and never returned, «Проверить связь»
asks the fake Diadoc, the operator (legal view/edit) does not see the settings, the document card's EDO
fragment sends and shows the status, the messages list filters."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import unquote

from sqlalchemy import text

from aquabill.channels.edo.runner import send_tenant
from tests.integration.billing_core.api_helpers import as_role, login_cookie
from tests.integration.edo.helpers import OURS, make_document


async def test_settings_api_seals_the_password_and_checks_the_connection(api, tx, diadoc, legal_client, tenant):
    client_id = diadoc.add_client()
    login, password = diadoc.add_user()
    box = diadoc.add_box(OURS, owner=login, title="МУП «Водоканал» (тест)")
    body = {"enabled": True, "api_url": diadoc.url, "client_id": client_id, "login": login, "password": password,
            "box_id": box.box_id, "participant_id": OURS}
    saved = await api.ok("put", "/api/legal/edo/settings", body, status=200)
    assert (saved["enabled"], saved["login"], saved["has_secret"]) == (True, login, True)
    assert "password" not in saved and "secret" not in saved
    async with tx() as conn:
        sealed = (await conn.execute(text("SELECT secret FROM edo_settings"))).scalar_one()
    assert password.encode() not in bytes(sealed)
    check = await api.ok("post", "/api/legal/edo/settings/test", status=200)
    assert check == {"ok": True, "message": "Подключение работает: ящик «МУП «Водоканал» (тест)»"}
    # the password kept when not given; a wrong one is reported in Russian
    saved = await api.ok("put", "/api/legal/edo/settings", {**body, "password": ""}, status=200)
    assert saved["has_secret"] is True
    await api.ok("put", "/api/legal/edo/settings", {**body, "password": "wrong"}, status=200)
    check = await api.ok("post", "/api/legal/edo/settings/test", status=200)
    assert check == {"ok": False, "message": "Подключение не работает: Диадок не принял ключ разработчика, логин "
                                             "или пароль: Неверный логин или пароль"}
    await api.ok("put", "/api/legal/edo/settings", body, status=200)
    r = await api.put("/api/legal/edo/settings", {**body, "participant_id": "2BM_bad"})
    assert r.status_code == 422
    assert r.json()["error"]["message"] == ("Идентификатор участника ЭДО: от 4 до 46 латинских букв, цифр или "
                                            "дефисов")
    operator = await as_role(legal_client, tenant, "operator")
    assert (await operator.get("/api/legal/edo/settings")).status_code == 403
    assert (await operator.get("/api/legal/edo/messages")).status_code == 200


async def test_document_fragment_sends_and_shows_status(api, tx, core, diadoc, legal_client, tenant, edo_on):
    doc = await make_document(api, tx, diadoc)
    await login_cookie(legal_client, tenant)
    r = await legal_client.get(f"/legal/documents/{doc['id']}/edo")
    assert r.status_code == 200
    assert "Отправить через ЭДО" in r.text
    r = await legal_client.post(f"/legal/documents/{doc['id']}/edo", headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert "Документ поставлен в очередь на отправку" in r.text and 'data-edo-status="queued"' in r.text
    await send_tenant(core, tenant.tenant)
    r = await legal_client.get(f"/legal/documents/{doc['id']}/edo")
    assert 'data-edo-status="sent"' in r.text and "Отправить" not in r.text
    r = await legal_client.get("/legal/edo/messages", params={"q": doc["number"]})
    assert r.status_code == 200 and f"№ {doc['number']}" in r.text and "Найдено: 1" in r.text
    r = await legal_client.get("/legal/edo")
    assert r.status_code == 200 and "Проверить связь" in r.text
    no_id = await make_document(api, tx, diadoc, edo_id=False)
    r = await legal_client.post(f"/legal/documents/{no_id['id']}/edo", headers={"HX-Request": "true"})
    assert "не указан идентификатор участника ЭДО" in r.text
    assert (await legal_client.get("/legal/documents/2147483647/edo")).status_code == 404


async def test_send_month_form(api, tx, diadoc, legal_client, tenant, edo_on):
    february = date(2026, 2, 1)
    docs = [await make_document(api, tx, diadoc, period=february) for _ in range(2)]
    await make_document(api, tx, diadoc, period=february, edo_id=False)
    await login_cookie(legal_client, tenant)
    r = await legal_client.post("/legal/edo/messages/month", data={"period": "2026-02"}, follow_redirects=False)
    assert r.status_code == 303
    assert unquote(r.headers["location"]) == (
        "/legal/edo/messages?notice=Документов за 02.2026: 3; поставлено в очередь: 2, уже отправлены: 0, "
        "без идентификатора ЭДО контрагента: 1")
    r = await legal_client.post("/legal/edo/messages/month", data={"period": "2026-02"}, follow_redirects=False)
    assert "поставлено в очередь: 0, уже отправлены: 2" in unquote(r.headers["location"])
    r = await legal_client.post("/legal/edo/messages/month", data={"period": "2026-13"})
    assert r.status_code == 422 and "Месяц: ожидается ГГГГ-ММ" in r.text
    # queued — or already on their way when a worker of the session ran the send job the form started
    async with tx() as conn:
        found = (await conn.execute(text("SELECT status FROM edo_messages WHERE document_id = ANY(:ids)"),
                                    {"ids": [d["id"] for d in docs]})).scalars().all()
    assert len(found) == 2 and set(found) <= {"queued", "sending", "sent", "delivered", "signed"}
    r = await legal_client.get("/legal/edo/messages")
    assert r.status_code == 200 and len(re.findall(r'data-status="[a-z]+"', r.text)) >= 2
