"""The signed-in portal pages and their API: balance and debt by service, charges and payments, the receipt
staff print, appeals to the contact center with the answer shown back, the inbox, the settings; another
subscriber's ids are 404s, no session is a redirect to the login page (pages) or a 401 (API)."""

from decimal import Decimal as D
from urllib.parse import quote

import pytest
from sqlalchemy import text

from aquabill.subscribers.portal import account_view
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.api_helpers import Api
from tests.integration.subscribers.portal_seed import DEBT, portal_tenant  # noqa: F401
from tests.portal_support import portal_user


@pytest.fixture
def tx(core, portal_tenant):  # noqa: F811
    def open_tx():
        return tenant_transaction(core.engines, portal_tenant.tenant)

    return open_tx


async def test_balance_charges_payments_and_receipt(client, core, portal_tenant, tx):  # noqa: F811
    me = await portal_user(core, portal_tenant.tenant, account_ids=[1, 2])
    async with tx() as conn:
        view = await account_view(conn, me.subscriber_id, 1)
    assert (view["number"], view["to_pay"], view["balance"], view["penalty"], view["period"]) == (
        "ЛС1", DEBT, DEBT, D("0.00"), "2024-03")
    assert [(s["service"], s["debt"], s["months"]) for s in view["services"]] == [
        ("sewage", D("510.00"), ["2024-02", "2024-03"]), ("cold_water", D("520.00"), ["2024-03"])]

    page = await client.get("/my", headers=me.headers)
    assert page.status_code == 200
    html = page.text
    assert 'id="account-1"' in html and 'id="account-2"' in html and "1\u202f030,00" in html
    for link in ("/my/accounts/1/pay", "/my/accounts/1/readings", "/my/accounts/1/receipt?period=2024-03",
                 "/my/accounts/1/explain?period=2024-03", "/my/accounts/1"):
        assert f'href="{link}"' in html, link
    assert "Задолженности нет" in html  # account 2

    api = Api(client, me.headers)
    accounts = await api.ok("get", "/api/my/accounts")
    assert [(a["number"], a["to_pay"]) for a in accounts["items"]] == [("ЛС1", "1030.00"), ("ЛС2", "0.00")]
    charges = await api.ok("get", "/api/my/accounts/1/charges?limit=1")
    assert (charges["total"], [m["period"] for m in charges["items"]]) == (2, ["2024-03"])
    assert [(x["service_name"], x["amount"]) for x in charges["items"][0]["lines"]] == [
        ("Холодное водоснабжение", "520.00"), ("Водоотведение", "310.00")]
    payments = await api.ok("get", "/api/my/accounts/1/payments")
    assert [(p["paid_on"], p["amount"], p["status"]) for p in payments["items"]] == [("2024-03-10", "600.00",
                                                                                       "identified")]
    assert (await api.ok("get", "/api/my/accounts/1/receipts"))["months"] == ["2024-03", "2024-02"]

    account = await client.get("/my/accounts/1?months=0", headers=me.headers)
    assert account.status_code == 200
    assert "Март 2024" in account.text and "Февраль 2024" in account.text and "10.03.2024" in account.text

    # the receipt: the same document and figures staff print
    staff = await Api(client, portal_tenant.headers).ok("get", "/api/accounts/1/receipt?period=2024-03")
    mine = await api.ok("get", "/api/my/accounts/1/receipt?period=2024-03")
    assert mine == staff and mine["due"] == "1030.00"
    receipt = await client.get("/my/accounts/1/receipt?period=2024-03", headers=me.headers)
    assert receipt.status_code == 200
    assert 'id="receipt-due">1\u202f030,00<' in receipt.text and "Единый платёжный документ за 03.2024" in receipt.text
    default = await client.get("/my/accounts/1/receipt", headers=me.headers)
    assert "Единый платёжный документ за 03.2024" in default.text
    odd = await client.get("/my/accounts/1/receipt?period=март", headers=me.headers)
    assert odd.status_code == 200 and "Месяц «март» не распознан" in odd.text


async def test_other_subscribers_ids_and_no_session(client, core, portal_tenant, tx):  # noqa: F811
    me = await portal_user(core, portal_tenant.tenant, account_ids=[1])
    other = await portal_user(core, portal_tenant.tenant, account_ids=[2])
    async with tx() as conn:
        notice = (await conn.execute(text(
            "INSERT INTO subscriber_inbox(subscriber_id, title) VALUES (:s, 'Чужое') RETURNING id"),
            {"s": other.subscriber_id})).scalar_one()
    for path in ("/my/accounts/2", "/my/accounts/2/receipt?period=2024-03", "/my/accounts/2/readings",
                 "/my/accounts/999999", "/my/accounts/2147483647/readings"):
        r = await client.get(path, headers=me.headers)
        assert r.status_code == 404 and "Лицевой счёт не найден" in r.text, (path, r.status_code)
        assert r.headers["content-type"].startswith("text/html"), path
    for path in ("/api/my/accounts/2/balance", "/api/my/accounts/2/charges", "/api/my/accounts/2/payments",
                 "/api/my/accounts/2/receipts", "/api/my/accounts/2/receipt", "/api/my/accounts/2/meters",
                 "/api/my/accounts/2/readings", "/api/my/accounts/999999/balance"):
        r = await client.get(path, headers=me.headers)
        assert (r.status_code, r.json()["error"]["message"]) == (404, "Лицевой счёт не найден"), path
    assert (await client.post(f"/api/my/inbox/{notice}/read", headers=me.headers)).status_code == 404
    assert (await client.post(f"/my/inbox/{notice}/read", headers=me.headers)).status_code == 404
    assert (await client.get("/api/my/accounts/99999999999/balance", headers=me.headers)).status_code == 422

    host = {"Host": me.headers["Host"]}
    for path in ("/my", "/my/accounts/1?months=3", "/my/readings", "/my/appeals", "/my/inbox", "/my/settings"):
        r = await client.get(path, headers=host, follow_redirects=False)
        # back to the page after signing in (its path: a query is the caller's text, not echoed back)
        target = quote(path.split("?")[0], safe="/")
        assert (r.status_code, r.headers["location"]) == (302, "/my/login?next=" + target), path
    for path in ("/api/my/accounts", "/api/my/appeals", "/api/my/inbox", "/api/my/settings"):
        assert (await client.get(path, headers=host)).status_code == 401, path
    # a staff token opens no portal route
    staff = {**portal_tenant.headers, **host}
    assert (await client.get("/api/my/accounts", headers=staff)).status_code == 401


async def test_appeal_lands_in_the_journal_and_the_answer_shows_back(client, core, portal_tenant, tx):  # noqa: F811
    me = await portal_user(core, portal_tenant.tenant, account_ids=[1], full_name="Петрова Анна")
    empty = await client.post("/my/appeals", headers=me.headers, data={"kind": "complaint", "text": "  "})
    assert empty.status_code == 200 and "Напишите, что случилось" in empty.text
    sent = await client.post("/my/appeals", headers=me.headers, follow_redirects=False, data={
        "kind": "complaint", "account_id": "1", "subject": "", "text": "Слабый напор холодной воды по утрам"})
    assert sent.status_code == 303 and sent.headers["location"].startswith("/my/appeals?sent=")
    page = await client.get(sent.headers["location"], headers=me.headers)
    assert "отправлено" in page.text and "Слабый напор холодной воды по утрам" in page.text

    staff = Api(client, portal_tenant.headers)
    journal = await staff.ok("get", "/api/appeals?source=portal")
    [appeal] = journal["items"]
    assert (appeal["source"], appeal["kind"], appeal["account_number"], appeal["applicant_name"],
            appeal["subject"], appeal["status"]) == (
        "portal", "complaint", "ЛС1", "Петрова Анна", "Слабый напор холодной воды по утрам", "new")
    assert appeal["applicant_email"].endswith("@example.ru")

    # another account is refused; through the API too
    r = await client.post("/api/my/appeals", headers=me.headers, json={"kind": "other", "text": "?", "account_id": 2})
    assert r.status_code == 404
    r = await client.post("/api/my/appeals", headers=me.headers, json={"kind": "nonsense", "text": "?"})
    assert r.status_code == 422 and r.json()["error"]["message"] == "Выберите тему обращения из списка"

    await staff.ok("patch", f"/api/appeals/{appeal['id']}",
                   {"status": "answered", "result": "Проверили давление, заменили регулятор. Напор восстановлен."})
    mine = await Api(client, me.headers).ok("get", "/api/my/appeals")
    assert [(a["number"], a["status"], a["status_name"], a["answer"]) for a in mine["items"]] == [
        (appeal["number"], "answered", "Дан ответ", "Проверили давление, заменили регулятор. Напор восстановлен.")]
    page = await client.get("/my/appeals", headers=me.headers)
    assert "Напор восстановлен" in page.text

    # the answer is a notice in the inbox; the layout counts it
    inbox = await Api(client, me.headers).ok("get", "/api/my/inbox")
    assert inbox["unread"] == 1 and inbox["items"][0]["title"] == f"Ответ на обращение {appeal['number']}"
    dashboard = await client.get("/my", headers=me.headers)
    assert '<span class="badge">1</span>' in dashboard.text
    r = await client.post(f"/my/inbox/{inbox['items'][0]['id']}/read", headers=me.headers, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/my/inbox")
    assert (await Api(client, me.headers).ok("get", "/api/my/inbox"))["unread"] == 0
    assert 'class="badge"' not in (await client.get("/my/inbox", headers=me.headers)).text


async def test_inbox_read_all(client, core, portal_tenant, tx):  # noqa: F811
    me = await portal_user(core, portal_tenant.tenant, account_ids=[1])
    async with tx() as conn:
        await conn.execute(text("INSERT INTO subscriber_inbox(subscriber_id, title, body) "
                                "SELECT :s, 'Уведомление ' || n, 'Текст' FROM generate_series(1, 3) n"),
                           {"s": me.subscriber_id})
    page = await client.get("/my/inbox", headers=me.headers)
    assert page.text.count('class="card notice unread"') == 3 and '<span class="badge">3</span>' in page.text
    r = await client.post("/my/inbox/read-all", headers=me.headers, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/my/inbox")
    assert (await Api(client, me.headers).ok("get", "/api/my/inbox"))["unread"] == 0


async def test_settings(client, core, portal_tenant, tx):  # noqa: F811
    me = await portal_user(core, portal_tenant.tenant, account_ids=[1])
    api = Api(client, me.headers)
    current = await api.ok("get", "/api/my/settings")
    assert (current["paperless"], current["preferred_channel"]) == (False, "portal")
    assert [(c["code"], c["available"]) for c in current["channels"]] == [
        ("portal", True), ("email", True), ("sms", False)]
    async with tx() as conn:  # the tenant's Telegram bot is on: offered, once the subscriber writes to it
        await conn.execute(text("INSERT INTO bot_settings(channel, enabled) VALUES ('telegram', true)"))
    channels = (await api.ok("get", "/api/my/settings"))["channels"]
    assert [(c["code"], c["available"], c["hint"]) for c in channels][-1] == (
        "telegram", False, "Напишите нашему боту в Telegram, чтобы получать уведомления там")

    r = await client.post("/my/settings", headers=me.headers, data={"paperless": "1", "preferred_channel": "sms"})
    assert r.status_code == 200 and "Подтвердите номер телефона, чтобы получать SMS" in r.text
    r = await client.post("/my/settings", headers=me.headers, data={"paperless": "1", "preferred_channel": "email"})
    assert r.status_code == 200 and "Настройки сохранены" in r.text
    assert (await api.ok("get", "/api/my/settings"))["paperless"] is True
    async with tx() as conn:  # for every linked account: its receipts now go by e-mail to the confirmed address
        row = (await conn.execute(text(
            "SELECT a.receipt_delivery, a.receipt_email = s.email FROM accounts a, subscribers s "
            "WHERE a.id = 1 AND s.id = :s"), {"s": me.subscriber_id})).one()
    assert tuple(row) == ("email", True)

    async with tx() as conn:  # no confirmed e-mail any more: paperless receipts cannot be chosen
        await conn.execute(text("UPDATE subscribers SET email_confirmed_at = NULL, paperless = false WHERE id = :s"),
                           {"s": me.subscriber_id})
    r = await api.put("/api/my/settings", {"paperless": True, "preferred_channel": "email"})
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("Квитанции приходят на электронную почту")
    saved = await api.ok("put", "/api/my/settings", {"paperless": False, "preferred_channel": "email"})
    assert (saved["paperless"], saved["preferred_channel"]) == (False, "email")  # the channel chosen may stay
