"""ЮKassa (YooKassa) payments API v3 over httpx: the `Acquirer` of `subscribers.acquirer`.

Protocol (reference notes `acquiring/NOTES-yookassa.md`; YooKassa's docs `/developers/using-api/basics`,
`…/response-handling`, `/developers/payments/54fz`, the official SDK `yoomoney/yookassa-sdk-python`):
- base `https://api.yookassa.ru/v3/` (setting `AQUABILL_YOOKASSA_API_URL`), JSON, HTTP Basic auth with the
  shop id as the user and the secret key as the password;
- every POST carries `Idempotence-Key`: repeating a request with the same key returns the first result;
- amounts are decimal strings in roubles (`"1234.56"`), currency `RUB`;
- `POST /payments` {amount, capture: true, confirmation {type redirect, return_url}, description, metadata,
  receipt {customer {email|phone}, items [...]}} → the payment, `pending` with `confirmation.confirmation_url`;
  `GET /payments/{id}`; `POST /refunds` {payment_id, amount, description, receipt}; `GET /refunds/{id}`;
- errors: `{"type": "error", "code": "invalid_request" | "invalid_credentials" | "forbidden" | "not_found" |
  "too_many_requests" | "internal_server_error", "description", "parameter"}`; a 500, a timeout or 429 means
  the result is unknown: the same request is repeated with the same key (here `retries` times, then
  `AcquirerUnknown`); a 4xx is `AcquirerRefused`.
- notifications: `{"type": "notification", "event": "payment.succeeded", "object": {…}}` — never trusted as
  such: `parse_notification` gives only the event and the object's id; the object is then read back.
The encode/decode functions are pure and tested on JSON bytes; `YooKassa` is the thin I/O around them.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from aquabill.channels.json_client import JsonApiClient
from aquabill.subscribers.acquirer import (
    AcquirerRefused,
    AcquirerUnknown,
    PaymentOrder,
    ProviderPayment,
    ProviderRefund,
    Receipt,
    RefundOrder,
)

# the neutral VAT rate → YooKassa's own `vat_code` (not FFD tag 1199): DOC /developers/54fz/parameters-values;
# 11 and 12 (22 %, 22/122) from 01.01.2026
VAT_CODES = {"none": 1, "0": 2, "10": 3, "20": 4, "10/110": 5, "20/120": 6, "5": 7, "7": 8, "5/105": 9,
             "7/107": 10, "22": 11, "22/122": 12}
ID_RE = re.compile(r"^[0-9A-Za-z_-]{1,64}$")  # ids we put into a path
EVENTS = {"payment.succeeded": "payment", "payment.canceled": "payment", "payment.waiting_for_capture": "payment",
          "refund.succeeded": "refund"}
ERROR_TEXTS = {
    "invalid_credentials": "неверный идентификатор магазина (shopId) или секретный ключ",
    "forbidden": "операция запрещена для этого магазина",
    "not_found": "объект не найден",
    "invalid_request": "ЮKassa отклонила запрос",
}
UNKNOWN_CODES = {"too_many_requests", "internal_server_error"}
NO_SUCH_PAYMENT = "00000000-0000-0000-0000-000000000000"  # read to check the credentials (404 = they work)


def money(value: Decimal) -> dict[str, str]:
    return {"value": f"{value.quantize(Decimal('0.01'))}", "currency": "RUB"}


def encode_receipt(receipt: Receipt) -> dict[str, Any]:
    customer = {"email": receipt.email} if receipt.email else {"phone": receipt.phone}
    body: dict[str, Any] = {"customer": customer, "items": [{
        "description": i.description[:128], "quantity": f"{i.quantity.quantize(Decimal('0.01'))}",
        "amount": money(i.amount), "vat_code": VAT_CODES[i.vat], "payment_mode": i.payment_mode,
        "payment_subject": i.payment_subject} for i in receipt.items]}
    if receipt.tax_system:
        body["tax_system_code"] = receipt.tax_system
    return body


def encode_payment(order: PaymentOrder) -> dict[str, Any]:
    body: dict[str, Any] = {
        "amount": money(order.amount), "capture": True,
        "confirmation": {"type": "redirect", "return_url": order.return_url},
        "description": order.description[:128], "metadata": dict(order.metadata)}
    if order.receipt is not None:
        body["receipt"] = encode_receipt(order.receipt)
    return body


def encode_refund(order: RefundOrder) -> dict[str, Any]:
    body: dict[str, Any] = {"payment_id": order.payment_id, "amount": money(order.amount),
                            "description": order.description[:250]}
    if order.receipt is not None:
        body["receipt"] = encode_receipt(order.receipt)
    return body


def _amount(data: dict[str, Any]) -> tuple[Decimal, str]:
    amount = data.get("amount") or {}
    try:
        value = Decimal(str(amount.get("value")))
    except (InvalidOperation, ValueError):
        raise AcquirerUnknown("ЮKassa прислала непонятную сумму") from None
    if not value.is_finite():
        raise AcquirerUnknown("ЮKassa прислала непонятную сумму")
    return value, str(amount.get("currency", ""))


def _time(raw: Any) -> datetime | None:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None


def _id(data: dict[str, Any], key: str = "id") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not ID_RE.match(value):
        raise AcquirerUnknown("ЮKassa прислала объект без идентификатора")
    return value


def decode_payment(data: Any) -> ProviderPayment:
    if not isinstance(data, dict):
        raise AcquirerUnknown("ЮKassa прислала не объект платежа")
    value, currency = _amount(data)
    details = data.get("cancellation_details") or {}
    metadata = data.get("metadata") or {}
    return ProviderPayment(
        id=_id(data), status=str(data.get("status", "")), amount=value, currency=currency,
        metadata={str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, dict) else {},
        confirmation_url=(data.get("confirmation") or {}).get("confirmation_url"), paid=bool(data.get("paid")),
        captured_at=_time(data.get("captured_at")), cancel_party=str(details.get("party", "")),
        cancel_reason=str(details.get("reason", "")), test=bool(data.get("test")))


def decode_refund(data: Any) -> ProviderRefund:
    if not isinstance(data, dict):
        raise AcquirerUnknown("ЮKassa прислала не объект возврата")
    value, currency = _amount(data)
    details = data.get("cancellation_details") or {}
    return ProviderRefund(id=_id(data), payment_id=_id(data, "payment_id"), status=str(data.get("status", "")),
                          amount=value, currency=currency, cancel_reason=str(details.get("reason", "")))


def decode_error(status: int, body: bytes) -> AcquirerRefused | AcquirerUnknown:
    """What a non-200 answer means: unknown (500, 429 — repeat) or refused (4xx, with the reason)."""
    try:
        data = json.loads(body)
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    code, description = str(data.get("code", "")), str(data.get("description", ""))
    parameter = str(data.get("parameter", ""))
    if status >= 500 or status == 429 or code in UNKNOWN_CODES:
        return AcquirerUnknown(f"ЮKassa не смогла обработать запрос (HTTP {status})", code=code)
    text = ERROR_TEXTS.get(code, f"ЮKassa ответила HTTP {status}")
    if description:
        text += f": {description}"
    if parameter:
        text += f" (параметр {parameter})"
    return AcquirerRefused(text, code=code or f"http_{status}", parameter=parameter)


def parse_notification(body: bytes) -> tuple[str, str, str]:
    """(event, object kind 'payment' | 'refund', object id) of a notification; ValueError when it is not one
    we take. Nothing else of it is trusted: the object is read back from the API."""
    try:
        data = json.loads(body)
    except ValueError:
        raise ValueError("тело уведомления — не JSON") from None
    if not isinstance(data, dict) or data.get("type") != "notification":
        raise ValueError("это не уведомление ЮKassa")
    event, obj = data.get("event"), data.get("object")
    if event not in EVENTS:
        raise ValueError(f"событие {str(event)[:40]!r} не обрабатывается")
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not ID_RE.match(obj["id"]):
        raise ValueError("в уведомлении нет идентификатора объекта")
    return str(event), EVENTS[str(event)], obj["id"]


class YooKassa(JsonApiClient):
    """`async with YooKassa(api_url, shop_id, secret) as acquirer: …` — one HTTP client per use."""

    def __init__(self, api_url: str, shop_id: str, secret: str, *, timeout: float = 15.0, retries: int = 2,
                 backoff: float = 0.3, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.api_url, self.shop_id, self._secret = api_url.rstrip("/") + "/", shop_id, secret
        self.timeout, self.retries, self.backoff, self.transport = timeout, retries, backoff, transport
        self.auth = httpx.BasicAuth(shop_id, secret)

    def __repr__(self) -> str:
        return f"YooKassa({self.api_url!r}, shop_id={self.shop_id!r})"

    async def _call(self, method: str, path: str, *, key: str | None = None, body: dict[str, Any] | None = None) -> Any:
        """The answer's JSON; the request repeated as it was (same key) while the result is unknown."""
        assert self._client is not None, "use `async with YooKassa(...)`"
        headers = {"Idempotence-Key": key} if key else {}
        content = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        if content is not None:
            headers["Content-Type"] = "application/json"
        last: AcquirerUnknown | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(self.backoff * (3 ** (attempt - 1)))
            try:
                response = await self._client.request(method, path, content=content, headers=headers)
            except httpx.TimeoutException:
                last = AcquirerUnknown("ЮKassa не ответила вовремя")
                continue
            except httpx.TransportError as exc:
                last = AcquirerUnknown(f"нет связи с ЮKassa ({exc.__class__.__name__})")
                continue
            if response.status_code == 200:
                try:
                    return response.json()
                except ValueError:
                    last = AcquirerUnknown("ЮKassa ответила не JSON")
                    continue
            error = decode_error(response.status_code, response.content)
            if isinstance(error, AcquirerRefused):
                raise error
            last = error
        assert last is not None
        raise last

    async def create_payment(self, order: PaymentOrder) -> ProviderPayment:
        return decode_payment(await self._call("POST", "payments", key=order.key, body=encode_payment(order)))

    async def get_payment(self, payment_id: str) -> ProviderPayment:
        if not ID_RE.match(payment_id):
            raise AcquirerRefused("неверный идентификатор платежа", code="invalid_request")
        return decode_payment(await self._call("GET", f"payments/{payment_id}"))

    async def create_refund(self, order: RefundOrder) -> ProviderRefund:
        return decode_refund(await self._call("POST", "refunds", key=order.key, body=encode_refund(order)))

    async def get_refund(self, refund_id: str) -> ProviderRefund:
        if not ID_RE.match(refund_id):
            raise AcquirerRefused("неверный идентификатор возврата", code="invalid_request")
        return decode_refund(await self._call("GET", f"refunds/{refund_id}"))

    async def check(self) -> None:
        """The credentials work (a payment that cannot exist is not found); `AcquirerRefused` when they do
        not (invalid_credentials), `AcquirerUnknown` when ЮKassa cannot be reached."""
        try:
            await self._call("GET", f"payments/{NO_SUCH_PAYMENT}")
        except AcquirerRefused as exc:
            if exc.code != "not_found":
                raise
