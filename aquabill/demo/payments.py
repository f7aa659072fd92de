"""Payments of the demo tenant: the payee's requisites (plainly demo values), a bank agent and three of its
payment registries of this month imported through the real path (`channels.bank_files.importer`), each
recorded as a finished «Загрузка файла платежей» job; the last registry has lines with account numbers the
town does not have, which become unidentified payments. Deterministic for a given `today` and seed."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.money import money
from aquabill.billing_core.payments import store as payments_store
from aquabill.billing_core.periods import Period
from aquabill.billing_core.receipts import load_requisites, save_requisites
from aquabill.channels.bank_files.importer import import_payment_file
from aquabill.platform.jobs import store as jobs

AGENT = {"code": "sber", "name": "ПАО Сбербанк (демо-договор)", "kind": "bank", "inn": "7707083893",
         "contract": "Договор приёма платежей № 12-ДЕМО от 01.02.2024", "commission_percent": Decimal("1.0"),
         "file_format": "sberbank", "file_layout": {}, "active": True}
# made-up requisites whose control digits are right (an UPD to organisations checks the INN, KPP and account keys)
REQUISITES = {"name": "МУП «Водоканал г. Приозёрска» (демо)", "personal_acc": "40702810947000012345",
              "bank_name": "Орловское отделение № 8595 ПАО Сбербанк", "bic": "045402601",
              "corresp_acc": "30101810300000000601",
              "inn": "5753000016", "kpp": "575301001", "address": "г. Приозёрск, ул. Ленина, д. 1 (демо-адрес)",
              "phone": "+7 (800) 000-00-00", "email": "demo@example.ru"}
FILES = (6, 3, 1)  # days before today (within this month) of the three registries
LINES_PER_FILE = 12
STRANGERS = ("00099901", "00099902")  # account numbers nobody has: unidentified payments
PAYMENTS_JOB = ("payments.file", "Загрузка файла платежей")  # the kind and title of platform.jobs.payments_file


async def seed_requisites(conn: AsyncConnection) -> bool:
    """The payee's requisites, unless the tenant has its own already."""
    if await load_requisites(conn) is not None:
        return False
    await save_requisites(conn, REQUISITES)
    return True


async def _bills(conn: AsyncConnection, period: Period) -> list[Any]:
    """(number, holder, charged) of the accounts billed in `period` (what their owners would pay)."""
    return (await conn.execute(text(
        "SELECT a.number, a.holder, sum(c.amount) AS charged FROM charges c JOIN accounts a ON a.id = c.account_id "
        "WHERE c.period = :p GROUP BY a.id, a.number, a.holder HAVING sum(c.amount) > 0 ORDER BY a.id"),
        {"p": period.first_day})).all()


def registry_file(paid_on: date, file_no: int, lines: list[tuple[str, str, Decimal]], billed: Period) -> bytes:
    """A registry in the agent's default layout (`channels/bank_files/sberbank_layout.py`): one line per payment
    and the trailer with their count, sum and commission."""
    out, total, commission = [], Decimal(0), Decimal(0)
    for n, (number, payer, amount) in enumerate(lines, 1):
        fee = money(amount * AGENT["commission_percent"] / 100)
        out.append(f"{paid_on:%d-%m-%Y};{9 + n % 8:02d}:{(7 * n) % 60:02d}:{(13 * n) % 60:02d};8638/0{120 + file_no};"
                   f"КАССИР-{file_no}{n % 3};{paid_on:%y%m%d}{file_no:02d}{n:04d};{number};{payer};{billed.first_day:%m%y};"
                   f"{amount};{fee}")
        total, commission = total + amount, commission + fee
    out.append(f"={len(lines)};{total};{commission}")
    return ("\r\n".join(out) + "\r\n").encode("utf-8")


async def seed_bank_files(conn: AsyncConnection, *, today: date, user_id: int | None, seed: int = 11) -> int:
    """The agent and its registries of this month, through the importer; nothing when the agent has files."""
    await payments_store.insert_agent(conn, AGENT)
    agent = await payments_store.get_agent(conn, code=AGENT["code"])
    assert agent is not None
    if (await conn.execute(text("SELECT EXISTS (SELECT 1 FROM payment_files WHERE agent_id = :a)"),
                           {"a": agent["id"]})).scalar_one():
        return 0
    current = Period.of(today)
    bills = await _bills(conn, current.prev())
    if not bills:
        return 0
    rng = random.Random(seed)
    chosen = rng.sample(bills, k=min(len(bills), LINES_PER_FILE * len(FILES)))
    imported = 0
    for file_no, back in enumerate(FILES, 1):
        paid_on = max(today - timedelta(days=back), current.first_day)
        part = chosen[(file_no - 1) * LINES_PER_FILE:file_no * LINES_PER_FILE]
        lines = [(b.number, b.holder, money(Decimal(b.charged) * Decimal(rng.choice(("1", "1", "1", "0.5", "2")))))
                 for b in part]
        if file_no == len(FILES):
            lines += [(s, "Плательщик не указан", Decimal(f"{rng.randint(300, 2500)}.00")) for s in STRANGERS]
        if not lines:
            continue
        name = f"sber_{paid_on:%Y%m%d}_{file_no}.txt"
        job_id = await jobs.create(conn, PAYMENTS_JOB[0], PAYMENTS_JOB[1], {"agent": AGENT["code"], "file_name": name},
                                   user_id)
        await jobs.mark_running(conn, job_id)
        report = await import_payment_file(conn, AGENT["code"], registry_file(paid_on, file_no, lines, current.prev()),
                                           file_name=name, user_id=user_id)
        await jobs.finish(conn, job_id, result={k: str(v) if k == "amount" else v
                                                for k, v in report.as_dict(max_errors=100).items()})
        imported += 1
    return imported
