"""Online payments fiscalized by the cloud (ATOL Online's fake over real HTTP): credited → request → job → the
payment's fiscal proof; a lost answer, two runners at once, a failed receipt, a refund, an expired token.

The tests run passes of the runner themselves (`drive`); the payment flow also starts the job after a commit, and
the session's worker (if some test started it) may run it meanwhile — the outcomes asserted are the same
whoever does the work, which is the point."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal as D
from uuid import UUID

import httpx
from sqlalchemy import text

from aquabill.channels.acquiring import flow
from aquabill.channels.cloud_fiscal.runner import process_tenant
from aquabill.platform.jobs.cloud_fiscal import kick
from aquabill.tenants.context import tenant_transaction
from tests.integration.cloud_fiscal.conftest import (
    FAST,
    drive,
    due_now,
    finished,
    fiscal_of,
    pay,
    request_of,
    sql,
    until,
)


async def test_a_lost_answer_is_sent_again_with_the_same_external_id_one_receipt(pay_core, shop, yookassa, atol):
    atol.drop_next("sell")
    _, payment_id = await pay(pay_core, shop, yookassa, "ЛС2")
    lost = await drive(pay_core, shop, payment_id, lambda r: r.attempts >= 1)
    assert (lost.status, lost.provider_uuid, lost.attempts) == ("new", None, 1)
    assert lost.error.startswith("Нет ответа, чек будет отправлен повторно: нет связи с АТОЛ Онлайн")
    assert len(atol.by_external_id(str(lost.id))) == 1  # it did go through

    await due_now(pay_core, shop, lost.id)
    done = await drive(pay_core, shop, payment_id, finished)
    [doc] = atol.by_external_id(str(lost.id))
    assert [c.status for c in atol.registrations(str(lost.id))] == [200, 400]  # the resend: "already there" + uuid
    assert (done.status, done.provider_uuid, done.attempts) == ("done", doc.uuid, 2)
    [proof] = await fiscal_of(pay_core, shop, payment_id)
    assert proof.fiscal_sign == doc.payload["fiscal_document_attribute"]


async def test_two_runs_at_once_make_one_receipt(pay_core, shop, yookassa, atol):
    _, payment_id = await pay(pay_core, shop, yookassa, "ЛС3")
    req = await request_of(pay_core, shop, payment_id)
    await asyncio.gather(process_tenant(pay_core, shop.tenant, polls=FAST),
                         process_tenant(pay_core, shop.tenant, polls=FAST))
    done = await drive(pay_core, shop, payment_id, finished)
    assert done.status == "done"
    assert len(atol.registrations(str(req.id))) == 1 and len(atol.by_external_id(str(req.id))) == 1
    assert len(await fiscal_of(pay_core, shop, payment_id)) == 1
    # one more pass finds nothing of it to do
    await process_tenant(pay_core, shop.tenant, polls=FAST)
    assert len(atol.registrations(str(req.id))) == 1 and len(await fiscal_of(pay_core, shop, payment_id)) == 1


async def test_a_failed_receipt_is_shown_in_russian_on_the_page(pay_core, shop, yookassa, atol, fiscal_client):
    atol.fail_next("Ошибка ФН: исчерпан ресурс фискального накопителя", code=2011)
    _, payment_id = await pay(pay_core, shop, yookassa, "ЛС4")
    req = await drive(pay_core, shop, payment_id, finished)
    message = "Касса не зарегистрировала чек: Ошибка ФН: исчерпан ресурс фискального накопителя (код 2011)"
    assert (req.status, req.error) == ("fail", message)
    assert await fiscal_of(pay_core, shop, payment_id) == []

    page = await fiscal_client.get("/acquiring/cloud-fiscal?status=fail", headers=shop.handle.headers)
    assert page.status_code == 200
    assert message in page.text and f'data-request-id="{req.id}" data-status="fail"' in page.text
    api = await fiscal_client.get("/api/cloud-fiscal/requests?status=fail", headers=shop.handle.headers)
    assert api.status_code == 200
    assert [(i["id"], i["status_text"], i["error"]) for i in api.json()["items"]] == [(str(req.id), "Ошибка", message)]

    # staff send it again: a new external_id, and this time it goes through
    r = await fiscal_client.post(f"/api/cloud-fiscal/requests/{req.id}/retry", headers=shop.handle.headers)
    assert r.status_code == 200, r.text
    new_id = UUID(r.json()["id"])
    done = await drive(pay_core, shop, payment_id, finished)
    assert (done.id, done.status) == (new_id, "done")
    [proof] = await fiscal_of(pay_core, shop, payment_id)
    page = await fiscal_client.get("/acquiring/cloud-fiscal?status=done", headers=shop.handle.headers)
    row = page.text.split(f'data-request-id="{new_id}"', 1)[1].split("</tr>", 1)[0]
    assert "Чек зарегистрирован" in row and f'<td class="fiscal-sign">{proof.fiscal_sign}</td>' in row
    assert f"{proof.fn_number} / {proof.fd_number}" in row and "чек в ОФД" in row
    again = await fiscal_client.post(f"/api/cloud-fiscal/requests/{new_id}/retry", headers=shop.handle.headers)
    assert again.status_code == 409


async def test_a_refund_goes_as_sell_refund(pay_core, shop, yookassa, atol):
    attempt, payment_id = await pay(pay_core, shop, yookassa, "ЛС5")
    assert (await drive(pay_core, shop, payment_id, finished)).status == "done"
    admin = (await sql(pay_core, shop.tenant, "SELECT id FROM users WHERE login = 'admin'"))[0].id
    done = await flow.refund(pay_core, shop.tenant, attempt, amount=D("250.00"), reason="Ошибочный платёж",
                             user_id=admin)
    refund_payment = done["refunds"][-1]["payment_id"]
    req = await request_of(pay_core, shop, refund_payment, "refund")
    assert req.amount == D("250.00")
    assert (await drive(pay_core, shop, refund_payment, finished, "refund")).status == "done"
    [doc] = atol.by_external_id(str(req.id))
    assert doc.operation == "sell_refund"
    # the refund takes the last line first: 200.00 of sewage, then 50.00 of cold water
    assert [(i["name"], i["sum"]) for i in doc.body["receipt"]["items"]] == [
        ("Холодное водоснабжение", D("50.0")), ("Водоотведение", D("200.0"))]
    [proof] = await fiscal_of(pay_core, shop, refund_payment)
    assert (proof.operation, proof.amount, proof.fiscal_sign) == (
        "refund", D("250.00"), doc.payload["fiscal_document_attribute"])
    assert len(await fiscal_of(pay_core, shop, payment_id)) == 1  # the sale's own proof stays


async def test_an_expired_token_means_one_new_login(pay_core, shop, yookassa, atol):
    _, warm = await pay(pay_core, shop, yookassa, "ЛС6")
    assert (await drive(pay_core, shop, warm, finished)).status == "done"  # a token is kept now
    logins = atol.token_requests
    atol.expire_tokens()
    _, payment_id = await pay(pay_core, shop, yookassa, "ЛС7")
    done = await drive(pay_core, shop, payment_id, finished)
    assert done.status == "done"
    assert atol.token_requests == logins + 1
    assert [c.status for c in atol.registrations(str(done.id))] == [401, 200]
    assert len(atol.by_external_id(str(done.id))) == 1


async def test_a_wrong_password_keeps_the_request_waiting_with_the_reason(pay_core, shop, yookassa, atol):
    atol.expire_tokens()
    real, shop.group.password = shop.group.password, "changed-at-atol"
    try:
        _, payment_id = await pay(pay_core, shop, yookassa, "ЛС8")
        waiting = await drive(pay_core, shop, payment_id, lambda r: r.attempts >= 1)
        assert (waiting.status, waiting.error) == ("new", "Неверный логин или пароль АТОЛ Онлайн: Неверный логин или "
                                                          "пароль (код 12)")
        assert [c.status for c in atol.registrations(str(waiting.id))] == [401]
    finally:
        shop.group.password = real
    await due_now(pay_core, shop, waiting.id)
    assert (await drive(pay_core, shop, payment_id, finished)).status == "done"


async def test_nothing_is_asked_while_cloud_fiscalization_is_off(pay_core, shop, yookassa):
    async with tenant_transaction(pay_core.engines, shop.tenant) as conn:
        await conn.execute(text("UPDATE cloud_fiscal_settings SET enabled = false"))
    try:
        _, payment_id = await pay(pay_core, shop, yookassa, "ЛС9")
        assert await request_of(pay_core, shop, payment_id) is None
    finally:
        async with tenant_transaction(pay_core.engines, shop.tenant) as conn:
            await conn.execute(text("UPDATE cloud_fiscal_settings SET enabled = true"))


def test_the_fake_refuses_a_receipt_that_does_not_add_up(atol, shop):
    token = httpx.post(f"{atol.api_url}/getToken", json={"login": shop.group.login, "pass": shop.group.password}).json()
    body = {"external_id": "bad-1", "timestamp": "05.11.2026 09:07:03", "receipt": {
        "client": {"email": "a@b.ru"}, "company": {"email": "k@v.ru", "sno": "osn", "inn": "7707083893",
                                                   "payment_address": "https://lk.v.ru"},
        "items": [{"name": "Вода", "price": 100.0, "quantity": 1, "sum": 99.99, "measure": 0,
                   "payment_method": "full_payment", "payment_object": 4, "vat": {"type": "vat18"}}],
        "payments": [{"type": 1, "sum": 99.99}], "total": 99.99}}
    r = httpx.post(f"{atol.api_url}/{shop.group.code}/sell", content=json.dumps(body),
                   headers={"Token": token["token"], "Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == 32 and r.json()["status"] == "fail"
    assert r.json()["error"]["text"] == ("Ошибка валидации входного чека. Ошибочные поля : receipt.items[0].sum, "
                                         "receipt.items[0].vat.type, receipt.total")


# last in the module: from here on the session's worker runs (with its every-minute crons)
async def test_a_credited_payment_is_fiscalized_by_the_job(worker, pay_core, shop, yookassa, atol):
    attempt, payment_id = await pay(pay_core, shop, yookassa, "ЛС1")
    req = await request_of(pay_core, shop, payment_id)  # written in the crediting transaction
    assert (req.operation, req.amount, req.online_payment_id) == ("sale", D("500.00"), attempt)

    await kick(pay_core, shop.tenant)  # what the payment flow does after the commit (a no-op if it already did)
    await until(pay_core, shop, "SELECT status FROM cloud_fiscal_requests WHERE id = :i", "done", i=req.id)
    [doc] = atol.by_external_id(str(req.id))
    assert doc.operation == "sell" and doc.group == shop.group.code
    receipt = doc.body["receipt"]
    assert receipt["client"] == {"email": "ivanov@mail.ru"}
    assert receipt["company"] == {"email": "kassa@vodokanal.ru", "sno": "usn_income", "inn": "7707083893",
                                  "payment_address": "https://lk.vodokanal.ru"}
    assert [(i["name"], i["sum"], i["vat"]["type"], i["payment_object"], i["payment_method"], i["measure"])
            for i in receipt["items"]] == [("Холодное водоснабжение", D("300.0"), "none", 4, "full_payment", 0),
                                           ("Водоотведение", D("200.0"), "vat22", 4, "full_payment", 0)]
    assert receipt["payments"] == [{"type": 1, "sum": D("500.0")}] and receipt["total"] == D("500.0")
    [proof] = await fiscal_of(pay_core, shop, payment_id)
    assert (proof.source, proof.operation, proof.amount) == ("cloud", "sale", D("500.00"))
    assert (proof.fn_number, proof.fd_number, proof.fiscal_sign) == (
        doc.payload["fn_number"], doc.payload["fiscal_document_number"], doc.payload["fiscal_document_attribute"])
    # the job did it (no test pass ran here), and a job ran to its end
    await until(pay_core, shop, "SELECT bool_or(status = 'done') FROM jobs WHERE kind = 'fiscal.cloud'", True)
    # nothing is due any more: a second kick starts nothing
    assert await kick(pay_core, shop.tenant) is None
