"""Fetching new messages from an IMAP mailbox (stdlib `imaplib`, run in a thread).

Messages are fetched with BODY.PEEK[] (the server does not mark them seen) and identified by UID within
the folder's UIDVALIDITY: the caller keeps the last UID it stored and asks only for the ones after it.
"""

from __future__ import annotations

import asyncio
import imaplib
import re
import ssl
from dataclasses import dataclass, field


class MailboxError(Exception):
    """The mailbox could not be read (connection, login, folder, protocol); the message is in Russian."""


@dataclass(frozen=True, slots=True)
class ImapConfig:
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    use_ssl: bool = True
    folder: str = "INBOX"
    timeout: float = 30.0


@dataclass(frozen=True, slots=True)
class FetchResult:
    uid_validity: int | None
    messages: list[tuple[int, bytes]]  # (uid, raw message), ascending UIDs
    more: bool = False  # more new messages wait than `limit` allowed


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(status: str, data, what: str) -> None:
    if status != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode(errors="replace") if data else ""
        raise MailboxError(f"{what}: сервер ответил {status} {detail}".strip())


def _fetch_sync(config: ImapConfig, after_uid: int, limit: int) -> FetchResult:
    try:
        if config.use_ssl:
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(config.host, config.port, timeout=config.timeout,
                                                    ssl_context=ssl.create_default_context())
        else:
            conn = imaplib.IMAP4(config.host, config.port, timeout=config.timeout)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"Нет соединения с {config.host}:{config.port}: {exc}") from exc
    try:
        try:
            conn.login(config.username, config.password)
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"Сервер не принял логин «{config.username}»: {exc}") from exc
        status, data = conn.select(_quote(config.folder), readonly=True)
        _check(status, data, f"Папка «{config.folder}» не открывается")
        uid_validity = None
        for chunk in conn.response("UIDVALIDITY")[1] or []:
            if chunk:
                found = re.match(rb"\s*(\d+)", chunk)
                uid_validity = int(found.group(1)) if found else None
        status, data = conn.uid("SEARCH", None, f"UID {after_uid + 1}:*")
        _check(status, data, "Поиск новых писем не удался")
        uids = sorted({int(u) for u in b" ".join(d or b"" for d in data).split()} - {0})
        uids = [u for u in uids if u > after_uid]  # `N:*` always names the last message, even an old one
        more = len(uids) > limit
        messages = []
        for uid in uids[:limit]:
            status, data = conn.uid("FETCH", str(uid), "(UID BODY.PEEK[])")
            _check(status, data, f"Письмо UID {uid} не получено")
            raw = next((part[1] for part in data if isinstance(part, tuple) and len(part) == 2), None)
            if raw is None:
                continue  # deleted meanwhile
            messages.append((uid, bytes(raw)))
        return FetchResult(uid_validity=uid_validity, messages=messages, more=more)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"Обмен с {config.host}:{config.port} прерван: {exc}") from exc
    finally:
        try:
            conn.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


async def fetch_new_messages(config: ImapConfig, after_uid: int, *, limit: int = 100) -> FetchResult:
    """Messages of the folder with a UID above `after_uid` (at most `limit`), with the folder's UIDVALIDITY."""
    return await asyncio.to_thread(_fetch_sync, config, after_uid, limit)
