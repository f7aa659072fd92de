"""Allocation of a contract's payments (FIFO by due date, a named document first, penalties after all principal,
the rest an advance that a later document consumes) and the contract's turnover, to the kopeck."""

from __future__ import annotations

import importlib.util
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import text

from aquabill.legal_entities.payments.allocation import reallocate
from aquabill.legal_entities.payments.turnover import contract_turnover, turnover_statement
from tests.integration.legal_entities.payments.statements import (
    allocations,
    contract_payment,
    document,
    ensure_agent,
    org_with_contracts,
    penalty,
)

HAS_ADVANCE_INVOICES = importlib.util.find_spec("aquabill.legal_entities.issue.advance") is not None


async def test_fifo_penalties_after_principal_advance_then_a_later_upd_consumes_it(api, tx):
    await ensure_agent(api)
    _org, (k,) = await org_with_contracts(api, 1, "ООО «Фифо»")
    async with tx() as conn:
        upd1 = await document(conn, k, "upd", "1000.00", date(2026, 9, 30), due_on=date(2026, 10, 10))
        upd2 = await document(conn, k, "upd", "733.33", date(2026, 10, 31), due_on=date(2026, 11, 10))
        await penalty(conn, k, upd1["id"], "12.34", date(2026, 11, 1))
        p1 = await contract_payment(conn, k, "600.00", date(2026, 10, 5))
        p2 = await contract_payment(conn, k, "700.00", date(2026, 10, 20))
        p3 = await contract_payment(conn, k, "500.00", date(2026, 11, 5))
        result = await reallocate(conn, [k["id"]])
        assert await allocations(conn, k["id"]) == [
            (p1, upd1["id"], "charge", D("600.00")),
            (p2, upd1["id"], "charge", D("400.00")), (p2, upd2["id"], "charge", D("300.00")),
            (p3, None, "advance", D("54.33")),
            (p3, upd2["id"], "charge", D("433.33")), (p3, upd1["id"], "penalty", D("12.34"))]
        assert (result["charge"], result["penalty"], result["advance"]) == (D("1733.33"), D("12.34"), D("54.33"))
        if HAS_ADVANCE_INVOICES:
            assert (result["advance_invoices"], result["advance_errors"]) == (1, [])
        # a later UPD consumes the advance — and, being principal, goes before the penalty
        upd3 = await document(conn, k, "upd", "200.00", date(2026, 11, 30), due_on=date(2026, 12, 10))
        await reallocate(conn, [k["id"]])
        assert [a for a in await allocations(conn, k["id"]) if a[0] == p3] == [
            (p3, upd2["id"], "charge", D("433.33")), (p3, upd3["id"], "charge", D("66.67"))]
        # the turnover: opening + charged − paid = closing, per month and in all
        t = await contract_turnover(conn, k["id"], date(2026, 10, 1), date(2026, 11, 30))
    assert (t["opening"], t["charged"], t["paid"], t["closing"]) == (
        D("1000.00"), D("933.33"), D("1800.00"), D("133.33"))
    assert [(m["month"], m["opening"], m["charged"], m["paid"], m["closing"]) for m in t["months"]] == [
        (date(2026, 10, 1), D("1000.00"), D("733.33"), D("1300.00"), D("433.33")),
        (date(2026, 11, 1), D("433.33"), D("200.00"), D("500.00"), D("133.33"))]
    assert t["penalties"] == {"opening": D("0.00"), "accrued": D("12.34"), "paid": D("0.00"), "closing": D("12.34")}


async def test_named_document_first_and_a_decreasing_ukd(api, tx):
    await ensure_agent(api)
    _org, (k,) = await org_with_contracts(api, 1, "ООО «Назначение»")
    async with tx() as conn:
        upd1 = await document(conn, k, "upd", "300.00", date(2026, 9, 30), due_on=date(2026, 10, 10))
        upd2 = await document(conn, k, "upd", "250.50", date(2026, 10, 31), due_on=date(2026, 11, 10),
                              number="НД-77")
        await document(conn, k, "ukd", "-50.00", date(2026, 11, 2), corrects_id=upd1["id"])
        named = await contract_payment(conn, k, "300.00", date(2026, 11, 3), "Оплата по УПД № НД-77 от 31.10.2026")
        plain = await contract_payment(conn, k, "260.00", date(2026, 11, 4))
        await reallocate(conn, [k["id"]])
        assert await allocations(conn, k["id"]) == [
            (named, upd1["id"], "charge", D("49.50")), (named, upd2["id"], "charge", D("250.50")),
            (plain, None, "advance", D("59.50")), (plain, upd1["id"], "charge", D("200.50"))]
        t = await contract_turnover(conn, k["id"], date(2026, 11, 1), date(2026, 11, 30))
    # documents 300 + 250.50 before November; the UKD −50 and the payments in it
    assert (t["opening"], t["charged"], t["paid"], t["closing"]) == (
        D("550.50"), D("-50.00"), D("560.00"), D("-59.50"))


async def test_turnover_statement_of_every_contract_with_totals(api, tx):
    await ensure_agent(api)
    org, (a, b) = await org_with_contracts(api, 2, "ООО «Ведомость»")
    async with tx() as conn:
        await document(conn, a, "act", "100.00", date(2027, 1, 31))
        await document(conn, b, "upd", "40.00", date(2026, 12, 31))
        await contract_payment(conn, b, "15.00", date(2027, 1, 10))
        st = await turnover_statement(conn, date(2027, 1, 1), q=org["inn"], limit=1)
        page2 = await turnover_statement(conn, date(2027, 1, 1), q=org["inn"], limit=1, offset=1)
    assert st["total"] == 2 and len(st["items"]) == 1
    rows = {r["contract_id"]: r for r in st["items"] + page2["items"]}
    assert (rows[a["id"]]["opening"], rows[a["id"]]["charged"], rows[a["id"]]["paid"], rows[a["id"]]["closing"]) == (
        D("0.00"), D("100.00"), D("0.00"), D("100.00"))
    assert (rows[b["id"]]["opening"], rows[b["id"]]["charged"], rows[b["id"]]["paid"], rows[b["id"]]["closing"]) == (
        D("40.00"), D("0.00"), D("15.00"), D("25.00"))
    assert st["totals"] == {"opening": D("40.00"), "charged": D("100.00"), "paid": D("15.00"), "closing": D("125.00")}


@pytest.mark.skipif(not HAS_ADVANCE_INVOICES, reason="the documents' module (advance invoices) is not in this build")
async def test_overpayment_gets_one_advance_invoice(api, tx):
    await ensure_agent(api)
    _org, (k,) = await org_with_contracts(api, 1, "ООО «Аванс»")
    async with tx() as conn:
        paid = await contract_payment(conn, k, "1220.00", date(2026, 11, 20))
        first = await reallocate(conn, [k["id"]])
        again = await reallocate(conn, [k["id"]])
        issued = (await conn.execute(text(
            "SELECT amount FROM legal_documents WHERE kind = 'advance_invoice' AND payment_id = :p "
            "AND status = 'issued'"), {"p": paid})).scalars().all()
    assert first["advance"] == D("1220.00") and first["advance_errors"] == []
    assert (first["advance_invoices"], again["advance_invoices"], issued) == (1, 0, [D("1220.00")])


async def test_storno_of_a_contract_payment_drops_its_allocations(api, tx):
    from aquabill.billing_core.payments.intake import storno_payment

    await ensure_agent(api)
    _org, (k,) = await org_with_contracts(api, 1, "ООО «Сторно»")
    async with tx() as conn:
        upd = await document(conn, k, "upd", "90.00", date(2026, 10, 31))
        wrong = await contract_payment(conn, k, "90.00", date(2026, 11, 1))
        right = await contract_payment(conn, k, "40.00", date(2026, 11, 2))
        await reallocate(conn, [k["id"]])
        await storno_payment(conn, wrong, note="ошибочный")
        assert await allocations(conn, k["id"]) == [(right, None, "advance", D("40.00"))]
        await reallocate(conn, [k["id"]])
        assert await allocations(conn, k["id"]) == [(right, upd["id"], "charge", D("40.00"))]


async def test_a_named_bill_stands_for_the_upd_of_its_month(api, tx):
    await ensure_agent(api)
    _org, (k,) = await org_with_contracts(api, 1, "ООО «Счёт»")
    async with tx() as conn:
        upd_sep = await document(conn, k, "upd", "10.00", date(2026, 9, 30), due_on=date(2026, 10, 10))
        upd_oct = await document(conn, k, "upd", "20.00", date(2026, 10, 31), due_on=date(2026, 11, 10))
        await document(conn, k, "bill", "20.00", date(2026, 10, 31), number="СЧ-5", period=date(2026, 10, 1))
        paid = await contract_payment(conn, k, "25.00", date(2026, 11, 3), "Оплата по счёту № СЧ-5 за октябрь")
        await reallocate(conn, [k["id"]])
        assert await allocations(conn, k["id"]) == [
            (paid, upd_sep["id"], "charge", D("5.00")), (paid, upd_oct["id"], "charge", D("20.00"))]


async def test_two_assignments_and_two_reallocations_at_once(api, tx):
    import asyncio

    from aquabill.base.errors import Conflict
    from aquabill.legal_entities.payments.assign import assign_payment

    await ensure_agent(api)
    _org, (k,) = await org_with_contracts(api, 1, "ООО «Одновременно»")
    async with tx() as conn:
        upd = await document(conn, k, "act", "70.00", date(2026, 10, 31))
        queued = (await conn.execute(text(
            "INSERT INTO payments(agent_id, source, paid_on, amount, purpose, status, reason) SELECT id, 'bank_1c', "
            "DATE '2026-11-11', 100.00, 'Оплата', 'unidentified', 'Лицевой счёт не указан' FROM payment_agents "
            "WHERE code = 'bank1c' RETURNING id"))).scalar_one()

    async def assign() -> str:
        try:
            async with tx() as conn:
                await assign_payment(conn, queued, k["id"])
            return "done"
        except Conflict:
            return "409"

    assert sorted(await asyncio.gather(assign(), assign())) == ["409", "done"]

    async def realloc() -> None:
        async with tx() as conn:
            await reallocate(conn, [k["id"]])

    await asyncio.gather(realloc(), realloc())
    async with tx() as conn:
        assert await allocations(conn, k["id"]) == [(queued, None, "advance", D("30.00")),
                                                    (queued, upd["id"], "charge", D("70.00"))]
