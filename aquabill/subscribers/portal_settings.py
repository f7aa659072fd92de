"""The subscriber's own settings: paperless receipts (by e-mail: needs a confirmed address) and the
preferred channel for notices (one the subscriber can actually be reached by)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid, NotFound
from aquabill.subscribers.links import linked_accounts
from aquabill.subscribers.receipt_choice import set_paperless

CHANNELS = {"portal": "Личный кабинет", "email": "Электронная почта", "sms": "SMS", "telegram": "Telegram",
            "max": "MAX"}
# why a channel cannot be chosen yet
UNREACHABLE = {"email": "Подтвердите адрес электронной почты, чтобы получать уведомления на неё",
               "sms": "Подтвердите номер телефона, чтобы получать SMS",
               "telegram": "Напишите нашему боту в Telegram, чтобы получать уведомления там",
               "max": "Напишите нашему боту в MAX, чтобы получать уведомления там"}
PAPERLESS_NEEDS_EMAIL = ("Квитанции приходят на электронную почту: сначала укажите и подтвердите адрес "
                         "электронной почты")


async def subscriber_settings(conn: AsyncConnection, subscriber_id: int) -> dict[str, Any]:
    """`full_name`, `email`, `email_confirmed`, `phone`, `phone_confirmed`, `paperless`, `preferred_channel`,
    and `channels`: each channel offered (a messenger only when the tenant's bot there is on) with `code`,
    `name`, `available` and, when not, `hint` (how to make it so)."""
    row = (await conn.execute(text(
        "SELECT s.full_name, s.email, s.email_confirmed_at IS NOT NULL AS email_confirmed, s.phone, "
        "s.phone_confirmed_at IS NOT NULL AS phone_confirmed, s.paperless, s.preferred_channel, "
        "ARRAY(SELECT DISTINCT channel FROM bot_chats WHERE subscriber_id = s.id) AS messengers, "
        "ARRAY(SELECT channel FROM bot_settings WHERE enabled) AS bots "
        "FROM subscribers s WHERE s.id = :s"), {"s": subscriber_id})).first()
    if row is None:
        raise NotFound("Абонент не найден")
    reachable = {"portal", *row.messengers}
    if row.email and row.email_confirmed:
        reachable.add("email")
    if row.phone and row.phone_confirmed:
        reachable.add("sms")
    offered = {"portal", "email", "sms", *row.bots, *row.messengers}  # a messenger: when the tenant has its bot
    channels = [{"code": c, "name": n, "available": c in reachable, "hint": "" if c in reachable else UNREACHABLE[c]}
                for c, n in CHANNELS.items() if c in offered or c == row.preferred_channel]
    return {"full_name": row.full_name, "email": row.email, "email_confirmed": row.email_confirmed,
            "phone": row.phone, "phone_confirmed": row.phone_confirmed, "paperless": row.paperless,
            "preferred_channel": row.preferred_channel, "channels": channels}


async def save_settings(conn: AsyncConnection, subscriber_id: int, *, paperless: bool,
                        preferred_channel: str) -> dict[str, Any]:
    """Change both settings: refused with the reason when paperless receipts have no confirmed e-mail or a
    newly chosen channel cannot reach the subscriber (the channel already chosen may stay). Turning paperless
    receipts on or off applies to every linked account (`receipt_choice.set_paperless`: the account's
    `receipt_delivery`, which the mailing reads); `/my/settings/receipts` sets them one by one."""
    current = await subscriber_settings(conn, subscriber_id)
    channel = next((c for c in current["channels"] if c["code"] == preferred_channel), None)
    if channel is None:
        raise Invalid("Выберите способ связи из списка", field="preferred_channel")
    if not channel["available"] and preferred_channel != current["preferred_channel"]:
        raise Invalid(channel["hint"], field="preferred_channel")
    if paperless and not (current["email"] and current["email_confirmed"]):
        raise Invalid(PAPERLESS_NEEDS_EMAIL, field="paperless")
    await conn.execute(text(
        "UPDATE subscribers SET paperless = :p, preferred_channel = :c WHERE id = :s "
        "AND (paperless, preferred_channel) IS DISTINCT FROM (:p, :c)"),
        {"p": paperless, "c": preferred_channel, "s": subscriber_id})
    if paperless != current["paperless"]:  # the switch for all the subscriber's accounts at once
        for account in await linked_accounts(conn, subscriber_id):
            await set_paperless(conn, subscriber_id, account["id"], paperless)
    return await subscriber_settings(conn, subscriber_id)
