"""The archive of issued receipts: issue 1 per account × month, idempotent; a recalculation makes a corrected issue
referring to the old one with the reason, and the old issue still prints as it was (a snapshot back to a Receipt);
issuing for a closed month changes no charge; two issuings at once issue once; the PDF's hash; the card's history
and the account's delivery method (API, card section, audit)."""

from __future__ import annotations

import asyncio
import json
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import text

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core.periods import Period
from aquabill.billing_core.receipts import (
    Receipt,
    build_receipts,
    issue_receipts,
    issued_receipt,
    issues_of,
    save_requisites,
    select_accounts,
    set_pdf_hash,
)
from aquabill.demo.payments import REQUISITES
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.api_helpers import Api, as_role, login_cookie
from tests.integration.receipts.test_receipts_batch import CLOSED, OPEN, seed_town

CHARGES_DIGEST = "SELECT count(*), md5(string_agg(c::text, ',' ORDER BY c.id)) FROM charges c"


@pytest.fixture(scope="module")
async def town(make_tenant):
    return await make_tenant(seed=seed_town)


@pytest.fixture
def tx(core, town):
    def open_tx(user_id=None):
        return tenant_transaction(core.engines, town.tenant, user_id)

    return open_tx


async def _issue(conn, period: Period, ids: list[int] | None = None, **kw) -> list[dict]:
    ids = ids if ids is not None else await select_accounts(conn, period)
    return await issue_receipts(conn, period, await build_receipts(conn, period, ids), **kw)


async def test_round_trip_of_every_receipt(tx):
    async with tx() as conn:
        ids = await select_accounts(conn, OPEN)
        for receipt in await build_receipts(conn, OPEN, ids):
            assert Receipt.from_dict(receipt.as_dict()) == receipt
            through_json = Receipt.from_dict(json.loads(json.dumps(receipt.as_dict())))
            assert through_json == receipt and through_json.as_dict() == receipt.as_dict()


async def test_issue_once_then_correct_after_a_recalculation(tx):
    batch = uuid.uuid4()
    async with tx(1) as conn:
        first = await _issue(conn, OPEN, batch_id=batch, user_id=1)
        assert first and all(x["issued"] and x["issue_no"] == 1 and x["corrects_id"] is None for x in first)
        again = await _issue(conn, OPEN, batch_id=uuid.uuid4(), user_id=1)
        assert [(x["id"], x["issue_no"], x["issued"]) for x in again] == [(x["id"], 1, False) for x in first]
        count = (await conn.execute(text("SELECT count(*) FROM receipt_issues WHERE period = :p"),
                                    {"p": OPEN.first_day})).scalar_one()
        assert count == len(first)
        batched = (await conn.execute(text("SELECT count(*) FROM receipt_issues WHERE batch_id = :b"),
                                      {"b": batch})).scalar_one()
        assert batched == len(first)
        before = (await build_receipts(conn, OPEN, [11]))[0]
        # a recalculation of October posted in the open month: account 11's receipt changes
        await conn.execute(text(
            "INSERT INTO charges(account_id, service_id, period, method, amount, corrects_period, note) "
            "SELECT 11, id, :p, 'recalculation', -123.45, :c, 'Перерасчёт' FROM services WHERE code = 'cold_water'"),
            {"p": OPEN.first_day, "c": CLOSED.first_day})
        corrected = await _issue(conn, OPEN, batch_id=uuid.uuid4(), user_id=1)
        changed = [x for x in corrected if x["issued"]]
        old = next(x for x in first if x["account_id"] == 11)
        assert [(x["account_id"], x["issue_no"], x["corrects_id"]) for x in changed] == [(11, 2, old["id"])]
        assert await _issue(conn, OPEN) == [{**x, "issued": False, "corrects_id": None} for x in corrected]

        history = await issues_of(conn, 11)
        assert [(h["period"], h["issue_no"]) for h in history] == [("2026-11", 2), ("2026-11", 1)]
        after = (await build_receipts(conn, OPEN, [11]))[0]
        assert after.due == before.due - Decimal("123.45")
        assert history[0]["reason"].startswith("Исправленная квитанция: изменились суммы")
        was, became = (str(x).replace(".", ",") for x in (before.due, after.due))
        assert f"было {was} ₽, стало {became} ₽" in history[0]["reason"]
        assert history[0]["issued_by_name"] and history[1]["reason"] == ""

        # reprinting what was issued then: issue 1 as it was, the latest by default
        then = await issued_receipt(conn, 11, OPEN, 1)
        assert Receipt.from_dict(then) == before and then["issue"]["issue_no"] == 1
        now = await issued_receipt(conn, 11, OPEN)
        assert Receipt.from_dict(now) == after and now["issue"]["corrects_id"] == old["id"]
        with pytest.raises(NotFound, match="не выпускалась"):
            await issued_receipt(conn, 11, OPEN, 3)
        with pytest.raises(NotFound):
            await issued_receipt(conn, 11, Period(2020, 1))
        with pytest.raises(Invalid):
            await issue_receipts(conn, CLOSED, [after])

        # the PDF's hash (kept by the printing job)
        assert await set_pdf_hash(conn, [old["id"], changed[0]["id"]], ["ab" * 32, "CD" * 32]) == 2
        assert await set_pdf_hash(conn, [old["id"]], ["ab" * 32]) == 0
        assert (await issues_of(conn, 11))[0]["pdf_sha256"] == "cd" * 32
        for bad in (["x" * 64], ["ab" * 31]):
            with pytest.raises(Invalid, match="SHA-256"):
                await set_pdf_hash(conn, [old["id"]], bad)
        with pytest.raises(Invalid):
            await set_pdf_hash(conn, [1, 2], ["ab" * 32])
        audited = (await conn.execute(text(
            "SELECT count(*) FROM audit_log WHERE table_name = 'receipt_issues' AND user_id = 1"))).scalar_one()
        assert audited >= len(first) + 1 + 2


async def test_closed_month_reprint_and_correction_change_no_charge(tx):
    async with tx(1) as conn:
        digest = (await conn.execute(text(CHARGES_DIGEST))).one()
        first = await _issue(conn, CLOSED, user_id=1)
        assert first and all(x["issued"] for x in first)
        assert not any(x["issued"] for x in await _issue(conn, CLOSED, user_id=1))  # a reprint: nothing new
        # new requisites: the closed month's receipts are corrected with the figures as they stand
        await save_requisites(conn, {**REQUISITES, "bic": "044525225"})
        corrected = await _issue(conn, CLOSED, user_id=1)
        assert all(x["issued"] and x["issue_no"] == 2 for x in corrected)
        latest = await issued_receipt(conn, corrected[0]["account_id"], CLOSED)
        assert latest["payee"]["bic"] == "044525225"
        assert latest["issue"]["reason"] == "Исправленная квитанция: изменились реквизиты получателя платежа"
        assert (await issued_receipt(conn, corrected[0]["account_id"], CLOSED, 1))["payee"]["bic"] == REQUISITES["bic"]
        assert (await conn.execute(text(CHARGES_DIGEST))).one() == digest
        await save_requisites(conn, REQUISITES)


async def test_two_issuings_at_once_issue_once(tx):
    period = Period(2026, 9)
    async with tx() as conn:
        ids = await select_accounts(conn, period)

    async def issue():
        async with tx() as conn:
            receipts = await build_receipts(conn, period, ids)
            await asyncio.sleep(0.05)  # both have built their receipts before either issues
            return await issue_receipts(conn, period, receipts, batch_id=uuid.uuid4())

    a, b = await asyncio.gather(issue(), issue())
    assert sorted([sum(x["issued"] for x in a), sum(x["issued"] for x in b)]) == [0, len(ids)]
    assert [x["id"] for x in a] == [x["id"] for x in b]
    async with tx() as conn:
        rows = (await conn.execute(text(
            "SELECT count(*), count(DISTINCT account_id), max(issue_no) FROM receipt_issues WHERE period = :p"),
            {"p": period.first_day})).one()
    assert tuple(rows) == (len(ids), len(ids), 1)


async def test_delivery_api_card_and_audit(client, town, tx):
    api = Api(client, town.headers)
    async with tx() as conn:
        await conn.execute(text("UPDATE accounts SET email = NULL WHERE id IN (21, 22)"))
        await conn.execute(text("UPDATE accounts SET email = 'owner22@example.ru' WHERE id = 22"))
    r = await api.ok("get", "/api/accounts/21/receipt-delivery")
    assert (r["delivery"], r["email"], r["choices"]["portal"]) == ("paper", None, "Только в личном кабинете (без бумаги)")
    refused = await api.put("/api/accounts/21/receipt-delivery", {"delivery": "email"})
    assert refused.status_code == 422 and "укажите адрес" in refused.json()["error"]["message"]
    for body, word in (({"delivery": "pigeon"}, "способ доставки"), ({"delivery": "email", "email": "нет"}, "неверно"),
                       ({}, "способ доставки")):
        bad = await api.put("/api/accounts/21/receipt-delivery", body)
        assert bad.status_code == 422 and word in bad.json()["error"]["message"], bad.text
    assert (await api.put("/api/accounts/999999/receipt-delivery", {"delivery": "paper"})).status_code == 404
    r = await api.ok("put", "/api/accounts/21/receipt-delivery", {"delivery": "email", "email": " Ivanov@Mail.RU "})
    assert (r["delivery"], r["receipt_email"], r["email"]) == ("email", "ivanov@mail.ru", "ivanov@mail.ru")
    r = await api.ok("put", "/api/accounts/22/receipt-delivery", {"delivery": "email"})  # the account's own
    assert (r["receipt_email"], r["email"]) == (None, "owner22@example.ru")
    assert (await api.ok("put", "/api/accounts/22/receipt-delivery", {"delivery": "portal"}))["delivery"] == "portal"
    async with tx() as conn:
        assert await select_accounts(conn, OPEN, delivery="email") == [21]
    history = await api.ok("get", "/api/audit/accounts/21")
    assert any((x["new"] or {}).get("receipt_delivery") == "email" and x["user_id"] == 1
               for x in history["items"]), history

    viewer = await as_role(client, town, "viewer")
    assert (await viewer.put("/api/accounts/21/receipt-delivery", {"delivery": "paper"})).status_code == 403

    issues = await api.ok("get", "/api/accounts/11/receipt-issues")
    assert issues["items"] and issues["items"][0]["issue_no"] >= 1

    await login_cookie(client, town)
    card = await client.get("/accounts/21")
    assert card.status_code == 200 and 'hx-get="/accounts/21/receipt-delivery"' in card.text
    section = await client.get("/accounts/11/receipt-delivery")
    assert section.status_code == 200 and "Выпущенные квитанции" in section.text and "исправленная" in section.text
    r = await client.post("/accounts/21/receipt-delivery", data={"delivery": "email", "email": "плохой"})
    assert r.status_code == 200 and "указан неверно" in r.text
    r = await client.post("/accounts/21/receipt-delivery", data={"delivery": "paper", "email": ""})
    assert r.status_code == 200 and "Сохранено — бумажная квитанция" in r.text
    assert (await client.get("/accounts/999999/receipt-delivery")).status_code == 404
    async with tx() as conn:
        row = (await conn.execute(text("SELECT receipt_delivery, receipt_email FROM accounts WHERE id = 21"))).one()
    assert tuple(row) == ("paper", None)
