"""The e-mail notice sender against a real SMTP server on loopback (aiosmtpd): the letter arrives with its text,
subject and a Message-ID derived from the delivery's key; a pool of sessions is reused for many letters and
reopened when the server drops them; a 5xx reply → failed with the server's answer, a 4xx reply or a refused
connection → retry."""

from __future__ import annotations

import asyncio
import secrets
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from aquabill.channels.notify.email import EmailSender
from aquabill.devserver.services import free_port
from aquabill.notifications.ports import Outgoing

SENDER = "Водоканал <noreply@vodokanal.example>"


class Sink:
    """aiosmtpd's handler: keeps the letters, refuses `bounce-*` (550) and `later-*` (451) recipients and
    letters to `spam-*` (554 after the data), and counts the SMTP sessions letters came through."""

    def __init__(self) -> None:
        self.letters: list = []
        self.sessions: set[int] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:  # noqa: N802
        if address.startswith("bounce-"):
            return "550 5.1.1 Mailbox unavailable"
        if address.startswith("later-"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        if any(a.startswith("spam-") for a in envelope.rcpt_tos):
            return "554 5.7.1 Message rejected as spam"
        msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.letters.append((list(envelope.rcpt_tos), envelope.mail_from, msg))
        self.sessions.add(id(session))
        return "250 2.0.0 Queued"

    def to(self, address: str) -> list:
        return [m for rcpt, _sender, m in self.letters if address in rcpt]


@pytest.fixture
def sink():
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller
    controller.stop()


def notice(to: str, key: str | None = None, text: str = "Плановое отключение воды 12.03 с 9:00 до 17:00.") -> Outgoing:
    return Outgoing(key=key or f"7:{secrets.token_hex(4)}:email", channel="email", address=to,
                    subject="Отключение воды", text=text)


def address() -> str:
    return f"petrov.{secrets.token_hex(4)}@mail.example"


async def test_a_letter_arrives_with_its_text_and_a_message_id_from_its_key(sink):
    handler, controller = sink
    sender = EmailSender.from_url(f"smtp://127.0.0.1:{controller.port}", SENDER, scope="river")
    lake = EmailSender.from_url(f"smtp://127.0.0.1:{controller.port}", SENDER, scope="lake")
    to = address()
    try:
        first = await sender.send(notice(to, key="7:101:email"))
        again = await sender.send(notice(to, key="7:101:email"))
        other = await lake.send(notice(to, key="7:101:email"))
    finally:
        await sender.close()
        await lake.close()
    assert first.status == again.status == other.status == "sent" and not first.retry and first.external_id
    [(rcpt, mail_from, a), (_, _, b), (_, _, c)] = handler.letters
    assert rcpt == [to] and mail_from == "noreply@vodokanal.example"
    assert a["Subject"] == "Отключение воды" and a["To"] == to and a["Auto-Submitted"] == "auto-generated"
    assert a.get_body(preferencelist=("plain",)).get_content().strip() == \
        "Плановое отключение воды 12.03 с 9:00 до 17:00."
    ids = [m["Message-ID"].strip() for m in (a, b, c)]  # (a long header may come folded)
    assert ids[0] == ids[1] == first.external_id == again.external_id  # a resend is recognisable
    assert ids[2] != ids[0]  # another tenant's campaign with the same numbers
    assert ids[0].startswith("<notice.") and ids[0].endswith("@vodokanal.example>")
    assert "List-Unsubscribe" not in a


async def test_many_letters_share_a_few_sessions(sink):
    handler, controller = sink
    sender = EmailSender.from_url(f"smtp://127.0.0.1:{controller.port}", SENDER, scope="river", pool=3)
    try:
        results = await asyncio.gather(*(sender.send(notice(address())) for _ in range(60)))
    finally:
        await sender.close()
    assert [r.status for r in results] == ["sent"] * 60
    assert len(handler.letters) == 60 and len(handler.sessions) <= 3


async def test_a_session_the_server_dropped_is_reopened():
    handler, port = Sink(), free_port()
    first = Controller(handler, hostname="127.0.0.1", port=port)
    first.start()
    sender = EmailSender.from_url(f"smtp://127.0.0.1:{port}", SENDER, scope="river", pool=1)
    try:
        assert (await sender.send(notice(address()))).status == "sent"
        first.stop()  # the server goes away with the open session…
        second = Controller(handler, hostname="127.0.0.1", port=port)
        second.start()  # …and comes back: the next letter reopens the session
        try:
            to = address()
            result = await sender.send(notice(to))
        finally:
            second.stop()
    finally:
        await sender.close()
    assert result.status == "sent", result
    assert len(handler.to(to)) == 1 and len(handler.sessions) == 2


async def test_5xx_is_a_failure_with_the_servers_answer_4xx_a_retry(sink):
    handler, controller = sink
    sender = EmailSender.from_url(f"smtp://127.0.0.1:{controller.port}", SENDER, scope="river", pool=1)
    try:
        bounced = await sender.send(notice(f"bounce-{secrets.token_hex(3)}@mail.example"))
        later = await sender.send(notice(f"later-{secrets.token_hex(3)}@mail.example"))
        spam = await sender.send(notice(f"spam-{secrets.token_hex(3)}@mail.example"))
        to = address()
        fine = await sender.send(notice(to))  # the session goes on after a refusal
    finally:
        await sender.close()
    assert bounced.status == "failed" and not bounced.retry and "550" in bounced.detail \
        and "Mailbox unavailable" in bounced.detail
    assert later.status == "failed" and later.retry and "451" in later.detail
    assert spam.status == "failed" and not spam.retry and "554 5.7.1 Message rejected as spam" in spam.detail
    assert fine.status == "sent" and len(handler.to(to)) == 1 and len(handler.letters) == 1


async def test_a_refused_connection_is_a_retry_and_a_bad_address_a_failure():
    sender = EmailSender.from_url(f"smtp://127.0.0.1:{free_port()}", SENDER, scope="river")
    try:
        refused = await sender.send(notice(address()))
        bad = await sender.send(notice("not-an-address"))
        injected = await sender.send(notice("a@b.example\r\nBcc: victim@example.com"))
    finally:
        await sender.close()
    assert refused.status == "failed" and refused.retry and "Нет соединения" in refused.detail
    assert bad.status == "failed" and not bad.retry
    assert injected.status == "failed" and not injected.retry
