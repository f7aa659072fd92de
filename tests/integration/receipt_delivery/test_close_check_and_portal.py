"""The month-close check «receipts issued and delivered in time» (a warning with the accounts and why, by the
dated deadline: the 5th of the next month from March 2026) and the subscriber's switch of paperless receipts
per linked account (by e-mail to the confirmed address, else the personal account only; back to paper),
audited as the subscriber; another subscriber cannot change an account not linked to them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from aquabill.billing_core.month_close import run_checks
from aquabill.billing_core.month_close.receipt_deadline import receipt_deadline
from aquabill.billing_core.periods import Period
from aquabill.billing_core.receipts import build_receipts, issue_receipts, select_accounts
from aquabill.notifications.campaign_store import materialise
from aquabill.notifications.receipt_mail import create_receipt_campaign
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.api_helpers import Api
from tests.integration.receipts.test_receipts_batch import CLOSED, OPEN, seed_town
from tests.portal_support import portal_user

TODAY = date(2026, 12, 7)


@pytest.fixture(scope="module")
async def town(make_tenant):
    return await make_tenant(seed=seed_town)


def test_the_deadline_is_a_dated_rule():
    assert receipt_deadline(date(2026, 1, 1))[0] == date(2026, 2, 1)  # ст. 155 ЖК РФ, п. 67 Правил 354: the 1st
    assert receipt_deadline(date(2026, 2, 10))[0] == date(2026, 3, 5)  # due in March 2026: the 5th (177-ФЗ)
    day, rule = receipt_deadline(date(2026, 11, 1))
    assert day == date(2026, 12, 5) and "177-ФЗ" in rule.source


async def test_the_demo_makes_a_few_accounts_paperless(town, core):
    from aquabill.demo.paperless import seed_paperless

    async with tenant_transaction(core.engines, town.tenant, 1) as conn:
        assert await seed_paperless(conn) == 6 and await seed_paperless(conn) == 0
        got = dict((await conn.execute(text(
            "SELECT receipt_delivery, count(*) FROM accounts WHERE receipt_delivery <> 'paper' GROUP BY 1"))).all())
        assert got == {"email": 5, "portal": 1}
        await conn.rollback()


async def _check(conn, period: Period):
    [result] = [r for r in await run_checks(conn, period, today=TODAY) if r.code == "receipts_delivered"]
    return result


async def test_receipts_issued_and_delivered_in_time(town, core):
    async with tenant_transaction(core.engines, town.tenant, 1) as conn:
        accounts = await select_accounts(conn, OPEN)
        await issue_receipts(conn, OPEN, await build_receipts(conn, OPEN, accounts[1:]))
        assert (await _check(conn, CLOSED)).status == "pass"  # before the first issued month: not judged
        result = await _check(conn, OPEN)  # issued today, 07.12.2026: after the 5th; one not issued at all
        assert result.status == "warn" and not result.blocking and result.count == len(accounts)
        assert "/receipts/delivery" in result.message
        assert all(s.endswith("выставлена 07.12.2026") for s in result.sample if not s.endswith("не выставлена"))
        number0 = (await conn.execute(text("SELECT number FROM accounts WHERE id = :a"), {"a": accounts[0]})).scalar()
        await conn.execute(text("UPDATE receipt_issues SET issued_at = TIMESTAMPTZ '2026-12-01 10:00+03'"))
        assert (await _check(conn, OPEN)).sample == (f"л/с {number0}: квитанция не выставлена",)

        await issue_receipts(conn, OPEN, await build_receipts(conn, OPEN, accounts[:1]))
        late = await _check(conn, OPEN)
        assert late.sample == (f"л/с {number0}: выставлена 07.12.2026",)

        await conn.execute(text("UPDATE receipt_issues SET issued_at = TIMESTAMPTZ '2026-12-01 10:00+03'"))
        assert (await _check(conn, OPEN)).status == "pass"

        # paperless by e-mail: the letter must have gone by the 5th too
        await conn.execute(text("UPDATE accounts SET receipt_delivery = 'email', receipt_email = 'r1@mail.example' "
                                "WHERE id = :a"), {"a": accounts[0]})
        number = (await conn.execute(text("SELECT number FROM accounts WHERE id = :a"), {"a": accounts[0]})).scalar()
        unsent = await _check(conn, OPEN)
        assert (unsent.count, unsent.sample) == (1, (f"л/с {number}: не отправлена по эл. почте",))
        cid, _ = await create_receipt_campaign(conn, OPEN, tenant_name="В", portal_url="http://x", user_id=1)
        await materialise(conn, cid, TODAY)
        await conn.execute(text("UPDATE campaign_deliveries SET status = 'sent', "
                                "sent_at = TIMESTAMPTZ '2026-12-05 23:30+03' WHERE campaign_id = :c"), {"c": cid})
        assert (await _check(conn, OPEN)).status == "pass"  # 23:30 Moscow on the 5th is in time
        await conn.execute(text("UPDATE campaign_deliveries SET sent_at = TIMESTAMPTZ '2026-12-06 00:30+03' "
                                "WHERE campaign_id = :c"), {"c": cid})
        assert (await _check(conn, OPEN)).sample == (f"л/с {number}: отправлена по эл. почте 06.12.2026",)
        await conn.rollback()


async def test_the_subscriber_chooses_paperless_receipts(town, core, client):
    me = await portal_user(core, town.tenant, account_ids=[1, 2], email="me@mail.example")
    other = await portal_user(core, town.tenant, account_ids=[3])
    api = Api(client, me.headers)
    choices = await api.ok("get", "/api/my/receipt-delivery")
    assert choices["email"] == "me@mail.example" and [a["delivery"] for a in choices["accounts"]] == ["paper", "paper"]

    done = await api.ok("put", "/api/my/accounts/1/receipt-delivery", {"paperless": True})
    assert (done["delivery"], done["receipt_email"]) == ("email", "me@mail.example")
    r = await client.put("/api/my/accounts/1/receipt-delivery", headers=other.headers, json={"paperless": False})
    assert r.status_code == 404  # not linked to them: the same answer as an unknown account
    r = await client.put("/api/my/accounts/999999/receipt-delivery", headers=me.headers, json={"paperless": True})
    assert r.status_code == 404
    r = await client.put("/api/my/accounts/1/receipt-delivery", headers=me.headers, json={"paperless": "да"})
    assert r.status_code == 400 or r.status_code == 422

    page = await client.post("/my/settings/receipts", headers=me.headers, data={"account_id": "2", "paperless": "1"})
    assert page.status_code == 200 and "Квитанции будут приходить на me@mail.example" in page.text
    page = await client.post("/my/settings/receipts", headers=other.headers, data={"account_id": "2", "paperless": "1"})
    assert page.status_code == 404
    page = await client.post("/my/settings/receipts", headers=me.headers, data={"account_id": "x"})
    assert page.status_code == 422 and "Не выбран лицевой счёт" in page.text
    page = await client.post("/my/settings/receipts", headers=me.headers, data={"account_id": "2"})
    assert "Квитанции снова будут бумажными" in page.text
    assert "Получать квитанции только в электронном виде" in (await client.get("/my/settings/receipts",
                                                                               headers=me.headers)).text
    assert "/my/settings/receipts" in (await client.get("/my/settings", headers=me.headers)).text

    async with tenant_transaction(core.engines, town.tenant) as conn:  # no confirmed e-mail: the portal only
        await conn.execute(text("UPDATE subscribers SET email_confirmed_at = NULL WHERE id = :s"),
                           {"s": other.subscriber_id})
    assert (await Api(client, other.headers).ok("put", "/api/my/accounts/3/receipt-delivery",
                                                {"paperless": True}))["delivery"] == "portal"
    async with tenant_transaction(core.engines, town.tenant) as conn:
        audit = (await conn.execute(text(
            "SELECT row_id, subscriber_id, user_id FROM audit_log WHERE table_name = 'accounts' "
            "AND subscriber_id IS NOT NULL ORDER BY id"))).all()
    assert [(a.row_id, a.subscriber_id, a.user_id) for a in audit] == [
        ("1", me.subscriber_id, None), ("2", me.subscriber_id, None), ("2", me.subscriber_id, None),
        ("3", other.subscriber_id, None)]
