"""416-FZ penalties in the tenant's database: the month's accrual over the tenant (or one contract), the
contract's penalties with their breakdown, and the tenant's list of a month.

`accrue(conn, posted_period, on=…)` (`on` within the month or its next day): for every issued upd / act / ukd of a
contract in force or terminated (its debts keep their penalty «по день фактической оплаты», 416-FZ art. 13 p. 6.2–6.4:
ending the contract ends neither) due before `on`,
the debt (the document's amount; a ukd that lowers a document lowers that document's debt, a ukd that raises
it is a debt of its own with its own due day) and the payments that covered it (`contract_allocations` of
kind 'charge' of identified payments paid before `on`, written by the allocation of payments) → the
cumulative penalty as of `on` (penalties.document_penalty; the category is the counterparty's in force on the
due day, penalties.category_on, taken in the documents' statement from `counterparty_category_changes` by the
lookup of the earliest change after that day) → the month's row of `contract_penalties` holds the increase
since the other months' rows of the document. Accruing again replaces the open month's rows (idempotent:
unchanged rows are not rewritten; rows that fall to zero are deleted); a closed month is refused and its rows
never change. Two accruals of a tenant at once are serialised by an advisory lock. Reads are set-based (three
statements for the whole tenant), the arithmetic per debt is Python (calc.py), the writes one statement each
(unnest arrays). Penalties carry no VAT (penalties.py)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid
from aquabill.billing_core.money import money
from aquabill.billing_core.penalties.calc import Payment
from aquabill.billing_core.penalties.store import load_key_rates, load_rules
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import open_for_posting
from aquabill.legal_entities.catalogue import PENALTY_CATEGORY_SHORT
from aquabill.legal_entities.penalties import CATEGORIES, breakdown, document_penalty

Progress = Callable[[float, str], Awaitable[None]]
LOCK = "/legal-penalties"  # with the tenant's schema: accruals of one tenant wait for each other
PROGRESS_EVERY = 2000

_DOCUMENTS = """
    SELECT d.id, d.kind, d.number, d.issued_on, d.contract_id, d.amount, d.due_on, d.corrects_id,
           coalesce((SELECT h.previous FROM counterparty_category_changes h
                     WHERE h.counterparty_id = c.id AND h.effective_from > d.due_on
                     ORDER BY h.effective_from LIMIT 1), c.penalty_category) AS category
    FROM legal_documents d JOIN contracts k ON k.id = d.contract_id JOIN counterparties c ON c.id = k.counterparty_id
    WHERE d.status = 'issued' AND d.kind IN ('upd', 'act', 'ukd') AND k.status IN ('active', 'terminated')
      AND (CAST(:contract AS integer) IS NULL OR d.contract_id = :contract)
    ORDER BY d.id"""
_PAID = """
    SELECT a.document_id, p.paid_on, sum(a.amount) AS amount
    FROM contract_allocations a JOIN payments p ON p.id = a.payment_id
    WHERE a.kind = 'charge' AND p.status = 'identified' AND p.paid_on < :on
      AND a.document_id = ANY(CAST(:ids AS integer[]))
    GROUP BY 1, 2"""
_EARLIER = """
    SELECT document_id, sum(amount) AS amount FROM contract_penalties
    WHERE posted_period <> :p AND document_id = ANY(CAST(:ids AS integer[])) GROUP BY 1"""


async def _no_progress(percent: float, message: str) -> None:
    return None


def _debts(docs: list[Any], on: date) -> dict[int, dict[str, Any]]:
    """The debts by document: a lowering ukd joins the document it corrects."""
    debts: dict[int, dict[str, Any]] = {}
    for d in docs:
        if not (d.kind == "ukd" and d.amount < 0):
            debts[d.id] = {"doc": d, "debt": Decimal(d.amount), "members": [d.id]}
    for d in docs:
        if d.kind == "ukd" and d.amount < 0 and d.corrects_id in debts:
            debts[d.corrects_id]["debt"] += Decimal(d.amount)
            debts[d.corrects_id]["members"].append(d.id)
    return {k: v for k, v in debts.items() if v["doc"].due_on is not None and v["doc"].due_on < on}


async def accrue(conn: AsyncConnection, posted_period: date, *, on: date, contract_id: int | None = None,
                 user_id: int | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """The month's 416-FZ penalties as of `on` (see the module docstring). Returns period, on, documents
    (debts looked at), rows (the month's rows written), amount (Σ of the month's rows), penalty (Σ of the
    cumulative penalties), changed (rows inserted, updated or deleted)."""
    progress = progress or _no_progress
    period = Period.of(posted_period)
    if not period.first_day <= on <= period.next().first_day:
        raise Invalid(f"Дата расчёта пени — в пределах периода начисления {period}: с {period.first_day:%d.%m.%Y} "
                      f"по {period.next().first_day:%d.%m.%Y}", field="on")
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || :k), 0)"), {"k": LOCK})
    await open_for_posting(conn, period, what="начисление пени юридическим лицам")
    rules, key_rates = await load_rules(conn), await load_key_rates(conn)
    docs = (await conn.execute(text(_DOCUMENTS), {"contract": contract_id})).all()
    debts = _debts(docs, on)
    member_of = {m: k for k, v in debts.items() for m in v["members"]}
    ids = list(member_of)
    pays: dict[int, list[Payment]] = defaultdict(list)
    for r in await conn.execute(text(_PAID), {"on": on, "ids": ids}):
        pays[member_of[r.document_id]].append(Payment(r.paid_on, Decimal(r.amount)))
    earlier = {r.document_id: Decimal(r.amount) for r in await conn.execute(
        text(_EARLIER), {"p": period.first_day, "ids": list(debts)})}
    await progress(5.0, f"Документов с долгом: {len(debts)}")

    out: dict[str, list[Any]] = {k: [] for k in ("doc", "contract", "category", "days", "amount", "details")}
    total_penalty = Decimal(0)
    for n, (doc_id, debt) in enumerate(sorted(debts.items()), 1):
        d = debt["doc"]
        try:
            found = document_penalty(d.category, debt["debt"], d.due_on, pays[doc_id], on, rules=rules,
                                     key_rates=key_rates)
        except ValueError as exc:
            raise Invalid(f"Нет ключевой ставки для расчёта пени: {exc}. Добавьте её в таблицу ключевых ставок",
                          field="on") from exc
        total_penalty += found.total
        increase = found.total - earlier.get(doc_id, Decimal(0))
        if increase != 0:
            out["doc"].append(doc_id)
            out["contract"].append(d.contract_id)
            out["category"].append(d.category)
            out["days"].append(found.days)
            out["amount"].append(money(increase))
            out["details"].append(json.dumps(breakdown(found.result), ensure_ascii=False))
        if n % PROGRESS_EVERY == 0:
            await progress(5.0 + 85.0 * n / len(debts), f"Рассчитано документов: {n} из {len(debts)}")

    scope = {"p": period.first_day, "contract": contract_id}
    deleted = (await conn.execute(text("""
        DELETE FROM contract_penalties WHERE posted_period = :p
          AND (CAST(:contract AS integer) IS NULL OR contract_id = :contract)
          AND document_id <> ALL(CAST(:docs AS integer[]))"""), {**scope, "docs": out["doc"]})).rowcount
    written = (await conn.execute(text("""
        INSERT INTO contract_penalties(contract_id, document_id, posted_period, calculated_on, category, days,
                                       amount, details, created_by)
        SELECT c, d, :p, :on, cat, days, amount, CAST(det AS jsonb), :user
        FROM unnest(CAST(:docs AS integer[]), CAST(:contracts AS integer[]), CAST(:cats AS text[]),
                    CAST(:days AS integer[]), CAST(:amounts AS numeric[]), CAST(:details AS text[]))
             AS u(d, c, cat, days, amount, det)
        ON CONFLICT (document_id, posted_period) DO UPDATE
        SET calculated_on = EXCLUDED.calculated_on, category = EXCLUDED.category, days = EXCLUDED.days,
            amount = EXCLUDED.amount, details = EXCLUDED.details
        WHERE (contract_penalties.calculated_on, contract_penalties.category, contract_penalties.days,
               contract_penalties.amount, contract_penalties.details)
              IS DISTINCT FROM (EXCLUDED.calculated_on, EXCLUDED.category, EXCLUDED.days, EXCLUDED.amount,
                                EXCLUDED.details)"""),
        {**scope, "on": on, "user": user_id, "docs": out["doc"], "contracts": out["contract"],
         "cats": out["category"], "days": out["days"], "amounts": out["amount"], "details": out["details"]}
    )).rowcount
    await progress(100.0, "Пени начислены")
    return {"period": str(period), "on": on.isoformat(), "documents": len(debts), "rows": len(out["doc"]),
            "amount": str(money(sum(out["amount"], Decimal(0)))), "penalty": str(money(total_penalty)),
            "changed": deleted + written}


# ---- reading ------------------------------------------------------------------------------------------------

def _row(r: Any) -> dict[str, Any]:
    return {"id": r.id, "contract_id": r.contract_id, "document_id": r.document_id,
            "document_kind": r.document_kind, "document_number": r.document_number,
            "document_issued_on": r.issued_on.isoformat(), "due_on": r.due_on.isoformat() if r.due_on else None,
            "posted_period": r.posted_period.strftime("%Y-%m"), "calculated_on": r.calculated_on.isoformat(),
            "category": r.category, "category_name": CATEGORIES[r.category], "days": r.days,
            "amount": str(r.amount), "details": r.details}


_ROWS = """
    SELECT p.id, p.contract_id, p.document_id, d.kind AS document_kind, d.number AS document_number, d.issued_on,
           d.due_on, p.posted_period, p.calculated_on, p.category, p.days, p.amount, p.details
    FROM contract_penalties p JOIN legal_documents d ON d.id = p.document_id"""


async def contract_penalties(conn: AsyncConnection, contract_id: int, *, limit: int = 200) -> dict[str, Any]:
    """A contract's accruals, the latest months first, with each one's breakdown, and the total."""
    rows = (await conn.execute(text(f"{_ROWS} WHERE p.contract_id = :c ORDER BY p.posted_period DESC, d.issued_on, "
                                    "p.id LIMIT :lim"), {"c": contract_id, "lim": limit})).all()
    agg = (await conn.execute(text("SELECT count(*) AS n, coalesce(sum(amount), 0) AS total FROM contract_penalties "
                                   "WHERE contract_id = :c"), {"c": contract_id})).one()
    return {"contract_id": contract_id, "total": str(money(agg.total)), "count": agg.n,
            "items": [_row(r) for r in rows]}


async def month_penalties(conn: AsyncConnection, period: Period, *, limit: int, offset: int) -> dict[str, Any]:
    """The month's accruals by contract (the tenant's page): one line per contract, totals and the page. A line's
    category is its rows' (the category in force on each document's due day): several when they differ."""
    p = period.first_day
    rows = (await conn.execute(text("""
        SELECT k.id AS contract_id, k.number, coalesce(nullif(c.short_name, ''), c.name) AS counterparty,
               c.inn, c.penalty_category AS category, array_agg(DISTINCT p.category ORDER BY p.category) AS cats,
               count(*) AS documents, max(p.days) AS days,
               sum(p.amount) AS amount, max(p.calculated_on) AS calculated_on
        FROM contract_penalties p JOIN contracts k ON k.id = p.contract_id
        JOIN counterparties c ON c.id = k.counterparty_id
        WHERE p.posted_period = :p
        GROUP BY k.id, k.number, c.short_name, c.name, c.inn, c.penalty_category
        ORDER BY sum(p.amount) DESC, k.number LIMIT :lim OFFSET :off"""),
        {"p": p, "lim": limit, "off": offset})).all()
    agg = (await conn.execute(text(
        "SELECT count(DISTINCT contract_id) AS contracts, count(*) AS documents, coalesce(sum(amount), 0) AS amount, "
        "coalesce(sum(amount) FILTER (WHERE category = 'management_company'), 0) AS mc, "
        "coalesce(sum(amount) FILTER (WHERE category = 'hoa'), 0) AS hoa, "
        "coalesce(sum(amount) FILTER (WHERE category = 'other'), 0) AS other "
        "FROM contract_penalties WHERE posted_period = :p"), {"p": p})).one()
    return {"period": str(period), "contracts": agg.contracts, "documents": agg.documents,
            "amount": str(money(agg.amount)), "by_category": {"management_company": str(money(agg.mc)),
                                                              "hoa": str(money(agg.hoa)),
                                                              "other": str(money(agg.other))},
            "items": [{"contract_id": r.contract_id, "number": r.number, "counterparty": r.counterparty,
                       "inn": r.inn, "category": r.cats[0] if len(r.cats) == 1 else r.category, "categories": r.cats,
                       "category_name": CATEGORIES[r.cats[0]] if len(r.cats) == 1
                       else " / ".join(PENALTY_CATEGORY_SHORT[c] for c in r.cats),
                       "documents": r.documents, "days": r.days, "amount": str(money(r.amount)),
                       "calculated_on": r.calculated_on.isoformat()} for r in rows]}
