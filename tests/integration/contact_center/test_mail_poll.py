"""Incoming e-mail becomes appeals: a mailbox polled over real IMAP (a simulator on loopback) by the
`mail.poll` job; each message is stored as received with its attachments and gets an appeal (account found
by the number in the text); polling again, or after a renumbering of the folder, adds nothing; a mailbox
that cannot be read records the error and keeps its messages for the next poll."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from aquabill.channels.mail.intake import poll_mailbox
from tests.integration.contact_center.imap_simulator import ImapSimulator
from tests.unit.channels.mail_samples import COMPLAINT, PDF, QUESTION

THIRD = (b"From: Sidorov <sidorov@example.net>\r\nTo: appeals@vodokanal.test\r\nSubject: Readings\r\n"
         b"Message-ID: <third@example.net>\r\nDate: Sun, 22 Nov 2026 10:00:00 +0300\r\n\r\n"
         b"Account 00100004: cold 123, hot 45\r\n")


@pytest.fixture
async def imap():
    sim = await ImapSimulator().start()
    yield sim
    await sim.stop()


async def _mailbox(api, sim: ImapSimulator, **kw) -> dict:
    # (disabled: the worker's periodic poll of enabled mailboxes stays out of these tests; a poll naming the
    # mailbox still reads it)
    body = {"name": "Обращения", "host": "127.0.0.1", "port": sim.port, "use_ssl": False, "username": sim.user,
            "password": sim.password, "kind": "complaint", "enabled": False, **kw}
    return await api.ok("post", "/api/mailboxes", body)


async def _wait_job(api, job_id: str) -> dict:
    for _ in range(200):
        job = await api.ok("get", f"/api/jobs/{job_id}")
        if job["status"] in ("done", "failed"):
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {job}")


async def test_poll_stores_messages_and_registers_appeals_once(api, tx, core, cc_tenant, imap, worker):
    imap.add(COMPLAINT)
    imap.add(QUESTION)
    box = await _mailbox(api, imap)
    assert box["has_password"] and "password" not in box and "secret" not in box
    async with tx() as conn:
        secret = (await conn.execute(text("SELECT secret FROM mailboxes WHERE id = :id"), {"id": box["id"]})).scalar()
        audited = (await conn.execute(text(
            "SELECT count(*) FROM audit_log WHERE table_name = 'mailboxes' AND new_row::text LIKE '%' || :s || '%'"),
            {"s": imap.password})).scalar()
    assert secret and imap.password not in secret and audited == 0

    r = await api.post(f"/api/mailboxes/{box['id']}/poll")
    assert r.status_code == 202, r.text
    job = await _wait_job(api, r.json()["job"]["id"])
    assert job["status"] == "done", job
    assert job["result"]["stored"] == 2 and job["result"]["mailboxes"][0]["error"] is None

    appeals = (await api.ok("get", "/api/appeals?source=email"))["items"]
    by_subject = {a["subject"]: a for a in appeals}
    assert set(by_subject) == {"Нет холодной воды, л/с 00100001", "Отключение воды"}
    complaint = by_subject["Нет холодной воды, л/с 00100001"]
    assert complaint["account_number"] == "00100001" and complaint["house_id"] is not None
    assert complaint["applicant_email"] == "ivanov.ps@mail.example" and complaint["applicant_name"] == "Иванов Пётр"
    assert complaint["kind"] == "complaint" and complaint["status"] == "new" and complaint["operator_id"] is None
    assert "нет холодной воды" in complaint["text"]
    question = by_subject["Отключение воды"]
    assert question["account_id"] is None and question["applicant_email"] == "petrova@example.org"

    card = await api.ok("get", f"/api/appeals/{complaint['id']}")
    files = {a["file_name"]: a for a in card["mail_message"]["attachments"]}
    assert set(files) == {"акт.pdf", "фото.jpg"}
    r = await api.get(f"/api/mail/attachments/{files['акт.pdf']['id']}")
    assert r.status_code == 200 and r.content == PDF
    assert r.headers["content-type"].startswith("application/pdf")
    assert "attachment" in r.headers["content-disposition"] and "%D0%B0%D0%BA%D1%82.pdf" in r.headers["content-disposition"]
    journal = await api.ok("get", "/api/mail/messages")
    assert journal["total"] == 2 and {m["appeal_number"] for m in journal["items"]} == {complaint["number"],
                                                                                        question["number"]}
    async with tx() as conn:
        raw = (await conn.execute(text("SELECT raw FROM mail_messages WHERE id = :id"),
                                  {"id": card["mail_message_id"]})).scalar()
    assert raw == COMPLAINT  # kept exactly as received
    fetches = [c for c in imap.commands if " UID FETCH " in c.upper()]
    assert fetches and all("BODY.PEEK[]" in c for c in fetches)  # never marks them seen
    assert not any(" STORE " in c.upper() for c in imap.commands)

    # polling again: nothing new
    report = await poll_mailbox(core, cc_tenant.tenant, box["id"])
    assert (report.fetched, report.stored, report.error) == (0, 0, None)
    # even when the UIDs are forgotten: the Message-IDs are known
    async with tx() as conn:
        await conn.execute(text("UPDATE mailboxes SET last_uid = 0 WHERE id = :id"), {"id": box["id"]})
    report = await poll_mailbox(core, cc_tenant.tenant, box["id"])
    assert (report.fetched, report.duplicates, report.stored) == (2, 2, 0)
    # a new message: one appeal more; then the server renumbers the folder: nothing new
    imap.add(THIRD)
    report = await poll_mailbox(core, cc_tenant.tenant, box["id"])
    assert (report.fetched, report.stored) == (1, 1)
    imap.uid_validity += 1
    report = await poll_mailbox(core, cc_tenant.tenant, box["id"])
    assert (report.stored, report.duplicates) == (0, 3)
    third = (await api.ok("get", "/api/appeals?q=sidorov@example.net"))["items"]
    assert len(third) == 1 and third[0]["account_number"] == "00100004" and third[0]["subject"] == "Readings"
    assert (await api.ok("get", "/api/appeals?source=email"))["total"] == 3
    mailbox = next(b for b in (await api.ok("get", "/api/mailboxes"))["items"] if b["id"] == box["id"])
    assert mailbox["last_uid"] == 3 and mailbox["uid_validity"] == imap.uid_validity and mailbox["last_polled_at"]


async def test_broken_mailbox_records_the_error_and_recovers(api, core, cc_tenant, imap):
    imap.add(THIRD.replace(b"<third@", b"<fourth@"))
    box = await _mailbox(api, imap, password="wrong-password", name="Неверный пароль")
    report = await poll_mailbox(core, cc_tenant.tenant, box["id"])
    assert report.stored == 0 and "не принял логин" in report.error
    listed = next(b for b in (await api.ok("get", "/api/mailboxes"))["items"] if b["id"] == box["id"])
    assert "не принял логин" in listed["last_error"] and listed["last_error_at"] and listed["last_uid"] == 0

    await api.ok("patch", f"/api/mailboxes/{box['id']}", {"port": 9, "password": imap.password})  # nothing listens
    report = await poll_mailbox(core, cc_tenant.tenant, box["id"])
    assert "Нет соединения" in report.error

    await api.ok("patch", f"/api/mailboxes/{box['id']}", {"port": imap.port, "folder": "Archive"})
    report = await poll_mailbox(core, cc_tenant.tenant, box["id"])
    assert "Archive" in report.error

    fixed = await api.ok("patch", f"/api/mailboxes/{box['id']}", {"folder": "INBOX"})
    assert fixed["last_error"] is not None  # until the next successful poll
    report = await poll_mailbox(core, cc_tenant.tenant, box["id"])
    assert (report.stored, report.error) == (1, None)
    listed = next(b for b in (await api.ok("get", "/api/mailboxes"))["items"] if b["id"] == box["id"])
    assert listed["last_error"] is None and listed["last_uid"] == 1

    assert (await api.post("/api/mailboxes/999999/poll")).status_code == 404
    r = await api.post("/api/mailboxes", {"name": "x", "host": "h", "username": "u", "kind": "nonsense"})
    assert r.status_code == 422
