"""The payee's requisites (one row per tenant): printed on receipts and put into their payment QR."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid


@dataclass(frozen=True, slots=True)
class PayeeRequisites:
    name: str
    personal_acc: str  # расчётный счёт, 20 digits
    bank_name: str
    bic: str  # 9 digits
    corresp_acc: str = "0"  # 20 digits, or "0" when the bank has none
    inn: str = ""
    kpp: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


FIELDS = tuple(f.name for f in fields(PayeeRequisites))
_DIGITS = {"personal_acc": (20,), "bic": (9,), "corresp_acc": (20, 1), "inn": (10, 12, 0), "kpp": (9, 0)}
_LABELS = {"name": "Наименование получателя", "personal_acc": "Расчётный счёт", "bank_name": "Банк",
           "bic": "БИК", "corresp_acc": "Корреспондентский счёт", "inn": "ИНН", "kpp": "КПП"}


def validate(raw: dict[str, Any]) -> PayeeRequisites:
    """Requisites from user input, checked; a DomainError names the first wrong field."""
    unknown = set(raw) - set(FIELDS)
    if unknown:
        raise Invalid(f"Неизвестные реквизиты: {', '.join(sorted(unknown))}")
    values = {k: " ".join(str(raw.get(k) or "").split()) for k in FIELDS}
    if not values["corresp_acc"]:
        values["corresp_acc"] = "0"
    for key in ("name", "personal_acc", "bank_name", "bic"):
        if not values[key]:
            raise Invalid(f"Не заполнено: {_LABELS[key]}", field=key)
    for key, lengths in _DIGITS.items():
        value = values[key]
        if value == "0" and key == "corresp_acc":
            continue
        if not re.fullmatch(r"\d*", value) or len(value) not in lengths:
            sizes = " или ".join(str(n) for n in lengths if n)
            raise Invalid(f"{_LABELS[key]}: нужно {sizes} цифр, указано «{value}»", field=key)
    if "|" in "".join(values.values()):
        raise Invalid("Реквизиты не могут содержать символ «|» (разделитель строки QR-кода)")
    return PayeeRequisites(**values)


async def load_requisites(conn: AsyncConnection) -> PayeeRequisites | None:
    row = (await conn.execute(text(f"SELECT {', '.join(FIELDS)} FROM payee_requisites WHERE id = 1"))).first()
    return PayeeRequisites(**row._mapping) if row else None


async def save_requisites(conn: AsyncConnection, raw: dict[str, Any]) -> PayeeRequisites:
    req = validate(raw)
    cols = ", ".join(FIELDS)
    await conn.execute(text(
        f"INSERT INTO payee_requisites(id, {cols}) VALUES (1, {', '.join(':' + f for f in FIELDS)}) "
        f"ON CONFLICT (id) DO UPDATE SET {', '.join(f'{f} = EXCLUDED.{f}' for f in FIELDS)}, updated_at = now() "
        f"WHERE ({', '.join('payee_requisites.' + f for f in FIELDS)}) IS DISTINCT FROM "
        f"({', '.join('EXCLUDED.' + f for f in FIELDS)})"), req.as_dict())
    return req
