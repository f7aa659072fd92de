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
from aquabill.contact_center.appeals.telephonograms import insert_telephonogram

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
    """The appeals and telephonograms; nothing when the tenant has appeals already."""
    if (await conn.execute(text("SELECT EXISTS (SELECT 1 FROM appeals)"))).scalar_one():
        return 0
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
    await insert_telephonogram(conn, number="ТФ-12", from_org="АО «Теплоснабжение»", kind="planned",
                               body="Отключение горячей воды: гидравлические испытания", valid_from=now - timedelta(days=1),
                               valid_to=now + timedelta(days=2), received_at=now - timedelta(days=2),
                               house_ids=[house], street_ids=[], user_id=operator)
    await insert_telephonogram(conn, number="ТФ-9", from_org="Электросети", kind="emergency",
                               body="Авария на подстанции: насосная станция без питания",
                               valid_from=now - timedelta(days=20), valid_to=now - timedelta(days=19),
                               received_at=now - timedelta(days=20), house_ids=[], street_ids=[street],
                               user_id=operator)
    return count
