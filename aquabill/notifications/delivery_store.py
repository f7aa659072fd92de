"""Deliveries of a running campaign: claimed, recorded, recovered — never sent twice by two workers, and never
sent twice by one worker killed halfway unless its peer takes an idempotency key.

The rule, exactly:
1. Claim before sending. `claim` moves up to N due `pending` rows of one channel to `sending` (attempts + 1,
   `claimed_at` = now) in one `UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED)` and the caller commits it
   BEFORE any of them is handed to the peer. Two workers on one campaign skip each other's locked rows, and a
   row already claimed no longer matches `status = 'pending'` when it is re-checked after the lock: no row is
   ever claimed twice at once.
2. Record after. `record` writes each outcome (sent, delivered, failed, … or back to `pending` with a retry
   time) where the row is still `sending` (or was meanwhile marked `unknown`), and in mode 'first' adds the
   next channel's row for the recipients that failed for good, in the same transaction.
3. A worker that dies between 1 and 2 leaves rows in `sending`. Once their lease has run out (`claimed_at`
   older than LEASE, LEASE_CALL for autocall: longer than any send may take), `release_expired` decides:
   - on a channel whose peer takes the idempotency key `Outgoing.key` (= "<campaign>:<recipient>:<channel>")
     and so receives a repeated message once — the portal inbox (unique `subscriber_inbox.dedupe_key`), and
     any sender declaring `idempotent = True` — the row goes back to `pending` and is sent again with the
     same key;
   - on any other channel (SMTP, SMS.ru, the Bot APIs, AMI take no such key) the row becomes `unknown`: it may
     or may not have reached the person, and it is not resent automatically; the campaign page lists these
     for the operator to review.
   So a killed worker never causes a duplicate; a message is lost only as `unknown`, visible on the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.notifications.campaigns import FALLBACK, SUCCESS, Settled

LEASE = timedelta(minutes=2)
LEASE_CALL = timedelta(minutes=5)
IDEMPOTENT_CHANNELS = frozenset({"inbox"})
RETRIED = "Повтор после сбоя обработчика рассылки"
UNKNOWN = ("Неизвестно, получено ли: обработчик рассылки остановился во время отправки; "
           "автоматически не повторяется — проверьте вручную")
NOT_CONNECTED = "Канал не подключён у организации"


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    recipient_id: int
    account_id: int
    channel: str
    address: str
    attempts: int
    vars: dict[str, Any]


async def claim(conn: AsyncConnection, campaign_id: int, channel: str, n: int, now: datetime) -> list[Claimed]:
    rows = await conn.execute(text("""
        WITH pick AS MATERIALIZED (
            SELECT id FROM campaign_deliveries
            WHERE campaign_id = :c AND channel = :ch AND status = 'pending'
              AND (next_attempt_at IS NULL OR next_attempt_at <= :now)
            ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED)
        UPDATE campaign_deliveries d SET status = 'sending', claimed_at = :now, attempts = d.attempts + 1
        FROM pick, campaign_recipients r
        WHERE d.id = pick.id AND r.id = d.recipient_id AND d.status = 'pending'
        RETURNING d.id, d.recipient_id, r.account_id, d.channel, d.address, d.attempts, r.vars"""),
        {"c": campaign_id, "ch": channel, "n": n, "now": now})
    return [Claimed(r.id, r.recipient_id, r.account_id, r.channel, r.address, r.attempts, r.vars) for r in rows]


_FALLBACK = """
INSERT INTO campaign_deliveries(campaign_id, recipient_id, channel, address)
SELECT u.campaign_id, u.recipient_id, nx.ch, r.addresses ->> nx.ch
FROM upd u JOIN campaign_recipients r ON r.id = u.recipient_id
CROSS JOIN LATERAL (
    SELECT c.ch FROM unnest(r.channels) WITH ORDINALITY AS c(ch, n)
    WHERE c.n > array_position(r.channels, u.channel::text) AND c.ch = ANY(CAST(:available AS text[]))
    ORDER BY c.n LIMIT 1) nx
WHERE u.status = ANY(CAST(:fallback AS text[]))
ON CONFLICT (campaign_id, recipient_id, channel) DO NOTHING"""


async def record(conn: AsyncConnection, outcomes: Sequence[tuple[int, Settled]], now: datetime, *,
                 fallback: bool, available: Iterable[str]) -> int:
    """Write the outcomes (delivery id, settled); in mode 'first' (`fallback`) the recipients whose delivery
    failed for good get their next available channel's row. The number of rows written."""
    if not outcomes:
        return 0
    ids, statuses, details, exts, parts, costs, nexts = [], [], [], [], [], [], []
    for delivery_id, s in outcomes:
        ids.append(delivery_id)
        statuses.append(s.status)
        details.append(s.detail)
        exts.append(s.external_id)
        parts.append(s.parts)
        costs.append(s.cost)
        nexts.append(now + s.retry_in if s.retry_in is not None else None)
    head = """
WITH v AS (
    SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:st AS text[]), CAST(:det AS text[]), CAST(:ext AS text[]),
                         CAST(:parts AS int[]), CAST(:cost AS numeric[]), CAST(:nxt AS timestamptz[]))
             AS v(id, status, detail, ext, parts, cost, next_at)
),
upd AS (
    UPDATE campaign_deliveries d SET status = v.status, detail = v.detail, external_id = coalesce(v.ext, d.external_id),
           parts = coalesce(v.parts, d.parts), cost = coalesce(v.cost, d.cost), next_attempt_at = v.next_at,
           claimed_at = NULL, sent_at = CASE WHEN v.status = ANY(CAST(:ok AS text[])) THEN :now ELSE d.sent_at END
    FROM v WHERE d.id = v.id AND d.status IN ('sending', 'unknown')
    RETURNING d.id, d.campaign_id, d.recipient_id, d.channel, d.status
)"""
    params = {"ids": ids, "st": statuses, "det": details, "ext": exts, "parts": parts, "cost": costs, "nxt": nexts,
              "ok": sorted(SUCCESS), "now": now, "available": sorted(available), "fallback": sorted(FALLBACK)}
    if fallback:
        await conn.execute(text(head + _FALLBACK), params)
        return len(ids)
    await conn.execute(text(head + " SELECT count(*) FROM upd"), params)
    return len(ids)


async def release_expired(conn: AsyncConnection, campaign_id: int, now: datetime, *, idempotent: Iterable[str],
                          lease: timedelta = LEASE, call_lease: timedelta = LEASE_CALL) -> dict[str, int]:
    """Rule 3 of the module: claims whose lease ran out go back to `pending` (idempotent peers) or to
    `unknown`. How many of each."""
    rows = await conn.execute(text("""
        UPDATE campaign_deliveries SET
            status = CASE WHEN channel = ANY(CAST(:idem AS text[])) THEN 'pending' ELSE 'unknown' END,
            detail = CASE WHEN channel = ANY(CAST(:idem AS text[])) THEN :retried ELSE :unknown END,
            claimed_at = NULL, next_attempt_at = NULL
        WHERE campaign_id = :c AND status = 'sending'
          AND claimed_at < CAST(:now AS timestamptz) - CASE WHEN channel = 'autocall' THEN CAST(:call AS interval)
                                                            ELSE CAST(:lease AS interval) END
        RETURNING status"""),
        {"c": campaign_id, "now": now, "idem": sorted(set(idempotent)), "retried": RETRIED, "unknown": UNKNOWN,
         "lease": lease, "call": call_lease})
    out = {"pending": 0, "unknown": 0}
    for r in rows:
        out[r.status] += 1
    return out


async def fail_unavailable(conn: AsyncConnection, campaign_id: int, available: Iterable[str], now: datetime, *,
                           fallback: bool) -> int:
    """Pending rows on channels the tenant has no sender for fail at once (and fall back in mode 'first')."""
    available = sorted(available)
    picked = list((await conn.execute(text(
        "UPDATE campaign_deliveries SET status = 'sending', claimed_at = :now WHERE campaign_id = :c "
        "AND status = 'pending' AND channel <> ALL(CAST(:a AS text[])) RETURNING id"),
        {"c": campaign_id, "a": available, "now": now})).scalars())
    if picked:
        await record(conn, [(i, Settled("failed", NOT_CONNECTED)) for i in picked], now, fallback=fallback,
                     available=available)
    return len(picked)


async def stop_chats(conn: AsyncConnection, channel: str, chats: list[str]) -> None:
    """Chats the messenger says are gone: no more notices to them (`bot_chats.notify`, the bots' «stop»)."""
    if chats:
        await conn.execute(text("UPDATE bot_chats SET notify = false, updated_at = now() "
                                "WHERE channel = :ch AND chat_key = ANY(CAST(:k AS text[])) AND notify"),
                           {"ch": channel, "k": sorted(set(chats))})


async def retry_at(conn: AsyncConnection, campaign_id: int, channel: str) -> datetime | None:
    """The earliest retry time of the channel's pending deliveries (None: none is waiting for one)."""
    return (await conn.execute(text(
        "SELECT min(next_attempt_at) FROM campaign_deliveries WHERE campaign_id = :c AND channel = :ch "
        "AND status = 'pending'"), {"c": campaign_id, "ch": channel})).scalar()


async def counts(conn: AsyncConnection, campaign_id: int) -> dict[str, dict[str, int]]:
    """channel → status → deliveries."""
    out: dict[str, dict[str, int]] = {}
    for r in await conn.execute(text(
            "SELECT channel, status, count(*) AS n FROM campaign_deliveries WHERE campaign_id = :c GROUP BY 1, 2"),
            {"c": campaign_id}):
        out.setdefault(r.channel, {})[r.status] = r.n
    return out


async def next_due(conn: AsyncConnection, campaign_id: int) -> tuple[int, int, datetime | None]:
    """(pending, sending, the earliest retry time of the pending) of the campaign."""
    r = (await conn.execute(text(
        "SELECT count(*) FILTER (WHERE status = 'pending') AS pending, "
        "count(*) FILTER (WHERE status = 'sending') AS sending, "
        "min(next_attempt_at) FILTER (WHERE status = 'pending') AS next_at "
        "FROM campaign_deliveries WHERE campaign_id = :c AND status IN ('pending', 'sending')"),
        {"c": campaign_id})).one()
    return r.pending, r.sending, r.next_at


async def cost_total(conn: AsyncConnection, campaign_id: int) -> Decimal:
    return Decimal((await conn.execute(text(
        "SELECT coalesce(sum(cost), 0) FROM campaign_deliveries WHERE campaign_id = :c"),
        {"c": campaign_id})).scalar_one())
