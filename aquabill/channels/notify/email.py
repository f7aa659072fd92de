"""Notices by e-mail over SMTP: the server and its options are `AQUABILL_SMTP_URL` (parsed by
`channels/mail/outgoing.py`), the sender `AQUABILL_MAIL_FROM`.

A small pool of SMTP sessions (stdlib `smtplib`, each used by one thread at a time) is kept open and reused
for many letters; a session the server closed while idle is reopened once, and one is renewed after
`PER_SESSION` letters (servers cap a session's messages). Each letter is one MAIL / RCPT / DATA exchange:
- a 5xx reply → 'failed', the server's reply in the detail (a bounce at submission);
- a 4xx reply, no connection (refused, time-out) → retry;
- the connection lost during DATA → retry; the letter may have been accepted, and a resend carries the same
  Message-ID (derived from the tenant and `Outgoing.key`), so mail clients and archives recognise the copy.
  SMTP itself has no idempotency: the relay does not refuse a resend.
Bounces that arrive later by mail (DSNs to the sender's mailbox) are not read here.

The letter: plain text in UTF-8, the subject, `Auto-Submitted: auto-generated` (RFC 3834: no auto-replies);
with `Outgoing.attachments` (receipts by e-mail) multipart/mixed with the files.
No `List-Unsubscribe`: the portal has no opt-out page to point at yet.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import smtplib
import ssl
from concurrent.futures import ThreadPoolExecutor
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache
from urllib.parse import quote

from aquabill.channels.mail.outgoing import SmtpConfig, parse_smtp_url
from aquabill.notifications.ports import Delivery, Outgoing

ADDRESS = re.compile(r"^[^@\s<>,;:\"()\[\]\\]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+$")  # ASCII: SMTPUTF8 is not used
POOL = 4  # SMTP sessions kept open per sender
PER_SESSION = 500  # letters per session before it is renewed


def message_id(scope: str, key: str, sender: str) -> str:
    """The same letter always gets the same id: the tenant (`scope`) and the delivery's key, hashed."""
    digest = hashlib.sha256(f"{scope}\n{key}".encode()).hexdigest()[:32]
    domain = sender.rpartition("@")[2].strip("> ") or "aquabill.local"
    return f"<notice.{digest}@{domain}>"


@lru_cache(maxsize=256)
def _header_text(value: str, name: str) -> str:
    """A header's value on the wire: ASCII as is, else RFC 2047 encoded words (UTF-8), folded (a campaign
    repeats its subject: cached)."""
    value = " ".join(value.split())
    if value.isascii() and len(value) < 900:
        return value
    return Header(value, "utf-8", header_name=name).encode(linesep="\r\n")


@lru_cache(maxsize=16)
def _from_header(sender: str) -> str:
    name, addr = parseaddr(sender)
    return formataddr((name, addr), charset="utf-8") if name else addr or sender


def letter_bytes(message: Outgoing, sender: str, scope: str) -> tuple[bytes, str]:
    """(the RFC 5322 letter with CRLF line ends, its Message-ID): plain text in UTF-8, base64 (any line
    length, 7-bit clean). Written directly — the `email` package's builder takes about a millisecond a
    letter, more than the SMTP exchange on a local network. A letter with attachments (receipts) is
    multipart/mixed: the text, then each file base64-encoded with its name (RFC 2231 when not ASCII)."""
    mid = message_id(scope, message.key, sender)
    body = message.text.replace("\r\n", "\n").replace("\n", "\r\n").encode()
    common = (f"From: {_from_header(sender)}\r\nTo: {message.address}\r\n"
              f"Subject: {_header_text(message.subject, 'Subject')}\r\nDate: {formatdate(usegmt=True)}\r\n"
              f"Message-ID: {mid}\r\nMIME-Version: 1.0\r\n")
    text_part = 'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n'
    encoded = base64.encodebytes(body).replace(b"\n", b"\r\n")
    if not message.attachments:  # the fast path: one text part
        head = common + text_part + "Auto-Submitted: auto-generated\r\n\r\n"
        return head.encode("ascii") + encoded, mid
    boundary = "=_aquabill_" + hashlib.sha256(f"{scope}\n{message.key}\nmixed".encode()).hexdigest()[:32]
    out = [(common + f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n'
            "Auto-Submitted: auto-generated\r\n\r\n"
            f"--{boundary}\r\n{text_part}\r\n").encode("ascii"), encoded]
    for a in message.attachments:
        out.append((f"--{boundary}\r\nContent-Type: {_mime(a.mime_type)}\r\n"
                    f"Content-Disposition: attachment; {_file_param(a.filename)}\r\n"
                    "Content-Transfer-Encoding: base64\r\n\r\n").encode("ascii"))
        out.append(base64.encodebytes(a.content).replace(b"\n", b"\r\n"))
    out.append(f"--{boundary}--\r\n".encode("ascii"))
    return b"".join(out), mid


def _mime(value: str) -> str:
    """A MIME type as given when it looks like one (type/subtype, ASCII), else application/octet-stream."""
    return value if re.fullmatch(r"[A-Za-z0-9.+-]+/[A-Za-z0-9.+-]+", value or "") else "application/octet-stream"


def _file_param(filename: str) -> str:
    """The `filename` parameter: quoted ASCII as is, else RFC 2231 (`filename*=utf-8''…`)."""
    name = "".join(ch for ch in filename if ch >= " " and ch not in '"\\')[:150] or "file"
    if name.isascii():
        return f'filename="{name}"'
    return "filename*=utf-8''" + quote(name, safe="")


class _Session:
    """One SMTP session, opened on first use."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.client: smtplib.SMTP | None = None
        self.sent = 0

    def open(self) -> smtplib.SMTP:
        c = self.config
        if c.implicit_tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
        try:
            client.ehlo()
            if c.starttls:
                if not client.has_extn("starttls"):
                    raise smtplib.SMTPNotSupportedError("сервер не поддерживает STARTTLS")
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if c.username:
                client.login(c.username, c.password)
        except BaseException:
            client.close()
            raise
        self.client, self.sent = client, 0
        return client

    def drop(self) -> None:
        if self.client is not None:
            self.client.close()
        self.client = None

    def quit(self) -> None:
        if self.client is not None:
            try:
                self.client.quit()
            except (OSError, smtplib.SMTPException):
                pass
        self.drop()

    def reset(self) -> None:
        try:
            if self.client is not None:
                self.client.rset()
        except (OSError, smtplib.SMTPException):
            self.drop()


def _reply(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {' '.join(text.split())}"[:300]


def _end(session: _Session, code: int) -> None:
    """After a refused command: 421 means the server is closing the session; otherwise RSET and go on."""
    if code == 421:
        session.drop()
    else:
        session.reset()


def _refused(code: int, reply: bytes | str, where: str) -> Delivery:
    if 500 <= code < 600:
        return Delivery("failed", detail=f"Почтовый сервер {where} отклонил письмо: {_reply(code, reply)}")
    return Delivery("failed", detail=f"Почтовый сервер {where} временно не принял письмо: {_reply(code, reply)}",
                    retry=True)


def deliver(session: _Session, sender: str, to: str, data: bytes, mid: str) -> Delivery:
    """One letter through `session` (blocking: run in the sender's thread pool)."""
    c = session.config
    where = f"{c.host}:{c.port}"
    envelope_from = parseaddr(sender)[1] or sender
    for attempt in range(2):
        fresh = session.client is None or session.sent >= PER_SESSION
        try:
            if fresh:
                session.quit()
                client = session.open()
            else:
                client = session.client
        except smtplib.SMTPResponseException as exc:  # greeting or login refused
            session.drop()
            return _refused(exc.smtp_code, exc.smtp_error, where)
        except (OSError, smtplib.SMTPException) as exc:
            session.drop()
            return Delivery("failed", detail=f"Нет соединения с почтовым сервером {where} ({exc})", retry=True)
        assert client is not None
        try:
            code, reply = client.mail(envelope_from)
        except (OSError, smtplib.SMTPException) as exc:
            session.drop()
            if not fresh and attempt == 0:  # the server closed the idle session: nothing was sent, reopen
                continue
            return Delivery("failed", detail=f"Почтовый сервер {where} оборвал соединение ({exc})", retry=True)
        try:
            if code != 250:
                _end(session, code)
                return _refused(code, reply, where)
            code, reply = client.rcpt(to)
            if code not in (250, 251):
                _end(session, code)
                return _refused(code, reply, where)
        except (OSError, smtplib.SMTPException) as exc:
            session.drop()
            return Delivery("failed", detail=f"Почтовый сервер {where} оборвал соединение ({exc})", retry=True)
        try:
            code, reply = client.data(data)
        except smtplib.SMTPDataError as exc:
            _end(session, exc.smtp_code)
            return _refused(exc.smtp_code, exc.smtp_error, where)
        except (OSError, smtplib.SMTPException) as exc:
            session.drop()
            return Delivery("failed", detail=f"Соединение с почтовым сервером {where} оборвалось при передаче "
                                             f"письма ({exc}); оно могло быть принято, повтор узнаваем по "
                                             f"Message-ID", retry=True, external_id=mid)
        if code != 250:  # the letter itself refused (content, size, policy) or deferred
            _end(session, code)
            return _refused(code, reply, where)
        session.sent += 1
        return Delivery("sent", detail=_reply(code, reply), external_id=mid)
    raise AssertionError("unreachable")


class EmailSender:
    """`notifications.ports.Sender` for 'email': `pool` SMTP sessions used by as many threads."""

    channel = "email"

    def __init__(self, config: SmtpConfig, sender: str, *, scope: str, pool: int = POOL) -> None:
        self.config = config
        self.sender = sender
        self.scope = scope
        self._executor = ThreadPoolExecutor(max_workers=pool, thread_name_prefix="smtp-notify")
        self._idle: asyncio.Queue[_Session] = asyncio.Queue()
        for _ in range(pool):
            self._idle.put_nowait(_Session(config))
        self._sessions = pool
        self._closed = False

    @classmethod
    def from_url(cls, url: str, sender: str, *, scope: str, pool: int = POOL) -> EmailSender:
        """ValueError with the reason when `url` is not an SMTP setting."""
        return cls(parse_smtp_url(url), sender, scope=scope, pool=pool)

    async def send(self, message: Outgoing) -> Delivery:
        to = message.address.strip()
        if not to.isascii() or not ADDRESS.match(to):
            return Delivery("failed", detail=f"Неверный адрес электронной почты: {message.address[:100]}")
        data, mid = letter_bytes(message, self.sender, self.scope)
        session = await self._idle.get()
        work = asyncio.get_running_loop().run_in_executor(self._executor, deliver, session, self.sender, to,
                                                          data, mid)
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:  # the thread goes on with the session: it is idle once it is done
            work.add_done_callback(lambda _: self._idle.put_nowait(session))
            session = None
            raise
        finally:
            if session is not None:
                self._idle.put_nowait(session)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        sessions = [await self._idle.get() for _ in range(self._sessions)]
        await asyncio.gather(*(loop.run_in_executor(self._executor, s.quit) for s in sessions))
        self._executor.shutdown(wait=False)
