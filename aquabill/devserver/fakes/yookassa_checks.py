"""The fake ЮKassa's checks of what it is sent (as ЮKassa refuses a request: HTTP 400 `invalid_request` with the
parameter at fault), its error objects and the payer's page (see `yookassa.py`)."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

AMOUNT_RE = re.compile(r"^\d{1,9}\.\d{2}$")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def error_object(status: int, code: str, description: str, parameter: str | None = None) -> tuple[int, dict]:
    body = {"type": "error", "id": str(uuid.uuid4()), "code": code, "description": description}
    if parameter:
        body["parameter"] = parameter
    return status, body


class Refused(Exception):
    def __init__(self, description: str, parameter: str | None = None) -> None:
        super().__init__(description)
        self.description, self.parameter = description, parameter


def read_money(data: Any, parameter: str) -> Decimal:
    if not isinstance(data, dict) or not isinstance(data.get("value"), str) or not AMOUNT_RE.match(data["value"]):
        raise Refused("Invalid amount value", f"{parameter}.value")
    if data.get("currency") != "RUB":
        raise Refused("Invalid currency", f"{parameter}.currency")
    value = Decimal(data["value"])
    if value <= 0:
        raise Refused("Amount must be positive", f"{parameter}.value")
    return value


def check_receipt(receipt: Any, amount: Decimal) -> None:
    if not isinstance(receipt, dict):
        raise Refused("Receipt is missing or illegal", "receipt")
    customer = receipt.get("customer") or {}
    if not (customer.get("email") or customer.get("phone")):
        raise Refused("Receipt customer contact (email or phone) is missing", "receipt.customer")
    if customer.get("phone") and not re.fullmatch(r"\d{11,15}", str(customer["phone"])):
        raise Refused("Invalid phone", "receipt.customer.phone")
    items = receipt.get("items")
    if not isinstance(items, list) or not items or len(items) > 100:
        raise Refused("Receipt items are missing", "receipt.items")
    total = Decimal(0)
    for n, item in enumerate(items):
        where = f"receipt.items[{n}]"
        if not isinstance(item, dict) or not str(item.get("description", "")).strip() \
                or len(str(item["description"])) > 128:
            raise Refused("Invalid item description", f"{where}.description")
        try:
            quantity = Decimal(str(item.get("quantity")))
        except InvalidOperation:
            raise Refused("Invalid quantity", f"{where}.quantity") from None
        if item.get("vat_code") not in range(1, 13):
            raise Refused("Invalid vat_code", f"{where}.vat_code")
        total += read_money(item.get("amount"), f"{where}.amount") * quantity
    if total != amount:
        raise Refused(f"Sum of receipt items ({total}) is not equal to the amount ({amount})", "receipt.items")


def checkout_page(payment: dict[str, Any]) -> str:
    """The payer's page: the sum, the description, «Оплатить» and «Отказаться»."""
    payment_id = payment["id"]
    amount = html.escape(payment["amount"]["value"])
    page = f"""<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>ЮKassa (тест)</title></head>
<body><h1>Оплата {amount} ₽</h1><p>{html.escape(payment.get("description", ""))}</p>
<p>Статус: <b id="status">{payment["status"]}</b></p>
<form method="post" action="/checkout/{payment_id}"><input type="hidden" name="action" value="pay">
<button type="submit">Оплатить</button></form>
<form method="post" action="/checkout/{payment_id}"><input type="hidden" name="action" value="cancel">
<button type="submit">Отказаться</button></form></body></html>"""
    return page
