"""The parties of a document: the seller (the tenant's receipt requisites, its EDO id, the signer) and the buyer
(a counterparty's requisites, address and main bank account) as `documents.Party`.

- The seller's requisites are the tenant's payee requisites (`billing_core/receipts/requisites.py`, the ones on
  the receipts); a missing one is refused with a Russian message naming it.
- The signer: the tenant setting `billing_settings['legal_signer']` = {"last_name", "first_name",
  "middle_name", "position"} (the payee requisites have no head of the organisation). The UPD's «Подписант»
  and the person who handed over the services (СвЛицПер) are both this person.
- EDO participant ids (the parts A and O of the file name, order ЕД-7-26/970@): the seller's is
  `edo_settings.participant_id`, the buyer's `counterparties.edo_id`. A document printed on paper still needs
  a file name of the format: a party without an EDO id is named by its INN there (4..46 characters of
  [0-9A-Za-z-], which an INN is). This is our convention, not a rule of the order; EDO sending (L4) may rebuild
  the title with the operator's ids.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid
from aquabill.legal_entities.documents import BankAccount, Party, Person, Signer, TextAddress

SIGNER_KEY = "legal_signer"
_SELLER = text("""
    SELECT r.name, r.inn, r.kpp, r.address, r.phone, r.email, r.personal_acc, r.bic, r.bank_name, r.corresp_acc,
           (SELECT value FROM billing_settings WHERE key = :key) AS signer,
           (SELECT max(participant_id) FROM edo_settings WHERE participant_id <> '') AS edo_id
    FROM (SELECT 1) one LEFT JOIN payee_requisites r ON r.id = 1""")

# the buyer's columns, for the issue queries (alias c = counterparties, b = its main bank account)
BUYER_COLUMNS = """c.kind AS cp_kind, c.name AS cp_name, c.inn AS cp_inn, c.kpp AS cp_kpp, c.ogrn AS cp_ogrn,
    c.last_name AS cp_last_name, c.first_name AS cp_first_name, c.middle_name AS cp_middle_name,
    c.legal_address AS cp_legal_address, c.postal_address AS cp_postal_address, c.email AS cp_email,
    c.phone AS cp_phone, c.edo_id AS cp_edo_id, b.account AS cp_account, b.bic AS cp_bic,
    b.bank_name AS cp_bank_name, b.corr_account AS cp_corr_account"""
BUYER_BANK_JOIN = """LEFT JOIN LATERAL (SELECT a.account, a.bic, a.bank_name, a.corr_account
    FROM counterparty_bank_accounts a WHERE a.counterparty_id = c.id AND a.active
    ORDER BY a.main DESC, a.id LIMIT 1) b ON true"""


@dataclass(frozen=True, slots=True)
class Seller:
    party: Party
    signer: Signer


def _need(value: str | None, what: str, field: str) -> str:
    if not (value or "").strip():
        raise Invalid(f"Не заполнены реквизиты организации для документов юрлицам: {what} "
                      "(Настройки → реквизиты получателя платежей)", field=field)
    return value.strip()


def signer_of(raw: Any) -> Signer:
    if not isinstance(raw, dict) or not str(raw.get("last_name", "")).strip() \
            or not str(raw.get("first_name", "")).strip():
        raise Invalid("Не указан подписант документов юрлицам: настройка legal_signer (фамилия, имя, отчество, "
                      "должность руководителя или уполномоченного лица)", field="legal_signer")
    person = Person(str(raw["last_name"]).strip(), str(raw["first_name"]).strip(),
                    str(raw.get("middle_name", "")).strip())
    return Signer(person, str(raw.get("position", "")).strip() or "Руководитель организации")


async def load_seller(conn: AsyncConnection) -> Seller:
    row = (await conn.execute(_SELLER, {"key": SIGNER_KEY})).mappings().one()
    name = _need(row["name"], "наименование", "name")
    inn = _need(row["inn"], "ИНН", "inn")
    kpp = _need(row["kpp"], "КПП", "kpp") if len(inn) == 10 else ""
    address = _need(row["address"], "адрес", "address")
    corr = row["corresp_acc"] if row["corresp_acc"] and row["corresp_acc"] != "0" else ""
    bank = BankAccount(account=_need(row["personal_acc"], "расчётный счёт", "personal_acc"),
                       bic=_need(row["bic"], "БИК", "bic"), bank_name=row["bank_name"] or "", corr_account=corr)
    party = Party(name=name, inn=inn, kpp=kpp, address=TextAddress(address), bank=bank,
                  phone=row["phone"] or "", email=row["email"] or "", edo_id=row["edo_id"] or inn)
    return Seller(party, signer_of(row["signer"]))


def buyer_of(row: Any) -> Party:
    """The buyer from a row with BUYER_COLUMNS."""
    address = (row["cp_legal_address"] or row["cp_postal_address"] or "").strip()
    if not address:
        raise Invalid(f"У контрагента «{row['cp_name']}» не указан адрес", field="counterparty.legal_address")
    bank = None
    if row["cp_account"]:
        bank = BankAccount(row["cp_account"], row["cp_bic"], row["cp_bank_name"] or "", row["cp_corr_account"] or "")
    person = None
    if row["cp_kind"] == "ip":
        person = Person(row["cp_last_name"], row["cp_first_name"], row["cp_middle_name"] or "")
    return Party(name=row["cp_name"], inn=row["cp_inn"], kpp=row["cp_kpp"] or "", address=TextAddress(address),
                 person=person, ogrnip=row["cp_ogrn"] if row["cp_kind"] == "ip" else "", bank=bank,
                 phone=row["cp_phone"] or "", email=row["cp_email"] or "", edo_id=row["cp_edo_id"] or row["cp_inn"])


async def get_signer(conn: AsyncConnection) -> dict[str, str]:
    raw = (await conn.execute(text("SELECT value FROM billing_settings WHERE key = :k"), {"k": SIGNER_KEY})).scalar()
    raw = raw if isinstance(raw, dict) else {}
    return {k: str(raw.get(k, "")) for k in ("last_name", "first_name", "middle_name", "position")}


async def save_signer(conn: AsyncConnection, raw: dict[str, Any]) -> dict[str, str]:
    """Set the signer of documents to legal entities (checked: surname and first name required, ≤ 60 characters
    each as the formats allow, the position ≤ 128)."""
    value = {k: " ".join(str(raw.get(k) or "").split()) for k in ("last_name", "first_name", "middle_name", "position")}
    for key, what, limit in (("last_name", "Фамилия", 60), ("first_name", "Имя", 60), ("middle_name", "Отчество", 60),
                             ("position", "Должность", 128)):
        if len(value[key]) > limit:
            raise Invalid(f"{what} подписанта длиннее {limit} символов", field=key)
    signer_of(value)  # refuses a missing surname or first name
    await conn.execute(text("INSERT INTO billing_settings(key, value) VALUES (:k, CAST(:v AS jsonb)) "
                            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"),
                       {"k": SIGNER_KEY, "v": json.dumps(value, ensure_ascii=False)})
    return value
