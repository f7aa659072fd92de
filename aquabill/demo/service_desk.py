"""The demo's contact center at work: calls of the last days in the call journal (through the calls store, as
the AMI ingest writes them), two divisions with executors (the admin among them, so the console's «Мои
заявки» has rows) on the tenant's own routes (t0010), and requests in every state — new and assigned, in work
(one on its second phase), overdue and escalated, done and closed (their acts noted), cancelled, one made
from an appeal — all through the requests' life-cycle functions with explicit times. Deterministic for a
given `now`."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.divisions import save_division
from aquabill.billing_core.registry.phones import accounts_by_phone, normalise_phone
from aquabill.contact_center import calls
from aquabill.contact_center.call_record import CallRecord
from aquabill.contact_center.requests import flow
from aquabill.contact_center.requests.setup import list_routes, save_executor, save_phase
from aquabill.contact_center.requests.store import Outbox
from aquabill.contact_center.requests.works import add_document
from aquabill.platform.auth import users as users_repo
from aquabill.platform.auth.passwords import hash_password

STAFF_PASSWORD = "demo12345"
STAFF = (("brigada1", "Петров Сергей Иванович"), ("brigada2", "Ковалёва Ирина Николаевна"))
CALLS = 24


async def seed_calls(conn: AsyncConnection, *, now: datetime, seed: int = 5) -> int:
    """Inbound calls of the last three days: mostly answered, some missed or abandoned, two from numbers the
    registry does not know; nothing when the journal has calls."""
    if (await conn.execute(text("SELECT EXISTS (SELECT 1 FROM calls)"))).scalar_one():
        return 0
    rng = random.Random(seed)
    phones = (await conn.execute(text(
        "SELECT phone FROM accounts WHERE phone IS NOT NULL AND phone <> '' ORDER BY id LIMIT 200"))).scalars().all()
    if not phones:
        return 0
    for n in range(1, CALLS + 1):
        caller = rng.choice(phones) if n % 11 else f"+7495{rng.randint(1000000, 9999999)}"
        started = now - timedelta(hours=rng.randint(1, 70), minutes=rng.randint(0, 59))
        wait = timedelta(seconds=rng.randint(4, 70))
        status = "answered" if n % 6 else "missed" if n % 12 else "abandoned"  # 20, 2 and 2 of 24
        extension = rng.choice(("101", "102"))
        answered = started + wait if status == "answered" else None
        ended = (answered + timedelta(seconds=rng.randint(40, 420))) if answered else started + wait
        record = CallRecord(linkedid=f"demo-{n}", uniqueid=f"demo-{n}", direction="inbound", caller=caller,
                            called="84951234567", started_at=started, queue="Q1",
                            agent_extension=extension if status != "abandoned" else None, queued_at=started,
                            answered_at=answered, ended_at=ended, status=status,
                            hangup_cause="Normal Clearing" if status == "answered" else None)
        found = await accounts_by_phone(conn, caller)
        await calls.upsert_call(conn, record, caller_normalised=normalise_phone(caller),
                                account_id=found[0]["id"] if len(found) == 1 else None)
    return CALLS


async def _staff(conn: AsyncConnection, admin_id: int) -> list[int]:
    ids = [admin_id]
    password_hash = hash_password(STAFF_PASSWORD)
    for login, name in STAFF:
        found = (await conn.execute(text("SELECT id FROM users WHERE login = :l"), {"l": login})).scalar()
        ids.append(found or await users_repo.create_user(conn, login=login, full_name=name, email=None,
                                                         password_hash=password_hash, role_codes=["operator"]))
    return ids


async def _setup(conn: AsyncConnection, admin_id: int) -> list[int]:
    """Divisions (the admin heads both: escalations reach the admin) with their houses and executors; the
    tenant's own routes (t0010) get the divisions on their first phases, planned work counts working time."""
    staff = await _staff(conn, admin_id)
    houses = (await conn.execute(text("SELECT id FROM houses ORDER BY id"))).scalars().all()
    half = len(houses) // 2
    emergency = await save_division(conn, None, {"code": "ads", "name": "Аварийно-диспетчерская служба",
                                                 "head_user_id": admin_id, "house_ids": houses[:half]})
    network = await save_division(conn, None, {"code": "seti", "name": "Участок водопроводных сетей",
                                               "head_user_id": admin_id, "house_ids": houses[half:]})
    await save_executor(conn, None, {"user_id": staff[0], "division_id": emergency["id"], "cap": 20})
    await save_executor(conn, None, {"user_id": staff[1], "division_id": emergency["id"], "cap": 10})
    await save_executor(conn, None, {"user_id": staff[2], "division_id": network["id"], "cap": 10})
    for route in await list_routes(conn):
        if route["phases"] and route["kind"] in ("emergency", "planned"):
            first = route["phases"][0]
            await save_phase(conn, first["id"], {
                "division_id": emergency["id"] if route["kind"] == "emergency" else network["id"],
                "working_time": route["kind"] == "planned"})
    return staff


async def seed_requests(conn: AsyncConnection, *, now: datetime, admin_id: int) -> int:
    """Routes, executors and requests in every state; nothing when the tenant has requests."""
    if (await conn.execute(text("SELECT EXISTS (SELECT 1 FROM requests)"))).scalar_one():
        return 0
    accounts = (await conn.execute(text("SELECT id FROM accounts ORDER BY id"))).scalars().all()
    if not accounts:
        return 0
    admin, first, second = await _setup(conn, admin_id)
    out = Outbox()  # the events are not published: nobody is connected while the demo is seeded

    async def new(kind: str, description: str, account_index: int | None, at: datetime, **extra: Any
                  ) -> dict[str, Any]:
        values = {"kind": kind, "description": description, **extra}
        if account_index is not None:
            values["account_id"] = accounts[account_index % len(accounts)]
        return await flow.create_request(conn, values, by=admin, now=at, out=out)

    async def step(request: dict[str, Any], user: int, at: datetime, *, accept: bool = True,
                   advance: int = 0) -> dict[str, Any]:
        request = await flow.assign(conn, request["id"], user, by=admin, now=at, out=out)
        if accept:
            request = await flow.accept(conn, request["id"], by=user, now=at + timedelta(minutes=7), out=out)
        for k in range(advance):
            moment = at + timedelta(hours=1 + 2 * k)
            for name in await flow.missing_documents(conn, request):
                await add_document(conn, request["id"], name=name, note="Подписан, хранится на участке", by=user,
                                   now=moment, out=out)
            request = await flow.advance(conn, request["id"], by=user, now=moment, out=out)
        return request

    # closed: a burst pipe three days ago, fixed the same day
    r = await new("emergency", "Прорыв трубы во дворе, вода идёт в подвал", 3, now - timedelta(days=3))
    r = await step(r, first, now - timedelta(days=3, minutes=-5), advance=2)
    await flow.close(conn, r["id"], by=admin, now=now - timedelta(days=2, hours=20), note="Хомут поставлен", out=out)
    # in work on its second phase, the admin's
    r = await new("emergency", "Течь стояка холодной воды в подъезде", 17, now - timedelta(hours=5))
    await step(r, admin, now - timedelta(hours=5), advance=1)
    # assigned to the admin, not accepted yet
    r = await new("emergency", "Открыт колодец на тротуаре", 29, now - timedelta(minutes=40))
    await step(r, admin, now - timedelta(minutes=35), accept=False)
    # in work past its deadline: the timers mark it overdue and escalate it to the division's head
    r = await new("emergency", "Нет холодной воды во всём доме", 41, now - timedelta(days=1, hours=2))
    await step(r, second, now - timedelta(days=1, hours=2))
    # planned, in work (working time), the admin's
    r = await new("planned", "Замена участка водопровода к дому", 53, now - timedelta(days=4))
    await step(r, admin, now - timedelta(days=4))
    # planned: new, assigned by the phase's division
    await new("planned", "Опломбировка узла учёта после ремонта", 67, now - timedelta(hours=3))
    # new: a paid service at an address outside the registry, nobody to assign it to yet
    await new("paid", "Замена счётчика холодной воды (платная услуга)", None, now - timedelta(minutes=20),
              address_text="СНТ «Рассвет», уч. 14")
    # done, waiting to be closed
    r = await new("planned", "Промывка внутридомовой сети", 79, now - timedelta(days=5))
    await step(r, second, now - timedelta(days=5), advance=1)
    # cancelled
    r = await new("planned", "Проверка давления в сети", 91, now - timedelta(days=6))
    await flow.cancel(conn, r["id"], by=admin, now=now - timedelta(days=6, hours=-2), note="Дубль заявки", out=out)
    # from an appeal (an emergency one, when there is such)
    appeal = (await conn.execute(text(
        "SELECT a.id FROM appeals a JOIN appeal_kinds k ON k.id = a.kind_id WHERE k.code = 'emergency' "
        "ORDER BY a.id LIMIT 1"))).scalar()
    if appeal is not None:
        await new("emergency", "", 5, now - timedelta(hours=1), appeal_id=appeal)
    await flow.process_timers(conn, now, out)
    return (await conn.execute(text("SELECT count(*) FROM requests"))).scalar_one()
