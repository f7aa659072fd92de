"""A local fake of the ЮKassa payments API v3 (`channels/acquiring/yookassa.py` describes the protocol), for
the tests and the dev server. Nothing here is used in production.

API (under `/v3`, HTTP Basic auth shop id : secret key, JSON, errors as ЮKassa's error objects):
- `POST /v3/payments` (Idempotence-Key required; the same key of the same shop gets the first answer back):
  checks the amount (decimal string, RUB), the redirect confirmation, the metadata and — the shop having
  fiscalisation on — the receipt (customer e-mail or phone, items with vat_code 1–12 adding up to the amount);
  answers the payment `pending` with `confirmation.confirmation_url` = this server's `/checkout/{id}`;
- `GET /v3/payments/{id}`, `POST /v3/refunds` (idempotent; the payment succeeded; not more than is left),
  `GET /v3/refunds/{id}`.
The payer's page `GET /checkout/{id}` has two buttons: «Оплатить» (the payment → succeeded) and «Отказаться»
(→ canceled, 3d_secure_failed); either redirects (303) to the payment's return_url, and the notification
(`payment.succeeded` / `payment.canceled`, ЮKassa's body) is POSTed to the shop's webhook URL, a non-200
answer redelivered every `retry_seconds` up to `max_retries` times (ЮKassa: for 24 hours).

Test options: `notify` — "after" (shortly after the redirect, the default), "before" (delivered before the
redirect is answered), "twice" (two deliveries at once), "late" (after `late_seconds`), "never";
`fail_next(method, path_prefix, times, processed=False)` — answer 500 (with `processed`, after doing the
work: the result is lost on the way); `tamper(payment_id, ...)` — the shop's payment changes under us;
`redeliver(payment_id)` — the last notification once more; `deliver` — how a notification travels (default:
httpx POST to the webhook URL; tests hand it to the app in process with the sender's address they choose).

Request checks, error objects and the payer's page are in `yookassa_checks.py`. A uvicorn server on the loop that
starts it (`start()`), or in a thread of its own (`start_in_thread()`, the
dev server).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import uvicorn

from aquabill.devserver.fakes.http import ThreadServed
from aquabill.devserver.fakes.yookassa_checks import (
    Refused,
    check_receipt,
    checkout_page,
    error_object,
    now_iso,
    read_money,
)

Deliver = Callable[[str, bytes], Awaitable[int]]
MAX_BODY = 256 * 1024


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):  # the process that runs the fake keeps its own signal handlers
        yield


@dataclass
class Shop:
    shop_id: str
    secret: str
    webhook_url: str | None = None
    fiscalization: bool = True  # receipts required with payments


@dataclass
class Delivery:
    event: str
    object_id: str
    url: str
    status: int  # 0: the connection failed


@dataclass
class _Failure:
    method: str
    prefix: str
    times: int
    processed: bool


class FakeYooKassa(ThreadServed):
    thread_name, title = "fake-yookassa", "the fake ЮKassa"

    def __init__(self, *, notify: str = "after", late_seconds: float = 1.0, retry_seconds: float = 0.2,
                 max_retries: int = 5, deliver: Deliver | None = None) -> None:
        self.shops: dict[str, Shop] = {}
        self.notify, self.late_seconds = notify, late_seconds
        self.retry_seconds, self.max_retries = retry_seconds, max_retries
        self.deliver: Deliver = deliver or self._post
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.owner: dict[str, str] = {}  # object id → shop id
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, idempotence key)
        self.deliveries: list[Delivery] = []
        self._answers: dict[tuple[str, str], tuple[int, dict]] = {}  # (shop, key) → the first answer
        self._failures: list[_Failure] = []
        self._last_event: dict[str, str] = {}
        self._tasks: set[asyncio.Task] = set()
        self._server: _QuietServer | None = None
        self._serving: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.host, self.port = "127.0.0.1", 0

    # ---- set-up --------------------------------------------------------------------------------------------

    def add_shop(self, shop_id: str | None = None, secret: str | None = None, *, webhook_url: str | None = None,
                 fiscalization: bool = True) -> Shop:
        shop = Shop(shop_id or str(secrets.randbelow(900000) + 100000), secret or f"test_{secrets.token_hex(12)}",
                    webhook_url, fiscalization)
        self.shops[shop.shop_id] = shop
        return shop

    def fail_next(self, method: str, path_prefix: str, times: int = 1, *, processed: bool = False) -> None:
        """The next `times` requests `method` to a path starting with `path_prefix` (e.g. "/v3/payments")
        answer 500; with `processed` the request takes effect first (its answer is what is lost)."""
        self._failures.append(_Failure(method.upper(), path_prefix, times, processed))

    def tamper(self, payment_id: str, *, amount: str | None = None, metadata: dict[str, str] | None = None) -> None:
        payment = self.payments[payment_id]
        if amount is not None:
            payment["amount"] = {"value": amount, "currency": "RUB"}
        if metadata is not None:
            payment["metadata"] = dict(metadata)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """What `AQUABILL_YOOKASSA_API_URL` is set to for this fake."""
        return f"{self.url}/v3"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeYooKassa:
        self.host, self._loop = host, asyncio.get_running_loop()
        self._server = _QuietServer(uvicorn.Config(self, host=host, port=port, log_level="warning", lifespan="off",
                                                   access_log=False))
        self._serving = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._serving.done():
                self._serving.result()
            await asyncio.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            await self._serving
        self._server = self._serving = None

    async def settle(self) -> None:
        """Wait until every notification scheduled so far has been delivered (or given up); wrap it in
        `asyncio.timeout`."""
        await self._here(self._settle())

    async def _settle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # ---- notifications -------------------------------------------------------------------------------------

    @staticmethod
    async def _post(url: str, body: bytes) -> int:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(url, content=body, headers={"Content-Type": "application/json"})
            return response.status_code

    def _schedule(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, event: str, obj_id: str, delay: float = 0.0) -> None:
        shop = self.shops[self.owner[obj_id]]
        if not shop.webhook_url:
            return
        if delay:
            await asyncio.sleep(delay)
        for attempt in range(self.max_retries + 1):
            if attempt:
                await asyncio.sleep(self.retry_seconds)
            obj = self.payments.get(obj_id) or self.refunds[obj_id]
            body = json.dumps({"type": "notification", "event": event, "object": obj}, ensure_ascii=False).encode()
            try:
                status = await self.deliver(shop.webhook_url, body)
            except (httpx.HTTPError, OSError):
                status = 0
            self.deliveries.append(Delivery(event, obj_id, shop.webhook_url, status))
            if status == 200:
                return

    async def _announce(self, event: str, obj_id: str) -> None:
        """Deliver per the `notify` option."""
        self._last_event[obj_id] = event
        if self.notify == "never":
            return
        if self.notify == "before":
            await self._deliver(event, obj_id)
        elif self.notify == "twice":
            self._schedule(self._deliver(event, obj_id))
            self._schedule(self._deliver(event, obj_id))
        elif self.notify == "late":
            self._schedule(self._deliver(event, obj_id, self.late_seconds))
        else:
            self._schedule(self._deliver(event, obj_id, 0.05))

    async def redeliver(self, obj_id: str) -> None:
        """The object's last notification once more, now (as ЮKassa may send a duplicate)."""
        await self._here(self._deliver(self._last_event[obj_id], obj_id))

    # ---- the payer's actions -------------------------------------------------------------------------------

    async def complete(self, payment_id: str, *, pay: bool = True) -> str:
        """The payer pays (or refuses) on the checkout page: the status changes, the notification goes per
        `notify`; returns the return_url."""
        payment = self.payments[payment_id]
        if payment["status"] == "pending":
            if pay:
                payment.update(status="succeeded", paid=True, captured_at=now_iso(), refundable=True,
                               income_amount=dict(payment["amount"]), refunded_amount={"value": "0.00", "currency": "RUB"},
                               payment_method={"type": "bank_card", "id": payment_id, "saved": False,
                                               "title": "Bank card *4444",
                                               "card": {"last4": "4444", "card_type": "Mir"}})
                if "receipt_registration" in payment:
                    payment["receipt_registration"] = "succeeded"
            else:
                payment.update(status="canceled", cancellation_details={"party": "payment_network",
                                                                        "reason": "3d_secure_failed"})
            await self._announce(f"payment.{payment['status']}", payment_id)
        return payment["_return_url"]

    # ---- ASGI ----------------------------------------------------------------------------------------------

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_BODY or not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method, path = scope["method"], scope["path"]
        if path.startswith("/checkout/"):
            status, content, extra = await self._checkout(method, path[len("/checkout/"):], body)
            await self._respond(send, status, content, "text/html; charset=utf-8", extra)
            return
        status, answer = await self._api(method, path, headers, body)
        await self._respond(send, status, json.dumps(answer, ensure_ascii=False).encode(), "application/json")

    @staticmethod
    async def _respond(send, status: int, content: bytes, content_type: str,
                       extra: list[tuple[bytes, bytes]] | None = None) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type.encode()),
                                (b"content-length", str(len(content)).encode()), *(extra or [])]})
        await send({"type": "http.response.body", "body": content})

    def _shop(self, headers: dict[str, str]) -> Shop | None:
        auth = headers.get("authorization", "")
        if not auth.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        except (ValueError, UnicodeError):
            return None
        shop = self.shops.get(user)
        return shop if shop is not None and secrets.compare_digest(shop.secret, password) else None

    def _failure(self, method: str, path: str) -> _Failure | None:
        for f in self._failures:
            if f.times > 0 and f.method == method and path.startswith(f.prefix):
                f.times -= 1
                return f
        return None

    async def _api(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
        key = headers.get("idempotence-key")
        self.requests.append((method, path, key))
        failure = self._failure(method, path)
        if failure is not None and not failure.processed:
            return error_object(500, "internal_server_error", "Internal server error")
        shop = self._shop(headers)
        if shop is None:
            return error_object(401, "invalid_credentials", "Basic authentication failed: wrong shopId or secret key")
        if method == "POST":
            if not key:
                return error_object(400, "invalid_request", "Idempotence key is missing", "Idempotence-Key")
            answer = self._answers.get((shop.shop_id, key))
            if answer is None:
                answer = await self._post_api(shop, path, body)
                self._answers[(shop.shop_id, key)] = answer
        elif method == "GET":
            answer = self._get_api(shop, path)
        else:
            answer = error_object(405, "invalid_request", "Method not allowed")
        if failure is not None:
            return error_object(500, "internal_server_error", "Internal server error")
        return answer

    def _get_api(self, shop: Shop, path: str) -> tuple[int, dict]:
        for prefix, store in (("/v3/payments/", self.payments), ("/v3/refunds/", self.refunds)):
            if path.startswith(prefix):
                obj = store.get(path[len(prefix):])
                if obj is None or self.owner.get(obj["id"]) != shop.shop_id:
                    return error_object(404, "not_found", "Object not found")
                return 200, self._public(obj)
        return error_object(404, "not_found", "Unknown method")

    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    async def _post_api(self, shop: Shop, path: str, body: bytes) -> tuple[int, dict]:
        try:
            data = json.loads(body or b"null")
        except ValueError:
            return error_object(400, "invalid_request", "Request body is not JSON")
        if not isinstance(data, dict):
            return error_object(400, "invalid_request", "Request body must be an object")
        try:
            if path == "/v3/payments":
                return 200, self._create_payment(shop, data)
            if path == "/v3/refunds":
                obj = self._create_refund(shop, data)
                if obj["status"] == "succeeded":
                    self._schedule(self._announce_refund(obj["id"]))
                return 200, obj
        except Refused as exc:
            return error_object(400, "invalid_request", exc.description, exc.parameter)
        return error_object(404, "not_found", "Unknown method")

    async def _announce_refund(self, refund_id: str) -> None:
        await self._announce("refund.succeeded", refund_id)

    def _create_payment(self, shop: Shop, data: dict[str, Any]) -> dict[str, Any]:
        amount = read_money(data.get("amount"), "amount")
        confirmation = data.get("confirmation") or {}
        if confirmation.get("type") != "redirect" or not str(confirmation.get("return_url", "")).startswith("http"):
            raise Refused("Confirmation of type redirect with return_url is required", "confirmation")
        metadata = data.get("metadata") or {}
        if not isinstance(metadata, dict) or len(metadata) > 16 or any(
                not isinstance(v, str) or len(v) > 512 for v in metadata.values()):
            raise Refused("Invalid metadata", "metadata")
        if len(str(data.get("description", ""))) > 128:
            raise Refused("Description is too long", "description")
        if shop.fiscalization:
            check_receipt(data.get("receipt"), amount)
        payment_id = f"{uuid.uuid4().hex[:8]}-000f-5000-8000-{uuid.uuid4().hex[:12]}"
        payment = {
            "id": payment_id, "status": "pending", "paid": False, "amount": data["amount"],
            "confirmation": {"type": "redirect", "confirmation_url": f"{self.url}/checkout/{payment_id}",
                             "return_url": confirmation["return_url"]},
            "created_at": now_iso(), "description": data.get("description", ""), "metadata": metadata,
            "recipient": {"account_id": shop.shop_id, "gateway_id": "100500"}, "refundable": False,
            "test": True, "_return_url": confirmation["return_url"], "_receipt": data.get("receipt")}
        if data.get("receipt"):
            payment["receipt_registration"] = "pending"
        self.payments[payment_id] = payment
        self.owner[payment_id] = shop.shop_id
        return self._public(payment)

    def _create_refund(self, shop: Shop, data: dict[str, Any]) -> dict[str, Any]:
        payment = self.payments.get(str(data.get("payment_id", "")))
        if payment is None or self.owner[payment["id"]] != shop.shop_id:
            raise Refused("Payment not found", "payment_id")
        if payment["status"] != "succeeded":
            raise Refused("Payment is not succeeded", "payment_id")
        amount = read_money(data.get("amount"), "amount")
        refunded = Decimal(payment["refunded_amount"]["value"])
        if refunded + amount > Decimal(payment["amount"]["value"]):
            raise Refused("Refund amount exceeds the amount left", "amount")
        if data.get("receipt") is not None:
            check_receipt(data["receipt"], amount)
        payment["refunded_amount"] = {"value": f"{refunded + amount:.2f}", "currency": "RUB"}
        refund_id = f"{uuid.uuid4().hex[:8]}-0015-5000-9000-{uuid.uuid4().hex[:12]}"
        refund = {"id": refund_id, "payment_id": payment["id"], "status": "succeeded", "created_at": now_iso(),
                  "amount": data["amount"], "description": data.get("description", "")}
        self.refunds[refund_id] = refund
        self.owner[refund_id] = shop.shop_id
        return dict(refund)

    # ---- the payer's page ----------------------------------------------------------------------------------

    async def _checkout(self, method: str, payment_id: str, body: bytes) -> tuple[int, bytes, list]:
        payment = self.payments.get(payment_id)
        if payment is None:
            return 404, "<h1>Платёж не найден</h1>".encode(), []
        if method == "POST":
            action = (parse_qs(body.decode(errors="replace")).get("action") or ["pay"])[0]
            back = await self.complete(payment_id, pay=action != "cancel")
            return 303, b"", [(b"location", back.encode())]
        return 200, checkout_page(payment).encode(), []


# ---- the dev server ------------------------------------------------------------------------------------------

DEV_SHOP_ID = "100500"  # the demo tenant's shop at the dev server's fake (demo seeding stores these)
DEV_SECRET = "test_aquabill_dev_secret"


def start_for_dev(base_url: str, tenant_slug: str = "demo") -> tuple[FakeYooKassa, dict[str, Any]]:
    """The fake in a thread of its own for `aquabill dev`, with the demo tenant's shop whose notifications go
    to `base_url`; returns it and the settings to use with it (its API, notifications from loopback)."""
    fake = FakeYooKassa().start_in_thread()
    fake.add_shop(DEV_SHOP_ID, DEV_SECRET, webhook_url=f"{base_url}/api/acquiring/yookassa/{tenant_slug}")
    return fake, {"yookassa_api_url": fake.api_url, "acquiring_networks": ("127.0.0.0/8", "::1/128")}
