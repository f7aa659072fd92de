"""Documents' tests: a tenant with the seller's requisites and signer, and quick SQL makers of counterparties,
contracts and calculation rows (`legal_charges`, as L1's run writes them)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from aquabill.demo.organisations import inn10, kpp_of, ogrn
from tests.integration.legal_entities.helpers import RNG, SBER, account, contract_number
from tests.integration.legal_entities.helpers import seller as shared_seller


async def seller(conn, tenant=None) -> None:
    """The shared seller (helpers.seller) and a bank payment agent."""
    await shared_seller(conn)
    await conn.execute(text("INSERT INTO payment_agents(code, name, kind) VALUES ('legal_bank', 'Банк', 'bank') "
                            "ON CONFLICT DO NOTHING"))


@pytest.fixture(scope="module")
async def tenant(make_tenant):
    return await make_tenant(seed=seller)


async def make_contract(conn, *, vat_mode: str = "vat", terms: dict | None = None, name: str = "ООО «Ромашка»",
                        edo_id: str = "", signed_on: date = date(2025, 1, 15)) -> dict:
    inn = inn10(RNG)
    cp = (await conn.execute(text(
        "INSERT INTO counterparties(kind, name, inn, kpp, ogrn, legal_address, edo_id) "
        "VALUES ('org', :name, :inn, :kpp, :ogrn, '603000, г. Тестовск, ул. Заводская, д. 5', :edo) RETURNING id"),
        {"name": name, "inn": inn, "kpp": kpp_of(inn), "ogrn": ogrn(RNG, 2015), "edo": edo_id})).scalar_one()
    await conn.execute(text("INSERT INTO counterparty_bank_accounts(counterparty_id, bic, account, bank_name, "
                            "corr_account, main) VALUES (:cp, :bic, :acc, 'ПАО Сбербанк', :corr, true)"),
                       {"cp": cp, "bic": SBER[0], "acc": account(), "corr": SBER[1]})
    number = contract_number("ВК")
    k = (await conn.execute(text(
        "INSERT INTO contracts(number, signed_on, counterparty_id, kind, status, valid_from) "
        "VALUES (:n, :s, :cp, 'combined', 'active', :s) RETURNING id"),
        {"n": number, "s": signed_on, "cp": cp})).scalar_one()
    await conn.execute(text(
        "INSERT INTO contract_versions(contract_id, version, valid_from, payment_terms, vat_mode) "
        "VALUES (:k, 1, :s, CAST(:t AS jsonb), :v)"),
        {"k": k, "s": signed_on, "t": json.dumps(terms or {"due_day": 10, "intermediate": []}), "v": vat_mode})
    return {"id": k, "number": number, "counterparty_id": cp, "inn": inn, "signed_on": signed_on}


async def add_charges(conn, contract: dict, period: date, rows: list[tuple], *, kind: str = "charge",
                      posted: date | None = None, vat_mode: str = "vat") -> None:
    """rows: (service code, volume, price, price_includes_vat)."""
    run = (await conn.execute(text("INSERT INTO legal_runs(period, kind, status) VALUES (:p, :k, 'done') "
                                   "RETURNING id"),
                              {"p": posted or period, "k": "month" if kind == "charge" else "recalc"})).scalar_one()
    for code, volume, price, included in rows:
        volume, price = Decimal(volume), Decimal(price)
        amount = (volume * price).quantize(Decimal("0.01"))
        await conn.execute(text(
            "INSERT INTO legal_charges(run_id, contract_id, service_id, period, posted_period, kind, method, "
            "date_from, date_to, volume, tariff_group, price, price_includes_vat, vat_mode, amount) "
            "SELECT :run, :k, s.id, :p, :posted, :kind, 'meter', :p, (CAST(:p AS date) + interval '1 month - 1 day')::date, "
            ":v, 'other', :price, :inc, :vm, :amount FROM services s WHERE s.code = :code"),
            {"run": run, "k": contract["id"], "p": period, "posted": posted or period, "kind": kind, "v": volume,
             "price": price, "inc": included, "vm": vat_mode, "amount": amount, "code": code})
