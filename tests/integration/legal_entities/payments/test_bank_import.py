"""The legal-entity branch of the 1CClientBankExchange import: lines of counterparties matched to contracts by
the contract number, the payer's only contract or a document number in the purpose; ambiguous lines stay in
the unidentified queue with the reason; the import is idempotent, also when two imports run at once."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal as D

from sqlalchemy import text

from aquabill.channels.bank_files.importer import import_payment_file
from tests.integration.legal_entities.payments.statements import (
    AGENT,
    Line,
    allocations,
    document,
    ensure_agent,
    org_with_contracts,
    statement,
    upload,
)


async def _payments(tx, inn: str) -> list[tuple]:
    async with tx() as conn:
        return [tuple(r) for r in await conn.execute(text(
            "SELECT p.amount, p.status, p.contract_id, p.counterparty_id, p.reason, p.source FROM payments p "
            "WHERE p.operation_id LIKE '%/' || :inn || '%' OR p.purpose LIKE '%' || :inn || '%' ORDER BY p.id"),
            {"inn": inn})]


async def test_contract_number_only_contract_document_number_and_ambiguous(api, tx):
    await ensure_agent(api)
    one, (only,) = await org_with_contracts(api, 1, "ООО «Единственный»")
    many, (k1, k2, k3) = await org_with_contracts(api, 3, "ООО «Много договоров»")
    async with tx() as conn:
        upd = await document(conn, k3, "upd", "500.00", date(2026, 10, 31), number="ВК-0042")
    lines = [
        Line("11", date(2026, 11, 2), "1000.00", one["inn"], "Оплата за водоснабжение, НДС не облагается",
             payer_account="40702810500000000011"),
        Line("12", date(2026, 11, 2), "200.50", many["inn"], f"Оплата по договору № {k2['number']} за октябрь",
             payer_account="40702810500000000012"),
        Line("13", date(2026, 11, 3), "500.00", many["inn"], "Оплата по УПД № ВК-0042 от 31.10.2026",
             payer_account="40702810500000000012"),
        Line("14", date(2026, 11, 3), "77.00", many["inn"], "Оплата за воду", payer_account="40702810500000000012"),
    ]
    report = await upload(api, statement(lines))
    async with tx() as conn:
        rows = [tuple(r) for r in await conn.execute(text(
            "SELECT line_no, amount, status, contract_id, counterparty_id, reason, source FROM payments "
            "WHERE file_id = :f ORDER BY line_no"), {"f": report["file_id"]})]
        allocated = await allocations(conn, k3["id"])
    assert (report["loaded"], report["unidentified"]) == (4, 1), rows
    assert [r[1:5] for r in rows] == [
        (D("1000.00"), "identified", only["id"], one["id"]),
        (D("200.50"), "identified", k2["id"], many["id"]),
        (D("500.00"), "identified", k3["id"], many["id"]),
        (D("77.00"), "unidentified", None, None)]
    assert rows[3][5] == (f"Плательщик ИНН {many['inn']} найден, но в назначении нет номера договора, "
                          "а договоров у него 3")
    assert {r[6] for r in rows} == {"bank_1c"}
    assert "единственный договор" in rows[0][5] and "договор №" in rows[1][5] and "ВК-0042" in rows[2][5]
    # the UPD named is covered by the payment that named it
    payment_13 = (await _line_payment(tx, report["file_id"], 3))
    assert allocated == [(payment_13, upd["id"], "charge", D("500.00"))]
    assert k1  # the first contract of the payer gets nothing


async def _line_payment(tx, file_id: int, index: int) -> int:
    async with tx() as conn:
        return (await conn.execute(text("SELECT id FROM payments WHERE file_id = :f ORDER BY line_no "
                                        "OFFSET :i LIMIT 1"), {"f": file_id, "i": index - 1})).scalar_one()


async def test_individuals_lines_keep_working(api, tx):
    await ensure_agent(api)
    report = await upload(api, statement([
        Line("21", date(2026, 11, 5), "150.00", "500100732259", "Оплата за воду по л/с 9999999 за октябрь",
             payer="Иванов Иван Иванович", payer_account="40817810000000000021"),
        Line("22", date(2026, 11, 5), "99.00", "7707083893", "Оплата по договору № НЕТ-1",
             payer="ПАО «Незнакомец»", payer_account="40702810000000000022")]))
    assert (report["loaded"], report["unidentified"]) == (2, 2)
    async with tx() as conn:
        rows = (await conn.execute(text("SELECT status, reason, contract_id FROM payments WHERE file_id = :f "
                                        "ORDER BY line_no"), {"f": report["file_id"]})).all()
    assert [tuple(r) for r in rows] == [
        ("unidentified", "Лицевой счёт 9999999 не найден", None),
        ("unidentified", "Лицевой счёт не указан; плательщик ИНН 7707083893 не найден среди контрагентов", None)]


async def test_same_file_twice_at_once_and_same_line_in_two_files(api, tx):
    await ensure_agent(api)
    org, (k,) = await org_with_contracts(api, 1, "ООО «Дважды»")
    line = Line("31", date(2026, 11, 6), "321.09", org["inn"], "Оплата за водоотведение",
                payer_account="40702810500000000031")
    data = statement([line])

    async def load(payload: bytes) -> dict:
        async with tx() as conn:
            return (await import_payment_file(conn, AGENT, payload, file_name="s.txt")).as_dict()

    first, second = await asyncio.gather(load(data), load(data))
    assert sorted([first["loaded"], second["loaded"]]) == [0, 1]
    assert [first["duplicate_file"], second["duplicate_file"]].count(True) == 1
    # the same new line in two different files loaded at once: one payment
    fresh = Line("32", date(2026, 11, 7), "1.00", org["inn"], "Оплата за воду", payer_account="40702810500000000031")
    a, b = await asyncio.gather(load(statement([line, fresh], header_note="11:00:00")),
                                load(statement([fresh], header_note="12:00:00")))
    assert (a["loaded"] + b["loaded"], a["duplicates"] + b["duplicates"]) == (1, 2)
    async with tx() as conn:
        rows = (await conn.execute(text(
            "SELECT amount, status FROM payments WHERE contract_id = :k ORDER BY amount"), {"k": k["id"]})).all()
    assert [tuple(r) for r in rows] == [(D("1.00"), "identified"), (D("321.09"), "identified")]


async def test_bill_number_equal_to_a_upd_number(api, tx):
    """Bills and UPDs have their own numbering (`legal_number_seq`): bill № N of October, UPD № N of September.
    The demo's purpose «Оплата по счёту № N … по договору № ВК-…» books the payment to the bill's contract and
    the allocation covers October's UPD (the one the bill stands for), not September's UPD № N; «счёт № M» that
    the payer does not have stays in the queue saying so (not «договора … у него нет»)."""
    await ensure_agent(api)
    org, (k1, k2) = await org_with_contracts(api, 2, "ООО «Одинаковые номера»")
    async with tx() as conn:
        await document(conn, k1, "upd", "100.00", date(2026, 9, 30), number="7351", due_on=date(2026, 10, 10))
        october = await document(conn, k1, "upd", "812.40", date(2026, 10, 31), number="7360",
                                 due_on=date(2026, 11, 10))
        await document(conn, k1, "bill", "812.40", date(2026, 10, 31), number="7351", due_on=date(2026, 11, 10))
        await document(conn, k2, "upd", "50.00", date(2026, 10, 31), number="7352", due_on=date(2026, 11, 10))
    lines = [
        Line("41", date(2026, 11, 9), "812.40", org["inn"],
             f"Оплата по счёту № 7351 от 31.10.2026 по договору № {k1['number']} за водоснабжение и водоотведение "
             "за октябрь 2026 г. НДС не облагается", payer_account="40702810500000000041"),
        Line("42", date(2026, 11, 9), "50.00", org["inn"], "Оплата по счёту № 7352 от 31.10.2026",
             payer_account="40702810500000000041"),
    ]
    report = await upload(api, statement(lines))
    async with tx() as conn:
        rows = [tuple(r) for r in await conn.execute(text(
            "SELECT status, contract_id, reason FROM payments WHERE file_id = :f ORDER BY line_no"),
            {"f": report["file_id"]})]
        allocated = await allocations(conn, k1["id"])
    assert rows == [
        ("identified", k1["id"], "Автоматически: в назначении указан счёт № 7351 от 31.10.2026"),
        ("unidentified", None, f"Плательщик ИНН {org['inn']} найден, но документа из назначения (счёт № 7352) "
                               "среди его документов нет, а действующих договоров у него 2")]
    assert allocated == [(await _line_payment(tx, report["file_id"], 1), october["id"], "charge", D("812.40"))]
