"""The demo's notification center, lived in: one house of the town is ready for an outage notice, so a person
running `make run` can compose one at /notifications/new and watch it reach the house by every channel.

The house is the one of the demo portal user's first account (abonent@demo.ru, demo/subscribers.py), so the
notice also lands in that portal inbox. In it:
- a planned contact-center request about the house (its outage, tomorrow 9:00–17:00): «Дом из заявки №»;
- e-mails on a few accounts, and fixed mobile phones on a few, which the demo PBX (demo/pbx.py) answers as
  PBX_SCRIPT says — one busy, one not answering, the others answered after a ring (the rest of the house keeps
  the phones the registry gave it: answered at once);
- the dev Telegram chat window's user (devserver/fakes/telegram_chat.py, chat 777000) as the portal user's
  chat with notices on, so a notice shows up in `/chat`; when that chat already exists (someone typed /start
  in an earlier run) its subscriber is linked to the account and its notices turned on;
- two opt-outs: one account refuses every notice, one refuses calls.
One campaign is seeded as a draft (the outage notice to that house by every channel, not started): its
statuses come only from a real run (the worker and the peers of `aquabill dev`), which the person starts
with «Запустить» on its page. Written once (when the tenant has no opt-outs, no campaigns and no
such outage request), under the lived-in seeding's advisory lock; deterministic for a given `now`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.contact_center.requests import flow
from aquabill.contact_center.requests.store import Outbox
from aquabill.demo.appeals import MOSCOW
from aquabill.demo.subscribers import DEMO_SUBSCRIBER
from aquabill.notifications.campaign_store import create_campaign
from aquabill.notifications.campaigns import check_draft
from aquabill.notifications.optouts import add_optout
from aquabill.notifications.settings import load_rules

DEV_CHAT = "777000"  # the dev Telegram chat window's user (devserver/fakes/telegram_chat.CHAT_ID)
# phones given to the house's first accounts, and how the demo PBX answers them (dialled as 8XXXXXXXXXX)
PHONES = ("+79165550101", "+79165550102", "+79165550103", "+79165550104")
PBX_SCRIPT = {"89165550102": "busy", "89165550103": "no_answer"}
PBX_RING_SECONDS = {"89165550101": 3.0, "89165550102": 2.0, "89165550103": 8.0, "89165550104": 4.0}
EMAILS = 4  # accounts of the house with an e-mail of their own
OUTAGE = "Плановое отключение холодной воды {day} с 9:00 до 17:00: замена задвижки на вводе в дом"


async def _house(conn: AsyncConnection) -> tuple[int | None, int | None]:
    """The portal user's first account's house (and that account), else the first house with ten accounts."""
    row = (await conn.execute(text(
        "SELECT p.house_id, l.account_id FROM subscribers s JOIN subscriber_links l ON l.subscriber_id = s.id "
        "JOIN accounts a ON a.id = l.account_id JOIN premises p ON p.id = a.premise_id "
        "WHERE s.email = :e AND l.revoked_at IS NULL AND a.status = 'open' ORDER BY l.account_id LIMIT 1"),
        {"e": DEMO_SUBSCRIBER[0]})).first()
    if row is not None:
        return row.house_id, row.account_id
    house = (await conn.execute(text(
        "SELECT p.house_id FROM premises p JOIN accounts a ON a.premise_id = p.id WHERE a.status = 'open' "
        "GROUP BY 1 HAVING count(*) >= 10 ORDER BY 1 LIMIT 1"))).scalar()
    return house, None


async def _telegram(conn: AsyncConnection, account_id: int) -> None:
    """The dev chat as a subscriber's chat with notices on, that subscriber linked to the account."""
    portal = (await conn.execute(text("SELECT id FROM subscribers WHERE email = :e"),
                                 {"e": DEMO_SUBSCRIBER[0]})).scalar()
    if portal is not None:
        await conn.execute(text(
            "INSERT INTO bot_chats(channel, chat_key, subscriber_id, notify, created_at, updated_at) "
            "VALUES ('telegram', :k, :s, true, now() - interval '30 days', now() - interval '2 days') "
            "ON CONFLICT (channel, chat_key) DO NOTHING"), {"k": DEV_CHAT, "s": portal})
    chat = (await conn.execute(text(
        "UPDATE bot_chats SET notify = true WHERE channel = 'telegram' AND chat_key = :k RETURNING subscriber_id"),
        {"k": DEV_CHAT})).scalar()
    if chat is not None:
        await conn.execute(text(
            "INSERT INTO subscriber_links(subscriber_id, account_id, created_via) SELECT :s, :a, 'telegram' "
            "WHERE NOT EXISTS (SELECT 1 FROM subscriber_links WHERE subscriber_id = :s AND account_id = :a "
            "AND revoked_at IS NULL)"), {"s": chat, "a": account_id})


async def seed_notifications(conn: AsyncConnection, *, now: datetime) -> int:
    """Ready one house for an outage notice (once); returns how many of its accounts were touched."""
    seeded = (await conn.execute(text(
        "SELECT EXISTS (SELECT 1 FROM notification_optouts) OR EXISTS (SELECT 1 FROM campaigns) "
        "OR EXISTS (SELECT 1 FROM requests WHERE description LIKE :o)"), {"o": OUTAGE.split("{")[0] + "%"})).scalar_one()
    if seeded:
        return 0
    house_id, portal_account = await _house(conn)
    if house_id is None:
        return 0
    others = (await conn.execute(text(
        "SELECT a.id FROM accounts a JOIN premises p ON p.id = a.premise_id "
        "WHERE p.house_id = :h AND a.status = 'open' AND NOT EXISTS (SELECT 1 FROM subscriber_links l "
        "JOIN subscribers s ON s.id = l.subscriber_id WHERE l.account_id = a.id AND s.email = :e) ORDER BY a.id"),
        {"h": house_id, "e": DEMO_SUBSCRIBER[0]})).scalars().all()  # the neighbours of the portal user
    if len(others) < len(PHONES) + 2:
        return 0
    for account_id, phone in zip(others, PHONES, strict=False):
        await conn.execute(text("UPDATE accounts SET phone = :p WHERE id = :a"), {"p": phone, "a": account_id})
    mailed = others[len(PHONES) - 2:len(PHONES) - 2 + EMAILS]  # two with a phone as well, two without
    await conn.execute(text(
        "UPDATE accounts a SET email = 'kv' || coalesce(nullif(p.number, ''), a.id::text) || '.dom' || p.house_id "
        "|| '@demo.ru' FROM premises p WHERE p.id = a.premise_id AND a.id = ANY(:ids)"), {"ids": list(mailed)})
    if portal_account is not None:
        await _telegram(conn, portal_account)
    admin = (await conn.execute(text("SELECT min(id) FROM users"))).scalar()
    await add_optout(conn, account_id=others[-1], address=None, channel=None,
                     reason="Заявление: не присылать оповещения", user_id=admin)
    await add_optout(conn, account_id=others[-2], address=None, channel="autocall",
                     reason="Просит не звонить, только сообщения", user_id=admin)
    tomorrow = (now.astimezone(MOSCOW) + timedelta(days=1)).strftime("%d.%m.%Y")
    request = await flow.create_request(conn, {"kind": "planned", "house_id": house_id,
                                               "description": OUTAGE.format(day=tomorrow)},
                                        by=admin, now=now - timedelta(hours=2), out=Outbox())
    await _draft(conn, request["id"], tomorrow, admin)
    return len(others) + (portal_account is not None)


async def _draft(conn: AsyncConnection, request_id: int, day: str, admin: int | None) -> None:
    """The outage notice to the request's house by every channel, as staff would compose it: a draft."""
    template = (await conn.execute(text(
        "SELECT id, subject, body, sound FROM notification_templates WHERE code = 'outage'"))).first()
    if template is None:
        return
    draft = check_draft({
        "title": f"Отключение воды {day}", "template_id": template.id, "subject": template.subject,
        "body": template.body, "sound": template.sound, "mode": "all",
        "channels": ["telegram", "max", "email", "sms", "autocall", "inbox"],
        "audience": {"request_id": request_id},
        "fields": {"outage_from": f"{day} 9:00", "outage_to": f"{day} 17:00",
                   "outage_text": "Замена задвижки на вводе в дом. Запаситесь водой заранее."},
    }, (await load_rules(conn)).rates)
    tenant_name = (await conn.execute(text("SELECT coalesce(max(name), '') FROM payee_requisites"))).scalar_one()
    await create_campaign(conn, draft, tenant_name=tenant_name, user_id=admin)
