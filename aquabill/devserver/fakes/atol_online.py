"""A local fake of the ATOL Online API v5 (`channels/cloud_fiscal/atol_wire.py` describes the protocol and its
sources), for the tests and the dev server. Nothing here is used in production.

Under `/possystem/v5` (JSON, errors as the service's `{"error": {"error_id", "code", "text", "type"}}`):
- `POST getToken` {login, pass} → {token, error: null, timestamp}; a wrong pair → 401 code 12.
- `POST {group_code}/sell` | `sell_refund` (header `Token`): an unknown token → 401 code 10, an expired one
  (`expire_tokens`) → 401 code 11, a group not of the token's login → 401 code 20, another operation → 400
  code 31; a receipt that breaks the rules (`check_receipt`: the client's contact, the company, items with
  sum = price × quantity, known VAT types / methods / subjects / measures, total = Σ sums = Σ payments, the
  timestamp's form) → 400 code 32 «Ошибка валидации входного чека. Ошибочные поля : …», status fail; an
  external_id already registered in the group → 400 code 33 with the first document's uuid, status wait;
  otherwise the document is registered → 200 {uuid, status: "wait", error: null, timestamp}.
- `GET {group_code}/report/{uuid}`: an unknown uuid → 400 code 30; `wait` for the first `polls_before_done`
  polls, then the document is fiscalized: the group's fiscal document counter goes up, the fiscal sign is a
  deterministic function of (FN, FD, total, operation), and the answer is `done` with the payload — or
  `fail` with an "agent" error when the receipt's INN is not the group's (code 2009, as ATOL answers) or the
  test asked for it (`fail_next`).
Test options: `drop_next(operation, times)` — the document is registered, but the connection is cut in the
middle of the answer (a lost answer: the client cannot know whether it went through); `expire_tokens()`;
`fail_next(text, code)`. What it received: `calls` (method, path, external_id, HTTP status), `documents`,
`token_requests`.

Served by uvicorn (`http.AsgiServer`, as the other fakes): on the loop that starts it (`start`), or in a thread
of its own (`start_in_thread`: the dev server, and tests whose app client blocks the test's loop).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from aquabill.devserver.fakes.http import AsgiServer, ThreadServed, read_body, respond

PREFIX = "/possystem/v5/"
MSK = ZoneInfo("Europe/Moscow")
TIMESTAMP_RE = re.compile(r"^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}$")
VAT_TYPES = {"none", "vat0", "vat5", "vat7", "vat10", "vat20", "vat22", "vat105", "vat107", "vat110", "vat120",
             "vat122"}
METHODS = {"full_prepayment", "prepayment", "advance", "full_payment", "partial_payment", "credit", "credit_payment"}
MEASURES = {0, 10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51, 70, 71, 72, 73, 80, 81, 82, 83, 255}
SNO = {"osn", "usn_income", "usn_income_outcome", "esn", "patent"}
OPERATIONS = {"sell", "sell_refund"}
MAX_SUM = Decimal("42949672.95")


@dataclass
class Group:
    code: str
    login: str
    password: str
    inn: str
    fn_number: str
    next_fd: int = 1
    shift: int = 1
    in_shift: int = 0


@dataclass
class Document:
    uuid: str
    external_id: str
    group: str
    operation: str
    body: dict[str, Any]
    polls: int = 0
    status: str = "wait"
    payload: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    fail_with: tuple[int, str] | None = None


@dataclass
class Call:
    method: str
    path: str
    external_id: str
    status: int


@dataclass
class _Token:
    login: str
    expired: bool = False


def now_text() -> str:
    return datetime.now(MSK).strftime("%d.%m.%Y %H:%M:%S")


def error_body(code: int, text: str, *, status: str | None = None, uuid_: str | None = None,
               kind: str = "system") -> dict[str, Any]:
    body: dict[str, Any] = {"error": {"error_id": str(uuid.uuid4()), "code": code, "text": text, "type": kind},
                            "timestamp": now_text()}
    if status is not None:
        body["status"] = status
    if uuid_ is not None:
        body["uuid"] = uuid_
    return body


def fiscal_sign(fn_number: str, fd_number: int, total: Decimal, operation: str) -> int:
    """The fake's fiscal sign (ФП): 32 bits of SHA-256 over the document's data — deterministic."""
    digest = hashlib.sha256(f"{fn_number}|{fd_number}|{total:.2f}|{operation}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def _money(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    value = Decimal(value)
    return value if value == value.quantize(Decimal("0.01")) and 0 <= value <= MAX_SUM else None


def check_receipt(body: dict[str, Any]) -> list[str]:
    """The fields at fault of a `sell` body (empty: it is valid)."""
    bad: list[str] = []
    ext = body.get("external_id")
    if not isinstance(ext, str) or not 0 < len(ext) <= 128:
        bad.append("external_id")
    if not isinstance(body.get("timestamp"), str) or not TIMESTAMP_RE.match(body["timestamp"]):
        bad.append("timestamp")
    receipt = body.get("receipt")
    if not isinstance(receipt, dict):
        return [*bad, "receipt"]
    client = receipt.get("client") or {}
    if not (isinstance(client, dict) and (client.get("email") or client.get("phone"))):
        bad.append("receipt.client")
    elif client.get("phone") and not re.fullmatch(r"\+\d{11,15}", str(client["phone"])):
        bad.append("receipt.client.phone")
    company = receipt.get("company") or {}
    if not re.fullmatch(r"\d{10}|\d{12}", str(company.get("inn", ""))):
        bad.append("receipt.company.inn")
    if company.get("sno") not in SNO:
        bad.append("receipt.company.sno")
    for key in ("email", "payment_address"):
        if not company.get(key):
            bad.append(f"receipt.company.{key}")
    items = receipt.get("items")
    items_total = Decimal(0)
    if not isinstance(items, list) or not 1 <= len(items) <= 100:
        bad.append("receipt.items")
        items = []
    for n, item in enumerate(items):
        where = f"receipt.items[{n}]"
        price, total = _money(item.get("price")), _money(item.get("sum"))
        quantity = item.get("quantity")
        if not isinstance(item.get("name"), str) or not 0 < len(item["name"]) <= 128:
            bad.append(f"{where}.name")
        if price is None or total is None or isinstance(quantity, bool) or not isinstance(quantity, int | Decimal) \
                or not 0 < quantity <= Decimal("99999.999"):
            bad.append(f"{where}.sum")
        elif (price * Decimal(quantity)).quantize(Decimal("0.01")) != total:
            bad.append(f"{where}.sum")
        else:
            items_total += total
        if item.get("measure") not in MEASURES:
            bad.append(f"{where}.measure")
        if item.get("payment_method") not in METHODS:
            bad.append(f"{where}.payment_method")
        subject = item.get("payment_object")
        if isinstance(subject, bool) or not isinstance(subject, int) or not 1 <= subject <= 33:
            bad.append(f"{where}.payment_object")
        if not isinstance(item.get("vat"), dict) or item["vat"].get("type") not in VAT_TYPES:
            bad.append(f"{where}.vat.type")
    payments = receipt.get("payments")
    paid = Decimal(0)
    if not isinstance(payments, list) or not 1 <= len(payments) <= 10:
        bad.append("receipt.payments")
        payments = []
    for n, payment in enumerate(payments):
        amount = _money(payment.get("sum"))
        if amount is None or payment.get("type") not in range(10):
            bad.append(f"receipt.payments[{n}]")
        else:
            paid += amount
    total = _money(receipt.get("total"))
    if total is None or total != items_total or total != paid:
        bad.append("receipt.total")
    return bad


class FakeAtolOnline(ThreadServed):
    thread_name, title = "fake-atol-online", "the fake ATOL Online"

    def __init__(self, *, polls_before_done: int = 1) -> None:
        self.polls_before_done = polls_before_done
        self.groups: dict[str, Group] = {}
        self.documents: dict[str, Document] = {}  # uuid → document
        self.calls: list[Call] = []
        self.token_requests = 0
        self._tokens: dict[str, _Token] = {}
        self._by_external: dict[tuple[str, str], str] = {}  # (group, external_id) → uuid
        self._drops: dict[str, int] = {}
        self._fails: list[tuple[int, str]] = []
        self._server: AsgiServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # ---- set-up and test options -----------------------------------------------------------------------------

    def add_group(self, code: str | None = None, *, login: str | None = None, password: str | None = None,
                  inn: str = "7707083893", fn_number: str | None = None) -> Group:
        n = len(self.groups) + 1
        group = Group(code or f"test-group_{secrets.token_hex(3)}", login or f"login-{secrets.token_hex(3)}",
                      password or secrets.token_urlsafe(9), inn, fn_number or f"99990789{n:08d}")
        self.groups[group.code] = group
        return group

    def drop_next(self, operation: str = "sell", times: int = 1) -> None:
        """The next `times` registrations of `operation` take effect, but their answer is cut off midway."""
        self._drops[operation] = self._drops.get(operation, 0) + times

    def expire_tokens(self) -> None:
        for token in self._tokens.values():
            token.expired = True

    def fail_next(self, text: str = "Ошибка ФН: касса не может зарегистрировать чек", code: int = 2000) -> None:
        """The next registered document fails at the register with this error (type "agent")."""
        self._fails.append((code, text))

    def by_external_id(self, external_id: str) -> list[Document]:
        return [d for d in self.documents.values() if d.external_id == external_id]

    def registrations(self, external_id: str) -> list[Call]:
        return [c for c in self.calls if c.method == "POST" and c.external_id == external_id]

    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.url

    @property
    def api_url(self) -> str:
        """What a tenant's cloud fiscalization settings set as the API address for this fake."""
        return f"{self.url}/possystem/v5"

    # ---- serving -----------------------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeAtolOnline:
        self._loop = asyncio.get_running_loop()
        self._server = AsgiServer(self, host, port)
        await self._server.start()
        return self

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()

    async def __aenter__(self) -> FakeAtolOnline:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- ASGI --------------------------------------------------------------------------------------------------

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method, path = scope["method"], scope["path"]
        status, answer, external_id, drop = self._answer(method, path, headers, body)
        self.calls.append(Call(method, path, external_id, status))
        content = json.dumps(answer, ensure_ascii=False, default=str).encode()
        if drop:  # the answer starts and the connection is cut: the client cannot tell what happened
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(content)).encode())]})
            await send({"type": "http.response.body", "body": content[:5], "more_body": True})
            return
        await respond(send, status, content, "application/json; charset=utf-8")

    def _answer(self, method: str, path: str, headers: dict[str, str],
                body: bytes) -> tuple[int, dict[str, Any], str, bool]:
        if not path.startswith(PREFIX):
            return 404, error_body(40, "Некорректный запрос."), "", False
        rest = path[len(PREFIX):]
        try:
            data = json.loads(body, parse_float=Decimal) if body else {}
        except ValueError:
            return 400, error_body(40, "Некорректный запрос."), "", False
        if method == "POST" and rest == "getToken":
            return (*self._token(data), "", False)
        parts = rest.split("/")
        group = self.groups.get(parts[0])
        token = self._tokens.get(headers.get("token", ""))
        ext = str(data.get("external_id", "")) if isinstance(data, dict) else ""
        if token is None:
            return 401, error_body(10, "Не распознан токен запроса"), ext, False
        if token.expired:
            return 401, error_body(11, "Переданный токен не активен"), ext, False
        if group is None or group.login != token.login:
            return 401, error_body(20, "Код группы, указанный в запросе, не соответствует токену."), ext, False
        if method == "GET" and len(parts) == 3 and parts[1] == "report":
            return (*self._report(group, parts[2]), "", False)
        if method == "POST" and len(parts) == 2:
            return self._register(group, parts[1], data if isinstance(data, dict) else {})
        return 400, error_body(40, "Некорректный запрос."), "", False

    def _token(self, data: Any) -> tuple[int, dict[str, Any]]:
        self.token_requests += 1
        login, password = (data.get("login"), data.get("pass")) if isinstance(data, dict) else (None, None)
        for group in self.groups.values():
            if group.login == login and secrets.compare_digest(group.password, str(password or "")):
                token = secrets.token_urlsafe(48)
                self._tokens[token] = _Token(group.login)
                return 200, {"token": token, "error": None, "timestamp": now_text()}
        return 401, error_body(12, "Неверный логин или пароль")

    def _register(self, group: Group, operation: str, data: dict[str, Any]) -> tuple[int, dict, str, bool]:
        external_id = str(data.get("external_id", ""))
        if operation not in OPERATIONS:
            return 400, error_body(31, f'Операция "{operation}" не поддерживается.'), external_id, False
        known = self._by_external.get((group.code, external_id))
        if known is not None:
            return 400, error_body(33, f"В системе существует чек с external_id : {external_id} и group_code: "
                                       f"{group.code}", status="wait", uuid_=known), external_id, False
        bad = check_receipt(data)
        if bad:
            return 400, error_body(32, f"Ошибка валидации входного чека. Ошибочные поля : {', '.join(bad)}",
                                   status="fail"), external_id, False
        doc = Document(str(uuid.uuid4()), external_id, group.code, operation, data,
                       fail_with=self._fails.pop(0) if self._fails else None)
        self.documents[doc.uuid] = doc
        self._by_external[(group.code, external_id)] = doc.uuid
        drop = self._drops.get(operation, 0) > 0
        if drop:
            self._drops[operation] -= 1
        return 200, {"uuid": doc.uuid, "status": "wait", "error": None, "timestamp": now_text()}, external_id, drop

    def _report(self, group: Group, doc_uuid: str) -> tuple[int, dict[str, Any]]:
        doc = self.documents.get(doc_uuid)
        if doc is None or doc.group != group.code:
            return 400, error_body(30, f'Передан некорректный UUID : "{doc_uuid}". Необходимо повторить запрос с '
                                       f'корректными данными', status="fail")
        doc.polls += 1
        if doc.status == "wait" and doc.polls > self.polls_before_done:
            self._fiscalize(group, doc)
        return 200, {"uuid": doc.uuid, "status": doc.status, "error": doc.error, "payload": doc.payload,
                     "timestamp": now_text(), "group_code": group.code, "daemon_code": "fake-agent-1",
                     "device_code": "KKT-FAKE-1", "external_id": doc.external_id, "callback_url": ""}

    def _fiscalize(self, group: Group, doc: Document) -> None:
        inn = str(doc.body["receipt"]["company"]["inn"])
        if doc.fail_with is not None or inn != group.inn:
            code, text = doc.fail_with or (2009, f"ИНН, указанный в чеке {inn}, не соответствует ИНН группы касс "
                                                 f"{group.inn}. Попыток регистрировать чек не производилось.")
            doc.status, doc.error = "fail", {"code": code, "text": text, "type": "agent"}
            return
        fd = group.next_fd
        group.next_fd += 1
        group.in_shift += 1
        total = Decimal(doc.body["receipt"]["total"])
        sign = fiscal_sign(group.fn_number, fd, total, doc.operation)
        doc.status = "done"
        doc.payload = {
            "fiscal_receipt_number": group.in_shift, "shift_number": group.shift, "receipt_datetime": now_text(),
            "total": float(total), "fn_number": group.fn_number, "ecr_registration_number": "0000000001012345",
            "fiscal_document_number": fd, "fiscal_document_attribute": sign, "fns_site": "www.nalog.gov.ru",
            "ofd_inn": "7704211201",
            "ofd_receipt_url": f"https://ofd.example/receipt?fn={group.fn_number}&i={fd}&fp={sign}"}


# ---- the dev server ------------------------------------------------------------------------------------------

DEV_GROUP = "aquabill-dev_0001"  # the demo tenant's group at the dev server's fake
DEV_LOGIN = "aquabill-dev"
DEV_PASSWORD = "aquabill-dev-password"
DEV_INN = "7707083893"


def start_for_dev() -> tuple[FakeAtolOnline, dict[str, Any]]:
    """The fake in a thread of its own for `aquabill dev` with the demo tenant's group; returns it and the
    settings to run with (new cloud fiscalization settings start with its API address)."""
    fake = FakeAtolOnline().start_in_thread()
    fake.add_group(DEV_GROUP, login=DEV_LOGIN, password=DEV_PASSWORD, inn=DEV_INN)
    return fake, {"atol_api_url": fake.api_url}

