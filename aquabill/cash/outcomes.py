"""The agent's results applied to the cash desk, inside the transaction that records the result (H3's gateway:
`commands.record_result` then `apply`, then the returned realtime events are published after commit).

- open_shift: ok → the shift open (the register's shift number, the opening document); failed → the shift
  'failed' with the Russian message (the point is free for a new shift).
- close_shift: ok → the shift closed (the Z report) and its automatic cash order (orders.shift_order);
  failed → the shift open again with the message.
- receipt: ok → the receipt done with FN, FD №, fiscal sign, time; a card sale's payment(s) made now, with the
  approval in `card`; a refund's sale payments stornoed; the payments' fiscal proof (payment_fiscal, source
  'register'); failed → the receipt failed with the message (a failure of an older command of a receipt since
  retried under a newer one changes nothing).
- x_report: a failure is shown on the shift (its `error`, cleared by the next X report printed); the desk is told.
- duplicate and the rest: nothing to keep.
Applying the same result twice changes nothing (each step looks at the current status first).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import DomainError
from aquabill.cash import fiscal, orders, receipts, refunds, sales, shifts

Event = tuple[str, dict[str, Any]]
ERROR_TEXT = {
    "card_declined": "Оплата картой отклонена",
    "no_register": "Касса не отвечает (нет связи с фискальным регистратором)",
    "shift_expired": "Смена на кассе длится больше 24 часов: закройте её (Z-отчёт) и откройте новую",
    "bad_command": "Касса не приняла команду",
    "register_error": "Ошибка кассы",
}


def error_text(error: dict[str, Any] | None) -> str:
    """The Russian message of an agent's error (its own message, prefixed by what the code means)."""
    error = error or {}
    code, message = str(error.get("code") or ""), str(error.get("message") or "").strip()
    head = ERROR_TEXT.get(code, "")
    if head and message and message != head:
        return f"{head}: {message}"[:1000]
    return (message or head or "Касса сообщила об ошибке")[:1000]


def moment(value: Any) -> datetime | None:
    """An ISO-8601 time from the agent (the register's local time with its offset; without one: UTC)."""
    if not value:
        return None
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _day(at: datetime | None, fallback: Any = None) -> date:
    """The day of settlement: the register's local date of the document (it prints it), else `fallback`."""
    if at is not None:
        return at.date()
    if fallback:
        return date.fromisoformat(str(fallback))
    return date.today()


async def _shift_of(conn: AsyncConnection, command: dict[str, Any]) -> dict[str, Any] | None:
    """The shift a shift command was for (its payload names it), locked."""
    shift_id = (command.get("payload") or {}).get("shift_id")
    if isinstance(shift_id, int):
        try:
            shift = await shifts.get_shift(conn, shift_id, lock=True)
        except DomainError:
            return None
        return shift if shift["agent_id"] == command["agent_id"] else None
    r = (await conn.execute(text(
        "SELECT id FROM cash_shifts WHERE agent_id = :a AND status IN ('opening', 'open', 'closing') "
        "ORDER BY id DESC LIMIT 1"), {"a": command["agent_id"]})).scalar()
    return await shifts.get_shift(conn, r, lock=True) if r is not None else None


def _shift_event(shift_id: int, status: str, **extra: Any) -> Event:
    return ("cash.shift", {"shift_id": shift_id, "status": status, **extra})


async def _open_shift(conn, command, ok, result, error) -> list[Event]:
    shift = await _shift_of(conn, command)
    if shift is None or shift["status"] != "opening":
        return []
    if ok:
        await conn.execute(text(
            "UPDATE cash_shifts SET status = 'open', shift_number = :n, opened_at = coalesce(:at, now()), "
            "opened_doc = CAST(:doc AS jsonb), error = NULL WHERE id = :id"),
            {"n": result.get("shift_number"), "at": moment(result.get("fiscal_at")),
             "doc": json.dumps(result, ensure_ascii=False), "id": shift["id"]})
        return [_shift_event(shift["id"], "open")]
    await conn.execute(text("UPDATE cash_shifts SET status = 'failed', error = :e WHERE id = :id"),
                       {"e": error_text(error), "id": shift["id"]})
    return [_shift_event(shift["id"], "failed", error=error_text(error))]


async def _close_shift(conn, command, ok, result, error) -> list[Event]:
    shift = await _shift_of(conn, command)
    if shift is None or shift["status"] != "closing":
        return []
    if not ok:
        await conn.execute(text("UPDATE cash_shifts SET status = 'open', error = :e WHERE id = :id"),
                           {"e": error_text(error), "id": shift["id"]})
        return [_shift_event(shift["id"], "open", error=error_text(error))]
    at = moment(result.get("fiscal_at"))
    await conn.execute(text(
        "UPDATE cash_shifts SET status = 'closed', closed_at = coalesce(:at, now()), closed_doc = CAST(:doc AS jsonb), "
        "shift_number = coalesce(shift_number, :n), error = NULL WHERE id = :id"),
        {"at": at, "doc": json.dumps(result, ensure_ascii=False), "n": result.get("shift_number"),
         "id": shift["id"]})
    closed = await shifts.get_shift(conn, shift["id"])
    order = await orders.shift_order(conn, closed, _day(at))
    return [_shift_event(shift["id"], "closed", order_id=order["id"] if order else None)]


async def _x_report(conn, command, ok, result, error) -> list[Event]:
    shift_id = (command.get("payload") or {}).get("shift_id")
    if not isinstance(shift_id, int):
        return []
    message = None if ok else error_text(error)
    await conn.execute(text("UPDATE cash_shifts SET error = CAST(:e AS text) WHERE id = :id AND status = 'open' "
                            "AND error IS DISTINCT FROM CAST(:e AS text)"), {"e": message, "id": shift_id})
    return [_shift_event(shift_id, "open", x_report=bool(ok), error=message)]


def _receipt_event(receipt: dict[str, Any], status: str) -> Event:
    return ("cash.receipt", {"receipt_id": receipt["id"], "shift_id": receipt["shift_id"], "status": status})


async def _receipt(conn, command, ok, result, error) -> list[Event]:
    key = (command.get("payload") or {}).get("key") or command.get("key")
    receipt = await receipts.receipt_by_key(conn, key, lock=True) if key else None
    if receipt is None or receipt["status"] == "done":
        return []
    if not ok:
        if receipt["status"] == "cancelled" or receipt["command_id"] not in (None, command["id"]):
            return []  # a receipt given up, or a failure of an older command of a receipt retried since
        message = error_text(error)
        if receipt["status"] == "failed" and receipt["error"] == message:
            return []
        await conn.execute(text("UPDATE cash_receipts SET status = 'failed', error = :e WHERE id = :id"),
                           {"e": message, "id": receipt["id"]})
        return [_receipt_event(receipt, "failed")]
    at = moment(result.get("fiscal_at")) or datetime.now(UTC)
    fn, fd, fp = str(result.get("fn_number") or ""), int(result["fd_number"]), int(result["fiscal_sign"])
    card = receipt["card"]
    if result.get("card"):
        card = {**(card or {}), **result["card"]}
    note = None
    payment_ids: list[int] = []
    if receipt["operation"] == "sale":
        if receipt["account_id"] is not None and receipt["cash_service_id"] is None and (
                receipt["tender"] == "card" or receipt["status"] == "cancelled"):
            # the money was taken only now (card), or a receipt cancelled meanwhile was printed after all: the
            # fiscal document stands, so the payments follow it
            try:
                async with conn.begin_nested():
                    payment_ids = await sales.make_payments(conn, receipt, paid_on=_day(at, (card or {}).get("day")),
                                                            user_id=receipt["created_by"])
            except DomainError as exc:
                note = f"Чек пробит, но платёж не создан: {exc.message}. Внесите платёж вручную"
        else:
            payment_ids = receipts.payment_ids(receipt)
        await fiscal.record(conn, payment_ids=payment_ids, operation="sale", cash_receipt_id=receipt["id"],
                            fn_number=fn, fd_number=fd, fiscal_sign=fp, fiscal_at=at)
    else:
        await refunds.refund_storno(conn, receipt)
        sale = await receipts.get_receipt(conn, receipt["refund_of"])
        await fiscal.record(conn, payment_ids=receipts.payment_ids(sale), operation="refund",
                            cash_receipt_id=receipt["id"], fn_number=fn, fd_number=fd, fiscal_sign=fp, fiscal_at=at)
    await conn.execute(text(
        "UPDATE cash_receipts SET status = 'done', fn_number = :fn, fd_number = :fd, fiscal_sign = :fp, "
        "fiscal_at = :at, card = CAST(:card AS jsonb), error = :note WHERE id = :id"),
        {"fn": fn[:16], "fd": fd, "fp": fp, "at": at, "note": note, "id": receipt["id"],
         "card": json.dumps(card, ensure_ascii=False) if card is not None else None})
    return [_receipt_event(receipt, "done")]


async def _nothing(conn, command, ok, result, error) -> list[Event]:
    return []


HANDLERS = {"open_shift": _open_shift, "close_shift": _close_shift, "x_report": _x_report, "receipt": _receipt}


async def apply(conn: AsyncConnection, command: dict[str, Any], *, ok: bool, result: dict[str, Any] | None,
                error: dict[str, Any] | None) -> list[Event]:
    """Apply one command's result (see the module's docstring); the realtime events to publish after commit."""
    handler = HANDLERS.get(command.get("kind", ""), _nothing)
    return await handler(conn, command, ok, result or {}, error or {})
