"""The tenant's sending rules (`notification_settings`, one row; absent: the defaults below): quiet hours in the
tenant's time zone, the price of one SMS part, and how fast each channel may send.

Quiet hours: nothing but the portal inbox (it wakes nobody) is sent between `quiet_from` and `quiet_to` local
time (default 21:00–09:00, Europe/Moscow); a window whose start is after its end runs over midnight, equal
ends mean no quiet hours. `quiet_until(now)` says when a running campaign may go on.

Rates: messages per second per channel (default e-mail 50, SMS 20, Telegram 25, MAX 25 — Telegram's own
limit for bulk notices is about 30 a second; the portal inbox is not limited), autocall is limited by
concurrent calls (2) instead. A campaign takes a copy of the rates when it is created and may lower or raise
them for itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid
from aquabill.notifications.ports import CHANNELS

DEFAULT_RATES: dict[str, int] = {"email": 50, "sms": 20, "telegram": 25, "max": 25, "autocall": 2, "inbox": 0}
CONCURRENT = frozenset({"autocall"})  # the rate is concurrent calls, not messages per second
UNLIMITED = 0  # a rate of 0: not limited
MAX_RATE = 10_000
QUIET_EXEMPT = frozenset({"inbox"})
DEFAULT_SMS_PRICE = Decimal("3.50")


@dataclass(frozen=True, slots=True)
class SendingRules:
    quiet_from: time = time(21, 0)
    quiet_to: time = time(9, 0)
    timezone: str = "Europe/Moscow"
    sms_price: Decimal = DEFAULT_SMS_PRICE
    rates: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_RATES))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def quiet_until(self, now: datetime) -> datetime | None:
        """The end of the quiet hours `now` (aware) falls in, as an aware UTC datetime; None outside them."""
        if self.quiet_from == self.quiet_to:
            return None
        local = now.astimezone(self.zone)
        t = local.time().replace(tzinfo=None)
        if self.quiet_from < self.quiet_to:
            quiet = self.quiet_from <= t < self.quiet_to
        else:
            quiet = t >= self.quiet_from or t < self.quiet_to
        if not quiet:
            return None
        end_day = local.date() if t < self.quiet_to else local.date() + timedelta(days=1)
        end = datetime.combine(end_day, self.quiet_to, tzinfo=self.zone)
        return end.astimezone(ZoneInfo("UTC"))

    def as_dict(self) -> dict[str, Any]:
        return {"quiet_from": self.quiet_from.strftime("%H:%M"), "quiet_to": self.quiet_to.strftime("%H:%M"),
                "timezone": self.timezone, "sms_price": str(self.sms_price), "rates": dict(self.rates)}


def check_rates(raw: Any, base: dict[str, int] | None = None) -> dict[str, int]:
    """Rates from input over `base` (the defaults): channel → a whole number 0..10000 (0: not limited; autocall:
    1..10 calls at once)."""
    rates = dict(base or DEFAULT_RATES)
    if raw is None:
        return rates
    if not isinstance(raw, dict):
        raise Invalid("Скорости отправки: ожидается канал → сообщений в секунду", field="rates")
    for channel, value in raw.items():
        if channel not in CHANNELS:
            raise Invalid(f"Неизвестный канал: {str(channel)[:20]}", field="rates")
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise Invalid(f"Скорость канала {channel}: ожидается целое число", field="rates")
        try:
            number = int(value)
        except ValueError as exc:
            raise Invalid(f"Скорость канала {channel}: ожидается целое число", field="rates") from exc
        if channel in CONCURRENT and not 1 <= number <= 10:
            raise Invalid("Автообзвон: одновременных звонков — от 1 до 10", field="rates")
        if not 0 <= number <= MAX_RATE:
            raise Invalid(f"Скорость канала {channel}: от 0 (без ограничения) до {MAX_RATE} в секунду", field="rates")
        rates[channel] = number
    return rates


def _time(raw: Any, name: str) -> time:
    try:
        return time.fromisoformat(str(raw)[:5]) if not isinstance(raw, time) else raw
    except ValueError as exc:
        raise Invalid("Время: ожидается ЧЧ:ММ, например 21:00", field=name) from exc


def check_rules(raw: dict[str, Any]) -> SendingRules:
    """Rules from input; unknown time zones, prices and rates are refused with a Russian message."""
    zone = str(raw.get("timezone") or "Europe/Moscow").strip()
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(f"Неизвестный часовой пояс: {zone[:64]}", field="timezone") from exc
    try:
        price = Decimal(str(raw.get("sms_price", DEFAULT_SMS_PRICE)).replace(",", ".").strip())
    except InvalidOperation as exc:
        raise Invalid("Цена SMS: ожидается сумма, например 3,50", field="sms_price") from exc
    if not price.is_finite() or not Decimal(0) <= price < Decimal(10_000):
        raise Invalid("Цена SMS: от 0 до 9 999,99 ₽", field="sms_price")
    return SendingRules(_time(raw.get("quiet_from", "21:00"), "quiet_from"), _time(raw.get("quiet_to", "09:00"),
                        "quiet_to"), zone, price.quantize(Decimal("0.01")), check_rates(raw.get("rates")))


async def load_rules(conn: AsyncConnection) -> SendingRules:
    row = (await conn.execute(text(
        "SELECT quiet_from, quiet_to, timezone, sms_price, rates FROM notification_settings WHERE id = 1"))).first()
    if row is None:
        return SendingRules()
    try:
        ZoneInfo(row.timezone)
        zone = row.timezone
    except (ZoneInfoNotFoundError, ValueError):
        zone = "Europe/Moscow"
    rates = {**DEFAULT_RATES, **{k: int(v) for k, v in (row.rates or {}).items()
                                 if k in CHANNELS and isinstance(v, int)}}
    return SendingRules(row.quiet_from, row.quiet_to, zone, Decimal(row.sms_price), rates)


async def save_rules(conn: AsyncConnection, rules: SendingRules, user_id: int | None) -> SendingRules:
    await conn.execute(text(
        "INSERT INTO notification_settings(id, quiet_from, quiet_to, timezone, sms_price, rates, updated_by) "
        "VALUES (1, :f, :t, :z, :p, CAST(:r AS jsonb), :u) ON CONFLICT (id) DO UPDATE SET "
        "quiet_from = EXCLUDED.quiet_from, quiet_to = EXCLUDED.quiet_to, timezone = EXCLUDED.timezone, "
        "sms_price = EXCLUDED.sms_price, rates = EXCLUDED.rates, updated_by = EXCLUDED.updated_by, updated_at = now()"),
        {"f": rules.quiet_from, "t": rules.quiet_to, "z": rules.timezone, "p": rules.sms_price,
         "r": json.dumps(rules.rates), "u": user_id})
    return rules
