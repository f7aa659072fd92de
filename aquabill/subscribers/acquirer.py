"""The acquirer as core code sees it: a capability (`Acquirer`), what we ask of it and what it answers.

No vendor is named here: the adapter (channels/acquiring/yookassa.py) maps these to its wire format. Amounts
are roubles as `Decimal` with kopecks; VAT rates are neutral names (`payment_receipt.VAT_RATES`), mapped to
the acquirer's own codes by the adapter.

Outcome of a call (the acquirers' common rule, e.g. YooKassa's "response handling" recommendations):
- an answer: the object (a payment may be `pending`, `succeeded` or `canceled`);
- `AcquirerRefused` (a 4xx): the request was wrong or not allowed; a new attempt needs a new key;
- `AcquirerUnknown` (a timeout, a 5xx, too many requests): the result is not known — repeat the same request
  with the same idempotence key, or read the object back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class ReceiptItem:
    """One line of the 54-FZ receipt (tag 1059): one per service paid for."""

    description: str  # ≤ 128 characters (tag 1030)
    amount: Decimal  # the line's price × quantity 1
    vat: str  # neutral rate name, see payment_receipt.VAT_RATES
    payment_mode: str = "full_payment"  # tag 1214: full_payment (service rendered), advance
    payment_subject: str = "service"  # tag 1212: service, payment (an advance), another (penalties)
    quantity: Decimal = Decimal("1")

    def as_json(self) -> dict[str, Any]:
        return {"description": self.description, "amount": str(self.amount), "vat": self.vat,
                "payment_mode": self.payment_mode, "payment_subject": self.payment_subject,
                "quantity": str(self.quantity)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReceiptItem:
        return cls(data["description"], Decimal(data["amount"]), data["vat"], data.get("payment_mode", "full_payment"),
                   data.get("payment_subject", "service"), Decimal(data.get("quantity", "1")))


@dataclass(frozen=True, slots=True)
class Receipt:
    """The receipt data sent with a payment (or a refund): its lines and the buyer's contact (tag 1008)."""

    items: tuple[ReceiptItem, ...]
    email: str | None = None
    phone: str | None = None  # digits with the country code: 79001234567
    tax_system: int | None = None  # 1–6, only when the register has several

    @property
    def total(self) -> Decimal:
        return sum((i.amount * i.quantity for i in self.items), Decimal("0.00"))

    def as_json(self) -> dict[str, Any]:
        return {"items": [i.as_json() for i in self.items], "email": self.email, "phone": self.phone,
                "tax_system": self.tax_system}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Receipt:
        return cls(tuple(ReceiptItem.from_json(i) for i in data.get("items", [])), data.get("email"),
                   data.get("phone"), data.get("tax_system"))


@dataclass(frozen=True, slots=True)
class PaymentOrder:
    """A payment to create: the payer is redirected to the acquirer's page and back to `return_url`."""

    key: str  # idempotence key: the attempt's id, stored before the call
    amount: Decimal
    description: str  # ≤ 128 characters
    return_url: str
    metadata: dict[str, str]
    receipt: Receipt | None = None


@dataclass(frozen=True, slots=True)
class ProviderPayment:
    """The acquirer's payment as it stands."""

    id: str
    status: str  # pending | waiting_for_capture | succeeded | canceled
    amount: Decimal
    currency: str
    metadata: dict[str, str] = field(default_factory=dict)
    confirmation_url: str | None = None
    paid: bool = False
    captured_at: datetime | None = None
    cancel_party: str = ""
    cancel_reason: str = ""  # the acquirer's reason code (e.g. insufficient_funds)
    test: bool = False


@dataclass(frozen=True, slots=True)
class RefundOrder:
    key: str  # idempotence key: the refund row's id, stored before the call
    payment_id: str  # the acquirer's payment id
    amount: Decimal
    description: str
    receipt: Receipt | None = None


@dataclass(frozen=True, slots=True)
class ProviderRefund:
    id: str
    payment_id: str
    status: str  # pending | succeeded | canceled
    amount: Decimal
    currency: str
    cancel_reason: str = ""


class AcquirerError(Exception):
    def __init__(self, message: str, *, code: str = "", parameter: str = "") -> None:
        super().__init__(message)
        self.message, self.code, self.parameter = message, code, parameter


class AcquirerRefused(AcquirerError):
    """The acquirer refused the request (4xx): fix it; a new attempt needs a new key."""


class AcquirerUnknown(AcquirerError):
    """The result is not known (timeout, 5xx, throttled): repeat with the same key or read the object back."""


class Acquirer(Protocol):
    """An acquirer speaking a redirect-confirmation payments API with idempotence keys."""

    async def create_payment(self, order: PaymentOrder) -> ProviderPayment: ...

    async def get_payment(self, payment_id: str) -> ProviderPayment: ...

    async def create_refund(self, order: RefundOrder) -> ProviderRefund: ...

    async def get_refund(self, refund_id: str) -> ProviderRefund: ...
