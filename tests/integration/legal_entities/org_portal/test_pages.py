"""The organisation's pages on the portal: its contracts with the balance (documents − payments), its documents
with the kind in Russian and the XML as issued, its meters and a reading submitted from the portal (validated as
every source, source 'portal', only inside the reading window), the reconciliation act's page."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from sqlalchemy import text

from aquabill.base.errors import Invalid
from aquabill.legal_entities import portal_store
from tests.integration.legal_entities.org_portal.world import XML, XML_NAME


async def test_the_organisations_list_and_the_contract_balance(legal_client, member, tx, world):
    listed = await legal_client.get("/my/org", headers=member.headers)
    assert listed.status_code == 200
    assert f'id="org-{world.alfa.id}"' in listed.text and f'id="org-{world.beta.id}"' not in listed.text
    async with tx() as conn:
        contracts = await portal_store.contracts_with_balance(conn, world.alfa.id)
    assert [(c["id"], c["debit"], c["credit"], c["balance"]) for c in contracts] == [
        (world.alfa.contract_id, D("1220.00"), D("500.00"), D("720.00"))]
    assert portal_store.totals(contracts) == {"debit": D("1220.00"), "credit": D("500.00"), "balance": D("720.00")}
    page = await legal_client.get(f"/my/org/{world.alfa.id}", headers=member.headers)
    assert page.status_code == 200
    assert f'id="balance-{world.alfa.contract_id}">720,00&nbsp;₽' in page.text
    assert 'id="org-total">720,00&nbsp;₽' in page.text and "Задолженность" in page.text


async def test_documents_with_the_xml_as_issued(legal_client, member, world):
    page = await legal_client.get(f"/my/org/{world.alfa.id}/documents", headers=member.headers)
    assert page.status_code == 200
    html = page.text
    assert "УПД № А-1" in html and "Счёт на оплату № А-1" in html and "в т. ч. НДС 220,00" in html
    assert f'href="/my/org/{world.alfa.id}/documents/{world.alfa.upd_id}.xml"' in html
    assert f'href="/my/org/{world.alfa.id}/documents/{world.alfa.bill_id}.xml"' not in html  # a bill has no XML
    xml = await legal_client.get(f"/my/org/{world.alfa.id}/documents/{world.alfa.upd_id}.xml", headers=member.headers)
    assert xml.status_code == 200 and xml.content == XML
    assert xml.headers["content-disposition"].endswith("''" + XML_NAME)
    none = await legal_client.get(f"/my/org/{world.alfa.id}/documents/{world.alfa.bill_id}.xml",
                                  headers=member.headers)
    assert none.status_code == 404
    for doc_id in (world.alfa.upd_id, world.alfa.bill_id):  # the PDF staff print (L2's renderers)
        pdf = await legal_client.get(f"/my/org/{world.alfa.id}/documents/{doc_id}.pdf", headers=member.headers)
        assert (pdf.status_code, pdf.headers["content-type"], pdf.content[:5]) == (200, "application/pdf", b"%PDF-")


async def test_a_reading_from_the_portal(legal_client, member, tx, world):
    page = await legal_client.get(f"/my/org/{world.alfa.id}/meters", headers=member.headers)
    assert page.status_code == 200 and "АЛЬФА-1" in page.text and "БЕТА-1" not in page.text
    assert f'id="meter-{world.alfa.meter_id}"' in page.text  # the meter's own id, not its point's
    r = await legal_client.post(f"/my/org/{world.alfa.id}/meters", data={"meter_id": str(world.alfa.meter_id),
                                                                          "value": "150,5"}, headers=member.headers)
    assert r.status_code == 200, r.text
    assert "Показание 150,5 по счётчику № АЛЬФА-1 (холодное водоснабжение) принято. Расход: 50,5 м³." in r.text
    bad = await legal_client.post(f"/my/org/{world.alfa.id}/meters", data={"meter_id": str(world.alfa.meter_id),
                                                                            "value": "сто"}, headers=member.headers)
    assert bad.status_code == 422 and "введите число с табло счётчика" in bad.text
    async with tx() as conn:
        rows = (await conn.execute(text(
            "SELECT value, source, status, consumption FROM readings WHERE meter_id = :m"),
            {"m": world.alfa.meter_id})).all()
    assert [tuple(r) for r in rows] == [(D("150.500"), "portal", "accepted", D("50.500"))]


async def test_readings_only_inside_the_window_and_validated(tx, world):
    async with tx() as conn:
        await conn.execute(text("UPDATE billing_settings SET value = '[15, 25]' WHERE key = 'portal_reading_days'"))
        try:
            await portal_store.submit_reading(conn, world.beta.id, world.beta.meter_id, "120", today=date(2026, 3, 10))
            raise AssertionError("outside the window")
        except Invalid as exc:
            assert exc.message == ("Показания принимаются с 15 по 25 число месяца. Сегодня 10 марта — передайте "
                                   "показания с 15 марта.")
        got = await portal_store.submit_reading(conn, world.beta.id, world.beta.meter_id, "90",
                                                today=date(2026, 3, 20))
        assert (got["status"], got["consumption"]) == ("rejected", None)
        await conn.rollback()


async def test_the_reconciliation_page(legal_client, member, world):
    page = await legal_client.get(f"/my/org/{world.alfa.id}/reconciliation?from=2026-01-01&to=2026-03-31",
                                  headers=member.headers)
    assert page.status_code == 200
    assert "Акт сверки взаимных расчётов" in page.text
    # L6's reconciliation_act: the УПД 1 220.00 in debit, the payment 500.00 in credit, 720.00 owed at the end
    assert 'id="act-closing-debit">720,00<' in page.text and 'id="act-closing-credit"><' in page.text
    bad = await legal_client.get(f"/my/org/{world.alfa.id}/reconciliation?from=2026-13-01", headers=member.headers)
    assert bad.status_code == 422 and "Дата — в виде ГГГГ-ММ-ДД" in bad.text
    backwards = await legal_client.get(f"/my/org/{world.alfa.id}/reconciliation?from=2026-03-01&to=2026-01-01",
                                       headers=member.headers)
    assert backwards.status_code == 422 and "Конец периода раньше его начала" in backwards.text
