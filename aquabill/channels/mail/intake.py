"""Incoming e-mail → appeals: poll a tenant's IMAP mailbox, store each new message as received (with its
attachments) and register an appeal for it (source `email`, the sender as applicant, the account guessed
from an account number in the subject or text when the tenant has it).

Each message is stored in its own transaction together with its appeal and the mailbox's last UID, so a
failure half-way keeps what was stored and the next poll resumes after it; a Message-ID is stored once
per mailbox, so polling again (or after a UIDVALIDITY change) creates nothing new. A mailbox that cannot be
read gets `last_error` (and its time); the next successful poll clears it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from aquabill.channels.mail import (
    ImapConfig,
    MailboxError,
    MailMessage,
    account_number_candidates,
    fetch_new_messages,
    parse_message,
)
from aquabill.contact_center.appeals import mail_store, store
from aquabill.contact_center.appeals.service import CREATED, create_appeal, event_data
from aquabill.platform.realtime import publish
from aquabill.platform.secret_box import SecretBox
from aquabill.platform.state import Core
from aquabill.tenants.context import Tenant, tenant_transaction

log = logging.getLogger(__name__)
BATCH = 100  # messages fetched per poll of a mailbox at most (the rest on the next poll)


@dataclass
class PollReport:
    mailbox_id: int
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    appeals: list[int] = field(default_factory=list)
    error: str | None = None
    more: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"mailbox_id": self.mailbox_id, "fetched": self.fetched, "stored": self.stored,
                "duplicates": self.duplicates, "appeals": self.appeals, "error": self.error, "more": self.more}


async def _guess_account(conn, msg: MailMessage) -> int | None:
    candidates = account_number_candidates(msg.subject, msg.body_text)
    found = await store.accounts_by_numbers(conn, candidates)
    return next((found[c] for c in candidates if c in found), None)


def _appeal_values(msg: MailMessage, message_row_id: int, kind_id: int | None) -> dict[str, Any]:
    values: dict[str, Any] = {
        "source": "email", "mail_message_id": message_row_id, "applicant_email": msg.from_addr[:300],
        "applicant_name": msg.from_name[:300], "subject": (msg.subject or "(без темы)")[:1000],
        "text": msg.body_text[:100_000].replace("\x00", ""),
    }
    if kind_id is not None:
        values["kind_id"] = kind_id
    return values


async def poll_mailbox(core: Core, tenant: Tenant, mailbox_id: int, *, user_id: int | None = None,
                       limit: int = BATCH) -> PollReport:
    report = PollReport(mailbox_id)
    async with tenant_transaction(core.engines, tenant, user_id) as conn:
        box = await mail_store.get_mailbox(conn, mailbox_id, with_secret=True)
    if box is None:
        report.error = "Почтовый ящик не найден"
        return report
    try:
        password = SecretBox(core.settings.secret_key).open(box["secret"]) if box["secret"] else ""
        config = ImapConfig(host=box["host"], port=box["port"], username=box["username"], password=password,
                            use_ssl=box["use_ssl"], folder=box["folder"])
        result = await fetch_new_messages(config, box["last_uid"], limit=limit)
        if box["uid_validity"] is not None and result.uid_validity not in (None, box["uid_validity"]):
            # the server renumbered the folder: read it all again (stored Message-IDs are skipped)
            result = await fetch_new_messages(config, 0, limit=limit)
    except (MailboxError, ValueError) as exc:
        report.error = str(exc)
        log.warning("mailbox %s of tenant %s: %s", mailbox_id, tenant.slug, exc)
        async with tenant_transaction(core.engines, tenant, user_id) as conn:
            await mail_store.record_poll(conn, mailbox_id, error=report.error)
        return report
    report.fetched, report.more = len(result.messages), result.more
    for uid, raw in result.messages:
        appeal = None
        try:
            async with tenant_transaction(core.engines, tenant, user_id) as conn:
                msg = parse_message(raw)
                row_id = await mail_store.insert_message(conn, mailbox_id, uid, raw, msg)
                if row_id is None:
                    report.duplicates += 1
                else:
                    values = _appeal_values(msg, row_id, box["kind_id"])
                    values["account_id"] = await _guess_account(conn, msg)
                    appeal = await create_appeal(conn, values, user_id=user_id)
                    report.stored += 1
                    report.appeals.append(appeal["id"])
                await mail_store.record_poll(conn, mailbox_id, error=None, uid_validity=result.uid_validity,
                                             last_uid=uid)
        except Exception as exc:  # keep what is stored; the message is fetched again next time
            log.exception("mailbox %s of tenant %s: message UID %s not stored", mailbox_id, tenant.slug, uid)
            report.error = f"Письмо UID {uid} не сохранено: {exc}"
            async with tenant_transaction(core.engines, tenant, user_id) as conn:
                await mail_store.record_poll(conn, mailbox_id, error=report.error)
            return report
        if appeal is not None:
            await publish(core.redis, core.keys, tenant.id, CREATED, event_data(appeal))
    if not result.messages:
        async with tenant_transaction(core.engines, tenant, user_id) as conn:
            await mail_store.record_poll(conn, mailbox_id, error=None, uid_validity=result.uid_validity)
    return report


async def poll_tenant(core: Core, tenant: Tenant, *, mailbox_id: int | None = None,
                      user_id: int | None = None) -> list[PollReport]:
    """Poll one mailbox, or every enabled mailbox of the tenant, one after another."""
    if mailbox_id is not None:
        ids = [mailbox_id]
    else:
        async with tenant_transaction(core.engines, tenant) as conn:
            ids = [b["id"] for b in await mail_store.list_mailboxes(conn, enabled_only=True)]
    return [await poll_mailbox(core, tenant, i, user_id=user_id) for i in ids]
