"""Command payloads from the server → the driver's types, checked; bad input → `CommandFailed("bad_command")`.

Money on the wire is a decimal string ("812.40"); here it becomes `Decimal` with at most 2 fraction
digits — kopecks exact, nothing is rounded anywhere in the agent (the server computed every amount).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from aquabill.edge_agent.shtrih.driver import Item, ReceiptSpec

KOPECK = Decimal("0.01")


class CommandFailed(Exception):
    """A command's failure as sent to the server: `{"code", "message" (Russian), "retryable"}`."""

    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.code, self.message, self.retryable = code, message, retryable

    def as_error(self) -> dict:
        return {"code": self.code, "message": self.message, "retryable": self.retryable}


def bad(message: str) -> CommandFailed:
    return CommandFailed("bad_command", message)


def money(value, what: str, *, positive: bool = False) -> Decimal:
    try:
        amount = Decimal(str(value)) if isinstance(value, str | int) and not isinstance(value, bool) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2 or (
        positive and amount == 0
    ):
        raise bad(f"{what}: неверная сумма {value!r}")
    return amount


def _int(value, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad(f"{what}: ожидается целое число, получено {value!r}")
    return value


def _str(value, what: str, *, limit: int = 256) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise bad(f"{what}: ожидается строка не длиннее {limit} символов")
    return value


def _obj(value, what: str) -> dict:
    if not isinstance(value, dict):
        raise bad(f"{what}: ожидается объект")
    return value


def cashier(payload: dict) -> tuple[str, str]:
    c = _obj(payload.get("cashier") or {}, "cashier")
    return _str(c.get("name"), "cashier.name", limit=64), _str(c.get("inn"), "cashier.inn", limit=12)


def _item(raw, n: int) -> Item:
    i = _obj(raw, f"items[{n}]")
    agent = i.get("agent")
    sign, supplier = None, {}
    if agent is not None:
        agent = _obj(agent, f"items[{n}].agent")
        sign = _int(agent.get("sign"), f"items[{n}].agent.sign")
        supplier = _obj(agent.get("supplier") or {}, f"items[{n}].agent.supplier")
    phones = supplier.get("phones") or []
    if not isinstance(phones, list) or not all(isinstance(p, str) for p in phones):
        raise bad(f"items[{n}].agent.supplier.phones: ожидается список строк")
    quantity = _quantity(i.get("quantity"), n)
    name = _str(i.get("name"), f"items[{n}].name", limit=128)
    if not name:
        raise bad(f"items[{n}].name: нужно наименование")
    return Item(
        name=name, price=money(i.get("price"), f"items[{n}].price"), quantity=quantity,
        amount=money(i.get("amount"), f"items[{n}].amount"), vat=_int(i.get("vat"), f"items[{n}].vat"),
        subject=_int(i.get("subject"), f"items[{n}].subject"), method=_int(i.get("method"), f"items[{n}].method"),
        measure=_int(i.get("measure", 0), f"items[{n}].measure"), agent_sign=sign,
        supplier_name=_str(supplier.get("name"), f"items[{n}].agent.supplier.name"),
        supplier_inn=_str(supplier.get("inn"), f"items[{n}].agent.supplier.inn", limit=12),
        supplier_phones=tuple(phones),
    )


def _quantity(value, n: int) -> Decimal:
    """Quantities may have up to 6 fraction digits (FF46h carries quantity × 10⁶)."""
    try:
        q = Decimal(str(value)) if isinstance(value, str | int) and not isinstance(value, bool) else None
    except InvalidOperation:
        q = None
    if q is None or not q.is_finite() or q <= 0 or q.as_tuple().exponent < -6:
        raise bad(f"items[{n}].quantity: неверное количество {value!r}")
    return q


@dataclass(frozen=True)
class CardRequest:
    operation: str  # "pay" | "refund"
    amount: Decimal
    original_rrn: str


@dataclass(frozen=True)
class Receipt:
    key: str
    spec: ReceiptSpec
    card: CardRequest | None

    @property
    def total(self) -> Decimal:
        return sum((i.amount for i in self.spec.items), Decimal(0))

    @property
    def change(self) -> Decimal:
        """Change given back: cash + electronic − total, never below zero (kopecks exact, no rounding)."""
        return max(self.spec.cash + self.spec.electronic - self.total, Decimal(0)).quantize(KOPECK)


def receipt(payload: dict) -> Receipt:
    p = _obj(payload, "payload")
    key = _str(p.get("key"), "key", limit=64)
    if not key:
        raise bad("key: нужен ключ чека")
    operation = _int(p.get("operation"), "operation")
    if operation not in (1, 2):
        raise bad("operation: допустимы 1 (приход) и 2 (возврат прихода)")
    raw_items = p.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise bad("items: нужен хотя бы один предмет расчёта")
    items = tuple(_item(raw, n) for n, raw in enumerate(raw_items))
    pay = _obj(p.get("payments") or {}, "payments")
    cash = money(pay.get("cash", "0"), "payments.cash")
    electronic = money(pay.get("electronic", "0"), "payments.electronic")
    name, inn = cashier(p)
    spec = ReceiptSpec(
        operation=operation, items=items, cash=cash, electronic=electronic,
        tax_system=_int(p.get("tax_system"), "tax_system"),
        buyer_contact=_str(p.get("buyer_contact"), "buyer_contact", limit=64),
        cashier_name=name, cashier_inn=inn,
    )
    total = sum((i.amount for i in items), Decimal(0))
    if cash + electronic < total:
        raise bad(f"payments: оплата {cash + electronic} меньше суммы чека {total}")
    if electronic > total:
        raise bad("payments.electronic: безналичная оплата больше суммы чека")
    card = None
    if p.get("card") is not None:
        c = _obj(p["card"], "card")
        op = c.get("operation", "pay")
        if op not in ("pay", "refund"):
            raise bad("card.operation: допустимы pay и refund")
        amount = money(c.get("amount"), "card.amount", positive=True)
        if amount != electronic:
            raise bad(f"card.amount {amount} не равна безналичной оплате {electronic}")
        original = _str(c.get("original_rrn"), "card.original_rrn", limit=64)
        if op == "refund" and not original:
            raise bad("card.original_rrn: для возврата на карту нужен RRN исходной оплаты")
        card = CardRequest(operation=op, amount=amount, original_rrn=original)
    return Receipt(key=key, spec=spec, card=card)
