"""The issue's "done when" through the Telegram fake: a new chat links an account, submits a reading, follows
the bot's payment link, pays at the local fake of ЮKassa, and the bot's balance shows the payment. The whole
service is served on loopback (uvicorn); the fake Bot API and the fake ЮKassa speak HTTP to it, ЮKassa's
notification included (from 127.0.0.1, the networks allowed in this test)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from aquabill.devserver.fakes.yookassa import FakeYooKassa
from tests.conftest import with_settings
from tests.integration.subscribers.bot_support import enable_bot, scalar, start_service
from tests.integration.subscribers.test_telegram_bot import Dialog, link


@pytest.fixture(scope="module")
def yookassa():
    fake = FakeYooKassa(retry_seconds=0.2, max_retries=4).start_in_thread()
    yield fake
    fake.stop_thread()


@pytest.fixture(scope="module")
async def service(settings, core, yookassa):
    service = await start_service(with_settings(settings, yookassa_api_url=yookassa.api_url,
                                                acquiring_networks=("127.0.0.0/8",)))
    yield service
    await service.close()


async def test_link_read_pay_and_see_the_new_balance(service, make_tenant, yookassa):
    handle, token = await enable_bot(service, make_tenant, "telegram")
    shop = yookassa.add_shop(webhook_url=f"{service.url}/api/acquiring/yookassa/{handle.tenant.slug}")
    r = await service.http.put("/api/acquiring/settings", headers=handle.headers, json={
        "shop_id": shop.shop_id, "secret": shop.secret, "vat": "none", "enabled": True})
    assert r.status_code == 200, r.text

    d = Dialog(service, token)
    assert (await link(d)).text.startswith("Готово! Лицевой счёт ЛС1 привязан")
    await d.press("rd")
    assert "принято" in (await d.text("21")).text
    await d.text("9")

    balance = await d.press("bal")
    assert "К оплате: 1\u202f030,00 ₽" in balance.text
    [pay_url] = [u for u in balance.urls() if u.startswith(f"{service.url}/pay/")]
    async with httpx.AsyncClient(timeout=30) as browser:  # the subscriber's phone browser
        page = await browser.get(pay_url)
        assert page.status_code == 200 and "1030,00" in page.text.replace("\u202f", "").replace(" ", "")
        form = await browser.post(pay_url, data={"amount": "1030,00", "contact": "ivanov@example.ru"})
        assert form.status_code == 303, form.text
        checkout = form.headers["location"]
        assert checkout.startswith(yookassa.url)
        paid = await browser.post(checkout, data={"action": "pay"})
        assert paid.status_code == 303
        back = await browser.get(paid.headers["location"])
        assert back.status_code == 200

    for _ in range(200):  # the notification reaches the webhook over HTTP (within 20 s)
        if await scalar(service.app.state.core, handle.tenant,
                        "SELECT count(*) FROM payments WHERE source = 'portal' AND amount = 1030.00"):
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the payment was not credited within 20 s")
    channel = await scalar(service.app.state.core, handle.tenant, "SELECT channel FROM online_payments")
    assert channel == "telegram"
    after = await d.press("bal")
    assert "Долга нет" in after.text, after.text
    readings = await scalar(service.app.state.core, handle.tenant,
                            "SELECT count(*) FROM readings WHERE source = 'bot' AND status = 'accepted'")
    assert readings == 2
