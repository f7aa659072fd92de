"""416-FZ penalties' test data: a counterparty of a category with an active contract, its issued documents and
the payments covering them, inserted as rows (the documents' issue and the payments' allocation are other
modules'; here only their results are needed)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import text

from tests.integration.legal_entities.helpers import make_contract, make_org

_seq = itertools.count(1)


async def org_contract(api, tx, category: str, *, status: str = "active") -> dict:
    """A counterparty of the 416-FZ `category` and a contract with it in `status`."""
    org = await make_org(api, name=f"ООО «Пени {next(_seq)}»", penalty_category=category)
    contract = await make_contract(api, org["id"])
    async with tx() as conn:
        await conn.execute(text("UPDATE contracts SET status = CAST(:s AS varchar), valid_to = CASE WHEN CAST(:s AS varchar) = "
                                "'terminated' THEN date '2030-12-31' END WHERE id = :id"), {"s": status, "id": contract["id"]})
    return {**contract, "counterparty_id": org["id"], "category": category}


def _month_before(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


async def document(tx, contract: dict, amount: str, due_on: date, *, kind: str = "upd", period: date | None = None,
                   corrects_id: int | None = None, status: str = "issued") -> int:
    """An issued document of the contract (amount with VAT; the split does not matter to penalties)."""
    n = next(_seq)
    async with tx() as conn:
        return (await conn.execute(text("""
            INSERT INTO legal_documents(kind, number, issued_on, period, contract_id, counterparty_id, status,
                                        corrects_id, amount_net, vat, amount, due_on)
            VALUES (:k, :n, :i, :p, :c, :cp, :s, :cor, :a, 0, :a, :due) RETURNING id"""),
            {"k": kind, "n": f"П-{n}", "i": due_on.replace(day=1), "p": period or _month_before(due_on), "c": contract["id"], "cp": contract["counterparty_id"], "s": status,
             "cor": corrects_id, "a": Decimal(amount), "due": due_on})).scalar_one()


async def pay(tx, contract: dict, paid_on: date, allocations: dict[int, str], advance: str = "0") -> int:
    """An identified payment of the contract covering the documents by the amounts given (and the rest, if
    any, an advance), as the allocation of payments leaves it."""
    total = sum((Decimal(a) for a in allocations.values()), Decimal(advance))
    async with tx() as conn:
        agent = (await conn.execute(text(
            "INSERT INTO payment_agents(code, name) VALUES ('pen-bank', 'Банк') ON CONFLICT (code) "
            "DO UPDATE SET name = EXCLUDED.name RETURNING id"))).scalar_one()
        payment = (await conn.execute(text("""
            INSERT INTO payments(agent_id, source, paid_on, amount, contract_id, counterparty_id, status)
            VALUES (:ag, 'bank_1c', :d, :a, :c, :cp, 'identified') RETURNING id"""),
            {"ag": agent, "d": paid_on, "a": total, "c": contract["id"], "cp": contract["counterparty_id"]})).scalar_one()
        await conn.execute(text("""
            INSERT INTO contract_allocations(payment_id, contract_id, document_id, kind, amount)
            SELECT :p, :c, d, 'charge', a FROM unnest(CAST(:docs AS integer[]), CAST(:amounts AS numeric[])) u(d, a)"""),
            {"p": payment, "c": contract["id"], "docs": list(allocations),
             "amounts": [Decimal(a) for a in allocations.values()]})
        if Decimal(advance) > 0:
            await conn.execute(text("INSERT INTO contract_allocations(payment_id, contract_id, kind, amount) "
                                    "VALUES (:p, :c, 'advance', :a)"),
                               {"p": payment, "c": contract["id"], "a": Decimal(advance)})
    return payment


async def rows(tx, contract_id: int) -> list[tuple]:
    async with tx() as conn:
        return [tuple(r) for r in await conn.execute(text(
            "SELECT document_id, posted_period, calculated_on, category, days, amount FROM contract_penalties "
            "WHERE contract_id = :c ORDER BY posted_period, document_id"), {"c": contract_id})]
