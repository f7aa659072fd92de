"""The campaign runner against in-test peers of the Sender port (support.RecordingSender), on a real database:
fallback order, mode 'all', opt-outs, quiet hours, rate limits (counted per second of the test's clock),
retries, two runners at once, a runner killed between claim and record."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import text

from aquabill.notifications.campaign_store import create_campaign, mark_started, materialise
from aquabill.notifications.campaigns import check_draft
from aquabill.notifications.delivery_store import NOT_CONNECTED, UNKNOWN
from aquabill.notifications.ports import Delivery
from aquabill.notifications.runner import CampaignRunner
from aquabill.notifications.settings import DEFAULT_RATES, SendingRules
from aquabill.tenants.context import tenant_transaction
from tests.integration.notifications.support import TODAY, FakeClock, RecordingSender, crowd, moscow, town

NOON = moscow(12)


@pytest.fixture(scope="module")
async def town_tenant(make_tenant):
    return (await make_tenant(seed=town)).tenant


@pytest.fixture(scope="module")
async def crowd_tenant(make_tenant):
    return (await make_tenant(seed=crowd)).tenant


def opener(core, tenant):
    return lambda: tenant_transaction(core.engines, tenant)


async def campaign(tx, channels, *, mode="first", audience=None, body="{{ holder }}: {{ debt }} руб.", rates=None,
                   sound="") -> int:
    draft = check_draft({"title": "Проверка", "subject": "Тема {{ account }}", "body": body, "sound": sound,
                         "channels": channels, "mode": mode, "audience": audience or {}, "rates": rates},
                        DEFAULT_RATES)
    async with tx() as conn:
        c = await create_campaign(conn, draft, tenant_name="Водоканал", user_id=None)
        await mark_started(conn, c["id"], None)
        await materialise(conn, c["id"], TODAY)
    return c["id"]


async def deliveries(tx, campaign_id) -> list:
    async with tx() as conn:
        return list(await conn.execute(text(
            "SELECT r.account_id, d.channel, d.status, d.attempts, d.detail, d.address, d.parts, d.cost "
            "FROM campaign_deliveries d JOIN campaign_recipients r ON r.id = d.recipient_id "
            "WHERE d.campaign_id = :c ORDER BY r.account_id, d.id"), {"c": campaign_id}))


async def status_of(tx, campaign_id) -> str:
    async with tx() as conn:
        return (await conn.execute(text("SELECT status FROM campaigns WHERE id = :c"), {"c": campaign_id})).scalar_one()


def runner(tx, cid, senders, clock, **kw) -> CampaignRunner:
    return CampaignRunner(tx, cid, senders, rules=kw.pop("rules", SendingRules()), clock=clock, tick=0.05,
                          flush_every=0.01, idle=0.05, **kw)


async def test_first_channel_then_fallback_when_it_fails(core, town_tenant):
    tx, clock = opener(core, town_tenant), FakeClock(NOON)
    cid = await campaign(tx, ["telegram", "email", "sms"], audience={"house_ids": [1, 2]})
    telegram = RecordingSender("telegram", clock, answers={"7001": Delivery("failed", "бот заблокирован",
                                                                            unreachable=True)})
    email = RecordingSender("email", clock, answers={"a1@mail.example": Delivery("failed", "550 нет ящика")})
    sms = RecordingSender("sms", clock)
    result = await runner(tx, cid, {"telegram": telegram, "email": email, "sms": sms}, clock).run()
    assert result.status == "done" and await status_of(tx, cid) == "done"
    rows = [(r.account_id, r.channel, r.status) for r in await deliveries(tx, cid)]
    assert rows == [
        (1, "email", "failed"), (1, "sms", "sent"),  # e-mail bounced → SMS
        (2, "sms", "sent"),
        (3, "telegram", "failed"), (3, "email", "sent"),  # the bot is blocked → the subscriber's e-mail
        (6, "email", "sent"),
    ]  # 4, 5, 7 cannot be reached on these channels
    assert sorted(m.address for m in sms.got) == ["+79160000001", "+79160000002"]
    assert email.got[0].subject == "Тема 00000001" and "Абонент 1: 1 500,00 руб." == email.got[0].text
    assert {r.parts for r in await deliveries(tx, cid) if r.channel == "sms"} == {1}
    async with tx() as conn:  # the blocked bot's chat gets no more notices, as after the subscriber's «stop»
        assert (await conn.execute(text("SELECT notify FROM bot_chats WHERE chat_key = '7001'"))).scalar_one() is False
        await conn.execute(text("UPDATE bot_chats SET notify = true WHERE chat_key = '7001'"))


async def test_mode_all_reaches_every_channel(core, town_tenant):
    tx, clock = opener(core, town_tenant), FakeClock(NOON)
    cid = await campaign(tx, ["email", "sms", "telegram", "inbox"], mode="all", audience={"house_ids": [1]})
    senders = {ch: RecordingSender(ch, clock) for ch in ("email", "sms", "telegram", "inbox")}
    assert (await runner(tx, cid, senders, clock).run()).status == "done"
    rows = [(r.account_id, r.channel) for r in await deliveries(tx, cid)]
    assert rows == [(1, "email"), (1, "sms"), (2, "sms"), (3, "email"), (3, "telegram"), (3, "inbox")]
    assert {len(s.got) for s in senders.values()} == {1, 2}


async def test_opt_outs_and_missing_channels(core, town_tenant):
    tx, clock = opener(core, town_tenant), FakeClock(NOON)
    async with tx() as conn:
        await conn.execute(text("INSERT INTO notification_optouts(account_id, channel) VALUES (2, NULL)"))
    try:
        cid = await campaign(tx, ["max", "sms"], audience={"house_ids": [1]})
    finally:
        async with tx() as conn:
            await conn.execute(text("DELETE FROM notification_optouts"))
    sms = RecordingSender("sms", clock)
    assert (await runner(tx, cid, {"sms": sms}, clock).run()).status == "done"  # no MAX sender at all
    assert [m.address for m in sms.got] == ["+79160000001"]  # account 2 refused every notice
    async with tx() as conn:
        notes = dict((await conn.execute(text(
            "SELECT account_id, note FROM campaign_recipients WHERE campaign_id = :c"), {"c": cid})).all())
    assert notes[2] == "Отказался от оповещений" and notes[1] == ""


async def test_a_channel_without_a_sender_falls_back(core, town_tenant):
    tx, clock = opener(core, town_tenant), FakeClock(NOON)
    cid = await campaign(tx, ["email", "sms"], audience={"house_ids": [1]})
    sms = RecordingSender("sms", clock)
    assert (await runner(tx, cid, {"sms": sms}, clock).run()).status == "done"
    rows = [(r.account_id, r.channel, r.status, r.detail) for r in await deliveries(tx, cid)]
    assert (1, "email", "failed", NOT_CONNECTED) in rows and (1, "sms", "sent", "") in rows
    assert (3, "email", "failed", NOT_CONNECTED) in rows  # 3 has no phone: nothing more


async def test_quiet_hours_wait_and_the_inbox_does_not(core, town_tenant):
    tx = opener(core, town_tenant)
    clock = FakeClock(moscow(23, 30))
    cid = await campaign(tx, ["email", "inbox"], mode="all", audience={"house_ids": [1]})
    email, inbox = RecordingSender("email", clock), RecordingSender("inbox", clock, idempotent=True)
    result = await runner(tx, cid, {"email": email, "inbox": inbox}, clock).run()
    assert result.status == "quiet"
    assert result.resume_at == moscow(9, 0, moscow(12).date().replace(day=13))
    assert email.got == [] and len(inbox.got) == 1  # the inbox wakes nobody
    assert await status_of(tx, cid) == "running"
    clock.start = moscow(9, 1, moscow(12).date().replace(day=13))
    assert (await runner(tx, cid, {"email": email, "inbox": inbox}, clock).run()).status == "done"
    assert len(email.got) == 2 and len(inbox.got) == 1


async def test_rate_limit_is_honoured_per_second(core, crowd_tenant):
    tx, clock = opener(core, crowd_tenant), FakeClock(NOON)
    cid = await campaign(tx, ["sms"], rates={"sms": 7})
    sms = RecordingSender("sms", clock)
    assert (await runner(tx, cid, {"sms": sms}, clock).run()).status == "done"
    assert len(sms.got) == 60
    # at most 7 starts in any one second of the clock: every 8th start is a full second after the one 7 before
    assert all(b - a >= 1.0 - 1e-9 for a, b in zip(sms.times, sms.times[7:], strict=False))
    per_second = Counter(int(t) for t in sms.times)
    assert max(per_second.values()) <= 7
    assert sms.times[-1] >= 60 / 7 - 1  # it really was held back


async def test_autocall_is_limited_by_calls_at_once(core, crowd_tenant):
    tx, clock = opener(core, crowd_tenant), FakeClock(NOON)
    cid = await campaign(tx, ["autocall"], rates={"autocall": 2}, sound="custom/outage")
    busy, peak = 0, 0

    class Calls(RecordingSender):
        async def send(self, message):
            nonlocal busy, peak
            busy += 1
            peak = max(peak, busy)
            await asyncio.sleep(0.002)
            busy -= 1
            return Delivery("answered") if message.address.endswith("3") else Delivery("no_answer")

    calls = Calls("autocall", clock)
    assert (await runner(tx, cid, {"autocall": calls}, clock).run()).status == "done"
    assert peak == 2
    statuses = Counter(r.status for r in await deliveries(tx, cid))
    assert statuses == {"answered": 6, "no_answer": 54}


async def test_transient_failures_are_retried_later(core, town_tenant):
    tx, clock = opener(core, town_tenant), FakeClock(NOON)
    cid = await campaign(tx, ["sms"], audience={"house_ids": [1]})
    sms = RecordingSender("sms", clock, flaky={"+79160000002": 2})
    assert (await runner(tx, cid, {"sms": sms}, clock).run()).status == "done"
    rows = {r.account_id: r for r in await deliveries(tx, cid)}
    assert (rows[2].status, rows[2].attempts) == ("sent", 3)
    assert clock.t >= 30 + 60  # the pauses of the clock: 30 s, then 1 min
    hopeless = await campaign(tx, ["sms"], audience={"house_ids": [1]})
    sms = RecordingSender("sms", clock, flaky={"+79160000002": 99})
    assert (await runner(tx, hopeless, {"sms": sms}, clock).run()).status == "done"
    rows = {r.account_id: r for r in await deliveries(tx, hopeless)}
    assert (rows[2].status, rows[2].attempts) == ("failed", 5) and "попыток: 5" in rows[2].detail


async def test_two_runners_at_once_send_each_message_once(core, crowd_tenant):
    tx, clock = opener(core, crowd_tenant), FakeClock(NOON)
    cid = await campaign(tx, ["email", "sms"], mode="all", rates={"email": 0, "sms": 0})
    email, sms = RecordingSender("email", clock), RecordingSender("sms", clock)
    one = runner(tx, cid, {"email": email, "sms": sms}, clock, in_flight={"email": 3, "sms": 3})
    two = runner(tx, cid, {"email": email, "sms": sms}, clock, in_flight={"email": 4, "sms": 4})
    results = await asyncio.gather(one.run(), two.run())
    assert {r.status for r in results} <= {"done", "stopped"} and await status_of(tx, cid) == "done"
    for sender in (email, sms):
        assert len(sender.got) == 60 and len(set(sender.keys())) == 60
    assert one.sent > 0 and two.sent > 0 and one.sent + two.sent == 120


async def test_a_runner_killed_between_claim_and_record(core, crowd_tenant):
    """Killed with messages handed to the peers and not recorded: after the lease the idempotent peer (as the
    inbox) gets them again under the same key and keeps one; the other peer's are 'unknown', never resent."""
    tx, clock = opener(core, crowd_tenant), FakeClock(NOON)
    async with tx() as conn:  # every account gets an inbox: a linked subscriber each
        await conn.execute(text("INSERT INTO subscribers(id, full_name) SELECT n, 'П' || n FROM generate_series(1, 60) n "
                                "ON CONFLICT DO NOTHING"))
        await conn.execute(text("INSERT INTO subscriber_links(subscriber_id, account_id) SELECT n, n "
                                "FROM generate_series(1, 60) n WHERE NOT EXISTS (SELECT 1 FROM subscriber_links)"))
    cid = await campaign(tx, ["email", "inbox"], mode="all", rates={"email": 0})
    gate = asyncio.Event()
    email = RecordingSender("email", clock, gate=gate, reach=10)
    inbox = RecordingSender("inbox", clock, idempotent=True, gate=gate, reach=10)
    first = runner(tx, cid, {"email": email, "inbox": inbox}, clock, in_flight={"email": 10, "inbox": 10})
    task = asyncio.create_task(first.run())
    await asyncio.wait_for(asyncio.gather(email.reached.wait(), inbox.reached.wait()), 30)
    task.cancel()  # the worker dies: 10 + 10 claimed, handed over, not recorded
    with pytest.raises(asyncio.CancelledError):
        await task
    async with tx() as conn:
        sending = (await conn.execute(text("SELECT count(*) FROM campaign_deliveries WHERE campaign_id = :c "
                                           "AND status = 'sending'"), {"c": cid})).scalar_one()
    assert sending == 20
    gate.set()
    clock.advance(timedelta(minutes=3).total_seconds())  # the lease runs out
    assert (await runner(tx, cid, {"email": email, "inbox": inbox}, clock).run()).status == "done"
    rows = await deliveries(tx, cid)
    email_rows = Counter(r.status for r in rows if r.channel == "email")
    inbox_rows = Counter(r.status for r in rows if r.channel == "inbox")
    assert email_rows == {"sent": 50, "unknown": 10}
    assert {r.detail for r in rows if r.status == "unknown"} == {UNKNOWN}
    assert inbox_rows == {"sent": 60}  # the 10 were sent again …
    assert len(inbox.got) == 60 and len(set(inbox.keys())) == 60  # … and the peer kept one of each
    assert len(email.got) == 60 and len(set(email.keys())) == 60  # no e-mail twice, none lost
