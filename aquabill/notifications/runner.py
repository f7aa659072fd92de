"""Running a campaign: every channel at its own pace, each delivery claimed before it is sent and recorded after.

Per channel a loop claims as many due deliveries as it may start now — at most `rate` starts in any second
(pacing.RateWindow; autocall: `rate` calls at once) and at most `in_flight` unfinished sends — commits the claim,
renders each message (templates.Compiled) and hands it to the channel's `Sender`. Outcomes are written in small
batches every `flush_every` seconds (delivery_store.record: retries, and in mode 'first' the next channel of a
recipient whose delivery failed for good). A ticker, about once a second, reports progress, picks up claims
whose worker died (delivery_store.release_expired — the module documents the rule) and stops the run when
nothing is left for its channels or the campaign was paused or cancelled.

A chat the messenger reports gone (`Delivery.unreachable`: the bot blocked, the chat deleted) gets its
`bot_chats.notify` cleared, as the subscriber's «stop» would.

Quiet hours (settings.SendingRules.quiet_until): a channel other than the portal inbox stops claiming when they
begin; the run then ends with status 'quiet' and the time they end, and the job continues the campaign then.
Several runners (workers) may run one campaign at once: they share the work through the claims. Time comes
from the injected `Clock`, so tests drive rates, retries and quiet hours without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.notifications.campaign_store import finish_if_done, get_campaign
from aquabill.notifications.campaigns import SUCCESS, Settled, progress_of, settle
from aquabill.notifications.delivery_store import (
    IDEMPOTENT_CHANNELS,
    LEASE,
    LEASE_CALL,
    Claimed,
    claim,
    counts,
    fail_unavailable,
    next_due,
    record,
    release_expired,
    retry_at,
    stop_chats,
)
from aquabill.notifications.pacing import Clock, RateWindow, SystemClock
from aquabill.notifications.ports import Attachment, Delivery, Outgoing, Sender
from aquabill.notifications.settings import CONCURRENT, DEFAULT_RATES, QUIET_EXEMPT, SendingRules
from aquabill.notifications.sms import sms_parts
from aquabill.notifications.templates import MessageTemplate, RenderFailed, compile_template, recipient_values

log = logging.getLogger(__name__)

Transact = Callable[[], AbstractAsyncContextManager[AsyncConnection]]
# hook (receipts by e-mail): per recipient, the letter's own idempotency key (None: the runner's) and its
# attachments, prepared by the caller (the receipt's PDF, rendered off the event loop); an exception is a
# transient failure, tried again later.
Extras = Callable[[Claimed], Awaitable[tuple[str | None, tuple[Attachment, ...]]]]
Progress = Callable[[dict[str, dict[str, int]], int, int], Awaitable[None]]
IN_FLIGHT = {"email": 32, "sms": 100, "telegram": 30, "max": 30, "inbox": 200}
BATCH = 500
BOT_CHANNELS = ("telegram", "max")
RETRY_WAIT = 5.0  # the longest a channel sleeps waiting for a retry (a pause or cancel is seen after it)


@dataclass
class RunResult:
    status: str  # 'done' | 'quiet' (resume at `resume_at`) | 'stopped' (paused, cancelled) | 'idle' (not running)
    resume_at: datetime | None = None
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    sent: int = 0  # messages this runner handed to a peer


class CampaignRunner:
    def __init__(self, transact: Transact, campaign_id: int, senders: Mapping[str, Sender], *, rules: SendingRules,
                 clock: Clock | None = None, progress: Progress | None = None,
                 in_flight: Mapping[str, int] | None = None, lease: timedelta = LEASE,
                 call_lease: timedelta = LEASE_CALL, tick: float = 1.0, flush_every: float = 0.05,
                 idle: float = 0.2, progress_every: float = 1.0, extras: Extras | None = None) -> None:
        self.transact = transact
        self.campaign_id = campaign_id
        self.senders = dict(senders)
        self.rules = rules
        self.clock = clock or SystemClock()
        self.progress = progress
        self.in_flight = {**IN_FLIGHT, **(in_flight or {})}
        self.lease, self.call_lease = lease, call_lease
        self.tick, self.flush_every, self.idle, self.progress_every = tick, flush_every, idle, progress_every
        self.idempotent = IDEMPOTENT_CHANNELS | {ch for ch, s in self.senders.items()
                                                 if getattr(s, "idempotent", False)}
        self._outbox: list[tuple[int, Settled]] = []
        self._gone: list[tuple[str, str]] = []  # (channel, chat) the messenger says can no longer be reached
        self.extras = extras
        self._flush_lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._active: set[str] = set()
        self._inflight = 0
        self._quiet: datetime | None = None
        self._stopped = False
        self._error: BaseException | None = None
        self.sent = 0

    # ---- the run ----------------------------------------------------------------------------------------

    async def run(self) -> RunResult:
        async with self.transact() as conn:
            c = await get_campaign(conn, self.campaign_id)
        if c["status"] != "running":
            return RunResult("idle")
        self.compiled = compile_template(MessageTemplate(c["subject"], c["body"], c["sound"]))
        self.sound = c["sound"] or None
        self.values = dict(c["fields"] or {})
        self.fallback = c["mode"] == "first"
        self.rates = {**DEFAULT_RATES, **(c["rates"] or {})}
        self.channels = [ch for ch in c["channels"] if ch in self.senders]
        now = self.clock.now()
        async with self.transact() as conn:
            await release_expired(conn, self.campaign_id, now, idempotent=self.idempotent, lease=self.lease,
                                  call_lease=self.call_lease)
            await fail_unavailable(conn, self.campaign_id, self.channels, now, fallback=self.fallback)
        self._active = set(self.channels)
        recorder = asyncio.create_task(self._recorder())
        ticker = asyncio.create_task(self._ticker())
        try:
            await asyncio.gather(*(self._channel(ch) for ch in self.channels))
        finally:
            self._stop.set()
            for task in (ticker, recorder):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._error is not None:
            raise self._error
        await self._flush()
        async with self.transact() as conn:
            done = await finish_if_done(conn, self.campaign_id)
            per = await counts(conn, self.campaign_id)
            pending, _, _ = await next_due(conn, self.campaign_id)
        if self.progress is not None:
            await self.progress(per, *progress_of(per))
        if done:
            return RunResult("done", counts=per, sent=self.sent)
        if self._quiet is not None and pending and not self._stopped:
            return RunResult("quiet", self._quiet, per, self.sent)
        return RunResult("stopped", counts=per, sent=self.sent)

    # ---- one channel ------------------------------------------------------------------------------------

    async def _channel(self, channel: str) -> None:
        concurrent = channel in CONCURRENT
        window = RateWindow(0 if concurrent else self.rates.get(channel, 0), self.clock)
        limit = max(1, self.rates.get(channel, 2)) if concurrent else self.in_flight.get(channel, 20)
        tasks: set[asyncio.Task] = set()
        try:
            while not self._stop.is_set():
                if channel not in QUIET_EXEMPT:
                    quiet = self.rules.quiet_until(self.clock.now())
                    if quiet is not None:
                        self._quiet = quiet if self._quiet is None else min(self._quiet, quiet)
                        break
                tasks = {t for t in tasks if not t.done()}
                free = limit - len(tasks)
                if free <= 0:
                    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                    continue
                n = min(free, window.available(), BATCH)
                if n <= 0:
                    await self.clock.sleep(window.wait())
                    continue
                async with self.transact() as conn:
                    rows = await claim(conn, self.campaign_id, channel, n, self.clock.now())
                    later = None if rows else await retry_at(conn, self.campaign_id, channel)
                if not rows:  # nothing due: wait for the next retry (a few seconds at most), or a little
                    wait = (later - self.clock.now()).total_seconds() if later is not None else 0.0
                    await self.clock.sleep(min(wait, RETRY_WAIT) if wait > 0 else self.idle)
                    continue
                window.take(len(rows))
                self._inflight += len(rows)
                for row in rows:
                    tasks.add(asyncio.create_task(self._send(row)))
        except asyncio.CancelledError:
            for t in tasks:
                t.cancel()  # like a killed worker: what was claimed and not recorded stays 'sending'
            raise
        finally:
            self._active.discard(channel)
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _send(self, row: Claimed) -> None:
        try:
            delivery = await self._deliver(row)
            self._outbox.append((row.id, settle(delivery, row.attempts)))
            if delivery.status in SUCCESS:
                self.sent += 1
            elif delivery.unreachable and row.channel in BOT_CHANNELS:
                self._gone.append((row.channel, row.address))
        finally:
            self._inflight -= 1

    async def _deliver(self, row: Claimed) -> Delivery:
        try:
            subject, body = self.compiled.render(recipient_values(row.vars, self.values))
        except RenderFailed as exc:
            return Delivery("failed", detail=f"Ошибка в шаблоне: {exc}")
        message = Outgoing(key=f"{self.campaign_id}:{row.recipient_id}:{row.channel}", channel=row.channel,
                           address=row.address, subject=subject, text=body, sound=self.sound,
                           account_id=row.account_id)
        if self.extras is not None:  # receipts: the key and PDF
            try:
                key, attachments = await self.extras(row)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("attachments of %s failed", message.key, exc_info=True)
                return Delivery("failed", detail=f"Не удалось подготовить вложение: {exc}"[:300], retry=True)
            message = replace(message, key=key or message.key, attachments=attachments)
        try:
            delivery = await self.senders[row.channel].send(message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a sender's bug or an unexpected failure of its peer: tried again later
            log.warning("sender %s failed on %s", row.channel, message.key, exc_info=True)
            delivery = Delivery("failed", detail=f"Сбой канала: {exc}"[:300], retry=True)
        if row.channel == "sms":  # parts and cost are known before sending; the peer's figures win
            parts = delivery.parts if delivery.parts and delivery.parts != 1 else max(sms_parts(body), 1)
            cost = delivery.cost if delivery.cost is not None else (self.rules.sms_price * parts)
            return replace(delivery, parts=parts,
                           cost=cost.quantize(Decimal("0.01")) if delivery.status in SUCCESS else None)
        return replace(delivery, parts=0, cost=None)

    # ---- recording and watching -----------------------------------------------------------------------

    async def _flush(self) -> None:
        async with self._flush_lock:
            if not self._outbox:
                return
            batch, self._outbox = self._outbox, []
            gone, self._gone = self._gone, []
            batch = [(i, _no_parts(s)) for i, s in batch]
            async with self.transact() as conn:
                await record(conn, batch, self.clock.now(), fallback=self.fallback, available=self.channels)
                for channel in BOT_CHANNELS:
                    await stop_chats(conn, channel, [address for ch, address in gone if ch == channel])

    async def _recorder(self) -> None:
        try:
            while True:
                await asyncio.sleep(self.flush_every)
                await self._flush()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._error = exc
            self._stop.set()

    async def _ticker(self) -> None:
        reported = 0.0
        try:
            while not self._stop.is_set():
                await asyncio.sleep(self.tick)
                async with self.transact() as conn:
                    await release_expired(conn, self.campaign_id, self.clock.now(), idempotent=self.idempotent,
                                          lease=self.lease, call_lease=self.call_lease)
                    status = (await get_campaign(conn, self.campaign_id))["status"]
                    per = await counts(conn, self.campaign_id)
                if status != "running":
                    self._stopped = True
                    self._stop.set()
                    break
                if self.progress is not None and time.monotonic() - reported >= self.progress_every:
                    reported = time.monotonic()
                    await self.progress(per, *progress_of(per))
                if self._inflight == 0 and not self._outbox and not self._flush_lock.locked():
                    open_here = sum(per.get(ch, {}).get("pending", 0) for ch in self._active)
                    sending = sum(p.get("sending", 0) for p in per.values())
                    if open_here == 0 and sending == 0:
                        self._stop.set()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._error = exc
            self._stop.set()


def _no_parts(s: Settled) -> Settled:
    """Parts are kept only where they mean something (SMS); 0 means none."""
    if s.parts:
        return s
    return Settled(s.status, s.detail, s.retry_in, None, s.cost, s.external_id)


def as_progress_text(per: dict[str, dict[str, int]]) -> str:
    done, total = progress_of(per)
    ok = sum(n for p in per.values() for s, n in p.items() if s in SUCCESS)
    return f"Обработано {done} из {total}, отправлено {ok}"

