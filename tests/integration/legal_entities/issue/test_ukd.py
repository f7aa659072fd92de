"""The correction document (УКД) for a closed month recalculated: before / after / increase per line, valid
against the UKD XSD (5.01) with the file name = @ИдФайл, linked to the corrected UPD, issued once; a 22 %
correction (a 2026 month), which 5.01 cannot write, is issued in format 5.02 (КНД 1115133) and valid against its
XSD and Schematron rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lxml import etree
from sqlalchemy import text

from aquabill.channels.fns_upd.ukd import validate_ukd
from aquabill.channels.fns_upd.ukd502 import schema as schema502
from aquabill.channels.fns_upd.ukd502 import validate_ukd502
from aquabill.channels.print.legal_upd_pdf import render_upd
from aquabill.legal_entities.issue.month import issue_month
from aquabill.legal_entities.issue.queries import print_data
from tests.integration.legal_entities.issue.conftest import add_charges, make_contract

DEC25, JAN26, NOV26 = date(2025, 12, 1), date(2026, 1, 1), date(2026, 11, 1)


async def close(conn, period: date) -> None:
    await conn.execute(text("INSERT INTO periods(period, status) VALUES (:p, 'closed') "
                            "ON CONFLICT (period) DO UPDATE SET status = 'closed'"), {"p": period})


async def test_a_recalculated_closed_month_gets_a_ukd(tx):
    async with tx(1) as conn:
        k = await make_contract(conn)
        await add_charges(conn, k, DEC25, [("cold_water", "10", "50.0000", False), ("sewage", "4", "30.0000", False)])
        await issue_month(conn, DEC25, contract_id=k["id"])
        upd = (await conn.execute(text("SELECT id, number FROM legal_documents WHERE contract_id = :k AND kind = 'upd'"),
                                  {"k": k["id"]})).one()
        await close(conn, DEC25)
        # the recalculation: +2 m³ of water (a late reading), sewage unchanged
        await add_charges(conn, k, DEC25, [("cold_water", "2", "50.0000", False)], kind="recalc", posted=NOV26)
        result = await issue_month(conn, NOV26, contract_id=k["id"])
        assert (result["ukd"], result["upd"], result["errors"]) == (1, 0, [])
        ukd = (await conn.execute(text("SELECT * FROM legal_documents WHERE contract_id = :k AND kind = 'ukd'"),
                                  {"k": k["id"]})).mappings().one()
        # before 10 × 50 = 500.00 + 20 % 100.00; after 12 × 50 = 600.00 + 120.00; the difference 100.00 + 20.00
        assert (ukd["corrects_id"], ukd["function"], ukd["period"], ukd["amount_net"], ukd["vat"], ukd["amount"]) == (
            upd.id, "КСЧФДИС", NOV26, Decimal("100.00"), Decimal("20.00"), Decimal("120.00"))
        # an increase is due by the terms of the month it is issued in (November 2026 → 10.12.2026), not the
        # corrected UPD's 10.01.2026: the buyer could not be late with an amount not yet presented
        assert ukd["due_on"] == date(2026, 12, 10)
        again = await issue_month(conn, NOV26, contract_id=k["id"])
        assert again["ukd"] == 0
        data = await print_data(conn, ukd["id"])
        pdf = render_upd(data)
        assert pdf.startswith(b"%PDF") and pdf == render_upd(data)
    assert validate_ukd(ukd["xml"], ukd["file_name"]) == []
    root = etree.fromstring(ukd["xml"])
    assert ukd["file_name"] == root.get("ИдФайл") + ".xml" and root.get("ИдФайл").startswith("ON_KORSCHFDOPPR_")
    assert root.find("Документ/СвКСчФ/СчФ").get("НомерСчФ") == upd.number
    [row] = root.findall("Документ/ТаблКСчФ/СведТов")
    assert (row.get("КолТовДо"), row.get("КолТовПосле"), row.get("НалСтДо")) == ("10.000", "12.000", "20%")
    cost = row.find("СтТовУчНал")
    assert (cost.get("СтоимДоИзм"), cost.get("СтоимПослеИзм"), cost.get("СтоимУвел")) == ("600.00", "720.00",
                                                                                         "120.00")
    assert row.find("СумНалРазн/СумУвел").text == "20.00"
    total = root.find("Документ/ТаблКСчФ/ВсегоУвел")
    assert (total.get("СтТовБезНДСВсего"), total.find("СумНал/СумНДС").text) == ("100.00", "20.00")


async def test_a_decrease_without_vat_is_a_dis(tx):
    async with tx(1) as conn:
        k = await make_contract(conn, vat_mode="no_vat", terms={"due_day": 20, "intermediate": []})
        await add_charges(conn, k, DEC25, [("cold_water", "10", "50.0000", False)], vat_mode="no_vat")
        await issue_month(conn, DEC25, contract_id=k["id"])
        # an act issued before UPDs/acts carried due_on: the UKD computes the term of the corrected month
        await conn.execute(text("UPDATE legal_documents SET due_on = NULL WHERE contract_id = :k AND kind = 'act'"),
                           {"k": k["id"]})
        await add_charges(conn, k, DEC25, [("cold_water", "-3", "50.0000", False)], kind="recalc", posted=NOV26,
                          vat_mode="no_vat")
        await issue_month(conn, NOV26, contract_id=k["id"])
        ukd = (await conn.execute(text("SELECT * FROM legal_documents WHERE contract_id = :k AND kind = 'ukd'"),
                                  {"k": k["id"]})).mappings().one()
    assert (ukd["function"], ukd["amount"], ukd["vat"], ukd["due_on"]) == ("ДИС", Decimal("-150.00"),
                                                                          Decimal("0.00"), date(2026, 1, 20))
    assert validate_ukd(ukd["xml"], ukd["file_name"]) == []
    root = etree.fromstring(ukd["xml"])
    assert root.find("Документ/ТаблКСчФ/ВсегоУм").get("СтТовУчНалВсего") == "150.00"


async def test_a_22_percent_correction_is_issued_in_format_5_02(tx):
    async with tx(1) as conn:
        k = await make_contract(conn)
        await add_charges(conn, k, JAN26, [("cold_water", "10", "50.0000", False)])
        await issue_month(conn, JAN26, contract_id=k["id"])
        upd = (await conn.execute(text("SELECT id, number, issued_on FROM legal_documents WHERE contract_id = :k "
                                       "AND kind = 'upd'"), {"k": k["id"]})).one()
        await close(conn, JAN26)
        await add_charges(conn, k, JAN26, [("cold_water", "1", "50.0000", False)], kind="recalc", posted=NOV26)
        result = await issue_month(conn, NOV26, contract_id=k["id"])
        assert (result["ukd"], result["errors"]) == (1, [])
        ukd = (await conn.execute(text("SELECT * FROM legal_documents WHERE contract_id = :k AND kind = 'ukd'"),
                                  {"k": k["id"]})).mappings().one()
        assert (await issue_month(conn, NOV26, contract_id=k["id"]))["ukd"] == 0
    # before 10 × 50.00 = 500.00 + 22 % 110.00 = 610.00; after 11 × 50.00 = 550.00 + 22 % 121.00 = 671.00;
    # the increase 50.00 + 11.00 = 61.00
    assert (ukd["corrects_id"], ukd["function"], ukd["amount_net"], ukd["vat"], ukd["amount"]) == (
        upd.id, "КСЧФДИС", Decimal("50.00"), Decimal("11.00"), Decimal("61.00"))
    assert validate_ukd502(ukd["xml"], ukd["file_name"]) == []
    root = etree.fromstring(ukd["xml"])
    assert schema502().validate(root)  # the vendored 5.02 XSD alone
    assert ukd["file_name"] == root.get("ИдФайл") + ".xml" and root.get("ИдФайл").startswith("ON_NKORSCHFDOPPR_")
    doc = root.find("Документ")
    assert (root.get("ВерсФорм"), doc.get("КНД"), doc.get("Функция")) == ("5.02", "1115133", "КСЧФДИС")
    assert doc.find("СвКСчФ/СчФ").attrib == {"НомерСчФ": upd.number, "ДатаСчФ": f"{upd.issued_on:%d.%m.%Y}"}
    assert doc.find("СодФХЖ3/ПередатДокум").get("РеквНомерДок") == upd.number
    [row] = doc.findall("ТаблКСчФ/СведТов")
    assert (row.get("НалСт"), row.get("КолТовДо"), row.get("КолТовПосле")) == ("22%", "10.000", "11.000")
    assert row.find("СтТовБезНДС").attrib == {"СтоимДоИзм": "500.00", "СтоимПослеИзм": "550.00", "СтоимУвел": "50.00"}
    assert (row.findtext("СумНалДо/СумНДС"), row.findtext("СумНалПосле/СумНДС"),
            row.findtext("СумНалРазн/СумУвел")) == ("110.00", "121.00", "11.00")
    assert row.find("СтТовУчНал").attrib == {"СтоимДоИзм": "610.00", "СтоимПослеИзм": "671.00", "СтоимУвел": "61.00"}
    total = doc.find("ТаблКСчФ/ВсегоУвел")
    assert (total.get("СтТовБезНДСВсего"), total.findtext("СумНалВсего/СумНДС"), total.get("СтТовУчНалВсего")) == (
        "50.00", "11.00", "61.00")
    assert doc.find("ТаблКСчФ/ВсегоУм") is None
