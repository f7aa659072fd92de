"""Demo appeals and telephonograms for `make run`: two months of appeals of every kind and source on the
demo town's accounts (some answered or closed), an outage in force today for one house and a past one for
a whole street. Deterministic for a seed."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.contact_center.appeals.service import create_appeal

MOSCOW = ZoneInfo("Europe/Moscow")
SUBJECTS = {
    "complaint": ["Нет холодной воды", "Слабый напор воды", "Ржавая вода из крана", "Неверное начисление"],
    "application": ["Замена счётчика", "Перерасчёт за отсутствие", "Опломбировка счётчика"],
    "consultation": ["Вопрос по тарифу", "Как передать показания", "Срок поверки счётчика"],
    "emergency": ["Течь в подвале", "Прорыв трубы во дворе", "Открыт колодец"],
    "readings": ["Показания счётчиков"],
    "other": ["Благодарность бригаде"],
}
SOURCES = ["phone", "phone", "phone", "email", "visit", "portal", "bot", "letter"]


async def seed_appeals(conn: AsyncConnection, *, today: date, count: int = 40, seed: int = 7) -> int:
    rng = random.Random(seed)
    accounts = (await conn.execute(text(
        "SELECT a.id FROM accounts a ORDER BY a.id"))).scalars().all()
    kinds = dict((await conn.execute(text("SELECT code, id FROM appeal_kinds"))).all())
    operator = (await conn.execute(text("SELECT min(id) FROM users"))).scalar()
    if not accounts or not kinds:
        return 0
    for i in range(count):
        kind = rng.choice(list(SUBJECTS))
        received = datetime.combine(today - timedelta(days=rng.randint(0, 60)), time(8 + rng.randint(0, 9),
                                                                                    rng.randint(0, 59)), MOSCOW)
        status = rng.choice(["new", "in_work", "answered", "closed"]) if i > 5 else "new"
        await create_appeal(conn, {
            "kind": kind, "source": rng.choice(SOURCES), "received_at": received,
            "account_id": rng.choice(accounts), "subject": rng.choice(SUBJECTS[kind]),
            "text": "Прошу принять меры.", "status": status,
            "result": "Разъяснено по телефону" if status in ("answered", "closed") else "",
            "operator_id": operator if status != "new" else None,
        }, user_id=operator)
    house, street = (await conn.execute(text(
        "SELECT h.id, h.street_id FROM houses h ORDER BY h.id LIMIT 1"))).one()
    now = datetime.combine(today, time(0), MOSCOW)
    await conn.execute(text(
        "INSERT INTO telephonograms(number, from_org, kind, text, valid_from, valid_to) VALUES "
        "('ТФ-12', 'АО «Теплоснабжение»', 'planned', 'Отключение горячей воды: гидравлические испытания', "
        ":f1, :t1), ('ТФ-9', 'Электросети', 'emergency', 'Авария на подстанции: насосная станция без питания', "
        ":f2, :t2)"), {"f1": now - timedelta(days=1), "t1": now + timedelta(days=2),
                       "f2": now - timedelta(days=20), "t2": now - timedelta(days=19)})
    await conn.execute(text(
        "INSERT INTO telephonogram_addresses(telephonogram_id, house_id, street_id) "
        "SELECT id, CASE WHEN number = 'ТФ-12' THEN CAST(:h AS int) END, "
        "CASE WHEN number = 'ТФ-9' THEN CAST(:s AS int) END FROM telephonograms WHERE number IN ('ТФ-12', 'ТФ-9')"),
        {"h": house, "s": street})
    return count
