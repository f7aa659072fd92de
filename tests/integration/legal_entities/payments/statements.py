"""Makers for the payments tests: a 1CClientBankExchange statement of given lines, contracts made active,
documents of L2's shape written directly (the tests of allocation need exact amounts, not a calculation)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import text

from tests.integration.legal_entities.helpers import make_contract, make_org

OUR_ACCOUNT = "40702810900000000001"
AGENT = "bank1c"
_doc_numbers = itertools.count(1)


@dataclass(frozen=True)
class Line:
    number: str
    on: date
    amount: str
    payer_inn: str
    purpose: str
    payer_kpp: str = ""
    payer_account: str = "40702810500000000777"
    payer: str = "ООО «Плательщик»"


def statement(lines: list[Line], *, header_note: str = "") -> bytes:
    """A statement with `lines` incoming to OUR_ACCOUNT (windows-1251, as banks send it)."""
    out = ["1CClientBankExchange", "ВерсияФормата=1.03", "Кодировка=Windows", "Отправитель=Банк",
           "Получатель=Водоканал", f"ДатаСоздания={date.today():%d.%m.%Y}", "ДатаНачала=01.01.2026",
           "ДатаКонца=31.12.2026", f"РасчСчет={OUR_ACCOUNT}"]
    if header_note:
        out.append(f"ВремяСоздания={header_note}")
    for ln in lines:
        out += ["СекцияДокумент=Платежное поручение", f"Номер={ln.number}", f"Дата={ln.on:%d.%m.%Y}",
                f"Сумма={ln.amount}", f"ПлательщикСчет={ln.payer_account}", f"Плательщик={ln.payer}",
                f"ПлательщикИНН={ln.payer_inn}", f"ПлательщикКПП={ln.payer_kpp}", f"Плательщик1={ln.payer}",
                f"ПлательщикРасчСчет={ln.payer_account}", "ПлательщикБИК=044525225",
                f"ПолучательСчет={OUR_ACCOUNT}", f"ДатаПоступило={ln.on:%d.%m.%Y}", "Получатель=Водоканал",
                "ПолучательИНН=7700000000", f"ПолучательРасчСчет={OUR_ACCOUNT}", "ПолучательБИК=044525225",
                "ВидОплаты=01", f"НазначениеПлатежа={ln.purpose}", "КонецДокумента"]
    out.append("КонецФайла")
    return ("\r\n".join(out) + "\r\n").encode("cp1251")


async def ensure_agent(api) -> None:
    r = await api.post("/api/payment-agents", {"code": AGENT, "name": "Банк (выписка 1С)", "file_format": "1c"})
    assert r.status_code in (201, 409), r.text


async def upload(api, data: bytes) -> dict:
    r = await api.client.post(f"/api/payment-files?agent={AGENT}", content=data,
                              headers={**api.headers, "Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.text
    return r.json()


async def org_with_contracts(api, n: int, name: str = "ООО «Ромашка»") -> tuple[dict, list[dict]]:
    org = await make_org(api, name, legal_address="603000, г. Тестовск, ул. Заводская, д. 5")
    contracts = []
    for _ in range(n):
        k = await make_contract(api, org["id"])
        await api.ok("patch", f"/api/legal/contracts/{k['id']}", {"status": "active"})
        contracts.append(k)
    return org, contracts


async def document(conn, contract: dict, kind: str, amount: str, issued_on: date, *, due_on: date | None = None,
                   number: str | None = None, corrects_id: int | None = None, period: date | None = None) -> dict:
    number = number or f"Т-{next(_doc_numbers):05d}"
    row = (await conn.execute(text(
        "INSERT INTO legal_documents(kind, number, issued_on, period, contract_id, counterparty_id, amount_net, vat, "
        "amount, due_on, corrects_id) VALUES (:kind, :number, :issued, :period, :k, :c, :amount, 0, :amount, :due, "
        ":corrects) RETURNING id, number"),
        {"kind": kind, "number": number, "issued": issued_on, "period": period or issued_on.replace(day=1),
         "k": contract["id"], "c": contract["counterparty_id"], "amount": Decimal(amount), "due": due_on,
         "corrects": corrects_id})).one()
    return {"id": row.id, "number": row.number}


async def allocations(conn, contract_id: int) -> list[tuple]:
    """(payment id, document id, kind, amount) of the contract, in a stable order."""
    return [tuple(r) for r in await conn.execute(text(
        "SELECT payment_id, document_id, kind, amount FROM contract_allocations WHERE contract_id = :k "
        "ORDER BY payment_id, kind, document_id NULLS LAST"), {"k": contract_id})]


async def contract_payment(conn, contract: dict, amount: str, paid_on: date, purpose: str = "Оплата") -> int:
    """An identified payment of the contract, as the import or an operator's assignment leaves it."""
    return (await conn.execute(text(
        "INSERT INTO payments(agent_id, source, paid_on, amount, contract_id, counterparty_id, purpose, status) "
        "SELECT id, 'bank_1c', :on, :amount, :k, :c, :purpose, 'identified' FROM payment_agents WHERE code = :agent "
        "RETURNING id"), {"on": paid_on, "amount": Decimal(amount), "k": contract["id"],
                          "c": contract["counterparty_id"], "purpose": purpose, "agent": AGENT})).scalar_one()


async def penalty(conn, contract: dict, document_id: int, amount: str, posted: date) -> int:
    return (await conn.execute(text(
        "INSERT INTO contract_penalties(contract_id, document_id, posted_period, calculated_on, category, days, amount) "
        "VALUES (:k, :d, :p, :p, 'other', 10, :a) RETURNING id"),
        {"k": contract["id"], "d": document_id, "p": posted, "a": Decimal(amount)})).scalar_one()
