"""Cloud fiscalization of online payments (#15): the receipt built from an online payment, and the request rows
(`cloud_fiscal_requests`, t0031) a cloud fiscalization service works off. Pure rules + SQL; never commits.

An online payment credited (`subscribers.online_payments._credit`) or refunded (`record_refund`) while cloud
fiscalization is on gets a request row IN THE SAME transaction (`request_sale` / `request_refund`): its UUID is
the `external_id` the service deduplicates by, so whatever is sent twice makes one receipt. The job
(`platform/jobs/cloud_fiscal.py`, runner `channels/cloud_fiscal/runner.py`) sends it and polls the result:

    new ──sell sent, the service's uuid known──▶ wait ──report "done"──▶ done   (payment_fiscal written)
     │                                            └──report "fail"───▶ fail
     └──refused (a validation error) ─────────────────────────────────▶ fail
An unknown outcome (no answer, 5xx) leaves the row as it is and retries later with the same external_id
(`retry_delay`); rows are claimed with FOR UPDATE SKIP LOCKED and leased (`next_try_at` moved ahead), so two
runners never work on one row at once.

The receipt reuses what the online payment's own (ЮKassa) receipt data already hold (`online_payments.receipt`,
built by `subscribers.payment_receipt`): one line per service in allocation order, penalties, the advance, the
neutral VAT names, the buyer's e-mail or phone (tag 1008). Their ЮKassa names are mapped here to the FFD 1.2
values (FNS order ЕД-7-20/662@ of 14.09.2020, table of tags; FFD-1.2-TAGS.md): payment_subject → tag 1212,
payment_mode → tag 1214; the quantity measure (tag 2108) is 0 «штуки/единицы»: a bill is one item. Cloud
fiscalization applies only while ЮKassa's own receipts are off (`acquiring_settings.send_receipt`): one payment,
one receipt.

Money: the lines come as kopeck-exact decimal strings and add up to the payment; a line's sum is price ×
quantity (quantity is always 1 here), quantized half-up to the kopeck in `CloudItem.of` — the one place a
rounding could happen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, NotFound

KOPECK = Decimal("0.01")
OPERATIONS = ("sale", "refund")
STATUS_TEXT = {"new": "Ожидает отправки", "wait": "Отправлен, ждём кассу", "done": "Чек зарегистрирован",
               "fail": "Ошибка"}
OPERATION_TEXT = {"sale": "Приход", "refund": "Возврат прихода"}
# ЮKassa's payment_subject names (SDK yookassa-sdk-python domain/models/receipt_item.py) → tag 1212 (FFD 1.2):
# 1 товар, 2 подакцизный товар, 3 работа, 4 услуга, 10 платёж, 11 агентское вознаграждение, 13 иной предмет
# расчёта (penalties go as 13, as the online receipt sends them: "another"; verify with the accountant)
SUBJECTS = {"commodity": 1, "excise": 2, "job": 3, "service": 4, "payment": 10, "agent_commission": 11,
            "another": 13}
# ЮKassa's payment_mode names → tag 1214: 1 предоплата 100 %, 2 предоплата, 3 аванс, 4 полный расчёт,
# 5 частичный расчёт и кредит, 6 передача в кредит, 7 оплата кредита
METHODS = {"full_prepayment": 1, "partial_prepayment": 2, "advance": 3, "full_payment": 4, "partial_payment": 5,
           "credit": 6, "credit_payment": 7}
VATS = ("none", "0", "5", "7", "10", "20", "22", "5/105", "7/107", "10/110", "20/120", "22/122")
MEASURE_PIECE = 0  # tag 2108: 0 = штуки/единицы
LEASE_SECONDS = 120  # a claimed row is left alone this long by other runners (longer than a runner's calls)
# the waits between tries of one request, by its number of attempts; then every 30 minutes
RETRY_DELAYS = (5, 15, 30, 60, 120, 300, 600, 1800)
CANNOT_BUILD = "Чек не составлен: в онлайн-платеже нет данных чека ({})"


@dataclass(frozen=True, slots=True)
class CloudItem:
    """One line of the receipt (tag 1059) with its FFD 1.2 values."""

    name: str  # 1030, ≤ 128 characters
    price: Decimal  # 1079
    quantity: Decimal  # 1023
    sum: Decimal  # 1043 = price × quantity
    vat: str  # neutral rate name (VATS); the adapter maps it to the service's own code
    method: int  # 1214
    subject: int  # 1212
    measure: int = MEASURE_PIECE  # 2108

    @classmethod
    def of(cls, name: str, price: Decimal, vat: str, method: int, subject: int,
           quantity: Decimal = Decimal(1)) -> CloudItem:
        return cls(name[:128], price, quantity, (price * quantity).quantize(KOPECK, ROUND_HALF_UP), vat, method,
                   subject)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "price": str(self.price), "quantity": str(self.quantity), "sum": str(self.sum),
                "vat": self.vat, "method": self.method, "subject": self.subject, "measure": self.measure}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CloudItem:
        return cls(str(data["name"]), Decimal(data["price"]), Decimal(data["quantity"]), Decimal(data["sum"]),
                   str(data["vat"]), int(data["method"]), int(data["subject"]), int(data.get("measure", 0)))


@dataclass(frozen=True, slots=True)
class CloudReceipt:
    """What is fiscalized: the lines, the buyer's contact (tag 1008) and the total paid electronically (1081)."""

    items: tuple[CloudItem, ...]
    email: str | None = None
    phone: str | None = None  # +7XXXXXXXXXX

    @property
    def total(self) -> Decimal:
        return sum((i.sum for i in self.items), Decimal("0.00"))

    def as_json(self) -> dict[str, Any]:
        return {"items": [i.as_json() for i in self.items], "email": self.email, "phone": self.phone,
                "total": str(self.total)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CloudReceipt:
        return cls(tuple(CloudItem.from_json(i) for i in data.get("items", [])), data.get("email"), data.get("phone"))


# ---- pure rules ----------------------------------------------------------------------------------------------

def receipt_from_online(online: dict[str, Any], amount: Decimal) -> CloudReceipt:
    """The receipt of an online payment of `amount` from its stored receipt data (`online_payments.receipt`:
    `{"items": [{"description", "amount", "vat", "payment_mode", "payment_subject", "quantity"}], "email",
    "phone"}`). ValueError (Russian) when they are missing or do not add up to the amount."""
    items = []
    for raw in online.get("items") or []:
        try:
            price, quantity = Decimal(str(raw["amount"])), Decimal(str(raw.get("quantity", "1")))
            vat, mode, subject = str(raw["vat"]), str(raw.get("payment_mode", "full_payment")), \
                str(raw.get("payment_subject", "service"))
        except (KeyError, InvalidOperation, TypeError) as exc:
            raise ValueError(CANNOT_BUILD.format("строка чека не читается")) from exc
        if vat not in VATS or mode not in METHODS or subject not in SUBJECTS:
            raise ValueError(CANNOT_BUILD.format(f"неизвестная ставка или признак: {vat}, {mode}, {subject}"))
        items.append(CloudItem.of(str(raw.get("description", "")) or "Оплата коммунальных услуг", price, vat,
                                  METHODS[mode], SUBJECTS[subject], quantity))
    email, phone = online.get("email") or None, online.get("phone") or None
    if not items:
        raise ValueError(CANNOT_BUILD.format("нет строк"))
    if not email and not phone:
        raise ValueError(CANNOT_BUILD.format("нет e-mail или телефона покупателя"))
    receipt = CloudReceipt(tuple(items), email, f"+{phone.lstrip('+')}" if phone and not email else None)
    if receipt.total != amount:
        raise ValueError(CANNOT_BUILD.format(f"строки дают {receipt.total}, а платёж {amount}"))
    return receipt


def refund_receipt(sale: CloudReceipt, amount: Decimal) -> CloudReceipt:
    """The lines of a refund of `amount`: taken from the payment's lines, the last first (an advance is returned
    before services paid for), in the payment's order — the rule of the online refund receipt
    (`subscribers.payment_receipt.refund_items`)."""
    left, taken = amount, []
    for item in reversed(sale.items):
        part = min(item.sum, left)
        if part > 0:
            taken.append(CloudItem.of(item.name, part, item.vat, item.method, item.subject))
            left -= part
    if left > 0:
        raise ValueError(CANNOT_BUILD.format(f"возврат {amount} больше платежа {sale.total}"))
    return CloudReceipt(tuple(reversed(taken)), sale.email, sale.phone)


def retry_delay(attempts: int) -> int:
    """Seconds until the next try of a request tried `attempts` times (1 → 5 s, … then every 30 minutes)."""
    return RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1]


# ---- the hook: a request row in the crediting transaction ------------------------------------------------------

async def active(conn: AsyncConnection) -> bool:
    """Cloud fiscalization is on and ЮKassa does not send receipts itself (never both: one payment, one receipt)."""
    return bool((await conn.execute(text(
        "SELECT EXISTS (SELECT 1 FROM cloud_fiscal_settings WHERE id = 1 AND enabled) "
        "AND NOT EXISTS (SELECT 1 FROM acquiring_settings WHERE id = 1 AND send_receipt)"))).scalar())


async def request_sale(conn: AsyncConnection, *, payment_id: int, online_payment_id: UUID | None,
                       receipt: dict[str, Any], amount: Decimal) -> UUID | None:
    """A sale request for a just-credited online payment (its receipt data and amount), when cloud
    fiscalization is active; its id (the external_id), or None. A receipt that cannot be built is recorded
    as a failed request (the payment is credited all the same; staff see why)."""
    if not await active(conn):
        return None
    try:
        built: CloudReceipt | None = receipt_from_online(receipt, amount)
        problem = ""
    except ValueError as exc:
        built, problem = None, str(exc)
    return await _insert(conn, payment_id, online_payment_id, "sale", built, amount, problem)


async def request_refund(conn: AsyncConnection, *, payment_id: int, online_payment_id: UUID | None,
                         receipt: dict[str, Any], paid: Decimal, amount: Decimal) -> UUID | None:
    """A refund request («возврат прихода») for the negative payment `payment_id` returning `amount` of an online
    payment of `paid` with the receipt data `receipt`, when cloud fiscalization is active."""
    if not await active(conn):
        return None
    try:
        built: CloudReceipt | None = refund_receipt(receipt_from_online(receipt, paid), amount)
        problem = ""
    except ValueError as exc:
        built, problem = None, str(exc)
    return await _insert(conn, payment_id, online_payment_id, "refund", built, amount, problem)


async def _insert(conn: AsyncConnection, payment_id: int, online_payment_id: UUID | None, operation: str,
                  receipt: CloudReceipt | None, amount: Decimal, problem: str) -> UUID | None:
    found = (await conn.execute(text(
        "INSERT INTO cloud_fiscal_requests(id, payment_id, online_payment_id, operation, status, receipt, amount, "
        "error) VALUES (:id, :p, :o, :op, :st, CAST(:r AS jsonb), :a, :e) "
        "ON CONFLICT (payment_id, operation) DO NOTHING RETURNING id"),
        {"id": uuid4(), "p": payment_id, "o": online_payment_id, "op": operation, "st": "fail" if problem else "new",
         "r": json.dumps(receipt.as_json() if receipt else {}, ensure_ascii=False), "a": abs(amount),
         "e": problem})).scalar()
    return found


# ---- the runner's steps ------------------------------------------------------------------------------------------

async def has_due(conn: AsyncConnection) -> bool:
    return bool((await conn.execute(text(
        "SELECT EXISTS (SELECT 1 FROM cloud_fiscal_requests WHERE status IN ('new', 'wait') "
        "AND next_try_at <= now())"))).scalar())


async def claim_due(conn: AsyncConnection, *, limit: int, group_code: str,
                    lease_s: int = LEASE_SECONDS) -> list[dict[str, Any]]:
    """Take up to `limit` requests that are due (rows other runners hold are skipped), lease them for `lease_s`
    and count the attempt; a request sent for the first time is bound to `group_code` for good (the service
    deduplicates the external_id within a group)."""
    rows = await conn.execute(text(
        "WITH due AS (SELECT id FROM cloud_fiscal_requests WHERE status IN ('new', 'wait') AND next_try_at <= now() "
        "             ORDER BY next_try_at, created_at LIMIT :n FOR UPDATE SKIP LOCKED) "
        "UPDATE cloud_fiscal_requests r SET attempts = r.attempts + 1, updated_at = now(), "
        "       next_try_at = now() + make_interval(secs => :lease), group_code = coalesce(r.group_code, :g) "
        "FROM due WHERE r.id = due.id "
        "RETURNING r.id, r.payment_id, r.operation, r.status, r.group_code, r.provider_uuid, r.receipt, r.amount, "
        "          r.attempts, r.created_at"), {"n": limit, "lease": lease_s, "g": group_code})
    return [dict(r._mapping) for r in rows]


async def set_wait(conn: AsyncConnection, request_id: UUID, provider_uuid: str, delay_s: int) -> None:
    """The service took the receipt (its uuid): poll its result from `delay_s` on."""
    await conn.execute(text(
        "UPDATE cloud_fiscal_requests SET status = 'wait', provider_uuid = coalesce(provider_uuid, :u), error = '', "
        "next_try_at = now() + make_interval(secs => :d), updated_at = now() WHERE id = :id AND status IN ('new', 'wait')"),
        {"id": request_id, "u": provider_uuid, "d": delay_s})


async def set_retry(conn: AsyncConnection, request_id: UUID, error: str, delay_s: int) -> None:
    """No answer (or the settings must be fixed first): the same request again in `delay_s`."""
    await conn.execute(text(
        "UPDATE cloud_fiscal_requests SET error = :e, next_try_at = now() + make_interval(secs => :d), "
        "updated_at = now() WHERE id = :id AND status IN ('new', 'wait')"),
        {"id": request_id, "e": error[:2000], "d": delay_s})


async def set_failed(conn: AsyncConnection, request_id: UUID, error: str) -> None:
    """The service refused the receipt or the register could not register it."""
    await conn.execute(text(
        "UPDATE cloud_fiscal_requests SET status = 'fail', error = :e, updated_at = now() "
        "WHERE id = :id AND status IN ('new', 'wait')"), {"id": request_id, "e": error[:2000]})


async def set_done(conn: AsyncConnection, request_id: UUID, *, fn_number: str, fd_number: int, fiscal_sign: int,
                   fiscal_at: Any, fiscal: dict[str, Any], note: str = "") -> bool:
    """The receipt is registered: the request is done and the payment gets its fiscal proof (`payment_fiscal`,
    source 'cloud'); a second call changes nothing. True when this call recorded it."""
    row = (await conn.execute(text(
        "UPDATE cloud_fiscal_requests SET status = 'done', fiscal = CAST(:f AS jsonb), error = :note, "
        "done_at = now(), updated_at = now() WHERE id = :id AND status IN ('new', 'wait') "
        "RETURNING payment_id, operation, amount"),
        {"id": request_id, "f": json.dumps(fiscal, ensure_ascii=False, default=str), "note": note[:2000]})).first()
    if row is None:
        return False
    await conn.execute(text(
        "INSERT INTO payment_fiscal(payment_id, operation, source, fn_number, fd_number, fiscal_sign, fiscal_at, "
        "amount) VALUES (:p, :op, 'cloud', :fn, :fd, :fs, :at, :a) ON CONFLICT (payment_id, operation) DO NOTHING"),
        {"p": row.payment_id, "op": row.operation, "fn": fn_number, "fd": fd_number, "fs": fiscal_sign,
         "at": fiscal_at, "a": row.amount})
    return True


async def retry_failed(conn: AsyncConnection, request_id: UUID) -> UUID:
    """Staff: send a failed request again (after the settings or the data were fixed). The service refused or
    failed the old external_id for good, so the request gets a new one; returns it."""
    row = (await conn.execute(text("SELECT status FROM cloud_fiscal_requests WHERE id = :id FOR UPDATE"),
                              {"id": request_id})).first()
    if row is None:
        raise NotFound("Запрос на фискализацию не найден")
    if row.status != "fail":
        raise Conflict("Повторить можно только запрос с ошибкой")
    if not (await conn.execute(text("SELECT receipt <> '{}'::jsonb FROM cloud_fiscal_requests WHERE id = :id"),
                               {"id": request_id})).scalar():
        raise Conflict("У запроса нет данных чека: повторить его нельзя, пробейте чек вручную")
    new_id = uuid4()
    await conn.execute(text(
        "UPDATE cloud_fiscal_requests SET id = :new, status = 'new', provider_uuid = NULL, group_code = NULL, "
        "attempts = 0, error = '', next_try_at = now(), updated_at = now() WHERE id = :id"),
        {"id": request_id, "new": new_id})
    return new_id


# ---- reading ------------------------------------------------------------------------------------------------------

REQUEST_COLUMNS = (
    "r.id, r.payment_id, r.online_payment_id, r.operation, r.status, r.group_code, r.provider_uuid, r.amount, "
    "r.error, r.attempts, r.next_try_at, r.fiscal, r.created_at, r.updated_at, r.done_at, a.number AS account_number, "
    "f.fn_number, f.fd_number, f.fiscal_sign, f.fiscal_at")


async def list_requests(conn: AsyncConnection, *, status: str = "", limit: int = 50,
                        offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Requests, newest first (with the account and the fiscal proof), and how many there are."""
    where, params = ("WHERE r.status = :s", {"s": status}) if status in STATUS_TEXT else ("", {})
    rows = await conn.execute(text(
        f"SELECT {REQUEST_COLUMNS} FROM cloud_fiscal_requests r JOIN payments p ON p.id = r.payment_id "
        f"LEFT JOIN accounts a ON a.id = p.account_id "
        f"LEFT JOIN payment_fiscal f ON f.payment_id = r.payment_id AND f.operation = r.operation "
        f"{where} ORDER BY r.created_at DESC, r.id LIMIT :l OFFSET :o"), {**params, "l": limit, "o": offset})
    total = (await conn.execute(text(f"SELECT count(*) FROM cloud_fiscal_requests r {where}"), params)).scalar_one()
    return [request_view(dict(r._mapping)) for r in rows], int(total)


def request_view(r: dict[str, Any]) -> dict[str, Any]:
    """A request for pages and the API (ids and money as strings)."""
    fiscal = r.get("fiscal") or {}
    return {**r, "id": str(r["id"]), "online_payment_id": str(r["online_payment_id"]) if r.get("online_payment_id")
            else None, "amount": str(r["amount"]), "status_text": STATUS_TEXT.get(r["status"], r["status"]),
            "operation_text": OPERATION_TEXT.get(r["operation"], r["operation"]),
            "ofd_receipt_url": url if isinstance(url := fiscal.get("ofd_receipt_url"), str)
            and url.startswith(("https://", "http://")) else None}
