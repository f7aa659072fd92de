"""The sales ledger, the reconciliation act and the 1C export over the hand-made set (conftest.py): exact
figures, the ledger's inclusions and exclusions, the act's balance, the XML valid against its schema."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from lxml import etree
from sqlalchemy import text

from aquabill.base.errors import Invalid, NotFound
from aquabill.legal_entities.reports import export_1c
from aquabill.legal_entities.reports.reconciliation import reconciliation_act
from aquabill.legal_entities.reports.sales_ledger import sales_ledger, table

D = Decimal
Q1 = (date(2026, 1, 1), date(2026, 3, 31))


async def test_sales_ledger_rows_and_totals(ledger_set, tx):
    async with tx() as conn:
        ledger = await sales_ledger(conn, *Q1)
    rows = ledger["rows"]
    assert [(r["no"], r["code"], r["invoice"], r["correction"]) for r in rows] == [
        (1, "01", "Д-0001 от 31.01.2026", ""),
        (2, "02", "А-0001 от 22.02.2026", ""),
        (3, "18", "Д-0001 от 31.01.2026", "К-0001 от 10.03.2026"),
    ]
    upd, advance, ukd = rows
    assert (upd["total"], upd["net_22"], upd["vat_22"], upd["net_20"]) == (D("10004.00"), D("8200.00"),
                                                                            D("1804.00"), None)
    assert (advance["total"], advance["net_22"], advance["vat_22"]) == (D("12200.00"), None, D("2200.00"))
    assert advance["payment_doc"] == "150 от 20.02.2026"
    assert (ukd["total"], ukd["net_22"], ukd["vat_22"]) == (D("610.00"), D("500.00"), D("110.00"))
    assert upd["buyer"] == "ООО «Ромашка»"
    assert upd["buyer_ids"] == f"{ledger_set['inn']}/{ledger_set['kpp']}"
    totals = ledger["totals"]
    assert (totals["total"], totals["net_22"], totals["vat_22"], totals["net_20"], totals["exempt"]) == (
        D("22814.00"), D("8700.00"), D("4114.00"), D("0.00"), D("0.00"))
    assert ledger["excluded"] == {"ukd_decrease": 1, "act": 1}
    header, body = table(ledger)
    assert len(header) == len(body[0]) == 18 and body[-1][9] == D("22814.00")
    assert upd["advance_docs"] == advance["advance_docs"] == ""


class _Rollback(Exception):
    pass


async def test_column_11a_names_the_advance_invoices_a_upd_offset(ledger_set, tx):
    # June 2026: a UPD the February prepayment (its advance invoice А-0001 of 22.02.2026) was allocated to; rolled
    # back afterwards (the module's set stays as the other tests count it)
    from tests.integration.legal_entities.reports.conftest import _doc

    with pytest.raises(_Rollback):
        async with tx() as conn:
            upd = await _doc(conn, "upd", "Д-0009", date(2026, 6, 30), ledger_set["a"], ledger_set["party"],
                             [("Холодное водоснабжение", D("10"), D("100.00"), D("1000.00"), "22%",
                               D("220.00"))], period=date(2026, 6, 1), function="СЧФДОП")
            await conn.execute(text(
                "INSERT INTO contract_allocations(payment_id, contract_id, document_id, kind, amount) "
                "VALUES (:p, :c, :d, 'charge', 1220.00)"),
                {"p": ledger_set["advance_payment"], "c": ledger_set["a"], "d": upd})
            ledger = await sales_ledger(conn, date(2026, 6, 1), date(2026, 6, 30))
            raise _Rollback
    [row] = ledger["rows"]
    assert (row["code"], row["invoice"], row["advance_docs"]) == ("01", "Д-0009 от 30.06.2026", "А-0001 от 22.02.2026")


async def test_sales_ledger_of_december_has_the_20_percent_upd(ledger_set, tx):
    async with tx() as conn:
        ledger = await sales_ledger(conn, date(2025, 12, 1), date(2025, 12, 31))
    assert [(r["code"], r["net_20"], r["vat_20"], r["total"]) for r in ledger["rows"]] == [
        ("01", D("1000.00"), D("200.00"), D("1200.00"))]


async def test_sales_ledger_refuses_a_reversed_or_long_period(ledger_set, tx):
    async with tx() as conn:
        with pytest.raises(Invalid):
            await sales_ledger(conn, date(2026, 3, 31), date(2026, 1, 1))
        with pytest.raises(Invalid):
            await sales_ledger(conn, date(2025, 1, 1), date(2026, 3, 31))


async def test_reconciliation_act_balances(ledger_set, tx):
    async with tx() as conn:
        act = await reconciliation_act(conn, ledger_set["a"], *Q1)
    assert act["opening"] == D("700.00")
    assert [(r["on"], r["text"], r["debit"], r["credit"]) for r in act["rows"]] == [
        (date(2026, 1, 31), "Реализация (УПД № Д-0001 от 31.01.2026)", D("10004.00"), D("0.00")),
        (date(2026, 2, 5), "Оплата (п/п № 123 от 05.02.2026)", D("0.00"), D("10004.00")),
        (date(2026, 2, 20), "Оплата (п/п № 150 от 20.02.2026)", D("0.00"), D("12200.00")),
        (date(2026, 3, 10), "Корректировка реализации в сторону увеличения (УКД № К-0001 от 10.03.2026 к № Д-0001)",
         D("610.00"), D("0.00")),
        (date(2026, 3, 12), "Корректировка реализации в сторону уменьшения (УКД № К-0002 от 12.03.2026 к № Д-0001)",
         D("0.00"), D("122.00")),
    ]
    assert (act["debit"], act["credit"], act["closing"]) == (D("10614.00"), D("22326.00"), D("-11012.00"))
    assert act["opening"] + act["debit"] - act["credit"] == act["closing"]
    assert act["closing_text"] == "Задолженность в пользу ООО «Ромашка»: 11 012,00 руб."
    penalties = act["penalties"]
    assert [(r["text"], r["debit"]) for r in penalties["rows"]] == [
        ("Пени (416-ФЗ) по документу № Д-0001 от 31.01.2026 за 03.2026", D("12.34"))]
    assert (penalties["opening"], penalties["accrued"], penalties["paid"], penalties["closing"]) == (
        D("0.00"), D("12.34"), D("0.00"), D("12.34"))
    # the next period opens with this one's closing balance
    async with tx() as conn:
        later = await reconciliation_act(conn, ledger_set["a"], date(2026, 4, 1), date(2026, 4, 30))
    assert (later["opening"], later["rows"], later["closing"]) == (D("-11012.00"), [], D("-11012.00"))
    assert later["penalties"]["opening"] == D("12.34")


async def test_reconciliation_of_the_act_contract_and_bad_input(ledger_set, tx):
    async with tx() as conn:
        act = await reconciliation_act(conn, ledger_set["b"], *Q1)
        assert [(r["text"], r["debit"]) for r in act["rows"]] == [
            ("Реализация (акт № Д-0002 от 31.03.2026)", D("3000.00"))]
        assert act["closing"] == D("3000.00")
        with pytest.raises(NotFound):
            await reconciliation_act(conn, 2_000_000_000, *Q1)
        with pytest.raises(Invalid):
            await reconciliation_act(conn, ledger_set["a"], date(2026, 3, 1), date(2026, 2, 1))


async def test_reconciliation_agrees_with_the_contract_turnover(ledger_set, tx):
    turnover = pytest.importorskip("aquabill.legal_entities.payments.turnover")
    async with tx() as conn:
        act = await reconciliation_act(conn, ledger_set["a"], *Q1)
        got = await turnover.contract_turnover(conn, ledger_set["a"], *Q1)
    # the act shows a decreasing УКД as a credit (no negative figures in an act), the turnover nets it in
    # «charged»: the same balances and the same movement
    assert (got["opening"], got["charged"] - got["paid"], got["closing"]) == (
        act["opening"], act["debit"] - act["credit"], act["closing"])
    assert got["charged"] == act["debit"] - D("122.00") and got["paid"] == act["credit"] - D("122.00")
    assert (got["penalties"]["accrued"], got["penalties"]["closing"]) == (
        act["penalties"]["accrued"], act["penalties"]["closing"])


async def test_export_1c_xml_and_csv(ledger_set, tx):
    async with tx() as conn:
        data = await export_1c.collect(conn, *Q1)
    content = export_1c.build_xml(data, formed_at=datetime(2026, 4, 2, 9, 30))
    export_1c.ensure_valid(content)
    root = etree.fromstring(content)
    ns = {"e": export_1c.NS}
    kinds = [d.get("Вид") for d in root.iterfind("e:Документы/e:Документ", ns)]
    assert kinds == ["bill", "upd", "advance_invoice", "ukd", "ukd", "act"]
    upd = root.find("e:Документы/e:Документ[@Номер='Д-0001']", ns)
    assert (upd.get("СуммаБезНДС"), upd.get("НДС"), upd.get("Сумма")) == ("8200.00", "1804.00", "10004.00")
    lines = [(s.get("Количество"), s.get("ЦенаБезНДС"), s.get("СтавкаНДС"), s.get("НДС")) for s in
             upd.iterfind("e:Строка", ns)]
    assert lines == [("100", "50", "22%", "1100.00"), ("80", "40", "22%", "704.00")]
    payments = [(p.get("НомерПП"), p.get("Сумма"), p.get("Статус")) for p in root.iterfind("e:Платежи/e:Платеж", ns)]
    assert payments == [("123", "10004.00", "identified"), ("150", "12200.00", "identified"),
                        ("170", "999.00", "storno")]
    assert len(root.findall("e:Договоры/e:Договор", ns)) == 2
    csv = export_1c.build_csv(data).decode("utf-8")
    assert csv.startswith("\ufeffЗапись;Ид;Вид;")
    assert "Платёж;" in csv and ";10004,00;" in csv
    # the same number of rows: 7 document lines (one line each but the upd's two) and 3 payments, plus the header
    assert len(csv.strip().split("\r\n")) == 1 + 7 + 3


async def test_export_refuses_a_broken_file(ledger_set, tx):
    async with tx() as conn:
        data = await export_1c.collect(conn, *Q1)
    content = export_1c.build_xml(data, formed_at=datetime(2026, 4, 2, 9, 30)).replace(b'"upd"', b'"xyz"', 1)
    with pytest.raises(Invalid):
        export_1c.ensure_valid(content)


async def test_nothing_in_an_empty_period(ledger_set, tx):
    async with tx() as conn:
        ledger = await sales_ledger(conn, date(2027, 1, 1), date(2027, 3, 31))
        data = await export_1c.collect(conn, date(2027, 1, 1), date(2027, 3, 31))
        count = (await conn.execute(text("SELECT count(*) FROM legal_documents"))).scalar_one()
    assert ledger["rows"] == [] and ledger["totals"]["total"] == D("0.00") and count == 7
    export_1c.ensure_valid(export_1c.build_xml(data, formed_at=datetime(2027, 4, 1)))


async def test_reports_repeat_identically(ledger_set, core, tenant):
    """Read-only and deterministic: two exports at once on two connections give the same bytes."""
    import asyncio

    from aquabill.tenants.context import tenant_transaction

    async def once() -> bytes:
        async with tenant_transaction(core.engines, tenant.tenant, None) as conn:
            data = await export_1c.collect(conn, *Q1)
        return export_1c.build_xml(data, formed_at=datetime(2026, 4, 2, 9, 30)) + export_1c.build_csv(data)

    first, second = await asyncio.gather(once(), once())
    assert first == second


async def test_a_mixed_correction_shows_only_its_increase(ledger_set, tx):
    from tests.integration.legal_entities.reports.conftest import _doc

    async with tx() as conn:
        await _doc(conn, "ukd", "К-0005", date(2026, 5, 5), ledger_set["a"], ledger_set["party"],
                   [("Холодное водоснабжение", D("4.000"), D("50.0000"), D("200.00"), "22%", D("44.00")),
                    ("Водоотведение", D("-1.000"), D("40.0000"), D("-40.00"), "22%", D("-8.80"))],
                   period=date(2026, 1, 1), corrects=ledger_set["upd"], function="КСЧФДИС")
        ledger = await sales_ledger(conn, date(2026, 5, 1), date(2026, 5, 31))
    assert [(r["code"], r["total"], r["net_22"], r["vat_22"]) for r in ledger["rows"]] == [
        ("18", D("244.00"), D("200.00"), D("44.00"))]
    assert ledger["excluded"]["ukd_decrease"] == 1
