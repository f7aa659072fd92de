"""Opt-outs (`notification_optouts`): an account or an address that does not want notices, on one channel or on
all of them. Addresses are kept in the form the audience query compares: e-mail lower-case, a phone as
+7XXXXXXXXXX (billing_core/registry/phones.py), a messenger chat as given. Recorded by staff (audited); the
bots' own «stop» is `bot_chats.notify` and needs no row here."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.billing_core.registry.phones import normalise_phone
from aquabill.notifications.ports import CHANNELS

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_address(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise Invalid("Укажите лицевой счёт или адрес", field="address")
    if "@" in value:
        if not EMAIL.match(value) or len(value) > 254:
            raise Invalid("Неверный адрес электронной почты", field="address")
        return value.lower()
    phone = normalise_phone(value)
    if phone is not None:
        return phone
    if re.fullmatch(r"-?\d{1,20}|[\w.-]{1,64}", value):
        return value  # a messenger chat
    raise Invalid("Адрес: эл. почта, телефон или номер чата", field="address")


async def add_optout(conn: AsyncConnection, *, account_id: int | None, address: str | None, channel: str | None,
                     reason: str, user_id: int | None) -> dict[str, Any]:
    if (account_id is None) == (address is None or not address.strip()):
        raise Invalid("Укажите либо лицевой счёт, либо адрес", field="address")
    if channel is not None and channel not in CHANNELS:
        raise Invalid("Неизвестный канал", field="channel")
    if account_id is not None and (await conn.execute(text("SELECT 1 FROM accounts WHERE id = :a"),
                                                      {"a": account_id})).first() is None:
        raise NotFound("Лицевой счёт не найден", field="account_id")
    value = None if address is None or not address.strip() else normalise_address(address)
    row = (await conn.execute(text(
        "INSERT INTO notification_optouts(account_id, address, channel, reason, created_by) "
        "VALUES (:a, :addr, :ch, :r, :u) ON CONFLICT DO NOTHING RETURNING id"),
        {"a": account_id, "addr": value, "ch": channel, "r": reason.strip()[:200], "u": user_id})).first()
    if row is None:
        raise Conflict("Такой отказ уже записан")
    return {"id": row.id, "account_id": account_id, "address": value, "channel": channel}


async def remove_optout(conn: AsyncConnection, optout_id: int) -> None:
    if (await conn.execute(text("DELETE FROM notification_optouts WHERE id = :i RETURNING id"),
                           {"i": optout_id})).first() is None:
        raise NotFound("Отказ не найден")


async def list_optouts(conn: AsyncConnection, *, limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
    rows = await conn.execute(text(
        "SELECT o.id, o.account_id, a.number AS account_number, o.address, o.channel, o.reason, o.created_at "
        "FROM notification_optouts o LEFT JOIN accounts a ON a.id = o.account_id "
        "ORDER BY o.created_at DESC, o.id DESC LIMIT :l OFFSET :o"), {"l": limit, "o": offset})
    total = (await conn.execute(text("SELECT count(*) FROM notification_optouts"))).scalar_one()
    return [dict(r._mapping) for r in rows], total
