"""Bills for a contract's intermediate payments (промежуточные платежи) of a month.

The rule. Decree 644 of 29.07.2013 (Rules of cold water supply and sewerage) p. 16 makes the month the settlement
period, paid by the 10th of the next month; a contract may instead set intermediate payments — a share of the
amount by a day of the supply month itself — with the final settlement by its `due_day` of the next month
(`contracts.PaymentTerms`; day 31 means the month's last day). The share is taken of the previous month's amount:
the month being supplied is not yet measured when it is to be paid.

What is issued, for month M (the supply month) and every contract in force on M's first day whose version in force
that day has intermediate payments:
- the base is the contract's gross amount (with VAT) of M−1 as issued: its UPD or act of M−1 (`legal_documents`,
  kind 'upd'/'act', period M−1, status 'issued'; a later UKD is not looked at). No such document → the contract is
  skipped with the reason;
- for each part n (1, 2 … in the order of the terms) one bill (kind 'bill', period M, `part` n — migration t0035):
  amount = base × percent / 100, rounded half-up to the kopeck once (`vat.money`, the same rule as
  `billing_core/money.py`), due on the part's day of M (31, or a day past the month's length → its last day). The
  VAT shown in it is split from that amount at the rate of M's shipment day (`vat.from_gross`, Tax Code art. 164
  p. 4; the rate of art. 167 p. 1 as the month's UPD will have it), or none for a contract без НДС. Its one line
  names the payment: «Промежуточный платёж 35 % за декабрь 2026 г. по договору № … до 18.12.2026».

A bill is a request, not a debt: debts, turnover, penalties and the sales ledger read only UPD/act/UKD and EDO sends
only documents with XML (a bill has none), so these bills stay out of all of them exactly as the month's own bill
does. A payment made on one is an ordinary contract payment: with nothing due it is an advance (its advance invoice
follows) and the month's UPD consumes it (`payments/allocation.py`).

Idempotent and serialised as `month.issue_month` (the same advisory lock; a part already issued is not issued again,
and the unique index `legal_documents_once`, now per part, backs it). Set-based: one query reads every contract's
terms, base and issued parts; the numbers are taken in one UPSERT, the bills written in batches of unnest arrays.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid
from aquabill.legal_entities import vat
from aquabill.legal_entities.contracts import EARLIEST, LAST_DAY, LATEST, PaymentTerms
from aquabill.legal_entities.issue import numbering
from aquabill.legal_entities.issue.lines import month_end, month_name
from aquabill.legal_entities.issue.month import Progress, lock_issuing
from aquabill.legal_entities.issue.parties import load_seller
from aquabill.legal_entities.issue.store import NewDocument, NewLine, insert_documents

HUNDRED = Decimal(100)
BATCH = 5000  # bills written per INSERT

_CONTRACTS = text("""
    SELECT k.id AS contract_id, k.number AS contract_number, k.counterparty_id, v.payment_terms, v.vat_mode,
           b.kind AS base_kind, b.number AS base_number, b.amount AS base,
           coalesce(x.parts, CAST('{}' AS smallint[])) AS issued_parts
    FROM contracts k
    JOIN LATERAL (SELECT cv.payment_terms, cv.vat_mode FROM contract_versions cv
                  WHERE cv.contract_id = k.id AND cv.valid_from <= :first
                  ORDER BY cv.valid_from DESC LIMIT 1) v ON true
    LEFT JOIN LATERAL (SELECT d.kind, d.number, d.amount FROM legal_documents d
                       WHERE d.contract_id = k.id AND d.period = :previous AND d.kind IN ('upd', 'act')
                         AND d.status = 'issued' ORDER BY d.id LIMIT 1) b ON true
    LEFT JOIN LATERAL (SELECT array_agg(d.part ORDER BY d.part) AS parts FROM legal_documents d
                       WHERE d.contract_id = k.id AND d.period = :first AND d.kind = 'bill' AND d.part > 0
                         AND d.status = 'issued') x ON true
    WHERE k.status IN ('active', 'terminated') AND k.valid_from <= :first
      AND coalesce(k.valid_to, :first) >= :first
      AND jsonb_array_length(coalesce(v.payment_terms -> 'intermediate', '[]'::jsonb)) > 0
      AND (CAST(:contract AS int) IS NULL OR k.id = CAST(:contract AS int))
    ORDER BY k.id""")


@dataclass(frozen=True, slots=True)
class PartBill:
    part: int  # 1, 2 …: the payment's place in the contract's terms
    percent: Decimal
    due_on: date
    amount: Decimal  # with VAT


def previous_month(period: date) -> date:
    return date(period.year - 1, 12, 1) if period.month == 1 else date(period.year, period.month - 1, 1)


def part_due_on(period: date, day: int) -> date:
    """The day `day` of the month `period`; 31 (LAST_DAY) or a day past the month's length → its last day."""
    last = calendar.monthrange(period.year, period.month)[1]
    return period.replace(day=last if day >= LAST_DAY else min(day, last))


def plan_parts(base: Decimal, terms: PaymentTerms, period: date) -> list[PartBill]:
    """The intermediate bills of month `period` from the previous month's gross amount `base`. Pure."""
    return [PartBill(n, p.percent, part_due_on(period, p.day), vat.money(base * p.percent / HUNDRED))
            for n, p in enumerate(terms.intermediate, start=1)]


def percent_text(percent: Decimal) -> str:
    """35.00 → «35», 33.50 → «33,5»."""
    return f"{percent.normalize():f}".replace(".", ",")


def purpose(bill: PartBill, period: date, contract_number: str) -> str:
    return (f"Промежуточный платёж {percent_text(bill.percent)} % за {month_name(period)} г. "
            f"по договору № {contract_number} до {bill.due_on:%d.%m.%Y}")


def check_period(period: date) -> date:
    if period.day != 1:
        raise Invalid("Период — первое число месяца", field="period")
    if not EARLIEST <= period <= LATEST:  # a typo such as 0202 (and year 1 has no previous month)
        raise Invalid(f"Период: с {EARLIEST:%m.%Y} по {LATEST:%m.%Y}", field="period")
    return period


def check_issue_day(period: date, issued_on: date | None) -> date:
    """The bills' date: by default the month's first day; from the previous month's first day (the bills may go
    out ahead of the month) to the month's last day (after it the final settlement is due, not a share)."""
    check_period(period)
    if issued_on is None:
        return period
    earliest, latest = previous_month(period), month_end(period)
    if not earliest <= issued_on <= latest:
        raise Invalid(f"Счета на промежуточные платежи за {month_name(period)} выставляются с "
                      f"{earliest:%d.%m.%Y} по {latest:%d.%m.%Y}", field="issued_on")
    return issued_on


def _new_bill(row: Any, bill: PartBill, number: str, period: date, issued_on: date) -> NewDocument:
    rate = vat.general_rate(month_end(period)) if row["vat_mode"] == "vat" else vat.NO_VAT
    a = vat.from_gross(bill.amount, rate)
    name = purpose(bill, period, row["contract_number"])
    return NewDocument(kind="bill", number=number, issued_on=issued_on, period=period, part=bill.part,
                       contract_id=row["contract_id"], counterparty_id=row["counterparty_id"], amount_net=a.net,
                       vat=a.vat_or_zero, amount=a.gross, due_on=bill.due_on,
                       lines=[NewLine(1, name, a.net, rate.label, a.vat_or_zero, a.gross, unit_code="", unit_name="",
                                      period=period)])


async def issue_intermediate(conn: AsyncConnection, period: date, *, issued_on: date | None = None,
                             contract_id: int | None = None, user_id: int | None = None,
                             progress: Progress = None) -> dict[str, Any]:
    """Issue the bills of the intermediate payments of month `period` (of every contract, or of one) that are not
    issued yet. Returns: period, issued_on, bills, contracts (that got bills), amount, already (parts issued
    before), skipped [{contract_id, contract, message}] (Russian reasons)."""
    issued_on = check_issue_day(period, issued_on)
    previous = previous_month(period)
    await lock_issuing(conn)
    await load_seller(conn)  # a bill without the seller's requisites (its bank account) is refused as a whole
    rows = (await conn.execute(_CONTRACTS, {"first": period, "previous": previous,
                                            "contract": contract_id})).mappings().all()
    if progress is not None:
        await progress(10, f"Договоров с промежуточными платежами: {len(rows)}")
    skipped: list[dict[str, Any]] = []
    planned: list[tuple[Any, PartBill]] = []
    already = 0
    for row in rows:
        terms = PaymentTerms.from_json(row["payment_terms"] or {})
        reason = None
        if row["base"] is None:
            reason = (f"нет выставленного УПД или акта за {month_name(previous)}: промежуточные платежи "
                      "считаются от суммы предыдущего месяца")
        elif row["base"] <= 0:
            reason = f"сумма УПД/акта № {row['base_number']} за {month_name(previous)} не больше нуля"
        if reason is not None:
            skipped.append({"contract_id": row["contract_id"], "contract": row["contract_number"], "message": reason})
            continue
        done = set(row["issued_parts"])
        for bill in plan_parts(row["base"], terms, period):
            if bill.part in done:
                already += 1
            elif bill.amount <= 0:
                skipped.append({"contract_id": row["contract_id"], "contract": row["contract_number"],
                                "message": f"промежуточный платёж {percent_text(bill.percent)} % от "
                                           f"{row['base']} ₽ меньше копейки"})
            else:
                planned.append((row, bill))

    numbers = iter(await numbering.take_numbers(conn, "bill", issued_on.year, len(planned)))
    docs = [_new_bill(row, bill, next(numbers), period, issued_on) for row, bill in planned]
    for at in range(0, len(docs), BATCH):
        await insert_documents(conn, docs[at:at + BATCH], user_id)
        if progress is not None:
            written = min(at + BATCH, len(docs))
            await progress(10 + 90 * written / len(docs), f"Выставлено счетов: {written} из {len(docs)}")
    if progress is not None:
        await progress(100, "Готово")
    return {"period": period.isoformat(), "issued_on": issued_on.isoformat(), "bills": len(docs),
            "contracts": len({d.contract_id for d in docs}),
            "amount": str(sum((d.amount for d in docs), Decimal("0.00"))), "already": already, "skipped": skipped}
