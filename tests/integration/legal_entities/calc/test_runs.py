"""Runs of the calculation: a re-run replaces the month's lines, a closed month is recalculated as difference rows
posted to the open month (the closed month untouched), two runs at once → one is refused, meter replacement."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import text

from aquabill.base.errors import Conflict
from aquabill.legal_entities.calc.run import run_month
from aquabill.tenants.context import tenant_transaction
from tests.integration.legal_entities.calc.conftest import (
    add_meter,
    add_point,
    lines,
    make_contract,
    reading,
    tariffs,
)
from tests.integration.legal_entities.calc.test_month import brief

NOV = date(2026, 11, 1)


@pytest.fixture
async def fresh(core, make_tenant):
    """A tenant of its own (these tests close months and run the whole tenant)."""
    handle = await make_tenant(seed=tariffs)

    def open_tx(user_id=None):
        return tenant_transaction(core.engines, handle.tenant, user_id)

    return open_tx


async def metered_contract(conn) -> int:
    cid = await make_contract(conn, kind="cold_water")
    m = await add_meter(conn, await add_point(conn, cid, metered=True), date(2026, 1, 1))
    await reading(conn, m, date(2026, 10, 31), "1100")
    await reading(conn, m, date(2026, 11, 30), "1234.5")
    return cid


async def test_rerun_replaces_the_months_lines(fresh):
    async with fresh() as conn:
        cid = await metered_contract(conn)
        other = await make_contract(conn, kind="cold_water")
        await add_point(conn, other, diameter=15)
        first = await run_month(conn, NOV)
        again = await run_month(conn, NOV)
        only = await run_month(conn, NOV, contract_id=cid)
        count = await conn.scalar(text("SELECT count(*) FROM legal_charges WHERE period = :p"), {"p": NOV})
        runs = (await conn.execute(text("SELECT kind, status, contracts, lines, amount FROM legal_runs ORDER BY id"))
                ).all()
        rows = await lines(conn, cid)
    assert first["lines"] == again["lines"] == count == 2 and only["lines"] == 1
    assert first["amount"] == again["amount"] == D("7464.75") + D("30506.13")  # Ø 15: 18.322 m³ × 30 × 55.50
    assert [tuple(r) for r in runs] == [("month", "done", 2, 2, first["amount"])] * 2 + [
        ("month", "done", 1, 1, D("7464.75"))]
    assert brief(rows) == [("cold_water", "meter", 1, 30, D("134.500"), D("55.5000"), D("7464.75"))]


async def test_a_contract_with_issued_documents_keeps_its_charges(fresh):
    """Re-running an open month leaves a contract whose UPD of the month is issued as the UPD says, and says so."""
    async with fresh() as conn:
        cid = await metered_contract(conn)
        await run_month(conn, NOV)
        await conn.execute(text(
            "INSERT INTO legal_documents(kind, number, issued_on, period, contract_id, counterparty_id, amount_net, "
            "vat, amount) SELECT 'upd', '1', '2026-11-30', '2026-11-01', id, counterparty_id, 7464.75, 0, 7464.75 "
            "FROM contracts WHERE id = :c"), {"c": cid})
        await conn.execute(text("INSERT INTO tariffs(service_id, tariff_group, price, valid_from) "
                                "SELECT id, 'other', 60, '2026-11-01' FROM services WHERE code = 'cold_water'"))
        again = await run_month(conn, NOV)
        rows = await lines(conn, cid)
    assert brief(rows) == [("cold_water", "meter", 1, 30, D("134.500"), D("55.5000"), D("7464.75"))]
    assert again["lines"] == 0 and [p["contract_id"] for p in again["problems"]] == [cid]
    assert "уже выставлены" in again["problems"][0]["message"]


async def test_closed_month_is_recalculated_into_the_open_month(fresh):
    async with fresh() as conn:
        cid = await metered_contract(conn)
        await run_month(conn, NOV)
        await conn.execute(text("INSERT INTO periods(period, status, closed_at) VALUES ('2026-11-01', 'closed', now()), "
                                "('2026-12-01', 'open', NULL)"))
        before = await lines(conn, cid, NOV)
        # the tariff of November is corrected after the month was closed
        await conn.execute(text("INSERT INTO tariffs(service_id, tariff_group, price, valid_from) "
                                "SELECT id, 'other', 60, '2026-11-01' FROM services WHERE code = 'cold_water'"))
        result = await run_month(conn, NOV)
        again = await run_month(conn, NOV)
        after = await lines(conn, cid, NOV)
    charges = [r for r in after if r["kind"] == "charge"]
    recalc = [r for r in after if r["kind"] == "recalc"]
    assert charges == before  # nothing of the closed month changed
    assert result["kind"] == "recalc" and result["posted_period"] == "2026-12" and result["lines"] == 2
    assert again["lines"] == 2 and len(recalc) == 2  # recalculating again replaces its own rows
    assert [(r["posted_period"], r["volume"], r["price"], r["amount"]) for r in recalc] == [
        (date(2026, 12, 1), D("-134.500"), D("55.5000"), D("-7464.75")),
        (date(2026, 12, 1), D("134.500"), D("60.0000"), D("8070.00"))]
    assert sum(r["amount"] for r in recalc) == D("605.25")


async def test_two_runs_at_once_one_is_refused(fresh):
    async with fresh() as conn:
        await metered_contract(conn)
    tried, both = 0, asyncio.Event()

    async def run() -> dict:
        nonlocal tried
        async with fresh() as conn:
            try:
                return await run_month(conn, NOV)
            finally:
                tried += 1
                if tried == 2:
                    both.set()
                await both.wait()  # the first keeps its transaction (and lock) open until the second has tried

    results = await asyncio.gather(run(), run(), return_exceptions=True)
    refused = [r for r in results if isinstance(r, Conflict)]
    done = [r for r in results if isinstance(r, dict)]
    assert len(refused) == 1 and len(done) == 1
    assert "уже выполняется" in str(refused[0])
    async with fresh() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM legal_runs")) == 1


async def test_meter_replaced_inside_the_month(fresh):
    async with fresh() as conn:
        cid = await make_contract(conn, kind="cold_water")
        point = await add_point(conn, cid, metered=True)
        old = await add_meter(conn, point, date(2026, 1, 1), removed_on=date(2026, 11, 15))
        await reading(conn, old, date(2026, 10, 31), "1100")
        await reading(conn, old, date(2026, 11, 15), "1150")
        new = await add_meter(conn, point, date(2026, 11, 15), replaces_id=old, initial="5")
        await reading(conn, new, date(2026, 11, 30), "35")
        await run_month(conn, NOV, contract_id=cid)
        rows = await lines(conn, cid)
    assert brief(rows) == [("cold_water", "meter", 1, 15, D("50.000"), D("55.5000"), D("2775.00")),
                           ("cold_water", "meter", 16, 30, D("30.000"), D("55.5000"), D("1665.00"))]
