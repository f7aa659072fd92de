"""The month's 416-FZ accrual over a tenant: the hand-computed vectors of tests/unit/legal_entities/penalties
stored per document and month, increases in the next month, idempotence, closed months, two accruals at once,
which documents count (a lowering ukd, draft contracts, cancelled documents)."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from aquabill.base.errors import Conflict, Invalid
from aquabill.legal_entities.penalties import accrue
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.api_helpers import Api, close_period
from tests.integration.legal_entities.penalties.penalty_data import document, org_contract, pay, rows

JUNE, JULY = date(2021, 6, 1), date(2021, 7, 1)
DUE = date(2021, 2, 10)


@pytest.fixture(scope="module")
async def two(legal_client, tenant, core):
    """A managing organisation and another subscriber, each with a January 2021 upd of 123 456.78 due 10.02.2021,
    50 000.00 of it paid on 20.04.2021 (the unit vectors)."""
    api = Api(legal_client, tenant.headers)

    def tx(user_id=None):
        return tenant_transaction(core.engines, tenant.tenant, user_id)

    out = {}
    for category in ("management_company", "other"):
        contract = await org_contract(api, tx, category)
        doc = await document(tx, contract, "123456.78", DUE)
        await pay(tx, contract, date(2021, 4, 20), {doc: "50000.00"})
        out[category] = (contract, doc)
    return out


async def test_accrual_of_a_month_then_the_increase_of_the_next(two, tx):
    (mc, mc_doc), (other, other_doc) = two["management_company"], two["other"]
    async with tx(None) as conn:
        first = await accrue(conn, JUNE, on=date(2021, 6, 20))
    assert (first["period"], first["documents"], first["rows"]) == ("2021-06", 2, 2)
    # 3302.14 (1/300 to day 60, 1/170 to day 90, 1/130 after) + 5203.28 (1/130 throughout)
    assert first["amount"] == "8505.42" and first["penalty"] == "8505.42"
    assert await rows(tx, mc["id"]) == [(mc_doc, JUNE, date(2021, 6, 20), "management_company", 129,
                                         Decimal("3302.14"))]
    assert await rows(tx, other["id"]) == [(other_doc, JUNE, date(2021, 6, 20), "other", 129, Decimal("5203.28"))]
    async with tx() as conn:
        details = (await conn.execute(text("SELECT details FROM contract_penalties WHERE document_id = :d"),
                                      {"d": mc_doc})).scalar_one()
    assert [(d["date_from"], d["days"], d["fraction"], d["rate"], d["debt"], d["amount"]) for d in details] == [
        ("2021-02-11", 60, "1/300", "4.50", "50000.00", "450.00"),
        ("2021-04-12", 9, "1/170", "4.50", "50000.00", "119.12"),
        ("2021-02-11", 60, "1/300", "5.50", "73456.78", "808.02"),
        ("2021-04-12", 30, "1/170", "5.50", "73456.78", "712.96"),
        ("2021-05-12", 39, "1/130", "5.50", "73456.78", "1212.04")]

    # the same again: nothing changes
    async with tx() as conn:
        again = await accrue(conn, JUNE, on=date(2021, 6, 20))
    assert (again["amount"], again["changed"]) == ("8505.42", 0)

    # July, as of 20.07.2021 (key rate still 5.50 %): the cumulative penalty less June's row
    # mc: 450 + 119.117647 + 808.024580 + 712.962865 + 73456.78 × 5.5 × 69 / 13000 = 4234.478016 → 4234.48
    # − 3302.14 = 932.34
    # other: 50000 × 4.5 × 69 / 13000 + 73456.78 × 5.5 × 159 / 13000 = 6135.6119 → 6135.61 − 5203.28 = 932.33
    await close_period(tx, "2021-06")
    async with tx() as conn:
        july = await accrue(conn, JULY, on=date(2021, 7, 20))
    assert (july["amount"], july["penalty"]) == ("1864.67", "10370.09")
    assert [r[5] for r in await rows(tx, mc["id"])] == [Decimal("3302.14"), Decimal("932.34")]
    assert [r[5] for r in await rows(tx, other["id"])] == [Decimal("5203.28"), Decimal("932.33")]

    # the closed June is refused and untouched
    async with tx() as conn:
        with pytest.raises(Conflict) as refused:
            await accrue(conn, JUNE, on=date(2021, 6, 25))
    assert "закрыт" in str(refused.value)
    assert [r[5] for r in await rows(tx, mc["id"])] == [Decimal("3302.14"), Decimal("932.34")]


async def test_the_day_is_within_the_month(tx):
    async with tx() as conn:
        with pytest.raises(Invalid) as refused:
            await accrue(conn, date(2021, 9, 1), on=date(2021, 10, 2))
    assert str(refused.value) == "Дата расчёта пени — в пределах периода начисления 2021-09: с 01.09.2021 по 01.10.2021"


async def test_two_accruals_at_once_are_serialised(two, tx):
    async def one():
        async with tx() as conn:
            return await accrue(conn, date(2021, 8, 1), on=date(2021, 8, 10))

    a, b = await asyncio.gather(one(), one())
    # as of 10.08.2021 the key rate is 6.50 % (from 26.07.2021): the unpaid rest is priced at it
    # mc: 450 + 119.117647 + 73456.78 × 6.5 × (60 / 30000 + 30 / 17000 + 90 / 13000) = 5672.203364 → 5672.20
    # − 4234.48 = 1437.72; other: 1194.2308 + 73456.78 × 6.5 × 180 / 13000 = 7805.34 − 6135.61 = 1669.73;
    # Σ 3107.45
    assert a["amount"] == b["amount"] == "3107.45"
    async with tx() as conn:
        n = (await conn.execute(text(
            "SELECT count(*) FROM contract_penalties WHERE posted_period = '2021-08-01' AND contract_id = ANY(:c)"),
            {"c": [two["management_company"][0]["id"], two["other"][0]["id"]]})).scalar_one()
    assert n == 2
    assert sorted([a["changed"], b["changed"]]) == [0, 2]


async def test_which_documents_count(api, tx):
    mc = await org_contract(api, tx, "management_company")
    upd = await document(tx, mc, "30000.00", date(2026, 8, 10))
    # a correction lowering it by 10 000 (its debt is 20 000 from the start)
    await document(tx, mc, "-10000.00", date(2026, 8, 10), kind="ukd", corrects_id=upd)
    await document(tx, mc, "5000.00", date(2026, 8, 10), status="cancelled", period=date(2026, 6, 1))
    not_due = await document(tx, mc, "7000.00", date(2026, 9, 10), period=date(2026, 5, 1))
    # a correction raising a month: a debt of its own, due 25.08.2026
    raised = await document(tx, mc, "2000.00", date(2026, 8, 25), kind="ukd", corrects_id=not_due)
    draft = await org_contract(api, tx, "other", status="draft")
    await document(tx, draft, "9999.00", date(2026, 8, 10))
    async with tx() as conn:
        result = await accrue(conn, date(2026, 9, 1), on=date(2026, 9, 10), contract_id=mc["id"])
    # 20 000 × 9.5 (Decree 474 in the wording of Decree 329: fixed) × 30 (11.08–09.09) / 30000 = 190.00;
    # the raising ukd: 2 000 × 9.5 × 15 (26.08–09.09) / 30000 = 9.50
    assert (result["documents"], result["amount"]) == (2, "199.50")
    assert [(r[0], r[4], r[5]) for r in await rows(tx, mc["id"])] == [(upd, 30, Decimal("190.00")),
                                                                     (raised, 15, Decimal("9.50"))]
    assert not_due not in [r[0] for r in await rows(tx, mc["id"])]
    assert await rows(tx, draft["id"]) == []


async def test_a_terminated_contracts_debt_keeps_its_penalty(api, tx):
    ended = await org_contract(api, tx, "other", status="terminated")
    doc = await document(tx, ended, "13000.00", date(2026, 8, 10))
    async with tx() as conn:
        result = await accrue(conn, date(2026, 9, 1), on=date(2026, 9, 10), contract_id=ended["id"])
    # 13 000 × 9.5 × 30 (11.08–09.09) / 13000 = 285.00 (1/130 from day 1, ч. 6.2)
    assert (result["documents"], result["amount"]) == (1, "285.00")
    assert [(r[0], r[4], r[5]) for r in await rows(tx, ended["id"])] == [(doc, 30, Decimal("285.00"))]
