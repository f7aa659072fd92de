"""A small town for the notification center's tests, a clock the tests drive, and an in-test peer of the
`Sender` port that records what it got (a fake of the port for the runner's own logic; the real senders are
tested in test_senders_*.py and end to end in test_campaign_e2e.py).

The town (today = the day the tests run):
  street 1 «Речная»: house 1 (accounts 1–4), house 2 (accounts 5–7); street 2 «Лесная»: house 3 (accounts 8–10);
  account 11 in house 3 is closed.
  1  own e-mail and phone; 3 months unpaid (3 × 500.00): debt 1 500.00 over 3 months; a meter due in 10 days
  2  own phone; charged 500.00 and paid: no debt
  3  nothing of its own; subscriber 1 linked (confirmed e-mail s1@mail.example, Telegram chat 7001 with notices on)
  4  nothing: unreachable
  5  e-mail «нет» (not an address); 2 × 1 000.00 charged, 1 000.00 paid: debt 1 000.00 over 1 month
  6  own e-mail; a meter due in 100 days
  7  subscriber 2 linked: unconfirmed e-mail, Telegram chat 7002 with notices off; a removed meter due in 5 days
  8–10 own phones (house 3; request 1 is about house 3)
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text

from aquabill.billing_core.payments.allocation import allocate_all
from aquabill.notifications.ports import Delivery, Outgoing

TODAY = date.today()


async def town(conn, tenant=None) -> None:
    for sql in (
        "INSERT INTO settlements(kind, name) VALUES ('г.', 'Тестовск')",
        "INSERT INTO streets(settlement_id, kind, name) VALUES (1, 'ул.', 'Речная'), (1, 'ул.', 'Лесная')",
        "INSERT INTO houses(street_id, number, improvement) VALUES (1, '1', 'full'), (1, '3', 'full'), (2, '5', 'full')",
        "INSERT INTO premises(house_id, number, area_m2) SELECT CASE WHEN n <= 4 THEN 1 WHEN n <= 7 THEN 2 ELSE 3 END, "
        "n::text, 40 FROM generate_series(1, 11) n",
        "INSERT INTO accounts(number, premise_id, holder, opened_on) "
        "SELECT lpad(n::text, 8, '0'), n, 'Абонент ' || n, DATE '2020-01-01' FROM generate_series(1, 11) n",
        "UPDATE accounts SET status = 'closed', closed_on = DATE '2023-01-01' WHERE id = 11",
        "UPDATE accounts SET email = 'A1@Mail.example ', phone = '8 (916) 000-00-01' WHERE id = 1",
        "UPDATE accounts SET phone = '+7 916 000-00-02' WHERE id = 2",
        "UPDATE accounts SET email = 'нет' WHERE id = 5",
        "UPDATE accounts SET email = 'a6@mail.example' WHERE id = 6",
        "UPDATE accounts SET phone = '8916000000' || (id - 8) WHERE id BETWEEN 8 AND 10",
        "INSERT INTO subscribers(id, email, email_confirmed_at, full_name) VALUES "
        "(1, 's1@mail.example', now(), 'Подписчик 1'), (2, 's2@mail.example', NULL, 'Подписчик 2')",
        "INSERT INTO subscriber_links(subscriber_id, account_id) VALUES (1, 3), (2, 7)",
        "INSERT INTO bot_chats(channel, chat_key, subscriber_id, notify) VALUES ('telegram', '7001', 1, true), "
        "('telegram', '7002', 2, false)",
        "INSERT INTO requests(kind, house_id, description) VALUES ('planned', 3, 'Замена задвижки')",
    ):
        await conn.execute(text(sql))
    charge = ("INSERT INTO charges(account_id, service_id, period, method, volume, tariff, amount) "
              "SELECT :a, id, :p, 'norm', 1, :x, :x FROM services WHERE code = 'cold_water'")
    for account, month, amount in ((1, 1, 500), (1, 2, 500), (1, 3, 500), (2, 1, 500), (5, 1, 1000), (5, 2, 1000)):
        await conn.execute(text(charge), {"a": account, "p": date(2024, month, 1), "x": amount})
    payment = ("INSERT INTO payments(agent_id, source, paid_on, amount, account_id, status) "
               "SELECT id, 'manual', DATE '2024-03-10', :x, :a, 'identified' FROM payment_agents WHERE code = 'manual'")
    for account, amount in ((2, 500), (5, 1000)):
        await conn.execute(text(payment), {"a": account, "x": amount})
    await allocate_all(conn)
    meter = ("INSERT INTO meters(account_id, service_id, serial, digits, installed_on, verified_until, removed_on) "
             "SELECT :a, id, :s, 5, DATE '2020-01-10', :v, :r FROM services WHERE code = 'cold_water'")
    for account, serial, days, removed in ((1, "M1", 10, None), (6, "M6", 100, None), (7, "M7", 5, date(2023, 1, 1))):
        await conn.execute(text(meter), {"a": account, "s": serial, "v": TODAY + timedelta(days=days), "r": removed})


async def crowd(conn, tenant=None, n: int = 60) -> None:
    """n accounts in one house, each with its own phone and e-mail."""
    await conn.execute(text("INSERT INTO settlements(kind, name) VALUES ('г.', 'Тестовск')"))
    await conn.execute(text("INSERT INTO streets(settlement_id, kind, name) VALUES (1, 'ул.', 'Речная')"))
    await conn.execute(text("INSERT INTO houses(street_id, number) VALUES (1, '1')"))
    await conn.execute(text("INSERT INTO premises(house_id, number) SELECT 1, n::text FROM generate_series(1, :n) n"),
                       {"n": n})
    await conn.execute(text(
        "INSERT INTO accounts(number, premise_id, holder, opened_on, phone, email) "
        "SELECT lpad(n::text, 8, '0'), n, 'Жилец ' || n, DATE '2020-01-01', '+7916' || lpad(n::text, 7, '0'), "
        "'c' || n || '@mail.example' FROM generate_series(1, :n) n"), {"n": n})


class FakeClock:
    """Time that moves only when the runner waits on it (a rate limit, an idle pause)."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.t = 0.0

    def monotonic(self) -> float:
        return self.t

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)  # what was started before the wait runs at the time it was started
        self.t += max(seconds, 0.0)
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self.t += seconds


def moscow(hour: int, minute: int = 0, day: date | None = None) -> datetime:
    """An aware UTC moment at hour:minute Moscow time (UTC+3, no DST)."""
    d = day or date(2025, 3, 12)
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=UTC) - timedelta(hours=3)


@dataclass
class RecordingSender:
    """The peer of one channel: keeps every message it got; answers by address (`answers`), else 'sent'.
    `idempotent` peers keep one message per key, as the portal inbox does. `gate`: each send waits for it after
    the message has been received (a worker killed mid-send)."""

    channel: str
    clock: FakeClock | None = None
    answers: dict[str, Delivery] = field(default_factory=dict)
    idempotent: bool = False
    gate: asyncio.Event | None = None
    got: list[Outgoing] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    flaky: dict[str, int] = field(default_factory=dict)  # address → transient failures before it works
    reached: asyncio.Event = field(default_factory=asyncio.Event)  # set once `reach` messages arrived
    reach: int = 0

    async def send(self, message: Outgoing) -> Delivery:
        if self.flaky.get(message.address, 0) > 0:
            self.flaky[message.address] -= 1
            return Delivery("failed", detail="временно недоступен", retry=True)
        if not (self.idempotent and any(m.key == message.key for m in self.got)):
            self.got.append(message)
            self.times.append(self.clock.monotonic() if self.clock else 0.0)
            if self.reach and len(self.got) >= self.reach:
                self.reached.set()
        if self.gate is not None:
            await self.gate.wait()
        return self.answers.get(message.address, Delivery("sent", external_id=f"x-{message.key}"))

    async def close(self) -> None:
        pass

    def keys(self) -> list[str]:
        return [m.key for m in self.got]
