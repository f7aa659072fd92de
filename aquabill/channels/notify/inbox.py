"""Notices into the subscriber's portal inbox (`subscriber_inbox`, shown at `/my/inbox`).

`Outgoing.address` is the subscriber's id. The row carries `dedupe_key` = `Outgoing.key` (unique where set,
migration t0027), so sending one delivery twice — a retry after a crash — leaves one row: the second insert
does nothing and is reported like the first ('delivered', the same row id). Concurrent sends are written
together: one multi-row `INSERT … ON CONFLICT DO NOTHING` per batch in one tenant transaction
(`batching.Batcher`). A subscriber that does not exist (or is deactivated) → 'failed'; an `account_id` that
does not exist is left out of the row.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from aquabill.channels.notify.batching import Batcher, BatcherClosed
from aquabill.notifications.ports import Delivery, Outgoing
from aquabill.tenants.context import Tenant, tenant_transaction
from aquabill.tenants.databases import EngineRegistry

KIND = "notice"
TITLE_MAX = 200
BATCH = 500

_INSERT = text(
    "INSERT INTO subscriber_inbox(subscriber_id, account_id, kind, title, body, dedupe_key) "
    "SELECT u.s, a.id, :kind, u.t, u.b, u.k "
    "FROM unnest(CAST(:s AS integer[]), CAST(:a AS integer[]), CAST(:t AS text[]), CAST(:b AS text[]), "
    "            CAST(:k AS text[])) AS u(s, a, t, b, k) "
    "JOIN subscribers sub ON sub.id = u.s AND sub.is_active "
    "LEFT JOIN accounts a ON a.id = u.a "
    "ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING "
    "RETURNING id, dedupe_key")
_EXISTING = text("SELECT id, dedupe_key FROM subscriber_inbox WHERE dedupe_key = ANY(CAST(:k AS text[]))")


def _subscriber(address: str) -> int | None:
    value = address.strip()
    if not value.isdigit() or len(value) > 9:
        return None
    return int(value)


def _title(subject: str) -> str:
    title = " ".join(subject.split()) or "Уведомление"
    return title if len(title) <= TITLE_MAX else title[:TITLE_MAX - 1] + "…"


class InboxSender:
    """`notifications.ports.Sender` for 'inbox'."""

    channel = "inbox"
    idempotent = True  # a resend with the same key writes nothing (delivery_store.release_expired)

    def __init__(self, engines: EngineRegistry, tenant: Tenant, *, batch: int = BATCH, workers: int = 2) -> None:
        self.engines = engines
        self.tenant = tenant
        self._batcher: Batcher[Outgoing, Delivery] = Batcher(self._flush, size=batch, workers=workers,
                                                             key=lambda m: m.key)

    async def send(self, message: Outgoing) -> Delivery:
        if _subscriber(message.address) is None:
            return Delivery("failed", detail=f"Неверный номер абонента личного кабинета: {message.address[:40]}")
        if not message.key:
            return Delivery("failed", detail="Нет ключа доставки")
        try:
            return await self._batcher.submit(message)
        except BatcherClosed:
            return Delivery("failed", detail="Запись в кабинет остановлена", retry=True)

    async def _flush(self, messages: list[Outgoing]) -> list[Delivery]:
        keys = [m.key for m in messages]
        params = {"kind": KIND, "s": [_subscriber(m.address) for m in messages],
                  "a": [m.account_id for m in messages], "t": [_title(m.subject) for m in messages],
                  "b": [m.text for m in messages], "k": keys}
        try:
            async with tenant_transaction(self.engines, self.tenant) as conn:
                written = {r.dedupe_key: r.id for r in await conn.execute(_INSERT, params)}
                missing = [k for k in keys if k not in written]
                before = {r.dedupe_key: r.id for r in await conn.execute(_EXISTING, {"k": missing})} \
                    if missing else {}
        except (DBAPIError, OSError) as exc:
            detail = f"Не удалось записать уведомление в кабинет: {exc.__class__.__name__}"
            return [Delivery("failed", detail=detail, retry=True) for _ in messages]
        out = []
        for m in messages:
            if m.key in written:
                out.append(Delivery("delivered", external_id=str(written[m.key])))
            elif m.key in before:
                out.append(Delivery("delivered", detail="Уже было в кабинете", external_id=str(before[m.key])))
            else:
                out.append(Delivery("failed", detail="Абонент личного кабинета не найден или отключён"))
        return out

    async def close(self) -> None:
        await self._batcher.close()
