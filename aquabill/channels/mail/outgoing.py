"""Outgoing e-mail over SMTP (stdlib `smtplib`, run in a thread): the `MailSender` of `subscribers.ports`.

The server is the setting `AQUABILL_SMTP_URL`:
- `smtp://[user:password@]host[:port][?starttls=1]` — plain SMTP (port 25 by default), upgraded with STARTTLS
  when `starttls=1` (then the login, if any, goes over TLS; a server that does not offer it is an error);
- `smtps://[user:password@]host[:port]` — SMTP over TLS from the first byte (port 465 by default).
User and password are percent-decoded. Each letter opens its own connection (letters to subscribers are few:
confirmations, password resets, paperless receipts). A failure raises `DeliveryFailed` with the reason in
Russian; nothing is retried here.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from aquabill.subscribers.ports import DeliveryFailed, Letter


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = False
    implicit_tls: bool = False
    timeout: float = 20.0


def parse_smtp_url(url: str) -> SmtpConfig:
    """`smtp://user:pass@host:587?starttls=1` → SmtpConfig; ValueError with the reason when it is not one."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("ожидается smtp://[пользователь:пароль@]сервер[:порт][?starttls=1] или smtps://…")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"неверный порт: {exc}") from None
    query = parse_qs(parts.query)
    flag = (query.get("starttls") or ["0"])[-1].lower()
    return SmtpConfig(
        host=parts.hostname, port=port or (465 if parts.scheme == "smtps" else 25),
        username=unquote(parts.username or ""), password=unquote(parts.password or ""),
        starttls=flag in ("1", "true", "yes"), implicit_tls=parts.scheme == "smtps")


def build_message(letter: Letter, sender: str) -> EmailMessage:
    """The RFC 5322 message: plain text, with the HTML as its alternative when there is one (UTF-8)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = letter.to
    msg["Subject"] = letter.subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(letter.text)
    if letter.html:
        msg.add_alternative(letter.html, subtype="html")
    return msg


def _send_sync(config: SmtpConfig, message: EmailMessage) -> None:
    where = f"{config.host}:{config.port}"
    try:
        if config.implicit_tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(f"Не удалось отправить письмо: нет соединения с почтовым сервером {where} ({exc})") \
            from exc
    try:
        client.ehlo()
        if config.starttls:
            if not client.has_extn("starttls"):
                raise DeliveryFailed(f"Не удалось отправить письмо: сервер {where} не поддерживает STARTTLS")
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if config.username:
            client.login(config.username, config.password)
        refused = client.send_message(message)
        if refused:
            raise DeliveryFailed(f"Не удалось отправить письмо: сервер {where} не принял адрес "
                                 f"{', '.join(refused)}")
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryFailed(f"Не удалось отправить письмо: сервер {where} отклонил логин или пароль") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryFailed(f"Не удалось отправить письмо: сервер {where} не принял адрес получателя") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(f"Не удалось отправить письмо через {where}: {exc}") from exc
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


class SmtpSender:
    """Sends letters through one SMTP server (a `subscribers.ports.MailSender`)."""

    def __init__(self, config: SmtpConfig, sender: str) -> None:
        self.config = config
        self.sender = sender

    @classmethod
    def from_url(cls, url: str, sender: str) -> SmtpSender:
        try:
            return cls(parse_smtp_url(url), sender)
        except ValueError as exc:
            raise DeliveryFailed(f"Неверная настройка почтового сервера (AQUABILL_SMTP_URL): {exc}") from exc

    async def send(self, letter: Letter) -> None:
        await asyncio.to_thread(_send_sync, self.config, build_message(letter, self.sender))
