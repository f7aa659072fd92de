"""Online payment end to end through the local fake of ЮKassa (real HTTP for the API and the payer's page;
the notifications handed to the app in process from the sender address the test chooses).

The test client runs the app on its own loop in a thread (its blocking portal) and blocks the test's loop
while a request is served; so the fake serves from a thread of its own, and notifications reach the app
through the client's portal, on the app's loop.

One tenant for the module (accounts ЛС1…ЛС14, each test its own), its shop connected through the staff API.
Every account owes October 2026: cold water 300.00, sewage 200.00 (500.00 in all)."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from decimal import Decimal as D
from urllib.parse import urlsplit
from uuid import UUID

import httpx
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from aquabill.billing_core.payments.balances import account_balance
from aquabill.devserver.fakes.yookassa import FakeYooKassa
from aquabill.platform.app import create_app
from aquabill.subscribers.pay_links import pay_token
from aquabill.tenants.context import tenant_transaction
from tests.conftest import with_settings
from tests.integration.billing_core.conftest import small_registry
from tests.portal_support import portal_user

YOOKASSA_IP = "185.71.76.10"  # inside ЮKassa's published 185.71.76.0/27
FOREIGN_IP = "203.0.113.7"
OCT = date(2026, 10, 1)


async def seed(conn, tenant) -> None:
    await small_registry(conn, tenant, accounts=14)
    await conn.execute(text(
        "INSERT INTO charges(account_id, service_id, period, method, amount) "
        "SELECT a.id, s.id, :p, 'norm', CASE s.code WHEN 'cold_water' THEN 300.00 ELSE 200.00 END "
        "FROM accounts a, services s WHERE s.code IN ('cold_water', 'sewage')"), {"p": OCT})


@pytest.fixture(scope="module")
def fake():
    f = FakeYooKassa(retry_seconds=0.2, max_retries=4).start_in_thread()
    yield f
    f.stop_thread()


@pytest.fixture(scope="module")
async def pay_app(settings, fake):
    return create_app(with_settings(settings, yookassa_api_url=fake.api_url, telephony=False))


@pytest.fixture(scope="module")
async def pay_client(pay_app):
    async with AsyncTestClient(app=pay_app, base_url="http://testserver.local") as c:
        yield c


async def _post_in_app(app, ip: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    transport = httpx.ASGITransport(app=app, client=(ip, 44321))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
        r = await c.post(path, content=body, headers={"Content-Type": "application/json", **headers})
        return r.status_code, r.json()


async def notify_app(pay_client, pay_app, body: bytes, path: str, *, ip: str = YOOKASSA_IP,
                     headers: dict[str, str] | None = None) -> tuple[int, dict]:
    """POST a notification to the app from `ip` (on the app's own loop); (status, JSON answer)."""
    return await asyncio.to_thread(pay_client.blocking_portal.call, _post_in_app, pay_app, ip, path, body,
                                   headers or {})


@pytest.fixture(scope="module")
async def shop_tenant(make_tenant, fake, pay_app, pay_client):
    handle = await make_tenant(seed=seed)
    shop = fake.add_shop(webhook_url=f"http://testserver.local/api/acquiring/yookassa/{handle.tenant.slug}")

    async def deliver(url: str, body: bytes) -> int:
        return (await notify_app(pay_client, pay_app, body, urlsplit(url).path))[0]

    fake.deliver = deliver
    r = await pay_client.put("/api/acquiring/settings", headers=handle.headers, json={
        "shop_id": shop.shop_id, "secret": shop.secret, "vat": "none", "enabled": True,
        "vat_by_service": {"sewage": "22"}})
    assert r.status_code == 200, r.text
    assert r.json()["secret_set"] is True and "secret" not in r.json()
    handle.shop = shop
    return handle


@pytest.fixture
async def notify(fake):
    """Set the fake's notification mode for one test."""
    def set_mode(mode: str) -> None:
        fake.notify = mode

    yield set_mode
    async with asyncio.timeout(15):
        await fake.settle()
    fake.notify = "after"


async def sql(core, tenant, query: str, **params):
    async with tenant_transaction(core.engines, tenant) as conn:
        return (await conn.execute(text(query), params)).all()


async def account_id(core, tenant, number: str) -> int:
    return (await sql(core, tenant, "SELECT id FROM accounts WHERE number = :n", n=number))[0].id


async def pay_at_fake(payment_url: str, action: str = "pay") -> str:
    """The payer on the acquirer's page: sees it, presses a button; returns where they are sent back."""
    async with httpx.AsyncClient() as browser:
        page = await browser.get(payment_url)
        assert page.status_code == 200 and "Оплатить" in page.text and "Отказаться" in page.text
        r = await browser.post(payment_url, data={"action": action})
    assert r.status_code == 303
    return r.headers["location"]


async def portal_pay(pay_client, fake, user, account: int, **kw) -> tuple[str, UUID, str]:
    """(acquirer's payment id, attempt id, confirmation URL) of a payment started from the portal."""
    r = await pay_client.post(f"/my/accounts/{account}/pay", headers=user.headers,
                              data={"amount": kw.get("amount", ""), "contact": kw.get("contact", "")},
                              follow_redirects=False)
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    payment_id = url.rsplit("/", 1)[1]
    attempt = fake.payments[payment_id]["metadata"]["attempt_id"]
    return payment_id, UUID(attempt), url


async def credited(core, tenant, account: int) -> list:
    return await sql(core, tenant,
                     "SELECT p.id, p.amount, p.operation_id, p.source, g.code AS agent, p.storno_of FROM payments p "
                     "JOIN payment_agents g ON g.id = p.agent_id WHERE p.account_id = :a ORDER BY p.id", a=account)


async def attempt_row(core, tenant, attempt: UUID):
    return (await sql(core, tenant, "SELECT * FROM online_payments WHERE id = :i", i=attempt))[0]


async def return_page(pay_client, return_url: str) -> str:
    parts = urlsplit(return_url)
    r = await pay_client.get(f"{parts.path}?{parts.query}", headers={"Host": parts.netloc})
    assert r.status_code == 200, r.text
    return r.text


async def test_portal_payment_is_credited_once_by_the_notification(core, pay_client, fake, shop_tenant, notify):
    tenant = shop_tenant.tenant
    acc = await account_id(core, tenant, "ЛС1")
    user = await portal_user(core, tenant, account_ids=[acc])
    page = await pay_client.get(f"/my/accounts/{acc}/pay", headers=user.headers)
    assert page.status_code == 200 and "500,00" in page.text and user.headers["Host"]

    payment_id, attempt, url = await portal_pay(pay_client, fake, user, acc)
    sent = fake.payments[payment_id]
    assert sent["amount"] == {"value": "500.00", "currency": "RUB"}
    assert sent["metadata"] == {"tenant": tenant.slug, "account": "ЛС1", "attempt_id": str(attempt)}
    # the 54-FZ data travel with the payment: one line per service, the subscriber's e-mail
    receipt = sent["_receipt"]
    assert receipt["customer"]["email"].endswith("@example.ru")
    assert [(i["description"], i["amount"]["value"], i["vat_code"]) for i in receipt["items"]] == [
        ("Холодное водоснабжение", "300.00", 1), ("Водоотведение", "200.00", 11)]
    # the attempt was written before the call, its id the idempotence key
    assert [k for m, p, k in fake.requests if m == "POST" and p == "/v3/payments" and k == str(attempt)]

    back = await pay_at_fake(url)
    async with asyncio.timeout(10):
        await fake.settle()
    rows = await credited(core, tenant, acc)
    assert [(r.amount, r.operation_id, r.source, r.agent) for r in rows] == [(D("500.00"), payment_id, "portal",
                                                                             "yookassa")]
    a = await attempt_row(core, tenant, attempt)
    assert (a.status, a.payment_id, a.credited_via, a.provider_payment_id) == ("succeeded", rows[0].id,
                                                                               "notification", payment_id)
    async with tenant_transaction(core.engines, tenant) as conn:
        balance = await account_balance(conn, acc)
        allocated = (await conn.execute(text(
            "SELECT s.code, pa.amount FROM payment_allocations pa JOIN services s ON s.id = pa.service_id "
            "WHERE pa.payment_id = :p ORDER BY s.code"), {"p": rows[0].id})).all()
    assert balance.balance == D("0.00")
    assert [(c, x) for c, x in allocated] == [("cold_water", D("300.00")), ("sewage", D("200.00"))]
    html = await return_page(pay_client, back)
    assert "Платёж принят" in html and "Задолженности нет" in html and 'hx-trigger' not in html
    # a duplicate notification changes nothing
    await fake.redeliver(payment_id)
    assert fake.deliveries[-1].status == 200
    assert len(await credited(core, tenant, acc)) == 1


async def test_notification_before_the_payer_returns(core, pay_client, fake, shop_tenant, notify):
    tenant = shop_tenant.tenant
    notify("before")
    acc = await account_id(core, tenant, "ЛС2")
    user = await portal_user(core, tenant, account_ids=[acc])
    payment_id, attempt, url = await portal_pay(pay_client, fake, user, acc, amount="123,45")
    back = await pay_at_fake(url)
    # credited while the acquirer was still answering the payer's click
    assert (await attempt_row(core, tenant, attempt)).status == "succeeded"
    assert "Платёж принят" in await return_page(pay_client, back)
    assert [r.amount for r in await credited(core, tenant, acc)] == [D("123.45")]


async def test_notification_never_comes_the_return_page_reads_the_payment_back(core, pay_client, fake, shop_tenant,
                                                                               notify):
    tenant = shop_tenant.tenant
    notify("never")
    acc = await account_id(core, tenant, "ЛС3")
    user = await portal_user(core, tenant, account_ids=[acc])
    payment_id, attempt, url = await portal_pay(pay_client, fake, user, acc)
    back_url = fake.payments[payment_id]["_return_url"]
    waiting = await return_page(pay_client, back_url)
    assert "Ожидаем подтверждение банка" in waiting and 'hx-trigger="every 2s"' in waiting
    await pay_at_fake(url)
    await asyncio.sleep(3.1)  # the read-back is at most once per 3 s per attempt
    parts = urlsplit(back_url)
    status = await pay_client.get(f"{parts.path}/status?{parts.query}", headers={"Host": parts.netloc})
    assert status.status_code == 200 and "Платёж принят" in status.text
    a = await attempt_row(core, tenant, attempt)
    assert (a.status, a.credited_via, a.notified_at) == ("succeeded", "return", None)
    assert len(await credited(core, tenant, acc)) == 1
    assert not [d for d in fake.deliveries if d.object_id == payment_id]


async def test_two_notifications_at_once_give_one_payment(core, pay_client, pay_app, fake, shop_tenant, notify):
    tenant = shop_tenant.tenant
    notify("never")
    acc = await account_id(core, tenant, "ЛС4")
    user = await portal_user(core, tenant, account_ids=[acc])
    payment_id, attempt, url = await portal_pay(pay_client, fake, user, acc)
    await pay_at_fake(url)
    body = json.dumps({"type": "notification", "event": "payment.succeeded",
                       "object": fake._public(fake.payments[payment_id])}).encode()
    path = f"/api/acquiring/yookassa/{tenant.slug}"
    answers = await asyncio.gather(notify_app(pay_client, pay_app, body, path),
                                   notify_app(pay_client, pay_app, body, path))
    assert [status for status, _ in answers] == [200, 200]
    assert sorted(answer["status"] for _, answer in answers) == ["credited", "duplicate"]
    assert len(await credited(core, tenant, acc)) == 1
    # and the fake's own double delivery
    notify("twice")
    acc5 = await account_id(core, tenant, "ЛС5")
    user5 = await portal_user(core, tenant, account_ids=[acc5])
    payment5, _, url5 = await portal_pay(pay_client, fake, user5, acc5)
    await pay_at_fake(url5)
    async with asyncio.timeout(10):
        await fake.settle()
    assert [d.status for d in fake.deliveries if d.object_id == payment5] == [200, 200]
    assert len(await credited(core, tenant, acc5)) == 1


async def test_a_notification_failing_once_is_redelivered_and_credited_once(core, pay_client, fake, shop_tenant,
                                                                            notify):
    """The acquirer took the money, our side failed before crediting (here: reading the payment back fails, as
    a worker killed mid-way would leave it): the notification is answered non-200 and redelivered."""
    tenant = shop_tenant.tenant
    acc = await account_id(core, tenant, "ЛС6")
    user = await portal_user(core, tenant, account_ids=[acc])
    payment_id, attempt, url = await portal_pay(pay_client, fake, user, acc)
    fake.fail_next("GET", f"/v3/payments/{payment_id}", times=3)  # the first try and the client's two repeats
    await pay_at_fake(url)
    async with asyncio.timeout(15):
        await fake.settle()
    assert [d.status for d in fake.deliveries if d.object_id == payment_id] == [409, 200]
    assert len(await credited(core, tenant, acc)) == 1
    assert (await attempt_row(core, tenant, attempt)).credited_via == "notification"


async def test_a_notification_from_a_foreign_address_is_refused(core, pay_client, pay_app, fake, shop_tenant, notify):
    tenant = shop_tenant.tenant
    notify("never")
    acc = await account_id(core, tenant, "ЛС7")
    user = await portal_user(core, tenant, account_ids=[acc])
    payment_id, attempt, url = await portal_pay(pay_client, fake, user, acc)
    await pay_at_fake(url)
    body = json.dumps({"type": "notification", "event": "payment.succeeded",
                       "object": fake._public(fake.payments[payment_id])}).encode()
    status, answer = await notify_app(pay_client, pay_app, body, f"/api/acquiring/yookassa/{tenant.slug}",
                                      ip=FOREIGN_IP, headers={"X-Forwarded-For": YOOKASSA_IP, "X-Real-IP": YOOKASSA_IP})
    assert status == 403 and answer["error"]["code"] == "forbidden"
    assert (await attempt_row(core, tenant, attempt)).status == "pending"
    assert await credited(core, tenant, acc) == []


async def test_a_forged_or_mismatching_payment_is_not_credited(core, pay_client, pay_app, fake, shop_tenant, notify):
    tenant = shop_tenant.tenant
    notify("never")
    acc = await account_id(core, tenant, "ЛС8")
    user = await portal_user(core, tenant, account_ids=[acc])
    path = f"/api/acquiring/yookassa/{tenant.slug}"

    # a notification claiming success of a payment still pending: read back, nothing credited
    payment_id, attempt, url = await portal_pay(pay_client, fake, user, acc)
    forged = {**fake._public(fake.payments[payment_id]), "status": "succeeded", "paid": True}
    answer = await notify_app(pay_client, pay_app, json.dumps(
        {"type": "notification", "event": "payment.succeeded", "object": forged}).encode(), path)
    assert answer == (200, {"status": "pending"})
    assert await credited(core, tenant, acc) == []

    # the acquirer's payment has another amount than the attempt
    fake.tamper(payment_id, amount="1.00")
    await pay_at_fake(url)
    status, answer = await notify_app(pay_client, pay_app, json.dumps(
        {"type": "notification", "event": "payment.succeeded", "object": {"id": payment_id}}).encode(), path)
    assert status == 422 and answer["error"]["code"] == "mismatch"
    a = await attempt_row(core, tenant, attempt)
    assert a.status == "mismatch" and "сумма 1.00 вместо 500.00" in a.problem
    assert await credited(core, tenant, acc) == []

    # our metadata changed (another tenant's payment)
    payment2, attempt2, url2 = await portal_pay(pay_client, fake, user, acc, amount="10,00")
    fake.tamper(payment2, metadata={**fake.payments[payment2]["metadata"], "tenant": "someone-else"})
    await pay_at_fake(url2)
    status, _ = await notify_app(pay_client, pay_app, json.dumps(
        {"type": "notification", "event": "payment.succeeded", "object": {"id": payment2}}).encode(), path)
    assert status == 422
    assert "tenant" in (await attempt_row(core, tenant, attempt2)).problem
    assert await credited(core, tenant, acc) == []


async def test_a_payment_canceled_by_the_payer(core, pay_client, fake, shop_tenant, notify):
    tenant = shop_tenant.tenant
    acc = await account_id(core, tenant, "ЛС9")
    user = await portal_user(core, tenant, account_ids=[acc])
    payment_id, attempt, url = await portal_pay(pay_client, fake, user, acc)
    back = await pay_at_fake(url, "cancel")
    async with asyncio.timeout(10):
        await fake.settle()
    a = await attempt_row(core, tenant, attempt)
    assert (a.status, a.cancel_reason) == ("canceled", "Платёж не подтверждён кодом из банка (3-D Secure)")
    html = await return_page(pay_client, back)
    assert "Платёж не прошёл" in html and "3-D Secure" in html
    assert await credited(core, tenant, acc) == []


async def test_a_lost_answer_is_repeated_with_the_same_key(core, pay_client, fake, shop_tenant, notify):
    tenant = shop_tenant.tenant
    acc = await account_id(core, tenant, "ЛС10")
    user = await portal_user(core, tenant, account_ids=[acc])
    before = len(fake.payments)
    fake.fail_next("POST", "/v3/payments", processed=True)  # created at the acquirer, the answer lost
    payment_id, attempt, url = await portal_pay(pay_client, fake, user, acc)
    assert len(fake.payments) == before + 1
    assert [k for m, p, k in fake.requests if p == "/v3/payments" and k == str(attempt)] == [str(attempt)] * 2
    await pay_at_fake(url)
    async with asyncio.timeout(10):
        await fake.settle()
    assert len(await credited(core, tenant, acc)) == 1


async def test_refunds_partial_then_the_rest(core, pay_client, fake, shop_tenant, notify):
    tenant, headers = shop_tenant.tenant, shop_tenant.headers
    acc = await account_id(core, tenant, "ЛС11")
    user = await portal_user(core, tenant, account_ids=[acc])
    payment_id, attempt, url = await portal_pay(pay_client, fake, user, acc)
    await pay_at_fake(url)
    async with asyncio.timeout(10):
        await fake.settle()
    [paid] = await credited(core, tenant, acc)

    too_much = await pay_client.post(f"/api/online-payments/{attempt}/refund", headers=headers,
                                     json={"amount": "500.01", "reason": "ошибка"})
    assert too_much.status_code == 422 and "не больше 500,00" in too_much.json()["error"]["message"]
    r = await pay_client.post(f"/api/online-payments/{attempt}/refund", headers=headers,
                              json={"amount": "100.00", "reason": "заявление от 01.12"})
    assert r.status_code == 200, r.text
    view = r.json()
    assert (view["refunded"], view["refundable"]) == ("100.00", "400.00")
    [refund] = view["refunds"]
    assert refund["status"] == "succeeded" and refund["provider_refund_id"] in fake.refunds
    assert fake.payments[payment_id]["refunded_amount"]["value"] == "100.00"
    async with asyncio.timeout(10):
        await fake.settle()  # refund.succeeded arrives after the answer: a duplicate
    assert [d.status for d in fake.deliveries if d.object_id == refund["provider_refund_id"]] == [200]
    rows = await credited(core, tenant, acc)
    assert [(x.amount, x.storno_of, x.operation_id, x.agent) for x in rows] == [
        (D("500.00"), None, payment_id, "yookassa"), (D("-100.00"), paid.id, refund["provider_refund_id"], "yookassa")]
    async with tenant_transaction(core.engines, tenant) as conn:
        assert (await account_balance(conn, acc)).balance == D("100.00")

    rest = await pay_client.post(f"/api/online-payments/{attempt}/refund", headers=headers, json={})
    assert rest.status_code == 200 and rest.json()["refunded"] == "500.00"
    again = await pay_client.post(f"/api/online-payments/{attempt}/refund", headers=headers, json={})
    assert again.status_code == 409
    listed = await pay_client.get("/api/online-payments", headers=headers, params={"account_id": acc})
    assert [x["status"] for x in listed.json()["items"]] == ["succeeded"]
    page = await pay_client.get(f"/payments/online/{attempt}", headers=headers)
    assert page.status_code == 200 and "Возвращено" in page.text and "заявление от 01.12" in page.text


async def test_staff_check_credits_a_payment_whose_notification_is_lost(core, pay_client, fake, shop_tenant,
                                                                       notify):
    tenant, headers = shop_tenant.tenant, shop_tenant.headers
    notify("never")
    acc = await account_id(core, tenant, "ЛС13")
    user = await portal_user(core, tenant, account_ids=[acc])
    payment_id, attempt, url = await portal_pay(pay_client, fake, user, acc, amount="77")
    await pay_at_fake(url)
    r = await pay_client.post(f"/api/online-payments/{attempt}/check", headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "succeeded"
    a = await attempt_row(core, tenant, attempt)
    assert a.credited_via == "staff" and a.credited_by is not None
    assert [x.amount for x in await credited(core, tenant, acc)] == [D("77.00")]
    page = await pay_client.get("/payments/online", headers=headers, params={"status": "succeeded"})
    assert page.status_code == 200 and "ЛС13" in page.text and payment_id in page.text
    outsider = await portal_user(core, tenant)
    assert (await pay_client.get("/payments/online", headers=outsider.headers)).status_code in (401, 403)


async def test_a_payment_link_works_only_for_its_tenant(core, pay_client, fake, shop_tenant, make_tenant, notify,
                                                        settings):
    tenant = shop_tenant.tenant
    acc = await account_id(core, tenant, "ЛС12")
    token = pay_token(settings.secret_key, tenant.slug, acc)
    host = {"Host": f"{tenant.slug}.localhost"}
    page = await pay_client.get(f"/pay/{token}?via=telegram", headers=host)
    assert page.status_code == 200 and "ЛС12" in page.text and "500,00" in page.text
    # no contact: asked for, nothing created
    r = await pay_client.post(f"/pay/{token}?via=telegram", headers=host, data={"amount": "", "contact": ""})
    assert r.status_code == 200 and "Укажите e-mail или номер телефона" in r.text
    r = await pay_client.post(f"/pay/{token}?via=telegram", headers=host,
                              data={"amount": "50", "contact": "8 916 123-45-67"}, follow_redirects=False)
    assert r.status_code == 303
    payment_id = r.headers["location"].rsplit("/", 1)[1]
    assert fake.payments[payment_id]["_receipt"]["customer"] == {"phone": "79161234567"}
    [row] = await sql(core, tenant, "SELECT channel, subscriber_id, contact FROM online_payments WHERE account_id = :a",
                      a=acc)
    assert tuple(row) == ("telegram", None, "+79161234567")

    other = await make_tenant()
    refused = await pay_client.get(f"/pay/{token}", headers={"Host": f"{other.tenant.slug}.localhost"})
    assert refused.status_code == 404
    forged = pay_token("not-the-app-secret", tenant.slug, acc)
    assert (await pay_client.get(f"/pay/{forged}", headers=host)).status_code == 422
    # a subscriber cannot pay an account not linked to them
    stranger = await portal_user(core, tenant)
    assert (await pay_client.get(f"/my/accounts/{acc}/pay", headers=stranger.headers)).status_code == 404


async def test_settings_secret_never_shown_and_the_connection_checked(core, pay_client, shop_tenant):
    headers = shop_tenant.headers
    got = await pay_client.get("/api/acquiring/settings", headers=headers)
    assert got.status_code == 200
    body = got.json()
    assert body["secret_set"] is True and shop_tenant.shop.secret not in got.text
    assert body["webhook_url"].endswith(f"/api/acquiring/yookassa/{shop_tenant.tenant.slug}")
    ok = await pay_client.post("/api/acquiring/test", headers=headers, json={})
    assert ok.json()["ok"] is True
    bad = await pay_client.post("/api/acquiring/test", headers=headers,
                                json={"shop_id": shop_tenant.shop.shop_id, "secret": "wrong"})
    assert bad.json()["ok"] is False and "shopId" in bad.json()["message"]
    audit = await sql(core, shop_tenant.tenant, "SELECT new_row::text AS row FROM audit_log "
                                                "WHERE table_name = 'acquiring_settings'")
    assert audit and all(shop_tenant.shop.secret not in a.row and '"secret"' not in a.row for a in audit)
    page = await pay_client.get("/acquiring", headers=headers)
    assert page.status_code == 200 and shop_tenant.shop.secret not in page.text and "webhook-url" in page.text
