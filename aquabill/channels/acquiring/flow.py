"""The online payment flow: each step in its own tenant transaction, the acquirer called between them.

- `start_payment`: the attempt is committed first (its UUID the Idempotence-Key), then the acquirer creates
  the payment, then its id and confirmation URL are stored. An answer lost on the way (timeout, 500) is
  repeated with the same key by the client; if still unknown, the attempt stays 'new' and a later read-back
  (`refresh`) repeats the request with the same key (within the key's 24 hours).
- `handle_notification`: the sender's address must be in `settings.acquiring_networks` (the request's own
  client address: behind a proxy nothing else is trusted); only the event and the object id are taken from
  the body; the object is read back from the API and compared with our attempt (`online_payments.verify`)
  before anything is credited. Answers: 200 processed / duplicate / not ours; 403 foreign sender; 400 not a
  notification; 404 unknown tenant; 422 mismatch; 409 when it cannot be checked now (the acquirer redelivers
  for 24 hours). Never a 5xx.
- `refresh`: the return page (and staff) read an unfinished attempt back from the acquirer — also how a
  payment whose notification is late or lost gets credited.
- `refund` / `check`: staff refunds and their read-back.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from aquabill.base.errors import Conflict, DomainError, NotFound
from aquabill.channels.acquiring.yookassa import YooKassa, parse_notification
from aquabill.platform.jobs.cloud_fiscal import kick as kick_cloud_fiscal
from aquabill.platform.secret_box import SecretBox
from aquabill.platform.state import Core
from aquabill.subscribers import online_payments as op
from aquabill.subscribers import online_store
from aquabill.subscribers.acquirer import AcquirerRefused, AcquirerUnknown
from aquabill.tenants import registry
from aquabill.tenants.context import Tenant, tenant_transaction
from aquabill.tenants.naming import SLUG_RE

log = logging.getLogger(__name__)

RECHECK_SECONDS = 3.0  # the return page polls every 2 s: at most one read-back per attempt in this time
KEY_LIFETIME = timedelta(hours=23)  # an idempotence key is kept for 24 hours: repeat only within it
UNAVAILABLE = "Платёжный сервис не ответил. Попробуйте ещё раз через минуту"


def sender_allowed(address: str | None, networks: Sequence[str]) -> bool:
    """Whether the connecting address is in one of the acquirer's published networks."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for net in networks:
        try:
            if ip in ipaddress.ip_network(net, strict=False):
                return True
        except ValueError:
            continue
    return False


def _clock(core: Core) -> tuple[datetime, ZoneInfo]:
    zone = ZoneInfo(core.settings.timezone)
    return datetime.now(zone), zone


def acquirer(core: Core, config: op.AcquiringConfig) -> YooKassa:
    try:
        secret = SecretBox(core.settings.secret_key).open(config.secret)
    except ValueError as exc:
        raise Conflict(f"Ключ магазина не расшифровывается: сохраните его заново на странице «Онлайн-оплата» ({exc})") \
            from exc
    return YooKassa(core.settings.yookassa_api_url, config.shop_id, secret)


async def start_payment(core: Core, tenant: Tenant, *, account_id: int, amount: Decimal | None, contact: str,
                        channel: str, subscriber_id: int | None, return_base: str) -> dict[str, Any]:
    """A new attempt created at the acquirer: the attempt's view with its `confirmation_url`."""
    async with tenant_transaction(core.engines, tenant) as conn:
        attempt = await op.prepare_attempt(
            conn, account_id=account_id, amount=amount, contact=contact, channel=channel,
            subscriber_id=subscriber_id, return_url=lambda i: f"{return_base}/pay/return/{i}?t={tenant.slug}")
        config = await op.acquiring_config(conn)
    order = op.payment_order(attempt, tenant.slug, send_receipt=config.send_receipt)
    try:
        async with acquirer(core, config) as acq:
            payment = await acq.create_payment(order)
    except AcquirerRefused as exc:
        log.warning("tenant %s: the acquirer refused attempt %s: %s", tenant.slug, attempt["id"], exc.message)
        async with tenant_transaction(core.engines, tenant) as conn:
            await op.mark_failed(conn, attempt["id"], exc.message)
        raise Conflict(f"Онлайн-оплата сейчас недоступна: {exc.message}") from exc
    except AcquirerUnknown as exc:
        raise Conflict(UNAVAILABLE) from exc
    now, zone = _clock(core)
    async with tenant_transaction(core.engines, tenant) as conn:
        outcome = await op.record_outcome(conn, attempt["id"], payment, tenant_slug=tenant.slug, via="return",
                                          today=now.date(), zone=zone)
        attempt = await op.get_attempt(conn, attempt["id"])
    if outcome == "credited":
        await kick_cloud_fiscal(core, tenant)  # its receipt, when fiscalized in the cloud (#15)
    if attempt["status"] == "pending" and attempt["confirmation_url"]:
        return {**op.attempt_view(attempt), "confirmation_url": attempt["confirmation_url"]}
    if attempt["status"] == "succeeded":
        return {**op.attempt_view(attempt), "confirmation_url": attempt["return_url"]}
    raise Conflict(attempt["cancel_reason"] or attempt["problem"] or UNAVAILABLE)


# ---- notifications ---------------------------------------------------------------------------------------------

async def handle_notification(core: Core, tenant_slug: str, body: bytes, client: str | None) -> tuple[int, dict]:
    """(HTTP status, JSON body) of the answer to one notification (see the module's docstring)."""
    if not sender_allowed(client, core.settings.acquiring_networks):
        log.warning("acquiring notification for %s refused: sender %s is not the acquirer's", tenant_slug, client)
        return 403, _error("forbidden", "Уведомление принимается только с адресов ЮKassa")
    try:
        event, kind, object_id = parse_notification(body)
    except ValueError as exc:
        return 400, _error("bad_request", f"Уведомление не принято: {exc}")
    tenant = await _tenant(core, tenant_slug)
    if tenant is None:
        return 404, _error("not_found", "Организация не найдена")
    try:
        if kind == "payment":
            return await _payment_event(core, tenant, object_id)
        return await _refund_event(core, tenant, object_id)
    except (AcquirerUnknown, AcquirerRefused) as exc:
        log.warning("tenant %s: %s %s not checked: %s", tenant.slug, event, object_id, exc.message)
        return 409, _error("retry_later", f"Платёж не удалось проверить в ЮKassa: {exc.message}")
    except DomainError as exc:
        log.warning("tenant %s: %s %s not recorded: %s", tenant.slug, event, object_id, exc.message)
        return 409, _error(exc.code, exc.message)
    except Exception:  # never a 5xx to the acquirer: it redelivers anything but a 200 for 24 hours
        log.exception("tenant %s: %s %s failed", tenant.slug, event, object_id)
        return 409, _error("retry_later", "Уведомление не обработано, повторите позже")


def _error(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message, "fields": []}}


async def _tenant(core: Core, slug: str) -> Tenant | None:
    if not SLUG_RE.match(slug or ""):
        return None
    async with core.engines.control.connect() as conn:
        tenant = await registry.by_slug(conn, slug)
    return tenant if tenant is not None and tenant.status == "active" else None


async def _payment_event(core: Core, tenant: Tenant, payment_id: str) -> tuple[int, dict]:
    async with tenant_transaction(core.engines, tenant) as conn:
        config = await op.acquiring_config(conn, enabled_only=False)
    async with acquirer(core, config) as acq:
        payment = await acq.get_payment(payment_id)  # the notification's own object is never trusted
    now, zone = _clock(core)
    async with tenant_transaction(core.engines, tenant) as conn:
        attempt_id = await op.attempt_for(conn, payment)
        if attempt_id is None:
            return 200, {"status": "ignored"}  # not a payment of ours: nothing to redeliver
        await op.noted(conn, attempt_id)
        outcome = await op.record_outcome(conn, attempt_id, payment, tenant_slug=tenant.slug, via="notification",
                                          today=now.date(), zone=zone)
    if outcome == "credited":
        await kick_cloud_fiscal(core, tenant)
    if outcome == "mismatch":
        log.warning("tenant %s: payment %s does not match attempt %s", tenant.slug, payment.id, attempt_id)
        return 422, _error("mismatch", "Платёж не совпадает с попыткой оплаты: не зачислен")
    return 200, {"status": outcome}


async def _refund_event(core: Core, tenant: Tenant, refund_id: str) -> tuple[int, dict]:
    async with tenant_transaction(core.engines, tenant) as conn:
        config = await op.acquiring_config(conn, enabled_only=False)
    async with acquirer(core, config) as acq:
        refund = await acq.get_refund(refund_id)
    now, _ = _clock(core)
    async with tenant_transaction(core.engines, tenant) as conn:
        attempt_id = await online_store.attempt_id_by_provider(conn, refund.payment_id)
        row = await online_store.refund_to_match(conn, refund.id, attempt_id)
        if row is None:
            return 200, {"status": "ignored"}
        outcome = await op.record_refund(conn, row, refund, today=now.date())
    if outcome == "refunded":
        await kick_cloud_fiscal(core, tenant)
    return (422, _error("mismatch", "Возврат не совпадает с нашим")) if outcome == "mismatch" else \
        (200, {"status": outcome})


# ---- read-backs -------------------------------------------------------------------------------------------------

async def refresh(core: Core, tenant: Tenant, attempt_id: UUID, *, via: str = "return", user_id: int | None = None,
                  force: bool = False) -> dict[str, Any]:
    """The attempt, read back from the acquirer first when it is unfinished (at most once per
    RECHECK_SECONDS unless `force`): a payment that succeeded is credited here if no notification did."""
    async with tenant_transaction(core.engines, tenant, user_id) as conn:
        attempt = await op.get_attempt(conn, attempt_id)
        due = attempt["status"] in ("new", "pending") and (
            force or await online_store.claim_check(conn, attempt_id, RECHECK_SECONDS))
        config = await op.acquiring_config(conn, enabled_only=False) if due else None
    if config is None:
        return attempt
    now, zone = _clock(core)
    try:
        async with acquirer(core, config) as acq:
            if attempt["provider_payment_id"]:
                payment = await acq.get_payment(attempt["provider_payment_id"])
            elif now - attempt["created_at"] < KEY_LIFETIME:  # the creation's answer was lost: ask again, same key
                payment = await acq.create_payment(op.payment_order(attempt, tenant.slug,
                                                                    send_receipt=config.send_receipt))
            else:
                return attempt
    except AcquirerUnknown:
        return attempt
    except AcquirerRefused as exc:
        log.warning("tenant %s: attempt %s not read back: %s", tenant.slug, attempt_id, exc.message)
        return attempt
    async with tenant_transaction(core.engines, tenant, user_id) as conn:
        outcome = await op.record_outcome(conn, attempt_id, payment, tenant_slug=tenant.slug, via=via,
                                          today=now.date(), zone=zone, user_id=user_id)
        attempt = await op.get_attempt(conn, attempt_id)
    if outcome == "credited":
        await kick_cloud_fiscal(core, tenant)
    return attempt


async def payer_status(core: Core, tenant: Tenant, attempt_id: UUID) -> dict[str, Any]:
    """The return page's view of an attempt: read back when unfinished; once paid, the account's new balance
    (`due`: what is still to pay, `credit`: what is paid ahead)."""
    attempt = await refresh(core, tenant, attempt_id)
    view = op.attempt_view(attempt)
    if attempt["status"] == "succeeded":
        async with tenant_transaction(core.engines, tenant) as conn:
            due = await op.amount_due(conn, attempt["account_id"])
        view.update(due=due.total, credit=due.credit)
    return view


# ---- refunds ---------------------------------------------------------------------------------------------------

async def refund(core: Core, tenant: Tenant, attempt_id: UUID, *, amount: Decimal | None, reason: str,
                 user_id: int) -> dict[str, Any]:
    """A staff refund: the refund row first, then the acquirer, then the negative payment once confirmed."""
    async with tenant_transaction(core.engines, tenant, user_id) as conn:
        row = await op.begin_refund(conn, attempt_id, amount, reason, user_id=user_id)
    await _send_refund(core, tenant, row["id"], user_id=user_id, strict=True)
    return await attempt_with_refunds(core, tenant, attempt_id)


async def _send_refund(core: Core, tenant: Tenant, refund_id: UUID, *, user_id: int | None, strict: bool) -> None:
    """Ask the acquirer for the refund (its key: the row's id) or read it back; record what it answered."""
    async with tenant_transaction(core.engines, tenant, user_id) as conn:
        row = await online_store.get_refund(conn, refund_id)
        if row is None:
            raise NotFound("Возврат не найден")
        attempt = await op.get_attempt(conn, row["online_payment_id"])
        config = await op.acquiring_config(conn, enabled_only=False)
    now, _ = _clock(core)
    try:
        async with acquirer(core, config) as acq:
            if row["provider_refund_id"]:
                answer = await acq.get_refund(row["provider_refund_id"])
            elif now - row["created_at"] < KEY_LIFETIME:
                answer = await acq.create_refund(op.refund_order(row, attempt, send_receipt=config.send_receipt))
            else:
                raise Conflict("Возврат не подтверждён больше суток: проверьте его в личном кабинете ЮKassa")
    except AcquirerRefused as exc:
        if row["provider_refund_id"] is None:
            async with tenant_transaction(core.engines, tenant, user_id) as conn:
                await op.refund_refused(conn, refund_id, exc.message)
        raise Conflict(f"ЮKassa отклонила возврат: {exc.message}") from exc
    except AcquirerUnknown as exc:
        if strict:
            raise Conflict("ЮKassa не ответила: возврат ещё не подтверждён, нажмите «Проверить» через минуту") \
                from exc
        return
    async with tenant_transaction(core.engines, tenant, user_id) as conn:
        outcome = await op.record_refund(conn, refund_id, answer, today=now.date(), user_id=user_id)
        if outcome == "mismatch":
            raise Conflict("Ответ ЮKassa не совпадает с возвратом: проверьте его в личном кабинете ЮKassa")
    if outcome == "refunded":
        await kick_cloud_fiscal(core, tenant)


async def check(core: Core, tenant: Tenant, attempt_id: UUID, *, user_id: int) -> dict[str, Any]:
    """Staff: read the attempt and its unfinished refund back from the acquirer now."""
    await refresh(core, tenant, attempt_id, via="staff", user_id=user_id, force=True)
    async with tenant_transaction(core.engines, tenant, user_id) as conn:
        unfinished = await online_store.unfinished_refund(conn, attempt_id)
    if unfinished is not None:
        await _send_refund(core, tenant, unfinished["id"], user_id=user_id, strict=False)
    return await attempt_with_refunds(core, tenant, attempt_id)


async def attempt_with_refunds(core: Core, tenant: Tenant, attempt_id: UUID) -> dict[str, Any]:
    async with tenant_transaction(core.engines, tenant) as conn:
        attempt = await op.get_attempt(conn, attempt_id)
        return op.attempt_view(attempt, await online_store.refunds_of(conn, attempt_id))


async def check_connection(core: Core, shop_id: str, secret: str) -> tuple[bool, str]:
    """(works, message in Russian) for a shop id and secret key."""
    try:
        async with YooKassa(core.settings.yookassa_api_url, shop_id, secret, retries=0) as acq:
            await acq.check()
    except AcquirerRefused as exc:
        return False, f"Подключение не работает: {exc.message}"
    except AcquirerUnknown as exc:
        return False, f"ЮKassa недоступна: {exc.message}"
    return True, "Подключение работает: ЮKassa приняла shopId и секретный ключ"
