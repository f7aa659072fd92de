"""Online payment's life cycle as rules and SQL on one connection (the caller owns the transactions; the
acquirer is called between them by `channels/acquiring/flow.py`).

1. `prepare_attempt` writes the attempt BEFORE the acquirer is called: amount (default: what is due), the
   receipt lines per service and the buyer's e-mail or phone (`payment_receipt`). The attempt's UUID is the
   Idempotence-Key and goes into the payment's metadata with the tenant and the account (`payment_order`).
2. `record_outcome` takes the acquirer's payment AS READ BACK from it (never a notification's body) and:
   locks the attempt; a credited attempt is a duplicate (nothing happens); the payment must match the attempt
   (`verify`: amount, currency, our metadata, the payment id) — a mismatch is not credited; a succeeded
   payment becomes a payment of agent 'yookassa' (source 'portal', operation id = the acquirer's payment id,
   unique per agent), allocated like any other, and the attempt says who/when credited it; a canceled one
   keeps its reason in Russian. So it is recorded exactly once whatever arrives and in whatever order:
   retried or duplicate notifications, concurrent ones, the return page reading it back.
3. Refunds (staff, partial allowed): `begin_refund` writes the refund row (its UUID the key) before the call;
   `record_refund` records a confirmed refund as a negative payment with `storno_of` = the refunded payment
   (the allocation takes a negative identified payment as a refund: a negative advance).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, tzinfo
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.billing_core.payments import intake
from aquabill.billing_core.payments import store as payments_store
from aquabill.billing_core.payments.balances import account_balance
from aquabill.billing_core.penalties.store import account_penalties
from aquabill.billing_core.periods_guard import closed_period, ensure_open
from aquabill.cash import cloud
from aquabill.subscribers import online_store as store
from aquabill.subscribers.acquirer import PaymentOrder, ProviderPayment, ProviderRefund, Receipt, RefundOrder
from aquabill.subscribers.links import require_linked
from aquabill.subscribers.payment_receipt import (
    CENT,
    DEFAULT_VAT,
    NEED_CONTACT,
    VAT_RATES,
    Due,
    DueLine,
    build_receipt,
    cancel_text,
    check_amount,
    mask_contact,
    parse_contact,
    receipt_items,
    refund_items,
)

AGENT_CODE = "yookassa"  # the payment agent of the acquirer's payments (t0024)
PROVIDERS = {"yookassa": "ЮKassa"}
CHANNELS = ("portal", "telegram", "max", "link")
STATUS_TEXT = {"new": "Создаётся", "pending": "Ожидает оплаты", "succeeded": "Оплачен", "canceled": "Отменён",
               "failed": "Не создан", "mismatch": "Расхождение, нужна проверка"}
REFUND_STATUS_TEXT = {"new": "Отправляется", "pending": "Ожидает подтверждения", "succeeded": "Возвращено",
                      "canceled": "Отклонён"}
NOT_CONNECTED = "Онлайн-оплата пока не подключена: оплатите по квитанции в банке или в кассе"
NOTHING_DUE = "Задолженности нет. Чтобы внести аванс, укажите сумму"


@dataclass(frozen=True, slots=True)
class AcquiringConfig:
    provider: str
    shop_id: str
    secret: str  # sealed: the adapter's caller opens it
    send_receipt: bool = True
    vat: str = DEFAULT_VAT
    vat_by_service: dict[str, str] = field(default_factory=dict)
    tax_system: int | None = None
    enabled: bool = False

    def vat_for(self, service_code: str) -> str:
        return self.vat_by_service.get(service_code, self.vat) if service_code else self.vat


async def acquiring_config(conn: AsyncConnection, *, enabled_only: bool = True) -> AcquiringConfig:
    """The tenant's acquirer; `Conflict` when it is not connected (or switched off, with `enabled_only`)."""
    row = await store.load_settings(conn)
    if row is None or not row["shop_id"] or not row["secret"] or (enabled_only and not row["enabled"]):
        raise Conflict(NOT_CONNECTED)
    return AcquiringConfig(row["provider"], row["shop_id"], row["secret"], row["send_receipt"], row["vat"],
                           dict(row["vat_by_service"] or {}), row["tax_system"], row["enabled"])


async def amount_due(conn: AsyncConnection, account_id: int) -> Due:
    """The account's debt by service in allocation order, its penalties and its advance."""
    balance = await account_balance(conn, account_id)
    penalties = await account_penalties(conn, account_id)
    lines = tuple(DueLine(x.service, x.service_name, x.debt) for x in balance.lines)
    return Due(lines, max(Decimal(penalties["balance"]), Decimal(0)), max(balance.advance, Decimal(0)))


async def pay_form(conn: AsyncConnection, account_id: int, *, subscriber_id: int | None) -> dict[str, Any]:
    """What the payment form shows: the account's number, what is due, the receipt contact on file and
    whether online payment is connected. A subscriber sees only an account linked to them."""
    account = await store.account_number(conn, account_id)
    if account is None:
        raise NotFound("Лицевой счёт не найден")
    email = phone = None
    if subscriber_id is not None:
        await require_linked(conn, subscriber_id, account_id)
        email, phone = await store.subscriber_contact(conn, subscriber_id)
    try:
        await acquiring_config(conn)
        connected = account["status"] == "open"
    except Conflict:
        connected = False
    due = await amount_due(conn, account_id)
    return {"account_id": account_id, "account_number": account["number"], "due": due.total,
            "credit": due.credit, "contact": email or phone or "", "connected": connected,
            "closed": account["status"] != "open"}


# ---- 1. the attempt ------------------------------------------------------------------------------------------

async def prepare_attempt(conn: AsyncConnection, *, account_id: int, amount: Decimal | None, contact: str,
                          channel: str, subscriber_id: int | None,
                          return_url: Callable[[UUID], str]) -> dict[str, Any]:
    """A new attempt (status 'new') to pay `amount` (default: what is due) to the account; `contact` is the
    receipt's e-mail or phone (default: the subscriber's). `return_url(attempt_id)` is where the payer comes
    back. A subscriber may pay only an account linked to them."""
    if channel not in CHANNELS:
        raise Invalid("Неизвестный канал оплаты", field="channel")
    config = await acquiring_config(conn)
    account = await store.account_number(conn, account_id)
    if account is None:
        raise NotFound("Лицевой счёт не найден")
    if subscriber_id is not None:
        await require_linked(conn, subscriber_id, account_id)
        await store.set_subscriber(conn, subscriber_id)
    if account["status"] != "open":
        raise Invalid(f"Лицевой счёт {account['number']} закрыт: онлайн-оплата не принимается", field="amount")
    due = await amount_due(conn, account_id)
    if amount is None:
        if due.total <= 0:
            raise Invalid(NOTHING_DUE, field="amount")
        amount = due.total
    amount = check_amount(amount)
    email, phone = await _contact(conn, contact, subscriber_id)
    receipt = build_receipt(receipt_items(due, amount, config.vat_for), email, phone, config.tax_system)
    attempt_id = uuid4()
    await store.insert_attempt(conn, {
        "id": attempt_id, "account_id": account_id, "subscriber_id": subscriber_id, "channel": channel,
        "amount": amount, "receipt": receipt.as_json(), "contact": email or phone, "provider": config.provider,
        "return_url": return_url(attempt_id)})
    return await _attempt(conn, attempt_id)


async def _contact(conn: AsyncConnection, typed: str, subscriber_id: int | None) -> tuple[str | None, str | None]:
    if typed.strip():
        return parse_contact(typed)
    if subscriber_id is not None:
        email, phone = await store.subscriber_contact(conn, subscriber_id)
        if email or phone:
            return email, (None if email else phone)
    raise Invalid(NEED_CONTACT, field="contact")


async def _attempt(conn: AsyncConnection, attempt_id: UUID, *, lock: bool = False) -> dict[str, Any]:
    found = await store.get_attempt(conn, attempt_id, lock=lock)
    if found is None:
        raise NotFound("Платёж не найден")
    return found


async def get_attempt(conn: AsyncConnection, attempt_id: UUID) -> dict[str, Any]:
    return await _attempt(conn, attempt_id)


def payment_order(attempt: dict[str, Any], tenant_slug: str, *, send_receipt: bool) -> PaymentOrder:
    """What the acquirer is asked for this attempt (the same every time: a retry repeats it exactly)."""
    number = attempt["account_number"]
    return PaymentOrder(
        key=str(attempt["id"]), amount=attempt["amount"],
        description=f"Оплата коммунальных услуг, лицевой счёт {number}"[:128],
        return_url=attempt["return_url"],
        metadata={"tenant": tenant_slug, "account": number, "attempt_id": str(attempt["id"])},
        receipt=Receipt.from_json(attempt["receipt"]) if send_receipt else None)


async def mark_failed(conn: AsyncConnection, attempt_id: UUID, reason: str) -> None:
    """The acquirer refused to create the payment: the attempt is over (a new one needs a new key)."""
    await store.update_attempt(conn, attempt_id, status="failed", cancel_reason=reason[:1000])


# ---- 2. the outcome ------------------------------------------------------------------------------------------

def verify(attempt: dict[str, Any], payment: ProviderPayment, tenant_slug: str) -> str | None:
    """Why the acquirer's payment is not this attempt's (in Russian), or None when it is."""
    problems = []
    if attempt["provider_payment_id"] not in (None, payment.id):
        problems.append(f"платёж {payment.id}, а у попытки {attempt['provider_payment_id']}")
    md = payment.metadata
    for key, ours in (("attempt_id", str(attempt["id"])), ("tenant", tenant_slug), ("account", attempt["account_number"])):
        if md.get(key) != ours:
            problems.append(f"в метаданных {key} = {md.get(key)!r}, ожидалось {ours!r}")
    if payment.currency != "RUB":
        problems.append(f"валюта {payment.currency}")
    if payment.amount != attempt["amount"]:
        problems.append(f"сумма {payment.amount} вместо {attempt['amount']}")
    return "; ".join(problems) or None


async def attempt_for(conn: AsyncConnection, payment: ProviderPayment) -> UUID | None:
    """Our attempt of the acquirer's payment (read back from it): by its id, else by its metadata."""
    found = await store.attempt_id_by_provider(conn, payment.id)
    if found is not None:
        return found
    try:
        candidate = UUID(payment.metadata.get("attempt_id", ""))
    except ValueError:
        return None
    return candidate if await store.get_attempt(conn, candidate) is not None else None


async def record_outcome(conn: AsyncConnection, attempt_id: UUID, payment: ProviderPayment, *, tenant_slug: str,
                         via: str, today: date, zone: tzinfo, user_id: int | None = None) -> str:
    """The acquirer's payment (as read back from it) applied to the attempt, exactly once. Returns
    'credited', 'duplicate', 'canceled', 'pending' or 'mismatch'."""
    a = await _attempt(conn, attempt_id, lock=True)
    if a["payment_id"] is not None:
        return "duplicate"
    problem = verify(a, payment, tenant_slug)
    if problem:
        if payment.status == "succeeded" and a["status"] in ("new", "pending"):
            await store.update_attempt(conn, attempt_id, status="mismatch", problem=problem[:1000])
        return "mismatch"
    if payment.status == "succeeded":
        await _credit(conn, a, payment, via=via, today=today, zone=zone, user_id=user_id)
        return "credited"
    if payment.status == "canceled":
        if a["status"] in ("new", "pending"):
            await store.update_attempt(conn, attempt_id, status="canceled", provider_payment_id=payment.id,
                                       cancel_party=payment.cancel_party[:32],
                                       cancel_reason=cancel_text(payment.cancel_party, payment.cancel_reason))
        return "canceled"
    if a["status"] == "new":
        await store.update_attempt(conn, attempt_id, status="pending", provider_payment_id=payment.id,
                                   confirmation_url=payment.confirmation_url)
    return "pending"


async def _credit(conn: AsyncConnection, a: dict[str, Any], payment: ProviderPayment, *, via: str, today: date,
                  zone: tzinfo, user_id: int | None) -> None:
    paid_on = payment.captured_at.astimezone(zone).date() if payment.captured_at else today
    if paid_on > today or await closed_period(conn, paid_on, account_id=a["account_id"]) is not None:
        paid_on = today  # paid in a month closed meanwhile: the money arrives in the open one
    await ensure_open(conn, paid_on, what=f"онлайн-платёж от {paid_on:%d.%m.%Y}", account_id=a["account_id"])
    agent = await payments_store.get_agent(conn, code=AGENT_CODE)
    if agent is None:
        raise Conflict(f"Платёжный агент «{AGENT_CODE}» не найден")
    payment_id = await payments_store.insert_one(
        conn, agent_id=agent["id"], source="portal", paid_on=paid_on, amount=a["amount"], account_id=a["account_id"],
        account_text=a["account_number"], period=None, service_id=None, payer=a["contact"],
        purpose=f"Онлайн-оплата {PROVIDERS.get(a['provider'], a['provider'])}, платёж {payment.id}",
        status="identified", reason="", storno_of=None, user_id=user_id, operation_id=payment.id)
    await intake.allocate(conn, [a["account_id"]])
    await store.update_attempt(conn, a["id"], status="succeeded", payment_id=payment_id,
                               provider_payment_id=payment.id, paid_at=payment.captured_at, credited_at="now()",
                               credited_via=via, credited_by=user_id, problem="")
    await cloud.request_sale(conn, payment_id=payment_id, online_payment_id=a["id"], receipt=a["receipt"],
                             amount=a["amount"])  # cloud fiscalization, when on (#15)


async def noted(conn: AsyncConnection, attempt_id: UUID) -> None:
    """A notification about the attempt came (whatever it said)."""
    await store.update_attempt(conn, attempt_id, notified_at="now()")


# ---- 3. refunds ----------------------------------------------------------------------------------------------

async def begin_refund(conn: AsyncConnection, attempt_id: UUID, amount: Decimal | None, reason: str, *,
                       user_id: int | None) -> dict[str, Any]:
    """A refund row (status 'new') for `amount` (default: all not yet refunded) of a credited attempt."""
    a = await _attempt(conn, attempt_id, lock=True)
    if a["status"] != "succeeded":
        raise Conflict("Вернуть можно только зачисленный онлайн-платёж")
    if await store.unfinished_refund(conn, attempt_id) is not None:
        raise Conflict("Предыдущий возврат по этому платежу ещё не подтверждён: нажмите «Проверить»")
    left = a["amount"] - a["refunded"]
    if left <= 0:
        raise Conflict("Платёж уже возвращён полностью")
    amount = left if amount is None else amount
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(CENT):
        raise Invalid("Сумма возврата: больше нуля, с точностью до копеек", field="amount")
    if amount > left:
        raise Invalid(f"Вернуть можно не больше {left:.2f} ₽".replace(".", ","), field="amount")
    refund_id = uuid4()
    await store.insert_refund(conn, {"id": refund_id, "online_payment_id": attempt_id, "amount": amount,
                                     "reason": reason.strip()[:500] or "Возврат по заявлению абонента",
                                     "created_by": user_id})
    refund = await store.get_refund(conn, refund_id)
    assert refund is not None
    return refund


def refund_order(refund: dict[str, Any], attempt: dict[str, Any], *, send_receipt: bool) -> RefundOrder:
    receipt = Receipt.from_json(attempt["receipt"])
    return RefundOrder(
        key=str(refund["id"]), payment_id=attempt["provider_payment_id"], amount=refund["amount"],
        description=f"Возврат по лицевому счёту {attempt['account_number']}: {refund['reason']}"[:250],
        receipt=Receipt(refund_items(receipt, refund["amount"]), receipt.email, receipt.phone, receipt.tax_system)
        if send_receipt else None)


async def record_refund(conn: AsyncConnection, refund_id: UUID, refund: ProviderRefund, *, today: date,
                        user_id: int | None = None) -> str:
    """The acquirer's refund (as it answered) applied once: 'refunded', 'duplicate', 'pending', 'canceled'
    or 'mismatch'."""
    r = await store.get_refund(conn, refund_id, lock=True)
    if r is None:
        raise NotFound("Возврат не найден")
    a = await _attempt(conn, r["online_payment_id"], lock=True)
    if r["status"] in ("succeeded", "canceled"):
        return "duplicate"
    if refund.payment_id != a["provider_payment_id"] or refund.amount != r["amount"] or refund.currency != "RUB":
        return "mismatch"
    if refund.status == "succeeded":
        await ensure_open(conn, today, what=f"возврат от {today:%d.%m.%Y}", account_id=a["account_id"])
        agent = await payments_store.get_agent(conn, code=AGENT_CODE)
        assert agent is not None
        payment_id = await payments_store.insert_one(
            conn, agent_id=agent["id"], source="portal", paid_on=today, amount=-r["amount"],
            account_id=a["account_id"], account_text=a["account_number"], period=None, service_id=None,
            payer=a["contact"], purpose=f"Возврат онлайн-оплаты, платёж {a['provider_payment_id']}",
            status="identified", reason=r["reason"], storno_of=a["payment_id"], user_id=user_id,
            operation_id=refund.id)
        await intake.allocate(conn, [a["account_id"]])
        await store.update_refund(conn, refund_id, status="succeeded", payment_id=payment_id,
                                  provider_refund_id=refund.id, recorded_at="now()")
        await store.update_attempt(conn, a["id"], refunded=a["refunded"] + r["amount"])
        await cloud.request_refund(conn, payment_id=payment_id, online_payment_id=a["id"], receipt=a["receipt"],
                                   paid=a["amount"], amount=r["amount"])  # cloud fiscalization, when on (#15)
        return "refunded"
    if refund.status == "canceled":
        await store.update_refund(conn, refund_id, status="canceled", provider_refund_id=refund.id,
                                  cancel_reason=cancel_text("", refund.cancel_reason))
        return "canceled"
    await store.update_refund(conn, refund_id, status="pending", provider_refund_id=refund.id)
    return "pending"


async def refund_refused(conn: AsyncConnection, refund_id: UUID, reason: str) -> None:
    await store.update_refund(conn, refund_id, status="canceled", cancel_reason=reason[:1000])


# ---- views ---------------------------------------------------------------------------------------------------

def attempt_view(a: dict[str, Any], refunds: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An attempt for pages and the API (the receipt's lines included, money as strings)."""
    receipt = a["receipt"] or {}
    view = {k: a[k] for k in ("id", "account_id", "account_number", "subscriber_id", "channel", "status", "provider",
                              "provider_payment_id", "cancel_reason", "problem", "payment_id", "created_at",
                              "paid_at", "credited_at", "credited_via", "credited_by", "notified_at", "contact")}
    view.update(id=str(a["id"]), amount=str(a["amount"]), refunded=str(a["refunded"]),
                contact_masked=mask_contact(a["contact"]),
                status_text=STATUS_TEXT.get(a["status"], a["status"]),
                refundable=str(a["amount"] - a["refunded"]) if a["status"] == "succeeded" else "0.00",
                receipt_lines=[{**i, "vat_text": VAT_RATES.get(i.get("vat", ""), i.get("vat", ""))}
                       for i in receipt.get("items", [])])
    if refunds is not None:
        view["refunds"] = [{**{k: r[k] for k in ("reason", "status", "provider_refund_id", "payment_id",
                                                 "cancel_reason", "created_at", "created_by", "recorded_at")},
                            "id": str(r["id"]), "amount": str(r["amount"]),
                            "status_text": REFUND_STATUS_TEXT.get(r["status"], r["status"])} for r in refunds]
    return view
