"""An outage notice end to end: the campaign job (platform/jobs/campaigns.py) with the tenant's real senders
(channels/notify: SMTP to an aiosmtpd server, SMS to the SMS.ru fake, Telegram to the Bot API fake, the portal
inbox; autocall through the AMI simulator) reaches house 1's subscribers on every channel, with statuses."""

from __future__ import annotations

from dataclasses import replace
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text

from aquabill.billing_core.receipts.requisites import save_requisites
from aquabill.channels.asterisk.simulator import AmiSimulator
from aquabill.contact_center import calls as telephony_store
from aquabill.devserver.fakes.sms_gateway import FakeSmsGateway
from aquabill.devserver.fakes.telegram_api import FakeTelegram
from aquabill.devserver.services import free_port
from aquabill.notifications.campaign_store import create_campaign, mark_started
from aquabill.notifications.campaigns import check_draft
from aquabill.notifications.settings import DEFAULT_RATES
from aquabill.platform.jobs import store
from aquabill.platform.jobs.campaigns import CAMPAIGN_JOB, campaign_job
from aquabill.platform.jobs.context import JobContext
from aquabill.platform.secret_box import SecretBox
from aquabill.tenants.context import tenant_transaction
from tests.conftest import with_settings
from tests.integration.notifications.support import town

TOKEN = "1234567:notice-test-token-abcdefghijk"


class Letters:
    def __init__(self) -> None:
        self.got: list = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        self.got.append((list(envelope.rcpt_tos),
                         message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
async def peers():
    letters = Letters()
    smtp = Controller(letters, hostname="127.0.0.1", port=free_port())
    smtp.start()
    sim = AmiSimulator()
    await sim.start()
    sim.outcomes.update({"89160000001": "answered", "89160000002": "busy"})
    async with FakeTelegram() as telegram, FakeSmsGateway() as sms:
        telegram.add_bot(TOKEN, "vodokanal_bot")
        yield {"letters": letters, "smtp_port": smtp.port, "sim": sim, "telegram": telegram, "sms": sms}
    await sim.stop()
    smtp.stop()


async def test_an_outage_notice_reaches_every_channel(make_tenant, core, settings, client, peers):
    t = await make_tenant(seed=town)
    own = replace(core, settings=with_settings(settings, smtp_url=f"smtp://127.0.0.1:{peers['smtp_port']}",
                                               sms_url=peers["sms"].url, telegram_api_url=peers["telegram"].url))
    box = SecretBox(settings.secret_key)
    async with tenant_transaction(core.engines, t.tenant, 1) as conn:
        await conn.execute(text("INSERT INTO bot_settings(channel, token_sealed, enabled, username) "
                                "VALUES ('telegram', :t, true, 'vodokanal_bot')"), {"t": box.seal(TOKEN)})
        await telephony_store.save_connection(conn, {
            "host": "127.0.0.1", "port": peers["sim"].port, "username": "aquabill", "enabled": True,
            "technology": "PJSIP", "originate_context": "outgoing", "secret_encrypted": box.seal("amp111")}, None)
        await save_requisites(conn, {"name": "МУП «Водоканал»", "personal_acc": "40702810900000000001",
                                     "bank_name": "Банк", "bic": "044525225", "phone": "8 (81379) 2-11-22"})
        # no quiet hours: the test must not depend on the time of day it runs at
        await conn.execute(text("INSERT INTO notification_settings(id, quiet_from, quiet_to) "
                                "VALUES (1, '00:00', '00:00')"))
        draft = check_draft({
            "title": "Отключение воды", "subject": "Отключение воды {{ outage_from }}", "sound": "custom/outage",
            "body": "{{ holder }}, {{ outage_from }}–{{ outage_to }} по адресу {{ address }} не будет воды. "
                    "{{ tenant_name }}, тел. {{ tenant_phone }}",
            "channels": ["email", "sms", "telegram", "autocall", "inbox"], "mode": "all",
            "audience": {"house_ids": [1]}, "fields": {"outage_from": "12.04 09:00", "outage_to": "18:00"}},
            DEFAULT_RATES)
        campaign = await create_campaign(conn, draft, tenant_name=t.tenant.name, user_id=1)
        job_id = await store.create(conn, CAMPAIGN_JOB, "Рассылка оповещений", {"campaign_id": campaign["id"]}, 1)
        await mark_started(conn, campaign["id"], job_id)
    ctx = JobContext(core=own, tenant=t.tenant, job_id=job_id, user_id=1)
    result = await campaign_job(ctx, {"campaign_id": campaign["id"]})
    assert result["status"] == "done", result
    assert result["channels"] == ["autocall", "email", "inbox", "sms", "telegram"]

    letters = {rcpt[0]: msg for rcpt, msg in peers["letters"].got}
    assert sorted(letters) == ["a1@mail.example", "s1@mail.example"]
    assert str(letters["a1@mail.example"]["subject"]) == "Отключение воды 12.04 09:00"
    assert "МУП «Водоканал», тел. 8 (81379) 2-11-22" in letters["a1@mail.example"].get_body().get_content()
    assert [m.text.split(",")[0] for m in peers["sms"].to("79160000001")] == ["Абонент 1"]
    assert len(peers["sms"].to("79160000002")) == 1
    assert [m.text.split(",")[0] for m in peers["telegram"].sent(TOKEN, chat_id=7001)] == ["Абонент 3"]
    assert sorted(o["Channel"] for o in peers["sim"].originates) == ["Local/89160000001@outgoing",
                                                                     "Local/89160000002@outgoing"]
    async with tenant_transaction(core.engines, t.tenant) as conn:
        rows = {(r.account_id, r.channel): (r.status, r.parts, r.cost) for r in await conn.execute(text(
            "SELECT r.account_id, d.channel, d.status, d.parts, d.cost FROM campaign_deliveries d "
            "JOIN campaign_recipients r ON r.id = d.recipient_id WHERE d.campaign_id = :c"), {"c": campaign["id"]})}
        inbox = (await conn.execute(text("SELECT subscriber_id, account_id, dedupe_key FROM subscriber_inbox"))).all()
    assert rows[(1, "autocall")][0] == "answered" and rows[(2, "autocall")][0] == "busy"
    assert rows[(1, "email")][0] == rows[(3, "email")][0] == rows[(3, "telegram")][0] == "sent"
    assert rows[(1, "sms")][0] == "sent" and rows[(1, "sms")][1] >= 2 and rows[(1, "sms")][2] is not None
    assert rows[(3, "inbox")][0] == "delivered" and len(rows) == 8
    assert [(i.subscriber_id, i.account_id) for i in inbox] == [(1, 3)]
    assert inbox[0].dedupe_key == f"{campaign['id']}:{inbox[0].dedupe_key.split(':')[1]}:inbox"

    r = await client.get(f"/api/notifications/campaigns/{campaign['id']}", headers=t.headers)
    assert r.json()["status"] == "done" and r.json()["totals"] == {"sent": 5, "answered": 1, "busy": 1,
                                                                   "delivered": 1}
    page = await client.get(f"/notifications/{campaign['id']}", headers=t.headers)
    assert "Прослушано" in page.text and "Занято" in page.text and "Завершена" in page.text


async def test_started_from_the_api_the_worker_runs_it(make_tenant, core, client, worker):
    """The job kind is registered and runs in the worker: a channel the service lacks (e-mail: no SMTP in the
    test settings) fails at once and the recipient falls back to the portal inbox."""
    import asyncio

    t = await make_tenant(seed=town)
    async with tenant_transaction(core.engines, t.tenant) as conn:
        await conn.execute(text("INSERT INTO notification_settings(id, quiet_from, quiet_to) VALUES (1, '0:00', '0:00')"))
    r = await client.post("/api/notifications/campaigns", headers=t.headers, json={
        "title": "Квитанции готовы", "template_id": 4, "channels": ["email", "inbox"], "audience": {"house_ids": [2]},
        "start": True})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    for _ in range(300):
        detail = (await client.get(f"/api/notifications/campaigns/{cid}", headers=t.headers)).json()
        if detail["status"] == "done":
            break
        await asyncio.sleep(0.1)
    assert detail["status"] == "done", detail
    assert detail["counts"] == {"email": {"failed": 1}, "inbox": {"delivered": 1}}  # account 6 / 7's subscriber
    job = (await client.get(f"/api/jobs/{detail['job_id']}", headers=t.headers)).json()
    assert job["status"] == "done" and job["result"]["status"] == "done"
