"""The demo organisations' last months (#16), after `organisations.seed_organisations`: tariffs of the groups
'other' and 'budget' (cold water, sewage) and of stormwater, a year of precipitation, then month by month —
the last CLOSED_MONTHS closed months and the current one — the calculation, the documents, the bank statement
(1CClientBankExchange, imported through the real import path) paying most of the previous month's bills (some
late, some in part, one overpaid: an advance invoice), the penalties of 416-FZ, and a few documents queued
for EDO.

Each step calls its owner's module (calc, issue, payments, penalties, edo) when that module exists, so the story
degrades to what exists; a step refused by the domain (a requisite missing …) is rolled back to its savepoint,
logged and listed in the result's "refused", and the story goes on (other errors are not caught). A closed month
is opened for its steps and closed again within the seeding transaction, as `demo/billing.py` closes its months
(a plain UPDATE of `periods`). The current month is calculated, its documents are left for its end (a new user
issues them). Deterministic for a given `today` and seed; a tenant that has a legal run already is left as it is
(an advisory lock serialises two seedings). The prices and the precipitation are made up (plausible for central
Russia), as are the payments.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import random
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import DomainError
from aquabill.billing_core.periods import Period
from aquabill.demo.billing import tariff_basis

log = logging.getLogger(__name__)

CLOSED_MONTHS = 3  # closed months billed before the current one (as demo/billing.py's BILLED_CLOSED_MONTHS)
YEARLY_RISE = Decimal("1.07")  # after the listed values, as demo/billing.py
# ₽ per m³ WITHOUT VAT (tariff_groups 'other' and 'budget' are set without VAT), from 1 January 2024, then from
# 1 July of each year (the yearly indexation, as the population's tariffs in demo/billing.py). Invented values, set
# by the same invented orders as the population's (`billing.tariff_basis`: one order sets every group's tariffs).
TARIFFS = {("cold_water", "other"): ("54.20", "58.10", "63.40", "68.50"),
           ("sewage", "other"): ("44.60", "47.90", "52.30", "56.40"),
           ("cold_water", "budget"): ("50.10", "53.70", "58.60", "63.30"),
           ("sewage", "budget"): ("41.20", "44.30", "48.30", "52.10"),
           ("stormwater", "other"): ("21.40", "22.90", "25.00", "26.90"),
           ("stormwater", "budget"): ("21.40", "22.90", "25.00", "26.90"),
           ("stormwater", "population"): ("21.40", "22.90", "25.00", "26.90")}
# mm a month, January … December: made up, near the climate norm of central Russia (about 600 mm a year)
PRECIPITATION = (38, 31, 33, 37, 54, 71, 82, 64, 56, 52, 46, 42)
PRECIPITATION_SOURCE = "Демо-данные (вымышленные), не сведения Росгидромета"
BANK_AGENT = {"code": "bank1c", "name": "Расчётный счёт в банке (выписки 1С)", "kind": "bank", "file_format": "1c",
              "file_layout": {}, "active": True}
PAYMENTS_JOB = ("payments.file", "Загрузка файла платежей")  # as demo/payments.py
OLD_DEMO_INN = "1234567890"  # demo/payments.py's payee INN before #16: fails the checksum an UPD needs
VALID_SELLER = {"inn": "5753000016", "kpp": "575301001", "bic": "045402601", "bank_name":
                "Орловское отделение № 8595 ПАО Сбербанк", "corresp_acc": "30101810300000000601",
                "personal_acc": "40702810947000012345"}  # made up with valid check digits (the BIC is real)
SIGNER = {"ogrn": "1025753000019", "last_name": "Соколова", "first_name": "Ирина", "middle_name": "Викторовна",
          "position": "Главный бухгалтер"}  # made up (the OGRN's check digit valid)
EDO_SENT = 5  # documents queued for EDO (to counterparties with an EDO id)
MONTHS_RU = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
             "ноябрь", "декабрь")


def optional(module: str, name: str) -> Callable[..., Any] | None:
    """`module.name`, or None while the module does not exist (its owner has not written it yet)."""
    try:
        if importlib.util.find_spec(module) is None:
            return None
    except ModuleNotFoundError:
        return None
    return getattr(importlib.import_module(module), name, None)


def tariff_rows(today: date) -> list[tuple[str, str, Decimal, date]]:
    """(service, group, price, valid_from): the listed values from 2024, then +7 % each 1 July up to today."""
    rows = []
    for (service, group), prices in TARIFFS.items():
        price = Decimal(prices[0])
        rows.append((service, group, price, date(2024, 1, 1)))
        for year in range(2024, max(2024 + len(prices) - 1, today.year + 1)):
            i = year - 2024 + 1
            price = Decimal(prices[i]) if i < len(prices) else (price * YEARLY_RISE).quantize(Decimal("0.01"))
            rows.append((service, group, price, date(year, 7, 1)))
    return rows


async def seed_legal_story(conn: AsyncConnection, *, today: date, seed: int = 16) -> dict[str, Any]:
    """Seed (once: under a transaction-level advisory lock, and nothing when a legal run exists) the
    organisations' history; returns what was done ({} when done before or there are no organisations)."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('aquabill.demo.legal_story'))"))
    if not (await conn.execute(text("SELECT EXISTS (SELECT 1 FROM contracts)"))).scalar_one():
        return {}
    if (await conn.execute(text("SELECT EXISTS (SELECT 1 FROM legal_runs)"))).scalar_one():
        return {}
    admin_id = (await conn.execute(text("SELECT min(id) FROM users"))).scalar()
    done: dict[str, Any] = {"tariffs": await _tariffs(conn, today), "precipitation": await _precipitation(conn, today)}
    await _seller(conn)
    run_month = optional("aquabill.legal_entities.calc.run", "run_month")
    if run_month is None:
        return done
    issue_month = optional("aquabill.legal_entities.issue.month", "issue_month")
    current = Period.of(today)
    months = [current]
    for _ in range(CLOSED_MONTHS):
        months.insert(0, months[0].prev())
    done.update(runs=0, payments=0)
    refused: list[str] = []

    async def step(what: str, call) -> Any:
        """A step in a savepoint: a domain refusal (a requisite missing …) is noted and the story goes on."""
        try:
            async with conn.begin_nested():
                started = time.perf_counter()
                result = await call()
                log.debug("demo legal story: %s in %.1f s", what, time.perf_counter() - started)
                return result
        except DomainError as exc:
            refused.append(f"{what}: {exc.message}")
            log.warning("demo legal story: %s refused: %s", what, exc.message)
            return None

    accrue = optional("aquabill.legal_entities.penalties", "accrue")
    for period in months:
        reopened = await _open(conn, period)
        calculated = await step(f"расчёт {period}", lambda p=period: run_month(conn, p.first_day, user_id=admin_id))
        if calculated is not None:
            done["runs"] += 1
            paid = await step(f"выписка {period}", lambda p=period: _pay(conn, seed, p, today, admin_id))
            if paid:
                done["payments"] += paid
                await step("авансы", lambda: _advances(conn, admin_id))
            if accrue is not None:
                await step(f"пени {period}", lambda p=period: accrue(conn, p.first_day, on=min(p.last_day, today),
                                                                     user_id=admin_id))
            if issue_month is not None and period != current:  # the current month is billed at its end
                await step(f"документы {period}", lambda p=period: issue_month(
                    conn, p.first_day, issued_on=p.last_day, user_id=admin_id))
        if reopened:
            await conn.execute(text("UPDATE periods SET status = 'closed' WHERE period = :p"),
                               {"p": period.first_day})
    done["edo"] = await step("ЭДО", lambda: _edo(conn, admin_id)) or 0
    if refused:
        done["refused"] = refused
    counts = (await conn.execute(text(
        "SELECT (SELECT count(*) FROM legal_charges), (SELECT count(*) FROM legal_documents), "
        "(SELECT count(*) FROM legal_documents WHERE kind = 'advance_invoice'), "
        "(SELECT count(*) FROM payments WHERE contract_id IS NOT NULL), (SELECT count(*) FROM contract_penalties)"))
    ).one()
    done.update(zip(("charges", "documents", "advance_invoices", "contract_payments", "penalties"), counts,
                    strict=True))
    return done


async def _open(conn: AsyncConnection, period: Period) -> bool:
    """Open a closed month for the story's step (True: it was closed); start it when it has no row."""
    await conn.execute(text("INSERT INTO periods(period) VALUES (:p) ON CONFLICT (period) DO NOTHING"),
                       {"p": period.first_day})
    row = (await conn.execute(text("UPDATE periods SET status = 'open' WHERE period = :p AND status = 'closed' "
                                   "RETURNING period"), {"p": period.first_day})).first()
    return row is not None


async def _tariffs(conn: AsyncConnection, today: date) -> int:
    rows = tariff_rows(today)
    result = await conn.execute(text(
        "INSERT INTO tariffs(service_id, tariff_group, price, valid_from, basis) "
        "SELECT s.id, x.grp, x.price, x.valid_from, x.basis "
        "FROM unnest(CAST(:code AS text[]), CAST(:grp AS text[]), CAST(:price AS numeric[]), "
        "CAST(:valid_from AS date[]), CAST(:basis AS text[])) AS x(code, grp, price, valid_from, basis) "
        "JOIN services s ON s.code = x.code ON CONFLICT (service_id, tariff_group, valid_from) DO NOTHING"),
        {"code": [r[0] for r in rows], "grp": [r[1] for r in rows], "price": [r[2] for r in rows],
         "valid_from": [r[3] for r in rows], "basis": [tariff_basis(r[3]) for r in rows]})
    return result.rowcount


async def _precipitation(conn: AsyncConnection, today: date) -> int:
    """The last 12 months up to the current one, the monthly norm ± 25 % (deterministic by month)."""
    months = [Period.of(today)]
    for _ in range(11):
        months.append(months[-1].prev())
    values = []
    for p in months:
        jitter = random.Random(p.year * 100 + p.month).uniform(0.75, 1.25)
        values.append(Decimal(PRECIPITATION[p.month - 1] * jitter).quantize(Decimal("0.1")))
    result = await conn.execute(text(
        "INSERT INTO stormwater_precipitation(month, mm, source) SELECT m, mm, :src "
        "FROM unnest(CAST(:months AS date[]), CAST(:mm AS numeric[])) AS x(m, mm) ON CONFLICT (month) DO NOTHING"),
        {"months": [p.first_day for p in months], "mm": values, "src": PRECIPITATION_SOURCE})
    return result.rowcount


async def _seller(conn: AsyncConnection) -> None:
    """The seller's receipt requisites must pass the checks an UPD makes: the old demo INN (and its account)
    did not; replaced here by made-up valid ones. The signer and the OGRN (`billing_settings['legal_signer']`,
    read by `issue/parties.py` and `reports/sender.py`) and the seller's EDO id (`edo_settings`, not enabled),
    unless set."""
    from aquabill.billing_core.receipts import load_requisites, save_requisites

    req = await load_requisites(conn)
    if req is None:
        return
    if req.inn == OLD_DEMO_INN:
        req = await save_requisites(conn, {**req.as_dict(), **VALID_SELLER})
    await conn.execute(text(
        "INSERT INTO billing_settings(key, value) VALUES ('legal_signer', CAST(:v AS jsonb)) ON CONFLICT (key) DO NOTHING"),
        {"v": json.dumps(SIGNER, ensure_ascii=False)})
    if req.inn:
        await conn.execute(text(
            "INSERT INTO edo_settings(operator, participant_id) VALUES ('diadoc', :p) ON CONFLICT (operator) DO "
            "UPDATE SET participant_id = EXCLUDED.participant_id WHERE edo_settings.participant_id = ''"),
            {"p": f"2BM-{req.inn}-{req.kpp}" if req.kpp else f"2BM-{req.inn}"})


# ---- the bank statement -------------------------------------------------------------------------------------------

def _plan(seed: int, bills: list[Any], period: Period, today: date, ahead: int | None) -> list[dict]:
    """The payments in `period` of the bills of the two months before it. Each bill's fate is drawn from its own
    seed (the same whichever month looks at it): about 70 % paid in full by the due day, 12 % in full but 3–25
    days late (perhaps the month after), 8 % in part, the rest not yet; the bill `ahead` is paid four times over
    (the rest is an advance). A payment dated after today waits."""
    plans = []
    for b in bills:
        rng = random.Random(seed * 1_000_003 + b.id)
        due = b.due_on or (b.issued_on + timedelta(days=10))
        roll = rng.random()
        if b.id == ahead:
            on = due - timedelta(days=2)
            amount = (b.amount * 4).quantize(Decimal("1000"), rounding=ROUND_HALF_UP) + 1000
        elif roll < 0.70:
            on, amount = due - timedelta(days=rng.randint(0, 8)), b.amount
        elif roll < 0.82:
            on, amount = due + timedelta(days=rng.randint(3, 25)), b.amount
        elif roll < 0.90:
            share = Decimal(rng.randint(40, 80)) / 100
            on, amount = due - timedelta(days=rng.randint(0, 5)), (b.amount * share).quantize(Decimal("1"))
        else:
            continue
        on = max(on, b.issued_on + timedelta(days=1))
        if period.first_day <= on <= min(period.last_day, today) and amount > 0:
            plans.append({"bill": b, "on": on, "amount": amount, "number": str(rng.randint(100, 9999))})
    return sorted(plans, key=lambda p: (p["on"], p["bill"].id))


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def statement(seller: Any, plans: list[dict], period: Period) -> bytes:
    """A 1CClientBankExchange 1.03 statement of the seller's account (windows-1251) with `plans` as incoming
    payment orders; the balances add up (opening 0)."""
    total = sum((p["amount"] for p in plans), Decimal(0))
    first, last = plans[0]["on"], plans[-1]["on"]
    head = ["1CClientBankExchange", "ВерсияФормата=1.03", "Кодировка=Windows", "Отправитель=Бухгалтерия банка",
            "Получатель=Aquabill", f"ДатаСоздания={last:%d.%m.%Y}", "ВремяСоздания=18:00:00",
            f"ДатаНачала={first:%d.%m.%Y}", f"ДатаКонца={last:%d.%m.%Y}", f"РасчСчет={seller.personal_acc}",
            "Документ=Платежное поручение", "СекцияРасчСчет", f"ДатаНачала={first:%d.%m.%Y}",
            f"ДатаКонца={last:%d.%m.%Y}", f"РасчСчет={seller.personal_acc}", "НачальныйОстаток=0.00",
            f"ВсегоПоступило={_money(total)}", "ВсегоСписано=0.00", f"КонечныйОстаток={_money(total)}",
            "КонецРасчСчет"]
    for p in plans:
        b, on = p["bill"], p["on"]
        month = Period.of(b.period)
        vat = (p["amount"] * 22 / 122).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        tax = f"В т.ч. НДС (22%) {_money(vat)}" if b.vat > 0 else "НДС не облагается"
        purpose = (f"Оплата по счёту № {b.number} от {b.issued_on:%d.%m.%Y} по договору № {b.contract_number} "
                   f"за водоснабжение и водоотведение за {MONTHS_RU[month.month - 1]} {month.year} г. {tax}")
        head += [
            "СекцияДокумент=Платежное поручение", f"Номер={p['number']}", f"Дата={on:%d.%m.%Y}",
            f"Сумма={_money(p['amount'])}", f"ПлательщикСчет={b.account}", f"ДатаСписано={on:%d.%m.%Y}",
            f"Плательщик=ИНН {b.inn} {b.name}", f"ПлательщикИНН={b.inn}", f"ПлательщикКПП={b.kpp or '0'}",
            f"Плательщик1={b.name}", f"ПлательщикРасчСчет={b.account}", f"ПлательщикБанк1={b.bank_name}",
            f"ПлательщикБИК={b.bic}", f"ПлательщикКорсчет={b.corr_account}",
            f"ПолучательСчет={seller.personal_acc}", f"ДатаПоступило={on:%d.%m.%Y}",
            f"Получатель=ИНН {seller.inn} {seller.name}", f"ПолучательИНН={seller.inn}",
            f"ПолучательКПП={seller.kpp}", f"Получатель1={seller.name}", f"ПолучательРасчСчет={seller.personal_acc}",
            f"ПолучательБанк1={seller.bank_name}", f"ПолучательБИК={seller.bic}",
            f"ПолучательКорсчет={seller.corresp_acc}", "ВидОплаты=01", "Очередность=5",
            f"НазначениеПлатежа={purpose}", "КонецДокумента"]
    head.append("КонецФайла")
    return ("\r\n".join(head) + "\r\n").encode("cp1251", errors="replace")


async def _pay(conn: AsyncConnection, seed: int, period: Period, today: date,
               user_id: int | None) -> int | None:
    """Import the month's statement paying bills of earlier months (None: the legal payments' import is not
    there yet, or there is nothing to pay)."""
    reallocate = optional("aquabill.legal_entities.payments.allocation", "reallocate")
    if reallocate is None:
        return None  # without the legal branch the payments would all go to the unidentified queue
    from aquabill.billing_core.payments import store as payments_store
    from aquabill.billing_core.receipts import load_requisites
    from aquabill.channels.bank_files.importer import import_payment_file
    from aquabill.platform.jobs import store as jobs

    seller = await load_requisites(conn)
    bills = (await conn.execute(text("""
        SELECT DISTINCT ON (d.contract_id, d.period) d.id, d.number, d.issued_on, d.due_on, d.period, d.amount, d.vat,
               k.number AS contract_number, c.inn, c.kpp, coalesce(nullif(c.short_name, ''), c.name) AS name,
               a.account, a.bic, a.bank_name, a.corr_account
        FROM legal_documents d JOIN contracts k ON k.id = d.contract_id JOIN counterparties c ON c.id = d.counterparty_id
        JOIN counterparty_bank_accounts a ON a.counterparty_id = c.id AND a.active
        WHERE d.kind IN ('bill', 'upd', 'act') AND d.status = 'issued' AND d.period IN (:prev, :before)
        ORDER BY d.contract_id, d.period, d.kind = 'bill' DESC, a.main DESC, a.id"""),
        {"prev": period.prev().first_day, "before": period.prev().prev().first_day})).all()
    if seller is None or not bills:
        return None
    # in the last closed month the smallest bill with VAT of the month before is overpaid
    taxed = [b for b in bills if b.vat > 0 and b.period == period.prev().first_day]
    ahead = min(taxed, key=lambda b: (b.amount, b.id)).id if taxed and period.next() == Period.of(today) else None
    plans = _plan(seed, list(bills), period, today, ahead)
    if not plans:
        return None
    await payments_store.insert_agent(conn, BANK_AGENT)
    name = f"kl_to_1c_{plans[-1]['on']:%Y%m%d}.txt"
    job_id = await jobs.create(conn, PAYMENTS_JOB[0], PAYMENTS_JOB[1], {"agent": BANK_AGENT["code"],
                                                                         "file_name": name}, user_id)
    await jobs.mark_running(conn, job_id)
    report = await import_payment_file(conn, BANK_AGENT["code"], statement(seller, plans, period), file_name=name,
                                       user_id=user_id)
    await jobs.finish(conn, job_id, result={k: str(v) if k == "amount" else v
                                            for k, v in report.as_dict(max_errors=100).items()})
    await reallocate(conn, None)
    return len(plans)


async def _advances(conn: AsyncConnection, user_id: int | None) -> int:
    """Advance invoices for the payments whose remainder is an advance and that have none (`reallocate` issues
    them itself when the documents' module is there; this is for a build where it did not)."""
    issue_advance = optional("aquabill.legal_entities.issue.advance", "issue_advance_invoice")
    if issue_advance is None:
        return 0
    rows = (await conn.execute(text("""
        SELECT a.payment_id, sum(a.amount) AS amount FROM contract_allocations a
        WHERE a.kind = 'advance' AND NOT EXISTS (SELECT 1 FROM legal_documents d WHERE d.payment_id = a.payment_id
                                                 AND d.kind = 'advance_invoice' AND d.status = 'issued')
        GROUP BY a.payment_id HAVING sum(a.amount) > 0 ORDER BY a.payment_id"""))).all()
    for r in rows:
        await issue_advance(conn, r.payment_id, amount=r.amount, user_id=user_id)
    return len(rows)


async def _edo(conn: AsyncConnection, user_id: int | None) -> int:
    """A few of the last month's UPDs queued for the EDO operator (the dev server's fake signs them)."""
    queue = optional("aquabill.legal_entities.edo", "queue_document")
    enabled = (await conn.execute(text("SELECT bool_or(enabled) FROM edo_settings"))).scalar()
    if queue is None or not enabled:  # the operator is configured by staff (or the dev server, with its fake)
        return await _edo_history(conn)
    ids = (await conn.execute(text("""
        SELECT d.id FROM legal_documents d JOIN counterparties c ON c.id = d.counterparty_id
        WHERE d.kind IN ('upd', 'act') AND d.status = 'issued' AND c.edo_id <> '' AND d.xml IS NOT NULL
        ORDER BY d.period DESC, d.id LIMIT :n"""), {"n": EDO_SENT})).scalars().all()
    for document_id in ids:
        await queue(conn, document_id, user_id=user_id)
    return len(ids)


async def _edo_history(conn: AsyncConnection) -> int:
    """Without an operator switched on at seeding time: the exchange of the earliest billed month as it ended —
    its UPDs to counterparties with an EDO id signed by the buyers a few days after issue, one rejected with the
    buyer's reason (final statuses only: nothing for the poller to ask the operator about)."""
    return (await conn.execute(text("""
        WITH docs AS (
            SELECT d.id, d.issued_on, row_number() OVER (ORDER BY d.id) AS n
            FROM legal_documents d JOIN counterparties c ON c.id = d.counterparty_id
            WHERE d.kind IN ('upd', 'act') AND d.status = 'issued' AND c.edo_id <> '' AND d.xml IS NOT NULL
              AND d.period = (SELECT min(period) FROM legal_documents WHERE kind IN ('upd', 'act')))
        INSERT INTO edo_messages(document_id, operator, to_box, message_id, entity_id, status, reason, attempts,
                                 history, created_at, updated_at)
        SELECT id, 'diadoc', 'demo-box-' || id, md5('demo-message-' || id)::uuid::text,
               md5('demo-entity-' || id)::uuid::text, CASE WHEN n = 3 THEN 'rejected' ELSE 'signed' END,
               CASE WHEN n = 3 THEN 'Неверно указан КПП покупателя' ELSE '' END, 1,
               jsonb_build_array(
                   jsonb_build_object('at', (issued_on + time '10:00') AT TIME ZONE 'Europe/Moscow', 'status', 'sent', 'reason', ''),
                   jsonb_build_object('at', (issued_on + time '10:05') AT TIME ZONE 'Europe/Moscow', 'status', 'delivered', 'reason', ''),
                   jsonb_build_object('at', (issued_on + 3 + time '14:20') AT TIME ZONE 'Europe/Moscow',
                                      'status', CASE WHEN n = 3 THEN 'rejected' ELSE 'signed' END,
                                      'reason', CASE WHEN n = 3 THEN 'Неверно указан КПП покупателя' ELSE '' END)),
               issued_on + time '10:00', issued_on + 3 + time '14:20'
        FROM docs WHERE n <= :n"""), {"n": EDO_SENT * 4})).rowcount
