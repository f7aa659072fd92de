"""Payments' tests: the legal entities' tenant with the seller's requisites and signer (advance invoices need
them) — the registry of `town` plus the receipt requisites."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from aquabill.demo.organisations import inn10, kpp_of
from tests.integration.legal_entities.conftest import town
from tests.integration.legal_entities.helpers import RNG, SBER, account

SIGNER = {"last_name": "Водянов", "first_name": "Пётр", "middle_name": "Ильич", "position": "Генеральный директор"}


async def seller(conn, tenant=None) -> None:
    await town(conn)
    inn = inn10(RNG)
    await conn.execute(text(
        "INSERT INTO payee_requisites(id, name, personal_acc, bank_name, bic, corresp_acc, inn, kpp, address) "
        "VALUES (1, 'МУП «Водоканал Тестовска»', :acc, 'ПАО Сбербанк', :bic, :corr, :inn, :kpp, "
        "'123456, г. Тестовск, ул. Речная, д. 1')"),
        {"acc": account(), "bic": SBER[0], "corr": SBER[1], "inn": inn, "kpp": kpp_of(inn)})
    await conn.execute(text("INSERT INTO billing_settings(key, value) VALUES ('legal_signer', CAST(:v AS jsonb))"),
                       {"v": json.dumps(SIGNER)})


@pytest.fixture(scope="module")
async def tenant(make_tenant):
    return await make_tenant(seed=seller)
