"""Paperless receipts by e-mail end to end: the month's issued receipts go to the accounts paperless by e-mail
through the notification center's runner and the real SMTP sender to an aiosmtpd server — each letter with its
account's PDF, a 5xx recipient failed with the server's answer, a 4xx one retried later and sent; sending the
month again sends nothing twice, a corrected issue is sent again (the job's path); the page and the API."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text

from aquabill.billing_core.payments.allocation import allocate_accounts
from aquabill.billing_core.receipts import build_receipts, issue_receipts, select_accounts
from aquabill.channels.notify.email import EmailSender
from aquabill.devserver.services import free_port
from aquabill.notifications.campaign_store import mark_started, materialise
from aquabill.notifications.receipt_mail import count_to_send, create_receipt_campaign, month_summary
from aquabill.notifications.runner import CampaignRunner
from aquabill.notifications.settings import SendingRules
from aquabill.platform.jobs import store
from aquabill.platform.jobs.campaigns import CAMPAIGN_JOB, campaign_job
from aquabill.platform.jobs.context import JobContext
from aquabill.platform.jobs.receipt_mail import receipt_extras
from aquabill.platform.printing import receipt_pdf
from aquabill.tenants.context import tenant_transaction
from tests.conftest import with_settings
from tests.integration.notifications.support import FakeClock
from tests.integration.receipts.test_receipts_batch import OPEN, seed_town

NO_QUIET = SendingRules(quiet_from=time(0, 0), quiet_to=time(0, 0))
# account id → its receipt e-mail (None: the account's own e-mail is used / none at all)
PAPERLESS = {1: "r1@mail.example", 2: "r2@mail.example", 3: "bounce-3@mail.example", 4: "later-4@mail.example",
             5: None, 6: None}


class Sink:
    """aiosmtpd's handler: keeps the letters; `bounce-*` is refused for good (550 at RCPT), `later-*` once for
    now (451), then accepted."""

    def __init__(self) -> None:
        self.letters: list = []
        self.deferred: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:  # noqa: N802
        if address.startswith("bounce-"):
            return "550 5.1.1 Mailbox unavailable"
        if address.startswith("later-") and address not in self.deferred:
            self.deferred.add(address)
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        self.letters.append((list(envelope.rcpt_tos),
                             message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)))
        return "250 2.0.0 Queued"

    def to(self, address: str) -> list:
        return [m for rcpt, m in self.letters if address in rcpt]


@pytest.fixture(scope="module")
async def town(make_tenant):
    return await make_tenant(seed=seed_town)


@pytest.fixture
def sink():
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


async def _issue_month(conn) -> None:
    await issue_receipts(conn, OPEN, await build_receipts(conn, OPEN, await select_accounts(conn, OPEN)))


async def _deliveries(conn, campaign_id: int) -> dict[int, tuple]:
    rows = await conn.execute(text(
        "SELECT r.account_id, d.status, d.attempts, d.detail, d.address, r.receipt_issue_id FROM campaign_deliveries d "
        "JOIN campaign_recipients r ON r.id = d.recipient_id WHERE d.campaign_id = :c"), {"c": campaign_id})
    return {r.account_id: (r.status, r.attempts, r.detail, r.address, r.receipt_issue_id) for r in rows}


async def _job(core, settings, t, port: int, campaign_id: int) -> dict:
    own = replace(core, settings=with_settings(settings, smtp_url=f"smtp://127.0.0.1:{port}"))
    async with tenant_transaction(core.engines, t.tenant, 1) as conn:
        job_id = await store.create(conn, CAMPAIGN_JOB, "Рассылка оповещений", {"campaign_id": campaign_id}, 1)
        await mark_started(conn, campaign_id, job_id)
    return await campaign_job(JobContext(core=own, tenant=t.tenant, job_id=job_id, user_id=1),
                              {"campaign_id": campaign_id})


async def test_the_month_by_email_end_to_end(town, core, settings, sink, client):
    letters, port = sink
    t = town

    def tx(user=1):
        return tenant_transaction(core.engines, t.tenant, user)

    async with tx() as conn:
        await conn.execute(text("INSERT INTO notification_settings(id, quiet_from, quiet_to) VALUES (1, '0:00', '0:00') "
                                "ON CONFLICT (id) DO UPDATE SET quiet_from = '0:00', quiet_to = '0:00'"))
        for account, email in PAPERLESS.items():
            await conn.execute(text("UPDATE accounts SET receipt_delivery = 'email', receipt_email = :e, "
                                    "email = CASE WHEN id = 5 THEN 'Own5@Mail.example' WHEN id = 6 THEN NULL "
                                    "ELSE email END WHERE id = :a"), {"a": account, "e": email})
        await _issue_month(conn)
        assert await count_to_send(conn, OPEN) == (5, 1)
        campaign_id, created = await create_receipt_campaign(conn, OPEN, tenant_name=t.tenant.name,
                                                             portal_url="https://lk.vodokanal.example", user_id=1)
        assert created
        again, created = await create_receipt_campaign(conn, OPEN, tenant_name="x", portal_url="x", user_id=1)
        assert (again, created) == (campaign_id, False)  # one open campaign of a month at a time
        await conn.execute(text("UPDATE campaigns SET status = 'running' WHERE id = :c"), {"c": campaign_id})
        assert await materialise(conn, campaign_id, OPEN.first_day) == 6

    # the runner with a clock the test drives (the 4xx letter is tried again after its pause), real SMTP
    ctx = JobContext(core=core, tenant=t.tenant, job_id=None, user_id=1)
    extras = await receipt_extras(ctx, campaign_id)
    assert extras is not None
    sender = EmailSender.from_url(f"smtp://127.0.0.1:{port}", "Водоканал <noreply@vodokanal.example>",
                                  scope=t.tenant.slug)
    clock = FakeClock(datetime.now(UTC))
    try:
        result = await CampaignRunner(lambda: tx(None), campaign_id, {"email": sender}, rules=NO_QUIET, clock=clock,
                                      tick=0.02, flush_every=0.01, idle=0.01, extras=extras).run()
    finally:
        await sender.close()
    assert result.status == "done", result

    async with tx() as conn:
        got = await _deliveries(conn, campaign_id)
        numbers = dict((await conn.execute(text("SELECT id, number FROM accounts WHERE id <= 6"))).all())
        pdfs = {a: (await receipt_pdf(conn, a, OPEN))[0] for a in (1, 2, 4, 5)}
        summary = await month_summary(conn, OPEN)
        unreachable = (await conn.execute(text(
            "SELECT note FROM campaign_recipients WHERE campaign_id = :c AND account_id = 6"), {"c": campaign_id})).scalar()
    assert got[1][0] == got[2][0] == got[5][0] == "sent" and got[5][3] == "own5@mail.example"
    assert got[3][0] == "failed" and "550 5.1.1 Mailbox unavailable" in got[3][2] and got[3][1] == 1
    assert got[4][0] == "sent" and got[4][1] == 2  # 451 first, sent on the second attempt
    assert 6 not in got and unreachable == "Нет адреса электронной почты для квитанций"
    for account, address in ((1, "r1@mail.example"), (2, "r2@mail.example"), (4, "later-4@mail.example"),
                             (5, "own5@mail.example")):
        [msg] = letters.to(address)
        assert str(msg["subject"]) == f"Квитанция за ноябрь 2026 — л/с {numbers[account]}"
        body = msg.get_body(("plain",)).get_content()
        assert "https://lk.vodokanal.example/my" in body and numbers[account] in body
        [pdf] = list(msg.iter_attachments())
        assert pdf.get_content_type() == "application/pdf"
        assert pdf.get_filename() == f"receipt-{numbers[account]}-2026-11.pdf"
        assert pdf.get_content() == pdfs[account]  # the account's own receipt, byte for byte
    assert letters.to("bounce-3@mail.example") == []
    assert summary["email"] == 6 and summary["issued"] == 6 and summary["sent"] == 4 and summary["failed"] == 1
    assert summary["no_email"] == 1 and summary["not_issued"] == 0

    # twice is once: a new mailing of the month takes only the failed letter (its address corrected)
    async with tx() as conn:
        await conn.execute(text("UPDATE accounts SET receipt_email = 'r3@mail.example' WHERE id = 3"))
        assert await count_to_send(conn, OPEN) == (1, 1)
        second, created = await create_receipt_campaign(conn, OPEN, tenant_name=t.tenant.name,
                                                        portal_url="https://lk.vodokanal.example", user_id=1)
    assert created and second != campaign_id
    result = await _job(core, settings, t, port, second)
    assert result["status"] == "done", result
    async with tx() as conn:
        assert {a: d[0] for a, d in (await _deliveries(conn, second)).items()} == {3: "sent"}
    assert len(letters.to("r1@mail.example")) == 1 and len(letters.to("r3@mail.example")) == 1

    # a corrected receipt (a payment changed what to pay) is a new issue: sent again, with a new Message-ID
    async with tx() as conn:
        await conn.execute(text(
            "INSERT INTO payments(agent_id, source, paid_on, amount, account_id, status) "
            "SELECT id, 'manual', DATE '2026-11-24', 100, 1, 'identified' FROM payment_agents WHERE code = 'manual'"))
        await allocate_accounts(conn, [1])
        await _issue_month(conn)
        assert await count_to_send(conn, OPEN) == (1, 1)
        third, _ = await create_receipt_campaign(conn, OPEN, tenant_name=t.tenant.name,
                                                 portal_url="https://lk.vodokanal.example", user_id=1)
    assert (await _job(core, settings, t, port, third))["status"] == "done"
    first, corrected = letters.to("r1@mail.example")
    assert first["message-id"] != corrected["message-id"]
    assert [a.get_filename() for a in corrected.iter_attachments()] == [f"receipt-{numbers[1]}-2026-11-2.pdf"]
    async with tx() as conn:
        assert await count_to_send(conn, OPEN) == (0, 1)

    # the page and the API: the month's figures, its mailings, nothing left to send is a clear refusal
    r = await client.get("/api/receipts/delivery?period=2026-11", headers=t.headers)
    assert r.status_code == 200 and r.json()["summary"]["sent"] == 6 - 1 and len(r.json()["campaigns"]) == 3
    r = await client.post("/api/receipts/delivery", headers=t.headers, json={"period": "2026-11"})
    assert r.status_code == 422 and "Нечего отправлять" in r.text
    r = await client.post("/api/receipts/delivery", headers=t.headers, json={"period": "2026-13"})
    assert r.status_code == 422
    page = await client.get("/receipts/delivery?period=2026-11", headers=t.headers)
    assert page.status_code == 200 and "Разослать квитанции за ноябрь 2026" in page.text
    assert "r1@mail.example" in page.text and "r3@mail.example" not in page.text  # the latest mailing's recipients
    page = await client.get(f"/receipts/delivery?period=2026-11&campaign={second}&status=sent", headers=t.headers)
    assert page.status_code == 200 and "r3@mail.example" in page.text
