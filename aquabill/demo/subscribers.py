"""The demo tenant's portal users: one subscriber who has used the portal for a while (two linked accounts, a
few notices in the inbox), so `make run` shows a lived-in personal cabinet at once; a new visitor registers
on their own. Written only when the tenant has no subscribers yet."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.platform.auth.passwords import hash_password
from aquabill.platform.secret_box import SecretBox
from aquabill.subscribers.acquiring_settings import save_acquiring

DEMO_SUBSCRIBER = ("abonent@demo.ru", "abonent12345")

INBOX = [
    ("info", "Квитанция за прошлый месяц готова",
     "Квитанция доступна в личном кабинете в разделе «Счета». Оплатить можно онлайн без комиссии."),
    ("reading", "Передайте показания счётчиков",
     "Показания принимаются с 15 по 25 число месяца. Передать их можно в личном кабинете или в чат-боте."),
    ("outage", "Плановое отключение холодной воды",
     "В связи с ремонтом сетей возможны перерывы в подаче воды с 9:00 до 17:00. Приносим извинения."),
]


async def seed_subscribers(conn: AsyncConnection) -> int:
    """A demo subscriber linked to two metered accounts of one holder's surname (once)."""
    if (await conn.execute(text("SELECT EXISTS (SELECT 1 FROM subscribers)"))).scalar_one():
        return 0
    accounts = (await conn.execute(text(
        "SELECT a.id FROM accounts a WHERE a.status = 'open' AND EXISTS "
        "(SELECT 1 FROM meters m WHERE m.account_id = a.id AND m.removed_on IS NULL) ORDER BY a.id LIMIT 2"
    ))).scalars().all()
    if not accounts:
        return 0
    # the demo takes readings all month, so a visitor can try it any day (a new tenant: the 15th to the 25th)
    await conn.execute(text("UPDATE billing_settings SET value = '[1, 31]' WHERE key = 'portal_reading_days'"))
    email, password = DEMO_SUBSCRIBER
    sid = (await conn.execute(text(
        "INSERT INTO subscribers(email, full_name, password_hash, email_confirmed_at, paperless, created_at) "
        "VALUES (:e, 'Иванова Ольга Сергеевна', :p, now() - interval '200 days', true, now() - interval '200 days') "
        "RETURNING id"), {"e": email, "p": hash_password(password)})).scalar_one()
    for account_id in accounts:
        await conn.execute(text(
            "INSERT INTO subscriber_links(subscriber_id, account_id, created_at) "
            "VALUES (:s, :a, now() - interval '200 days')"), {"s": sid, "a": account_id})
    for age, (kind, title, body) in enumerate(reversed(INBOX)):
        await conn.execute(text(
            "INSERT INTO subscriber_inbox(subscriber_id, account_id, kind, title, body, created_at, read_at) "
            "VALUES (:s, :a, :k, :t, :b, now() - make_interval(days => :d), "
            "CASE WHEN :d > 10 THEN now() END)"),
            {"s": sid, "a": accounts[0], "k": kind, "t": title, "b": body, "d": age * 9 + 1})
    return 1


async def seed_dev_acquiring(conn: AsyncConnection, secret_key: str) -> bool:
    """The demo tenant's shop at the dev server's local fake of ЮKassa (once; a tenant's own settings stay)."""
    from aquabill.devserver.fakes.yookassa import DEV_SECRET, DEV_SHOP_ID

    if (await conn.execute(text("SELECT EXISTS (SELECT 1 FROM acquiring_settings)"))).scalar_one():
        return False
    await save_acquiring(conn, shop_id=DEV_SHOP_ID, sealed_secret=SecretBox(secret_key).seal(DEV_SECRET), vat="none",
                         enabled=True)
    return True
