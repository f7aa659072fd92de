"""Makers for the organisation portal's tests (also used by tests/e2e/test_org_portal.py).

`make_world_org`: an organisation with an active cold-water contract, an object, a supply point and its commercial
meter (installed 01.02.2025 at 100 m³). `add_documents` gives it

    УПД № <number> of 31.01.2026 for January 2026: 1 220.00 (net 1 000.00 + VAT 22 % 220.00), with its XML
    счёт № <number> of 31.01.2026: 1 220.00 (asks for money, not a debt)
    a payment of 10.02.2026: 500.00, identified to the contract
    a payment of 50.00 cancelled by storno (status 'storno'): never counts

so the organisation owes 1 220.00 − 500.00 = 720.00."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from tests.integration.legal_entities.helpers import make_contract, make_org

XML = '<?xml version="1.0" encoding="windows-1251"?>\n<Файл ИдФайл="ON_NSCHFDOPPR_test"/>\n'.encode("cp1251")
XML_NAME = "ON_NSCHFDOPPR_test.xml"


@dataclass
class Org:
    id: int
    inn: str
    contract_id: int
    point_id: int
    meter_id: int
    upd_id: int | None = None
    bill_id: int | None = None


async def make_world_org(api, name: str, serial: str) -> Org:
    org = await make_org(api, name)
    contract = await make_contract(api, org["id"], kind="cold_water", signed_on="2025-01-15")
    await api.ok("patch", f"/api/legal/contracts/{contract['id']}", {"status": "active"})
    site = await api.ok("post", f"/api/legal/contracts/{contract['id']}/objects", {"name": "Склад",
                                                                                  "address": "ул. Речная, 1"})
    point = await api.ok("post", f"/api/legal/contracts/{contract['id']}/points", {
        "object_id": site["id"], "kind": "supply", "name": "Ввод № 1", "diameter_mm": 25, "tariff_group": "other",
        "valid_from": "2025-01-15"})
    meter = await api.ok("post", f"/api/legal/points/{point['id']}/meters", {
        "serial": serial, "installed_on": "2025-02-01", "digits": 6, "initial_reading": "100",
        "verified_until": "2031-02-01"})
    return Org(org["id"], org["inn"], contract["id"], point["id"], meter["id"])


async def add_documents(conn, org: Org, number: str) -> None:
    """The УПД with XML and the bill of January 2026, a payment of 500.00 and a storno'd one of 50.00."""
    insert = ("INSERT INTO legal_documents(kind, number, issued_on, period, contract_id, counterparty_id, function, "
              "amount_net, vat, amount, due_on, file_name, xml) VALUES (:k, :n, DATE '2026-01-31', DATE '2026-01-01', "
              ":c, :cp, :f, 1000.00, 220.00, 1220.00, DATE '2026-02-10', :fn, :x) RETURNING id")
    org.upd_id = (await conn.execute(text(insert), {"k": "upd", "n": number, "c": org.contract_id, "cp": org.id,
                                                    "f": "СЧФДОП", "fn": XML_NAME, "x": XML})).scalar_one()
    org.bill_id = (await conn.execute(text(insert), {"k": "bill", "n": number, "c": org.contract_id, "cp": org.id,
                                                     "f": "", "fn": "", "x": None})).scalar_one()
    for amount, status in (("500.00", "identified"), ("50.00", "storno")):
        await conn.execute(text(
            "INSERT INTO payments(agent_id, source, paid_on, amount, contract_id, counterparty_id, status) "
            "SELECT id, 'manual', DATE '2026-02-10', CAST(:a AS numeric), :c, :cp, :s FROM payment_agents "
            "WHERE code = 'manual'"), {"a": amount, "c": org.contract_id, "cp": org.id, "s": status})
