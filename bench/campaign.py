"""Benchmark of a notification campaign (#14): 100,000 recipients through the local fakes, and a worker killed
midway.

    .venv/bin/python bench/campaign.py [--recipients 100000] [--kill-at 0.4] [--telegram 150]

Starts its own PostgreSQL (or uses DATABASE_URL's server) and Redis (or REDIS_URL), one tenant with
`--recipients` open accounts: a third with only an e-mail, a third with only a phone, a third with only a
portal subscriber (inbox). The peers run in this process: an SMTP server (aiosmtpd, counting letters by
Message-ID), the SMS.ru fake (devserver/fakes/sms_gateway.py) and, for the Telegram run, the Bot API fake.
The campaign runs in a separate worker process (this script with `--child`), as the campaign job runs it:
the tenant's senders from `channels.notify.open_senders` (SMTP, SMS, inbox), notifications.runner with the
channels unlimited (e-mail → SMS → inbox, mode 'first': one message each).

Printed:
1. baseline: the same number of bare `Sender.send` calls (no claims, no records), in the same kind of worker
   process, on the same senders — messages/second;
2. the campaign: messages/second from the worker's start to the campaign done (its recipients written
   beforehand, timed apart), and its ratio to the baseline; goal ≥ 1,000/s;
3. a second campaign whose worker is SIGKILLed when `--kill-at` of it is done, then started again (claims
   whose lease ran out are recovered by the rule of notifications/delivery_store.py); what the peers received
   is counted against the deliveries table: lost (recorded as sent, never received) = 0, duplicated (received
   twice) = 0, and the deliveries left 'unknown' for review with how many of them did arrive;
4. Telegram (`--telegram` chats): the bot's own pacing (about 30 notices a second per bot, Telegram's limit
   for bulk messages) is what bounds it, not the runner — messages/second.
Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

from aiosmtpd.controller import Controller
from benchlib import Server, redis_url_or_local
from sqlalchemy import text

from aquabill.channels.notify.email import message_id
from aquabill.devserver.fakes.sms_gateway import FakeSmsGateway
from aquabill.devserver.services import free_port
from aquabill.notifications.campaign_store import create_campaign, mark_started, materialise
from aquabill.notifications.campaigns import check_draft
from aquabill.notifications.settings import DEFAULT_RATES
from aquabill.tenants.context import tenant_transaction
from aquabill.tenants.databases import EngineRegistry
from aquabill.tenants.migrator import migrate_control
from aquabill.tenants.provisioning import create_tenant
from aquabill.tenants.registry import by_slug

SLUG = "bench"
SECRET = "bench-secret-key"
MAIL_FROM = "noreply@vodokanal.example"
UNLIMITED = {"email": 0, "sms": 0, "telegram": 0, "inbox": 0}
IN_FLIGHT = {"email": 64, "sms": 400, "telegram": 60, "inbox": 400}
BOT_TOKEN = "4242424:bench-token-abcdefghijklmnopqrstu"
ROOT = Path(__file__).resolve().parent.parent


# ---- the peers, in this process ---------------------------------------------------------------------------

class MailCounter:
    def __init__(self) -> None:
        self.ids: Counter[str] = Counter()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        raw = envelope.original_content or envelope.content
        head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
        mid = next((line.split(":", 1)[1].strip() for line in head.split("\r\n")
                    if line.lower().startswith("message-id:")), "")
        self.ids[mid] += 1
        return "250 OK"


# ---- the tenant ----------------------------------------------------------------------------------------------

async def seed(conn, n: int, telegram: int) -> None:
    for sql in (
        "INSERT INTO settlements(kind, name) VALUES ('г.', 'Бенчмарк')",
        "INSERT INTO streets(settlement_id, kind, name) VALUES (1, 'ул.', 'Длинная')",
        "INSERT INTO houses(street_id, number) SELECT 1, h::text FROM generate_series(1, :h) h",
        "INSERT INTO premises(house_id, number) SELECT 1 + (k - 1) / 100, k::text FROM generate_series(1, :n) k",
        "INSERT INTO accounts(number, premise_id, holder, opened_on, email, phone) "
        "SELECT lpad(k::text, 9, '0'), k, 'Абонент ' || k, DATE '2020-01-01', "
        "CASE WHEN k % 3 = 0 THEN 'a' || k || '@mail.example' END, "
        "CASE WHEN k % 3 = 1 THEN '+79' || lpad(k::text, 9, '0') END FROM generate_series(1, :n) k",
        "INSERT INTO subscribers(id, full_name) SELECT k, 'Подписчик ' || k FROM generate_series(1, :nt) k "
        "WHERE k % 3 = 2 OR k > :n",
        "INSERT INTO subscriber_links(subscriber_id, account_id) SELECT k, k FROM generate_series(1, :n) k "
        "WHERE k % 3 = 2",
        # the Telegram run's accounts: their own house, a subscriber each with the bot's notices on
        "INSERT INTO houses(street_id, number) VALUES (1, 'Т')",
        "INSERT INTO premises(house_id, number) SELECT (SELECT max(id) FROM houses), 'т' || k "
        "FROM generate_series(1, :t) k",
        "INSERT INTO accounts(number, premise_id, holder, opened_on) SELECT 'Т' || lpad(k::text, 8, '0'), "
        ":n + k, 'Абонент Т' || k, DATE '2020-01-01' FROM generate_series(1, :t) k",
        "INSERT INTO subscriber_links(subscriber_id, account_id) SELECT :n + k, :n + k FROM generate_series(1, :t) k",
        "INSERT INTO bot_chats(channel, chat_key, subscriber_id, notify) SELECT 'telegram', (700000 + k)::text, "
        ":n + k, true FROM generate_series(1, :t) k",
        "INSERT INTO notification_settings(id, quiet_from, quiet_to) VALUES (1, '00:00', '00:00')",
    ):
        await conn.execute(text(sql), {"n": n, "h": (n + 99) // 100, "t": telegram, "nt": n + telegram})


async def new_campaign(engines, tenant, title: str, channels: list[str], audience: dict) -> tuple[int, float]:
    """A running campaign with its recipients written; (id, seconds the writing took)."""
    draft = check_draft({"title": title, "subject": "{{ title }}".replace("{{ title }}", title),
                         "body": f"[{title}] {{{{ holder }}}}, по адресу {{{{ address }}}} 12.04 с 9:00 до 17:00 "
                                 "не будет холодной воды. {{ tenant_name }}",
                         "channels": channels, "mode": "first", "audience": audience, "rates": UNLIMITED},
                        DEFAULT_RATES)
    async with tenant_transaction(engines, tenant) as conn:
        c = await create_campaign(conn, draft, tenant_name=tenant.name, user_id=None)
        await mark_started(conn, c["id"], None)
    started = time.perf_counter()
    async with tenant_transaction(engines, tenant) as conn:
        await materialise(conn, c["id"], date.today())
    return c["id"], time.perf_counter() - started


async def deliveries(engines, tenant, campaign_id: int) -> list:
    async with tenant_transaction(engines, tenant) as conn:
        return list(await conn.execute(text(
            "SELECT d.id, d.recipient_id, d.channel, d.address, d.status FROM campaign_deliveries d "
            "WHERE d.campaign_id = :c"), {"c": campaign_id}))


async def finished_share(engines, tenant, campaign_id: int) -> float:
    async with tenant_transaction(engines, tenant) as conn:
        r = (await conn.execute(text(
            "SELECT count(*) FILTER (WHERE status NOT IN ('pending', 'sending')) AS done, count(*) AS n "
            "FROM campaign_deliveries WHERE campaign_id = :c"), {"c": campaign_id})).one()
    return r.done / r.n if r.n else 0.0


# ---- the worker process --------------------------------------------------------------------------------------

def child(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, "--child", *args], env=env, stdout=subprocess.PIPE)


async def child_result(proc: subprocess.Popen) -> dict:
    """Waits for the worker process off the event loop (the Telegram fake answers on this loop)."""
    out, _ = await asyncio.to_thread(proc.communicate)
    if proc.returncode != 0:
        raise SystemExit(f"the worker process failed ({proc.returncode})")
    return json.loads(out.decode().strip().splitlines()[-1])


async def run_child(argv: list[str]) -> None:
    """In the worker process: run one campaign (`run ID LEASE_S`) or the baseline (`baseline ID`)."""
    from datetime import timedelta

    from aquabill.channels.notify.factory import close_senders, open_senders
    from aquabill.notifications.ports import Outgoing
    from aquabill.notifications.runner import CampaignRunner
    from aquabill.notifications.settings import load_rules
    from aquabill.platform.config import Settings
    from aquabill.platform.state import Core

    core = Core.open(Settings.from_env())
    async with core.engines.control.connect() as conn:
        tenant = await by_slug(conn, SLUG)
    senders = await open_senders(core, tenant)
    started = time.perf_counter()
    try:
        if argv[0] == "run":
            campaign_id, lease = int(argv[1]), timedelta(seconds=float(argv[2]))

            def transact():
                return tenant_transaction(core.engines, tenant)

            async with transact() as conn:
                rules = await load_rules(conn)
            runner = CampaignRunner(transact, campaign_id, senders, rules=rules, in_flight=IN_FLIGHT, lease=lease,
                                    tick=0.25)
            result = await runner.run()
            out = {"status": result.status, "sent": runner.sent}
        else:  # the baseline: the same messages straight to the senders, as many at once per channel
            async with tenant_transaction(core.engines, tenant) as conn:
                rows = list(await conn.execute(text(
                    "SELECT d.recipient_id, d.channel, d.address FROM campaign_deliveries d "
                    "WHERE d.campaign_id = :c"), {"c": int(argv[1])}))
            by_channel: dict[str, list] = {}
            for r in rows:
                by_channel.setdefault(r.channel, []).append(r)

            async def lane(channel: str, items: list) -> int:
                sender, ok, queue = senders[channel], 0, iter(items)

                async def worker() -> None:
                    nonlocal ok
                    for r in queue:
                        d = await sender.send(Outgoing(f"base:{r.recipient_id}:{channel}", channel, r.address,
                                                       "Проверка", "[база] Абонент, по адресу … не будет воды."))
                        ok += d.status in ("sent", "delivered")

                await asyncio.gather(*(worker() for _ in range(IN_FLIGHT[channel])))
                return ok

            counts = await asyncio.gather(*(lane(ch, items) for ch, items in by_channel.items()))
            out = {"status": "done", "sent": sum(counts)}
    finally:
        await close_senders(senders)
        await core.close()
    out["seconds"] = time.perf_counter() - started
    print(json.dumps(out), flush=True)


# ---- the benchmark -----------------------------------------------------------------------------------------

async def main(n: int, kill_at: float, telegram_chats: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="aquabill-bench-campaign-"))
    server = Server()
    db_url = await server.start()
    redis_url, local_redis = redis_url_or_local(tmp)
    engines = EngineRegistry(db_url, pool_size=4)
    mail = MailCounter()
    smtp = Controller(mail, hostname="127.0.0.1", port=free_port())
    smtp.start()
    sms = FakeSmsGateway().start_in_thread()
    from aquabill.devserver.fakes.telegram_api import FakeTelegram

    telegram = FakeTelegram(record=True)
    await telegram.start()
    telegram.add_bot(BOT_TOKEN, "bench_bot")
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url, "AQUABILL_SECRET_KEY": SECRET,
           "AQUABILL_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}", "AQUABILL_MAIL_FROM": MAIL_FROM,
           "AQUABILL_SMS_URL": sms.url, "AQUABILL_TELEGRAM_API_URL": telegram.url,
           "AQUABILL_REDIS_PREFIX": "benchcampaign", "PYTHONPATH": str(ROOT)}
    try:
        print(f"PostgreSQL: {server.describe()}; {n:,} recipients (e-mail / SMS / inbox, a third each)")
        await migrate_control(engines.control)
        tenant = await create_tenant(engines, SLUG, "МУП «Водоканал»")
        t0 = time.perf_counter()
        async with tenant_transaction(engines, tenant) as conn:
            await seed(conn, n, telegram_chats)
        print(f"tenant seeded in {time.perf_counter() - t0:.1f} s")
        everyone = {"house_ids": list(range(1, (n + 99) // 100 + 1))}

        # 1. baseline
        base_id, _ = await new_campaign(engines, tenant, "База", ["email", "sms", "inbox"], everyone)
        base = await child_result(child(["baseline", str(base_id)], env))
        base_rate = base["sent"] / base["seconds"]
        print(f"baseline: {base['sent']:,} bare Sender.send calls in {base['seconds']:.1f} s = {base_rate:,.0f} msg/s")
        mail.ids.clear()
        sms.messages.clear()

        # 2. the campaign
        cid, writing = await new_campaign(engines, tenant, "Отключение", ["email", "sms", "inbox"], everyone)
        print(f"campaign {cid}: recipients and first deliveries written in {writing:.1f} s")
        run = await child_result(child(["run", str(cid), "120"], env))
        rate = run["sent"] / run["seconds"]
        print(f"campaign: {run['sent']:,} messages in {run['seconds']:.1f} s = {rate:,.0f} msg/s "
              f"(goal ≥ 1,000/s: {'met' if rate >= 1000 else 'NOT met'}); {rate / base_rate:.2f} × the baseline")
        await check(engines, tenant, cid, mail, sms, "Отключение")
        mail.ids.clear()
        sms.messages.clear()

        # 3. killed midway
        kid, _ = await new_campaign(engines, tenant, "Повтор", ["email", "sms", "inbox"], everyone)
        proc = child(["run", str(kid), "2"], env)
        while await finished_share(engines, tenant, kid) < kill_at:  # noqa: ASYNC110 (polling the database)
            await asyncio.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(proc.wait)
        share = await finished_share(engines, tenant, kid)
        print(f"worker SIGKILLed at {share:.0%} of the second campaign; restarted (lease 2 s)")
        await asyncio.sleep(2.5)
        again = await child_result(child(["run", str(kid), "2"], env))
        print(f"restarted worker: {again['sent']:,} messages in {again['seconds']:.1f} s, campaign {again['status']}")
        await check(engines, tenant, kid, mail, sms, "Повтор")

        # 4. Telegram, paced by the bot
        if telegram_chats:
            async with tenant_transaction(engines, tenant) as conn:
                from aquabill.platform.secret_box import SecretBox

                await conn.execute(text("INSERT INTO bot_settings(channel, token_sealed, enabled, username) "
                                        "VALUES ('telegram', :t, true, 'bench_bot')"),
                                   {"t": SecretBox(SECRET).seal(BOT_TOKEN)})
            house = (n + 99) // 100 + 1
            tid, _ = await new_campaign(engines, tenant, "Телеграм", ["telegram"], {"house_ids": [house]})
            tg = await child_result(child(["run", str(tid), "120"], env))
            print(f"Telegram: {tg['sent']:,} notices in {tg['seconds']:.1f} s = {tg['sent'] / tg['seconds']:.0f} msg/s "
                  f"(the bot's pacing: about 30 a second); received by the fake: {len(telegram.sent(BOT_TOKEN))}")
    finally:
        await telegram.stop()
        sms.stop_thread()
        smtp.stop()
        await engines.dispose()
        if local_redis is not None:
            local_redis.stop()
        await server.stop()


async def check(engines, tenant, campaign_id: int, mail: MailCounter, sms: FakeSmsGateway, marker: str) -> None:
    """What the peers received against the deliveries table."""
    rows = await deliveries(engines, tenant, campaign_id)
    sms_got = Counter(m.phone for m in sms.messages if f"[{marker}]" in m.text)
    async with tenant_transaction(engines, tenant) as conn:
        inbox_got = Counter(r.dedupe_key for r in await conn.execute(text(
            "SELECT dedupe_key FROM subscriber_inbox WHERE dedupe_key LIKE :k"), {"k": f"{campaign_id}:%"}))

    def received(r) -> int:
        key = f"{campaign_id}:{r.recipient_id}:{r.channel}"
        if r.channel == "email":
            return mail.ids[message_id(SLUG, key, MAIL_FROM)]
        if r.channel == "sms":
            return sms_got[r.address.lstrip("+")]
        return inbox_got[key]

    statuses = Counter(r.status for r in rows)
    ok = [r for r in rows if r.status in ("sent", "delivered")]
    lost = sum(1 for r in ok if received(r) == 0)
    duplicated = sum(1 for r in rows if received(r) > 1)
    unknown = [r for r in rows if r.status == "unknown"]
    arrived = sum(1 for r in unknown if received(r) > 0)
    open_ = statuses["pending"] + statuses["sending"]
    print(f"  deliveries {len(rows):,}: {dict(statuses)}")
    print(f"  lost = {lost}, duplicated = {duplicated}, still open = {open_}; "
          f"unknown (for review) = {len(unknown)}, of which the peer did receive {arrived}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        asyncio.run(run_child(sys.argv[2:]))
        sys.exit(0)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--recipients", type=int, default=100_000)
    p.add_argument("--kill-at", type=float, default=0.4)
    p.add_argument("--telegram", type=int, default=150)
    a = p.parse_args()
    asyncio.run(main(a.recipients, a.kill_at, a.telegram))
