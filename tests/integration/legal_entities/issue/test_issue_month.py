"""Issuing a month's documents from the calculation: UPD with 22 %, an act без НДС, a two-service UPD with a
price that includes VAT, the bill and its due day, exact kopecks, the XML valid against the FNS XSD with the file
name = @ИдФайл, idempotence, numbering under two issues at once, cancelling and issuing again."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import pytest
from lxml import etree
from sqlalchemy import text

from aquabill.base.errors import Conflict, Invalid
from aquabill.channels.fns_upd import validate
from aquabill.legal_entities.issue.month import issue_month
from aquabill.legal_entities.issue.store import cancel_document
from tests.integration.legal_entities.issue.conftest import add_charges, make_contract

NOV = date(2026, 11, 1)


async def docs_of(conn, contract_id: int) -> dict[str, dict]:
    rows = (await conn.execute(text(
        "SELECT * FROM legal_documents WHERE contract_id = :k AND status = 'issued' ORDER BY id"),
        {"k": contract_id})).mappings().all()
    return {r["kind"]: dict(r) for r in rows}


async def lines_of(conn, document_id: int) -> list[tuple]:
    return [tuple(r) for r in await conn.execute(text(
        "SELECT line_no, name, quantity, price, amount_net, vat_rate, vat, amount FROM legal_document_lines "
        "WHERE document_id = :d ORDER BY line_no"), {"d": document_id})]


def assert_valid(doc: dict) -> etree._Element:
    assert validate(doc["xml"], doc["file_name"]) == []
    root = etree.fromstring(doc["xml"])
    assert doc["file_name"] == root.get("ИдФайл") + ".xml"
    assert doc["xml"].startswith(b"<?xml version='1.0' encoding='windows-1251'?>")
    return root


async def test_a_vat_contract_gets_a_upd_at_22_percent_and_a_bill(tx):
    async with tx(1) as conn:
        k = await make_contract(conn)
        await add_charges(conn, k, NOV, [("cold_water", "60.250", "45.6700", False),
                                         ("cold_water", "40.250", "45.6700", False)])
        result = await issue_month(conn, NOV, contract_id=k["id"], user_id=1)
        assert (result["upd"], result["act"], result["bill"], result["errors"]) == (1, 0, 1, [])
        docs = await docs_of(conn, k["id"])
    upd, bill = docs["upd"], docs["bill"]
    # 100.5 m³ × 45.67 = 4589.835 → 4589.84; VAT 22 % = 1009.7648 → 1009.76; 5599.60
    assert (upd["function"], upd["amount_net"], upd["vat"], upd["amount"], upd["issued_on"], upd["period"]) == (
        "СЧФДОП", Decimal("4589.84"), Decimal("1009.76"), Decimal("5599.60"), date(2026, 11, 30), NOV)
    async with tx() as conn:
        assert await lines_of(conn, upd["id"]) == [
            (1, "Холодное водоснабжение за ноябрь 2026", Decimal("100.500"), Decimal("45.6700"), Decimal("4589.84"),
             "22%", Decimal("1009.76"), Decimal("5599.60"))]
    root = assert_valid(upd)
    assert root.find("Документ").get("Функция") == "СЧФДОП"
    assert root.find("Документ/ТаблСчФакт/СведТов").get("НалСт") == "22%"
    assert root.find("Документ/СвСчФакт").get("НомерДок") == upd["number"]
    assert (bill["amount"], bill["due_on"], bill["xml"], bill["function"]) == (Decimal("5599.60"),
                                                                              date(2026, 12, 10), None, "")
    # the UPD is due as the bill: the 10th of the next month (Decree 644 p. 16, the contract's default terms)
    assert upd["due_on"] == date(2026, 12, 10)


async def test_a_contract_without_vat_gets_an_act(tx):
    async with tx(1) as conn:
        k = await make_contract(conn, vat_mode="no_vat", terms={"due_day": 25, "intermediate": []})
        await add_charges(conn, k, NOV, [("sewage", "12.345", "33.3300", False)], vat_mode="no_vat")
        await issue_month(conn, NOV, contract_id=k["id"])
        docs = await docs_of(conn, k["id"])
        act = docs["act"]
        # 12.345 × 33.33 = 411.45885 → 411.46, без НДС
        assert (act["function"], act["amount_net"], act["vat"], act["amount"]) == (
            "ДОП", Decimal("411.46"), Decimal("0.00"), Decimal("411.46"))
        assert [ln[5:] for ln in await lines_of(conn, act["id"])] == [("без НДС", Decimal("0.00"), Decimal("411.46"))]
        assert (docs["bill"]["due_on"], act["due_on"]) == (date(2026, 12, 25), date(2026, 12, 25))
    root = assert_valid(act)
    assert root.find("Документ").get("Функция") == "ДОП"
    assert root.find("Документ/ТаблСчФакт/ВсегоОпл/СумНалВсего/БезНДС").text == "без НДС"


async def test_two_services_and_a_price_with_vat(tx):
    async with tx(1) as conn:
        k = await make_contract(conn)
        await add_charges(conn, k, NOV, [("cold_water", "10", "50.0000", False), ("sewage", "10", "61.0000", True),
                                         ("cold_water", "3", "50.0000", False)])
        await issue_month(conn, NOV, contract_id=k["id"])
        upd = (await docs_of(conn, k["id"]))["upd"]
        # water: 13 × 50 = 650.00 + 143.00; sewage: 610.00 with VAT, 610 × 22/122 = 110.00, net 500.00
        assert await lines_of(conn, upd["id"]) == [
            (1, "Холодное водоснабжение за ноябрь 2026", Decimal("13.000"), Decimal("50.0000"), Decimal("650.00"),
             "22%", Decimal("143.00"), Decimal("793.00")),
            (2, "Водоотведение за ноябрь 2026", Decimal("10.000"), Decimal("50.0000"), Decimal("500.00"), "22%",
             Decimal("110.00"), Decimal("610.00"))]
        assert (upd["amount_net"], upd["vat"], upd["amount"]) == (Decimal("1150.00"), Decimal("253.00"),
                                                                  Decimal("1403.00"))
    assert_valid(upd)


async def test_issuing_again_changes_nothing(tx):
    async with tx(1) as conn:
        k = await make_contract(conn)
        await add_charges(conn, k, NOV, [("cold_water", "7", "45.6700", False)])
        first = await issue_month(conn, NOV, contract_id=k["id"])
        before = await docs_of(conn, k["id"])
        again = await issue_month(conn, NOV, contract_id=k["id"])
        assert (first["documents"], again["documents"]) == (2, 0)
        assert await docs_of(conn, k["id"]) == before


async def test_two_issues_at_once_number_without_gaps_or_doubles(tx):
    async with tx(1) as conn:
        a, b = await make_contract(conn), await make_contract(conn)
        for k in (a, b):
            await add_charges(conn, k, NOV, [("cold_water", "5", "40.0000", False)])
        before = (await conn.execute(text("SELECT coalesce(max(last), 0) FROM legal_number_seq "
                                          "WHERE kind = 'upd' AND year = 2026"))).scalar_one()

    async def issue(k):
        async with tx(1) as conn:
            return await issue_month(conn, NOV, contract_id=k["id"])

    async def issue_all_of(k):  # the same contract twice at once: one set of documents
        async with tx(1) as conn:
            return await issue_month(conn, NOV, contract_id=k["id"])

    results = await asyncio.gather(issue(a), issue(b), issue_all_of(a))
    assert sorted(r["upd"] for r in results) == [0, 1, 1]
    async with tx() as conn:
        numbers = sorted(int(n) for n in (await conn.execute(text(
            "SELECT number FROM legal_documents WHERE kind = 'upd' AND contract_id IN (:a, :b)"),
            {"a": a["id"], "b": b["id"]})).scalars())
    assert numbers == [before + 1, before + 2]


async def test_cancel_then_issue_again_with_a_new_number(tx):
    async with tx(1) as conn:
        k = await make_contract(conn)
        await add_charges(conn, k, NOV, [("cold_water", "8", "40.0000", False)])
        await issue_month(conn, NOV, contract_id=k["id"])
        upd = (await docs_of(conn, k["id"]))["upd"]
        with pytest.raises(Invalid):
            await cancel_document(conn, upd["id"], "  ")
        assert (await cancel_document(conn, upd["id"], "Ошибка в объёме"))["status"] == "cancelled"
        with pytest.raises(Conflict):
            await cancel_document(conn, upd["id"], "ещё раз")
        result = await issue_month(conn, NOV, contract_id=k["id"])
        assert (result["upd"], result["bill"]) == (1, 0)
        again = (await docs_of(conn, k["id"]))["upd"]
        assert int(again["number"]) > int(upd["number"])


async def test_a_closed_months_document_is_not_cancelled(tx):
    oct_ = date(2026, 10, 1)
    async with tx(1) as conn:
        k = await make_contract(conn)
        await add_charges(conn, k, oct_, [("cold_water", "8", "40.0000", False)])
        await issue_month(conn, oct_, contract_id=k["id"])
        upd = (await docs_of(conn, k["id"]))["upd"]
        await conn.execute(text("INSERT INTO periods(period, status) VALUES (:p, 'closed') "
                                "ON CONFLICT (period) DO UPDATE SET status = 'closed'"), {"p": oct_})
        with pytest.raises(Conflict, match="закрытому месяцу"):
            await cancel_document(conn, upd["id"], "Ошибка")
        await conn.execute(text("UPDATE periods SET status = 'open' WHERE period = :p"), {"p": oct_})


async def test_refusals(tx):
    async with tx(1) as conn:
        with pytest.raises(Invalid, match="не раньше последнего дня"):
            await issue_month(conn, NOV, issued_on=date(2026, 11, 20))
        with pytest.raises(Invalid):
            await issue_month(conn, date(2026, 11, 2))


async def test_a_contract_that_cannot_be_billed_is_reported_and_the_rest_issued(tx):
    async with tx(1) as conn:
        good, bad = await make_contract(conn), await make_contract(conn)
        await conn.execute(text("UPDATE counterparties SET legal_address = '' WHERE id = :c"),
                           {"c": bad["counterparty_id"]})
        for k in (good, bad):
            await add_charges(conn, k, date(2026, 9, 1), [("cold_water", "1", "10.0000", False)])
        result = await issue_month(conn, date(2026, 9, 1))
    assert (result["upd"], result["bill"]) == (1, 1)
    assert result["errors"] == [{"contract_id": bad["id"], "contract": bad["number"],
                                 "message": "У контрагента «ООО «Ромашка»» не указан адрес"}]



async def test_documents_written_in_chunks_keep_their_own_lines(tx, monkeypatch):
    from aquabill.legal_entities.issue import month

    monkeypatch.setattr(month, "CHUNK", 3)
    aug = date(2026, 8, 1)
    async with tx(1) as conn:
        contracts = [await make_contract(conn) for _ in range(3)]
        for i, k in enumerate(contracts):
            await add_charges(conn, k, aug, [("cold_water", str(i + 1), "10.0000", False)])
        result = await issue_month(conn, aug)
        assert (result["upd"], result["bill"]) == (3, 3)
        rows = (await conn.execute(text(
            "SELECT d.contract_id, d.kind, d.amount, sum(l.amount) AS lines, (d.xml IS NOT NULL) AS has_xml "
            "FROM legal_documents d JOIN legal_document_lines l ON l.document_id = d.id "
            "WHERE d.period = :p GROUP BY d.id ORDER BY d.contract_id, d.kind"), {"p": aug})).all()
        upds = (await conn.execute(text("SELECT number, amount, xml FROM legal_documents WHERE period = :p "
                                        "AND kind = 'upd'"), {"p": aug})).all()
    # the pipeline (the next chunk's XML built while this one is written) keeps each file with its document
    for u in upds:
        root = etree.fromstring(u.xml)
        assert (root.find("Документ/СвСчФакт").get("НомерДок"),
                root.find("Документ/ТаблСчФакт/ВсегоОпл").get("СтТовУчНалВсего")) == (u.number, str(u.amount))
    # contract i: (i + 1) m³ × 10.00 + 22 %
    assert [(r.kind, r.amount, r.lines, r.has_xml) for r in rows] == [
        (kind, amount, amount, kind == "upd") for amount in (Decimal("12.20"), Decimal("24.40"), Decimal("36.60"))
        for kind in ("bill", "upd")]


async def test_a_sole_trader_buyer(tx):
    from aquabill.demo.organisations import inn12, ogrnip
    from tests.integration.legal_entities.helpers import RNG

    async with tx(1) as conn:
        k = await make_contract(conn)
        await conn.execute(text(
            "UPDATE counterparties SET kind = 'ip', inn = :inn, kpp = '', ogrn = :ogrn, name = 'ИП Петров Иван "
            "Сергеевич', last_name = 'Петров', first_name = 'Иван', middle_name = 'Сергеевич' WHERE id = :c"),
            {"inn": inn12(RNG), "ogrn": ogrnip(RNG, 2018), "c": k["counterparty_id"]})
        await add_charges(conn, k, date(2026, 7, 1), [("cold_water", "2", "45.6700", False)])
        await issue_month(conn, date(2026, 7, 1), contract_id=k["id"])
        upd = (await docs_of(conn, k["id"]))["upd"]
    root = assert_valid(upd)
    ip = root.find("Документ/СвСчФакт/СвПокуп/ИдСв/СвИП")
    assert ip is not None and ip.find("ФИО").get("Фамилия") == "Петров"
