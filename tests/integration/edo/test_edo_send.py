"""Sending UPDs through the fake Diadoc over real HTTP: queue → send → delivered → signed reaches the document;
a refusal with the buyer's reason; a 500 then success (retried, sent once); a lost answer; two senders at once;
a sender killed mid-call; a document without the counterparty's EDO id (422)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import pkcs7
from sqlalchemy import text

from aquabill.channels.edo.runner import poll_tenant, send_tenant
from aquabill.legal_entities import edo
from tests.integration.edo.helpers import OURS, make_document, message, time_passes


def statuses(row: dict) -> list[str]:
    return [entry["status"] for entry in row["history"]]


def of_document(diadoc, doc: dict) -> list:
    return [m for m in diadoc.messages.values() if m.content == doc["xml"]]


@pytest.fixture(autouse=True)
async def no_send_job_running(tx):
    """No EDO job of an earlier test runs beside this test's own passes: the send jobs an earlier «Отправить» started
    and a worker has not taken yet are finished unrun, and one a worker is running is waited for (under load the
    session's worker may run one late: its pass would take this test's queued message and its scripted failures)."""
    async with asyncio.timeout(60):
        while True:
            async with tx() as conn:
                await conn.execute(text("UPDATE jobs SET status = 'done', finished_at = now() "
                                        "WHERE kind LIKE 'edo.%' AND status = 'queued'"))
                running = (await conn.execute(text(
                    "SELECT EXISTS (SELECT 1 FROM jobs WHERE kind LIKE 'edo.%' AND status = 'running')"))).scalar()
            if not running:
                return
            await asyncio.sleep(0.1)


async def queue(tx, doc) -> None:
    """Queue the document as «Отправить» does, without the send job the API also starts (the session's worker
    would run it at the same time as the test's own sending pass)."""
    async with tx() as conn:
        await edo.queue_document(conn, doc["id"], user_id=None)


async def test_send_delivered_signed(api, tx, core, tenant, diadoc, edo_on):
    doc = await make_document(api, tx, diadoc)
    queued = await api.ok("post", f"/api/legal/documents/{doc['id']}/edo", status=200)
    assert (queued["status"], queued["created"]) == ("queued", True)
    again = await api.ok("post", f"/api/legal/documents/{doc['id']}/edo", status=200)  # queued once
    assert (again["id"], again["created"]) == (queued["id"], False)

    await send_tenant(core, tenant.tenant)
    row = await message(tx, doc["id"])
    sent = of_document(diadoc, doc)
    assert len(sent) == 1
    assert (row["status"], row["message_id"], row["entity_id"], row["to_box"]) == (
        "sent", sent[0].message_id, sent[0].entity_id, doc["box"].box_id)
    assert (sent[0].from_box, sent[0].type_named_id, sent[0].function, sent[0].version) == (
        edo_on.box_id, "UniversalTransferDocument", "СЧФДОП", "utd970_05_03_01")
    assert pkcs7.load_der_pkcs7_certificates(sent[0].signature)  # a detached CMS signature in DER

    await poll_tenant(core, tenant.tenant)
    assert (await message(tx, doc["id"]))["status"] == "delivered"
    async with httpx.AsyncClient() as http:  # the buyer signs at the operator
        r = await http.post(f"{diadoc.url}/__fake/sign", params={"messageId": row["message_id"]})
        assert r.status_code == 200
    await time_passes(tx)
    await poll_tenant(core, tenant.tenant)
    card = await api.ok("get", f"/api/legal/documents/{doc['id']}/edo")
    assert (card["status"], card["status_name"], card["reason"]) == ("signed", "Подписан покупателем", "")
    assert statuses(card) == ["queued", "sent", "delivered", "signed"]
    await time_passes(tx)
    assert (await poll_tenant(core, tenant.tenant)).get("signed", 0) == 0  # a signed message is not asked again


async def test_rejected_with_reason(api, tx, core, tenant, diadoc, edo_on):
    doc = await make_document(api, tx, diadoc, reject_reason="Неверно указан объём за январь")
    await queue(tx, doc)
    await send_tenant(core, tenant.tenant)
    diadoc.auto_sign_after = 0.0  # the buyer answers at once: its box is set to refuse
    try:
        await poll_tenant(core, tenant.tenant)  # delivered
        await time_passes(tx)
        await poll_tenant(core, tenant.tenant)  # refused
    finally:
        diadoc.auto_sign_after = None
    row = await message(tx, doc["id"])
    assert (row["status"], row["reason"]) == ("rejected", "Неверно указан объём за январь")
    assert statuses(row) == ["queued", "sent", "delivered", "rejected"]
    # a refused document may be sent again: a new message
    again = await api.ok("post", f"/api/legal/documents/{doc['id']}/edo", status=200)
    assert (again["status"], again["created"], again["messages"]) == ("queued", True, 2)
    await send_tenant(core, tenant.tenant)
    assert len(of_document(diadoc, doc)) == 2


async def test_server_error_then_success_sends_once(api, tx, core, tenant, diadoc, edo_on):
    doc = await make_document(api, tx, diadoc)
    await queue(tx, doc)
    diadoc.fail_next(500)
    await send_tenant(core, tenant.tenant)
    row = await message(tx, doc["id"])
    posts = [c for c in diadoc.posts() if f"-edo-{row['id']}-" in c.operation_id]
    assert [c.status for c in posts] == [500, 200]  # retried once
    assert len(of_document(diadoc, doc)) == 1  # sent once
    assert (await message(tx, doc["id"]))["status"] == "sent"


async def test_lost_answer_is_resolved_without_a_second_message(api, tx, core, tenant, diadoc, edo_on):
    doc = await make_document(api, tx, diadoc)
    await queue(tx, doc)
    diadoc.drop_next()  # the message is taken, the answer cut off
    await send_tenant(core, tenant.tenant)
    assert len(of_document(diadoc, doc)) == 1
    row = await message(tx, doc["id"])
    assert (row["status"], row["message_id"]) == ("sent", of_document(diadoc, doc)[0].message_id)


async def test_server_keeps_failing_then_unknown_then_sent(api, tx, core, tenant, diadoc, edo_on):
    doc = await make_document(api, tx, diadoc)
    await queue(tx, doc)
    diadoc.fail_next(503, times=3)  # the call and both its repeats
    await send_tenant(core, tenant.tenant)
    row = await message(tx, doc["id"])
    assert (row["status"], row["attempts"]) == ("unknown", 1)
    assert row["reason"].startswith("Нет ответа от Диадока, повторим")
    await time_passes(tx)
    await send_tenant(core, tenant.tenant)
    row = await message(tx, doc["id"])
    assert (row["status"], row["attempts"]) == ("sent", 2)
    assert len(of_document(diadoc, doc)) == 1


async def test_two_senders_at_once_send_once(api, tx, core, tenant, diadoc, edo_on):
    docs = [await make_document(api, tx, diadoc) for _ in range(5)]
    result = await api.ok("post", "/api/legal/documents/edo", {"ids": [d["id"] for d in docs]}, status=200)
    assert result == {"documents": 5, "queued": 5, "already": 0, "no_edo_id": 0, "misaddressed": 0}
    await asyncio.gather(send_tenant(core, tenant.tenant), send_tenant(core, tenant.tenant))
    assert [len(of_document(diadoc, d)) for d in docs] == [1] * 5
    assert [(await message(tx, d["id"]))["status"] for d in docs] == ["sent"] * 5
    again = await api.ok("post", "/api/legal/documents/edo", {"ids": [d["id"] for d in docs]}, status=200)
    assert (again["queued"], again["already"]) == (0, 5)


async def test_sender_killed_mid_call_is_resolved_by_asking_the_operator(api, tx, core, tenant, diadoc, edo_on):
    doc = await make_document(api, tx, diadoc)
    async with tx() as conn:  # queued directly: the API would also start a send job the session's worker may run
        await edo.queue_document(conn, doc["id"], user_id=None)
    diadoc.hold()  # the operator takes the message and keeps the sender waiting for the answer
    task = asyncio.create_task(send_tenant(core, tenant.tenant, lease_seconds=0))
    assert await asyncio.to_thread(diadoc.held.wait, 15)
    task.cancel()  # the sender dies mid-call
    await asyncio.gather(task, return_exceptions=True)
    diadoc.release()
    assert (await message(tx, doc["id"]))["status"] == "sending"
    assert len(of_document(diadoc, doc)) == 1
    await send_tenant(core, tenant.tenant)  # its lease is over: unknown, asked again with the same operation id
    row = await message(tx, doc["id"])
    assert row["status"] == "sent"
    assert statuses(row) == ["queued", "unknown", "sent"]
    assert len(of_document(diadoc, doc)) == 1
    assert row["message_id"] == of_document(diadoc, doc)[0].message_id


async def test_missing_edo_id_is_refused(api, tx, diadoc, edo_on):
    doc = await make_document(api, tx, diadoc, edo_id=False)
    r = await api.post(f"/api/legal/documents/{doc['id']}/edo")
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"] == ("У контрагента «ООО «Получатель»» не указан идентификатор участника ЭДО: "
                                   "заполните его в карточке контрагента")
    many = await api.ok("post", "/api/legal/documents/edo", {"ids": [doc["id"]]}, status=200)
    assert (many["queued"], many["no_edo_id"]) == (0, 1)


async def test_refusals(api, tx, diadoc, edo_on):
    bill = await make_document(api, tx, diadoc, kind="bill")
    r = await api.post(f"/api/legal/documents/{bill['id']}/edo")
    assert r.status_code == 422
    assert r.json()["error"]["message"].startswith("Через ЭДО отправляются УПД")
    assert (await api.post("/api/legal/documents/2147483647/edo")).status_code == 404
    assert (await api.post("/api/legal/documents/2147483648/edo")).status_code in (400, 404, 422)
    r = await api.post("/api/legal/documents/edo", {"period": "2026-13"})
    assert r.status_code == 422
    r = await api.post("/api/legal/documents/edo", {})
    assert r.status_code == 422


async def test_operator_refusal_is_recorded_as_failed(api, tx, core, tenant, diadoc, edo_on):
    doc = await make_document(api, tx, None)  # the buyer has no box at the operator
    await queue(tx, doc)
    await send_tenant(core, tenant.tenant)
    row = await message(tx, doc["id"])
    assert row["status"] == "failed"
    assert row["reason"].startswith("Диадок не принял документ: в Диадоке не найдено")
    assert of_document(diadoc, doc) == []


def test_statuses_are_named():
    assert set(edo.STATUSES) == {"queued", "sending", "sent", "delivered", "signed", "rejected", "failed", "unknown"}


async def test_too_many_attempts_fail(api, tx, core, tenant, diadoc, edo_on):
    doc = await make_document(api, tx, diadoc)
    await queue(tx, doc)
    async with tx() as conn:  # seven attempts have already gone unanswered
        await conn.execute(text("UPDATE edo_messages SET attempts = :n WHERE document_id = :d"),
                           {"n": edo.MAX_ATTEMPTS - 1, "d": doc["id"]})
    diadoc.fail_next(502, times=3)
    await send_tenant(core, tenant.tenant)
    row = await message(tx, doc["id"])
    assert (row["status"], row["attempts"]) == ("failed", edo.MAX_ATTEMPTS)
    assert statuses(row) == ["queued", "failed"]
    assert of_document(diadoc, doc) == []


async def test_refused_credentials_put_the_message_back(api, tx, core, tenant, diadoc, edo_on):
    doc = await make_document(api, tx, diadoc)
    await queue(tx, doc)
    login = edo_on.owner
    password = diadoc.users[login]
    diadoc.users[login] = "changed-at-the-operator"
    diadoc._tokens.clear()  # the operator forgets the sessions
    try:
        stats = await send_tenant(core, tenant.tenant)
    finally:
        diadoc.users[login] = password
    row = await message(tx, doc["id"])
    assert stats == {"deferred": 1}
    assert (row["status"], row["attempts"]) == ("queued", 0)
    assert row["reason"] == ("Настройки ЭДО не работают: Диадок не принял ключ разработчика, логин или пароль: "
                             "Неверный логин или пароль")
    await time_passes(tx)
    await send_tenant(core, tenant.tenant)
    assert (await message(tx, doc["id"]))["status"] == "sent"
    assert len(of_document(diadoc, doc)) == 1


async def test_a_file_addressed_to_old_ids_is_refused(api, tx, diadoc, edo_on):
    doc = await make_document(api, tx, diadoc)
    async with tx() as conn:  # the counterparty's EDO id changed after the document was issued
        await conn.execute(text("UPDATE counterparties SET edo_id = '2BM-NEW-ID' WHERE id = "
                                "(SELECT counterparty_id FROM legal_documents WHERE id = :d)"), {"d": doc["id"]})
    r = await api.post(f"/api/legal/documents/{doc['id']}/edo")
    assert r.status_code == 422
    assert r.json()["error"]["message"] == (
        f"Файл документа № {doc['number']} адресован от «{OURS}» к «{doc['participant']}», а сейчас идентификатор "
        f"ЭДО организации «{OURS}», контрагента «2BM-NEW-ID»: документ выписан до того, как их заполнили, — "
        "аннулируйте его и выпишите заново")
    many = await api.ok("post", "/api/legal/documents/edo", {"ids": [doc["id"]]}, status=200)
    assert many == {"documents": 1, "queued": 0, "already": 0, "no_edo_id": 0, "misaddressed": 1}


async def test_the_sweep_sends_and_polls_every_tenant(api, tx, core, tenant, diadoc, edo_on):
    from aquabill.platform.jobs.edo import sweep_all_tenants

    doc = await make_document(api, tx, diadoc)
    await queue(tx, doc)
    result = await sweep_all_tenants(core)  # the cron's pass: send, then ask
    assert result["failed"] == 0
    row = await message(tx, doc["id"])
    assert statuses(row) == ["queued", "sent", "delivered"]
