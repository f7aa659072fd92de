"""Made-up requisites with valid check digits for the tests (the demo's generators), and quick makers."""

from __future__ import annotations

import itertools
import json
import random

from sqlalchemy import text

from aquabill.demo.organisations import inn10, inn12, kpp_of, ogrn, ogrnip, settlement_account
from tests.integration.billing_core.api_helpers import Api

RNG = random.Random(20261207)
SBER = ("044525225", "30101810400000000225")
_numbers = itertools.count(1)


def org_requisites() -> dict[str, str]:
    inn = inn10(RNG)
    return {"inn": inn, "kpp": kpp_of(inn), "ogrn": ogrn(RNG, 2015)}


def ip_requisites() -> dict[str, str]:
    return {"inn": inn12(RNG), "ogrn": ogrnip(RNG, 2018)}


def account(bic: str = SBER[0], *, sole_trader: bool = False) -> str:
    return settlement_account(RNG, bic, sole_trader=sole_trader)


def contract_number(prefix: str = "Т") -> str:
    return f"{prefix}-{next(_numbers):05d}-{RNG.randint(0, 99999)}"


async def make_org(api: Api, name: str = "ООО «Ромашка»", **kw) -> dict:
    return await api.ok("post", "/api/legal/counterparties", {"kind": "org", "name": name, **org_requisites(), **kw})


async def make_contract(api: Api, counterparty_id: int, kind: str = "combined", signed_on: str = "2025-01-15",
                        **kw) -> dict:
    return await api.ok("post", "/api/legal/contracts", {"number": contract_number(), "signed_on": signed_on,
                                                          "counterparty_id": counterparty_id, "kind": kind, **kw})


SIGNER = {"last_name": "Водянов", "first_name": "Пётр", "middle_name": "Ильич", "position": "Генеральный директор"}


async def seller(conn, tenant=None) -> None:
    """The registry of `town`, the seller's receipt requisites (valid check digits) and the documents' signer."""
    from tests.integration.legal_entities.conftest import town

    await town(conn)
    inn = inn10(RNG)
    await conn.execute(text(
        "INSERT INTO payee_requisites(id, name, personal_acc, bank_name, bic, corresp_acc, inn, kpp, address) "
        "VALUES (1, 'МУП «Водоканал Тестовска»', :acc, 'ПАО Сбербанк', :bic, :corr, :inn, :kpp, "
        "'123456, г. Тестовск, ул. Речная, д. 1')"),
        {"acc": account(), "bic": SBER[0], "corr": SBER[1], "inn": inn, "kpp": kpp_of(inn)})
    await conn.execute(text("INSERT INTO billing_settings(key, value) VALUES ('legal_signer', CAST(:v AS jsonb))"),
                       {"v": json.dumps(SIGNER)})
