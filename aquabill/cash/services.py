"""Third-party services at the cash desk (table cash_services): the payer pays a supplier's service (e.g. вывоз ТКО)
through the utility acting as a payment agent (Federal Law 103-FZ of 03.06.2009), with the commission the
agent takes from the payer (a percent with a minimum).

The receipt: the payment as one line with the agent tags (1222 = 4 платёжный агент; 1224 supplier's name and
phone, 1226 supplier's INN — lines.py) and the commission as its own line. No billing payment is made (it is
not the account's money), but the receipt counts in the shift's totals and its cash goes into the cash book.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.cash import receipts, shifts
from aquabill.cash.lines import AGENT, COMMISSION, Part, Supplier, receipt_lines, total_of
from aquabill.cash.sales import buyer_contact, check_money, tender_money

KOPECK = Decimal("0.01")
COLUMNS = ("code", "name", "supplier_name", "supplier_inn", "supplier_phone", "commission_percent",
           "commission_min", "active")
_CODE = re.compile(r"^[a-z0-9_-]{1,32}$")
# INN control digits: FNS order ММВ-7-6/435@ of 29.06.2012 — 10 digits (an organisation, control digit 10),
# 12 digits (a person or sole trader, control digits 11 and 12); each = (Σ digit × weight) mod 11 mod 10
_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def commission(amount: Decimal, percent: Decimal, minimum: Decimal) -> Decimal:
    """The commission on a payment of `amount`: `percent` of it rounded once, half-up to the kopeck, and not less
    than `minimum` (no commission when both are zero)."""
    if percent <= 0 and minimum <= 0:
        return Decimal("0.00")
    fee = (amount * percent / 100).quantize(KOPECK, rounding=ROUND_HALF_UP)
    return max(fee, minimum.quantize(KOPECK))


def _control(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_ok(inn: str) -> bool:
    if not (inn.isascii() and inn.isdigit()) or len(inn) not in (10, 12) or inn.startswith("00"):
        return False
    if len(inn) == 10:
        return _control(inn[:9], _INN10) == int(inn[9])
    return _control(inn[:10], _INN11) == int(inn[10]) and _control(inn[:11], _INN12) == int(inn[11])


@dataclass(frozen=True, slots=True)
class ServiceIn:
    code: str
    name: str
    supplier_name: str
    supplier_inn: str
    supplier_phone: str = ""
    commission_percent: Decimal = Decimal("0")
    commission_min: Decimal = Decimal("0")
    active: bool = True


def checked(s: ServiceIn) -> dict[str, Any]:
    code = s.code.strip().lower()
    if not _CODE.match(code):
        raise Invalid("Код: латинские буквы, цифры, «_» или «-», до 32 символов", field="code")
    if not s.name.strip():
        raise Invalid("Укажите название услуги", field="name")
    if not s.supplier_name.strip():
        raise Invalid("Укажите поставщика услуги", field="supplier_name")
    inn = s.supplier_inn.strip()
    if not inn_ok(inn):
        raise Invalid(f"ИНН поставщика «{inn}»: 10 или 12 цифр с верными контрольными числами", field="supplier_inn")
    phone = s.supplier_phone.strip()
    if phone and not re.fullmatch(r"\+?\d{5,18}", phone):
        raise Invalid("Телефон поставщика: цифры, можно с «+», например +78001234567", field="supplier_phone")
    if not s.commission_percent.is_finite() or not (0 <= s.commission_percent < 100) \
            or s.commission_percent != s.commission_percent.quantize(KOPECK):
        raise Invalid("Комиссия: от 0 до 99,99 %", field="commission_percent")
    if not s.commission_min.is_finite() or s.commission_min < 0 or s.commission_min > 100000 \
            or s.commission_min != s.commission_min.quantize(KOPECK):
        raise Invalid("Минимальная комиссия: от 0 ₽, с точностью до копеек", field="commission_min")
    return {"code": code, "name": s.name.strip()[:200], "supplier_name": s.supplier_name.strip()[:256],
            "supplier_inn": inn, "supplier_phone": phone, "commission_percent": s.commission_percent,
            "commission_min": s.commission_min, "active": s.active}


async def list_services(conn: AsyncConnection, *, active_only: bool = False) -> list[dict[str, Any]]:
    where = "WHERE active" if active_only else ""
    return [dict(r._mapping) for r in await conn.execute(text(
        f"SELECT id, {', '.join(COLUMNS)} FROM cash_services {where} ORDER BY name"))]


async def get_service(conn: AsyncConnection, service_id: int) -> dict[str, Any]:
    r = (await conn.execute(text(f"SELECT id, {', '.join(COLUMNS)} FROM cash_services WHERE id = :id"),
                            {"id": service_id})).first()
    if r is None:
        raise NotFound("Услуга не найдена", field="service_id")
    return dict(r._mapping)


async def save_service(conn: AsyncConnection, service_id: int | None, data: ServiceIn) -> dict[str, Any]:
    """Create (service_id None) or change a service; the code is unique."""
    values = checked(data)
    if service_id is not None:
        await get_service(conn, service_id)
    taken = (await conn.execute(text("SELECT id FROM cash_services WHERE code = :c AND id IS DISTINCT FROM :id"),
                                {"c": values["code"], "id": service_id})).scalar()
    if taken is not None:
        raise Conflict(f"Услуга с кодом «{values['code']}» уже есть", field="code")
    if service_id is None:
        service_id = (await conn.execute(text(
            f"INSERT INTO cash_services({', '.join(COLUMNS)}) VALUES ({', '.join(':' + c for c in COLUMNS)}) "
            "RETURNING id"), values)).scalar_one()
    else:
        await conn.execute(text(f"UPDATE cash_services SET {', '.join(f'{c} = :{c}' for c in COLUMNS)} WHERE id = :id"),
                           {**values, "id": service_id})
    return await get_service(conn, service_id)


@dataclass(frozen=True, slots=True)
class ServiceSale:
    key: uuid.UUID
    point_id: int
    service_id: int
    amount: Decimal  # what goes to the supplier (the commission comes on top)
    details: str  # the payer's account with the supplier, address…: printed in the line's name
    tender: str
    on: date
    given: Decimal | None = None
    buyer_contact: str = ""
    account_id: int | None = None  # the payer's account with us, if known (for the record only)


async def sell_service(conn: AsyncConnection, sale: ServiceSale, *, user_id: int) -> tuple[dict[str, Any], bool]:
    """A third party's service paid at the desk: (the receipt, whether it was made now)."""
    existing = await receipts.receipt_by_key(conn, sale.key)
    if existing is not None:
        return existing, False
    shift = await shifts.require_open_shift(conn, sale.point_id, user_id)
    point = await shifts.get_point(conn, sale.point_id)
    service = await get_service(conn, sale.service_id)
    if not service["active"]:
        raise Invalid(f"Услуга «{service['name']}» отключена", field="service_id")
    amount = check_money(sale.amount, "Сумма платежа", "amount")
    if amount is None:
        raise Invalid("Укажите сумму платежа", field="amount")
    details = " ".join(sale.details.split())[:80]
    fee = commission(amount, service["commission_percent"], service["commission_min"])
    parts = [Part(AGENT, amount, text=f"{service['name']}" + (f", {details}" if details else "")),
             Part(COMMISSION, fee, text=f"Комиссия за приём платежа: {service['name']}")]
    lines = receipt_lines(parts, account_number="", point_vat=point["vat"], on=sale.on,
                          supplier=Supplier(service["supplier_name"], service["supplier_inn"],
                                            service["supplier_phone"]))
    total = total_of(lines)
    check_money(total, "Сумма чека", "amount")
    given, change = tender_money(sale.tender, total, sale.given)
    card = None
    if sale.tender == "card":
        card = {"operation": "pay", "amount": str(total), "original_rrn": "", "day": sale.on.isoformat()}
    return await receipts.issue(
        conn, key=sale.key, shift=shift, point=point, operation="sale", lines=lines, total=total,
        tender=sale.tender, given=given, change=change, buyer_contact=buyer_contact(sale.buyer_contact),
        user_id=user_id, account_id=sale.account_id, cash_service_id=service["id"], commission=fee, card=card)
