"""The demo's cash desk: a cash point «Касса № 1» at ул. Ленина, д. 1 with its edge agent (pending until someone
enrolls a real or simulated agent for it), a cashier `kassir` / `kassir12345` (role «Кассир»), two third-party
services, and three past closed shifts with printed receipts, their payments and fiscal proof, the shifts' cash
orders and a hand-over to the bank — so /cash, /cash/shifts and /cash/book look lived-in.

Tax: the demo utility (МУП) is on the general tax system (tag 1055 = 1 ОСН) and sells water to residents
directly, so its services bear VAT at the general rate (Tax Code art. 164 p. 3): the point's `vat` is '22' and
each receipt takes the rate of its day (20 % until 31.12.2025, 22 % from 01.01.2026 — cash/vat.py). NB: the
demo's online payments (demo/subscribers.py) are set to «без НДС»; the accountant of a real tenant sets both.
Suppliers: ООО «ЭкоСервис» (INN 7707083893, a valid 10-digit INN) — вывоз ТКО, 1 % commission, at least 10 ₽;
ИП Сидоров С. С. (INN 500100732259, a valid 12-digit INN) — домофон, no commission.

Written once: nothing happens when the tenant already has a cash point of that name (the user is still ensured).
Receipts and shifts are inserted directly (no agent ran them); fiscal numbers are plausible, not real."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import DomainError
from aquabill.billing_core.payments import intake
from aquabill.cash import fiscal, orders
from aquabill.cash.dues import load_dues, split
from aquabill.cash.lines import AGENT, COMMISSION, Part, Supplier, receipt_lines, total_of
from aquabill.cash.services import commission
from aquabill.platform.auth import users as users_repo
from aquabill.platform.auth.passwords import hash_password

MOSCOW = ZoneInfo("Europe/Moscow")
POINT = ("Касса № 1", "г. Приозёрск, ул. Ленина, д. 1", "Абонентский отдел, окно 1")
CASHIER = ("kassir", "kassir12345", "Кузнецова Марина Викторовна")
FN = "7281440500149271"
SERVICES = (("tko", "Вывоз ТКО", "ООО «ЭкоСервис»", "7707083893", "+78162555010", Decimal("1"), Decimal("10")),
            ("intercom", "Домофон", "ИП Сидоров С. С.", "500100732259", "", Decimal("0"), Decimal("0")))
SHIFTS = 3
RECEIPTS_PER_SHIFT = 6


async def _cashier(conn: AsyncConnection) -> int:
    found = (await conn.execute(text("SELECT id FROM users WHERE login = :l"), {"l": CASHIER[0]})).scalar()
    if found is not None:
        return found
    return await users_repo.create_user(conn, login=CASHIER[0], full_name=CASHIER[2], email=None,
                                        password_hash=hash_password(CASHIER[1]), role_codes=["cashier"])


async def seed_cash(conn: AsyncConnection, *, now: datetime, agent_id: int | None = None, seed: int = 15) -> dict[str, int]:
    """Seed the cash desk once (see the module's docstring); `now` is aware. `agent_id`: an agent already made for
    the point (else a pending one is added)."""
    cashier_id = await _cashier(conn)
    if (await conn.execute(text("SELECT 1 FROM cash_points WHERE name = :n"), {"n": POINT[0]})).first():
        return {"points": 0, "shifts": 0, "receipts": 0}
    point_id = (await conn.execute(text(
        "INSERT INTO cash_points(name, address, place, tax_system, vat, cash_limit) "
        "VALUES (:n, :a, :pl, 1, '22', 100000) RETURNING id"), {"n": POINT[0], "a": POINT[1], "pl": POINT[2]})).scalar_one()
    if agent_id is None:
        agent_id = (await conn.execute(text(
            "INSERT INTO edge_agents(cash_point_id, name, status) VALUES (:p, 'Компьютер кассы № 1', 'pending') "
            "RETURNING id"), {"p": point_id})).scalar_one()
    service_ids = []
    for code, name, supplier, inn, phone, pct, minimum in SERVICES:
        service_ids.append((await conn.execute(text(
            "INSERT INTO cash_services(code, name, supplier_name, supplier_inn, supplier_phone, commission_percent, "
            "commission_min) VALUES (:c, :n, :s, :i, :ph, :pct, :m) ON CONFLICT (code) DO UPDATE SET code = EXCLUDED.code "
            "RETURNING id"), {"c": code, "n": name, "s": supplier, "i": inn, "ph": phone, "pct": pct, "m": minimum})
        ).scalar_one())
    rng = random.Random(seed)
    accounts = list((await conn.execute(text(
        "SELECT id, number FROM accounts WHERE status = 'open' ORDER BY id LIMIT 60"))).all())
    if not accounts:
        return {"points": 1, "shifts": 0, "receipts": 0}
    today = now.astimezone(MOSCOW).date()
    days = [today - timedelta(days=k) for k in range(SHIFTS, 0, -1)]
    fd = 1200
    made = 0
    for number, day in enumerate(days, start=41):
        fd += 1
        shift_id = (await conn.execute(text(
            "INSERT INTO cash_shifts(cash_point_id, agent_id, cashier_id, cashier_name, status, shift_number, "
            "opened_at, closed_at, opened_doc, closed_doc) VALUES (:p, :a, :u, :n, 'closed', :num, :o, :c, "
            "CAST(:od AS jsonb), CAST(:cd AS jsonb)) RETURNING id"),
            {"p": point_id, "a": agent_id, "u": cashier_id, "n": CASHIER[2], "num": number,
             "o": _at(day, 8, 30), "c": _at(day, 17, 45),
             "od": json.dumps(_doc(number, fd, rng, _at(day, 8, 30))),
             "cd": json.dumps(_doc(number, fd + RECEIPTS_PER_SHIFT + 1, rng, _at(day, 17, 45)))})).scalar_one()
        for k in range(RECEIPTS_PER_SHIFT):
            fd += 1
            at = _at(day, 9 + k, rng.randint(0, 59))
            if k == RECEIPTS_PER_SHIFT - 1:
                made += await _third_party(conn, shift_id, service_ids[0], at, fd, rng, cashier_id)
            else:
                account = accounts[rng.randrange(len(accounts))]
                made += await _sale(conn, shift_id, account, day, at, fd, rng, cashier_id,
                                    tender="card" if k % 3 == 2 else "cash")
        fd += 1
        closed = {"id": shift_id, "cash_point_id": point_id, "shift_number": number, "cashier_name": CASHIER[2]}
        await orders.shift_order(conn, closed, day)
    on_hand = await orders.cash_on_hand(conn, point_id, days[-1])
    if on_hand > 0:  # the revenue handed over to the bank at the end of the last day
        await orders.create_order(conn, kind="out", point_id=point_id, on=days[-1], amount=on_hand,
                                  basis="Сдача выручки в банк", person="ПАО Сбербанк", user_id=cashier_id)
    return {"points": 1, "shifts": len(days), "receipts": made}


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), MOSCOW).astimezone(UTC)


def _doc(number: int, fd: int, rng: random.Random, at: datetime) -> dict[str, Any]:
    return {"shift_number": number, "fd_number": fd, "fiscal_sign": rng.randint(10 ** 9, 4 * 10 ** 9),
            "fiscal_at": at.isoformat(), "fn_number": FN}


async def _insert(conn: AsyncConnection, **values: Any) -> int:
    return (await conn.execute(text(
        "INSERT INTO cash_receipts(key, shift_id, operation, status, account_id, cash_service_id, lines, total, "
        "commission, tender, given, change, card, fn_number, fd_number, fiscal_sign, fiscal_at, created_at, "
        "created_by) VALUES (:key, :shift, 'sale', 'done', :account, :service, CAST(:lines AS jsonb), :total, "
        ":commission, :tender, :given, :change, CAST(:card AS jsonb), :fn, :fd, :fp, :at, :at, :user) RETURNING id"),
        {"key": str(uuid.uuid4()), "fn": FN, "commission": Decimal("0.00"), "service": None, "account": None,
         **values})).scalar_one()


def _card(rng: random.Random, amount: Decimal) -> str:
    return json.dumps({"operation": "pay", "amount": str(amount), "rrn": f"6{rng.randint(10 ** 10, 10 ** 11 - 1)}",
                       "auth_code": f"{rng.randint(100000, 999999)}", "card_mask": f"**** {rng.randint(1000, 9999)}",
                       "terminal_id": "00012345"})


async def _sale(conn: AsyncConnection, shift_id: int, account: Any, day: date, at: datetime, fd: int,
                rng: random.Random, user_id: int, *, tender: str) -> int:
    dues = await load_dues(conn, account.id)
    amount = dues.total if dues.total > 0 else Decimal(rng.choice((500, 1000, 1500)))
    lines = receipt_lines(split(dues, amount), account_number=account.number, point_vat="22", on=day)
    total = total_of(lines)
    given = (total // 100 + 1) * 100 if tender == "cash" else None
    try:
        async with conn.begin_nested():
            payment = await intake.create_payment(conn, amount=total, paid_on=day, account_id=account.id,
                                                  agent="cash", note="Касса: демо", user_id=user_id)
    except DomainError:
        return 0  # the day's month is closed in this demo: no receipt for it
    fp = rng.randint(10 ** 9, 4 * 10 ** 9)
    receipt_id = await _insert(conn, shift=shift_id, account=account.id, lines=json.dumps(lines, ensure_ascii=False),
                               total=total, tender=tender, given=given, change=(given - total) if given else Decimal(0),
                               card=_card(rng, total) if tender == "card" else None, fd=fd, fp=fp, at=at, user=user_id)
    await conn.execute(text("UPDATE cash_receipts SET payment_id = :p WHERE id = :r"),
                       {"p": payment["id"], "r": receipt_id})
    await fiscal.record(conn, payment_ids=[payment["id"]], operation="sale", cash_receipt_id=receipt_id,
                        fn_number=FN, fd_number=fd, fiscal_sign=fp, fiscal_at=at)
    return 1


async def _third_party(conn: AsyncConnection, shift_id: int, service_id: int, at: datetime, fd: int,
                       rng: random.Random, user_id: int) -> int:
    amount = Decimal(rng.choice((320, 450, 640)))
    fee = commission(amount, Decimal("1"), Decimal("10"))
    lines = receipt_lines([Part(AGENT, amount, text=f"Вывоз ТКО, л/с {rng.randint(10000, 99999)}"),
                           Part(COMMISSION, fee, text="Комиссия за приём платежа: Вывоз ТКО")],
                          account_number="", point_vat="22", on=at.astimezone(MOSCOW).date(),
                          supplier=Supplier(SERVICES[0][2], SERVICES[0][3], SERVICES[0][4]))
    total = total_of(lines)
    await _insert(conn, shift=shift_id, service=service_id, lines=json.dumps(lines, ensure_ascii=False), total=total,
                  commission=fee, tender="cash", given=total, change=Decimal("0.00"), card=None, fd=fd,
                  fp=rng.randint(10 ** 9, 4 * 10 ** 9), at=at, user=user_id)
    return 1
