"""Payments in: a file's lines stored with one statement (identified by account number or queued as
unidentified), readings of the lines recorded, manual and cash payments, storno, transfer between accounts,
identification from the queue, rollback of a file. Never commits: the request or job boundary does.

After any change to an account's identified payments, the allocation hook
`aquabill.billing_core.payments.allocation.allocate_accounts(conn, account_ids)` redistributes them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from time import perf_counter
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound, PeriodClosed
from aquabill.billing_core.metering.readings import NewReading, record_readings
from aquabill.billing_core.payments import store
from aquabill.billing_core.payments.allocation import allocate_accounts
from aquabill.billing_core.payments.qr import QrError, parse_payment_string, payment_hint
from aquabill.billing_core.payments.store import PaymentLine
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import ensure_open

LIVE = ("identified", "unidentified")


async def allocate(conn: AsyncConnection, account_ids: Sequence[int]) -> None:
    """Redistribute the accounts' payments over their charges (the allocation module's job)."""
    ids = sorted({a for a in account_ids if a is not None})
    if not ids:
        return
    await allocate_accounts(conn, ids)


# ---- files -----------------------------------------------------------------------------------------------

@dataclass
class FileReport:
    file_id: int | None
    lines: int = 0
    loaded: int = 0
    unidentified: int = 0
    duplicates: int = 0
    failed: int = 0
    amount: Decimal = Decimal("0.00")
    duplicate_file: bool = False
    readings: dict[str, int] = field(default_factory=dict)  # outcome status → count
    errors: list[dict[str, Any]] = field(default_factory=list)  # {"line", "error"} or {"line", "warning"}
    notes: list[str] = field(default_factory=list)

    def as_dict(self, max_errors: int = 200) -> dict[str, Any]:
        return {"file_id": self.file_id, "lines": self.lines, "loaded": self.loaded,
                "unidentified": self.unidentified, "duplicates": self.duplicates, "failed": self.failed,
                "amount": self.amount, "duplicate_file": self.duplicate_file, "readings": self.readings,
                "errors": self.errors[:max_errors], "errors_total": len(self.errors), "notes": self.notes}


async def store_file(conn: AsyncConnection, *, agent_id: int, file_name: str, content: bytes, checksum: str,
                     fmt: str, user_id: int | None) -> tuple[int, dict[str, Any] | None]:
    """(file id, the earlier loaded file) — the file stored as received; the same file (checksum) already
    loaded gives its row back and must add nothing. A rolled-back file loaded again reuses its row."""
    file_id = await store.insert_file(conn, agent_id=agent_id, file_name=file_name, content=content,
                                      checksum=checksum, fmt=fmt, user_id=user_id)
    if file_id is not None:
        return file_id, None
    earlier = await store.file_by_checksum(conn, agent_id, checksum)
    assert earlier is not None
    if earlier["status"] == "rolled_back":
        await store.reopen_file(conn, earlier["id"])
        return earlier["id"], None
    return earlier["id"], earlier


async def load_lines(conn: AsyncConnection, report: FileReport, lines: Sequence[PaymentLine], *, agent_id: int,
                     source: str, user_id: int | None) -> None:
    """Insert the lines of a stored file (one statement), record their readings, allocate, fill the report."""
    await store.create_stage(conn)
    await store.stage_lines(conn, lines)
    await load_staged(conn, report, agent_id=agent_id, source=source, user_id=user_id)


async def load_staged(conn: AsyncConnection, report: FileReport, *, agent_id: int, source: str,
                      user_id: int | None, timings: dict[str, float] | None = None) -> None:
    """The lines staged in `payment_stage` (see `store.create_stage`) of a stored file: inserted (one
    statement), their readings recorded, the accounts allocated, the report filled. `timings` gets the
    seconds of each step (store, readings, allocate)."""
    clock = _Clock(timings)
    await store.insert_staged(conn, agent_id=agent_id, file_id=report.file_id, source=source, user_id=user_id)
    summary = await store.loaded_summary(conn)
    report.loaded, report.unidentified, report.amount = summary.loaded, summary.unidentified, summary.amount
    for line_no, operation_id in await store.duplicate_lines(conn):
        report.duplicates += 1
        report.errors.append({"line": line_no, "error": f"Операция {operation_id} уже загружена "
                                                        "(повтор): платёж не добавлен"})
    clock.lap("store")
    await _bank_readings(conn, report, await store.loaded_readings(conn), user_id)
    clock.lap("readings")
    await allocate(conn, await store.loaded_accounts(conn))
    clock.lap("allocate")
    report.errors.sort(key=lambda e: (e.get("line") or 0))


class _Clock:
    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings, self.last = timings, perf_counter()

    def lap(self, name: str) -> None:
        if self.timings is not None:
            now = perf_counter()
            self.timings[name] = self.timings.get(name, 0.0) + now - self.last
            self.last = now


async def _bank_readings(conn: AsyncConnection, report: FileReport, wanted: Sequence[Any],
                         user_id: int | None) -> None:
    """Readings written on identified lines, as source 'bank', by meter serial of the line's account:
    `wanted` rows are (line_no, account_id, paid_on, serial, value)."""
    if not wanted:
        return
    meters: dict[tuple[int, str], list[Any]] = {}
    for m in await store.meters_of_accounts(conn, sorted({w.account_id for w in wanted}),
                                            sorted({w.serial for w in wanted})):
        meters.setdefault((m.account_id, m.serial), []).append(m)
    items: list[NewReading] = []
    line_of: dict[tuple[int, date, Decimal], int | None] = {}
    for line_no, account_id, paid_on, serial, value in wanted:
        alive = [m for m in meters.get((account_id, serial), [])
                 if m.installed_on <= paid_on and (m.removed_on is None or m.removed_on >= paid_on)]
        if len(alive) != 1:
            report.errors.append({"line": line_no, "warning": (
                f"Показание счётчика {serial} не принято: у лицевого счёта нет такого счётчика на "
                f"{paid_on:%d.%m.%Y}" if not alive else f"Показание счётчика {serial} не принято: "
                "у лицевого счёта несколько счётчиков с этим номером")})
            report.readings["not_found"] = report.readings.get("not_found", 0) + 1
            continue
        items.append(NewReading(alive[0].id, paid_on, value))
        line_of[(alive[0].id, paid_on, value)] = line_no
    for o in await record_readings(conn, items, source="bank", user_id=user_id):
        report.readings[o.status] = report.readings.get(o.status, 0) + 1
        if o.status in ("rejected", "flagged"):
            kind = "warning"
            report.errors.append({"line": line_of.get((o.meter_id, o.read_on, o.value)), kind: (
                f"Показание {o.value} {'отклонено' if o.status == 'rejected' else 'принято с отметкой'}: {o.reason}")})


async def finish(conn: AsyncConnection, report: FileReport) -> None:
    assert report.file_id is not None
    await store.finish_file(conn, report.file_id, lines=report.lines, loaded=report.loaded,
                            unidentified=report.unidentified, failed=report.failed, amount=report.amount,
                            errors=report.errors)


async def roll_back_file(conn: AsyncConnection, file_id: int, *, note: str = "") -> dict[str, Any]:
    """The whole file undone while its payments' months are open: payments rolled_back (their allocations
    removed, accounts reallocated). Readings the file added stay (they are the meter's history now)."""
    f = await store.get_file(conn, file_id, lock=True)
    if f is None:
        raise NotFound("Файл платежей не найден")
    if f["status"] == "rolled_back":
        raise Conflict(f"Файл уже откатан {f['rolled_back_at']:%d.%m.%Y %H:%M}")
    closed = await store.file_closed_months(conn, file_id)
    if closed:
        months = ", ".join(str(Period.of(m)) for m in closed)
        raise PeriodClosed(f"Период {months} закрыт: откат файла с платежами этого периода не принимается. "
                                "Ошибочные платежи сторнируются по одному.")
    accounts = await store.roll_back_file(conn, file_id, note or f"Откат файла {file_id}")
    await allocate(conn, accounts)
    return {**(await store.get_file(conn, file_id) or {}), "accounts": len(accounts),
            "note": "Показания, загруженные из файла, сохранены"}


# ---- one payment -----------------------------------------------------------------------------------------

async def _open_account(conn: AsyncConnection, account_id: int, field_name: str = "account_id") -> dict[str, Any]:
    account = await store.account_by_id(conn, account_id)
    if account is None:
        raise NotFound("Лицевой счёт не найден", field=field_name)
    if account["status"] != "open":
        raise Invalid(f"Лицевой счёт {account['number']} закрыт", field=field_name)
    return account


async def _agent(conn: AsyncConnection, code: str) -> dict[str, Any]:
    agent = await store.get_agent(conn, code=code)
    if agent is None:
        raise NotFound(f"Платёжный агент «{code}» не найден", field="agent")
    if not agent["active"]:
        raise Invalid(f"Платёжный агент «{code}» отключён", field="agent")
    return agent


async def create_payment(conn: AsyncConnection, *, amount: Decimal | None, paid_on: date,
                         account_id: int | None = None, qr: str | None = None, agent: str | None = None,
                         period: Period | None = None, service_id: int | None = None, note: str = "",
                         user_id: int | None = None, penalty: Decimal | None = None) -> dict[str, Any]:
    """A manual or cash payment for `account_id` or for the account of a receipt's QR code (`PersAcc`; amount
    and period default to the QR's). A QR account not found puts the payment into the unidentified queue.
    `penalty`: the part the payer names for penalties (allocated to the penalty balance first)."""
    agent_row = await _agent(conn, agent or "manual")
    source = "cash" if agent_row["kind"] == "cash_desk" else "manual"
    payer, purpose, account_text = "", note, ""
    status, reason, account = "identified", note, None
    if qr:
        try:
            hint = payment_hint(parse_payment_string(qr))
        except QrError as exc:
            raise Invalid(str(exc), field="qr") from exc
        amount = amount if amount is not None else hint.amount
        period = period or hint.period
        payer, purpose = hint.payer_name, hint.purpose or note
        account_text = hint.account or ""
        if account_id is None:
            if not account_text:
                status, reason = "unidentified", "В QR-коде нет лицевого счёта (PersAcc)"
            else:
                found = await store.account_by_number(conn, account_text)
                if found is None:
                    status, reason = "unidentified", f"Лицевой счёт {account_text} не найден"
                elif found["status"] != "open":
                    status, reason = "unidentified", f"Лицевой счёт {account_text} закрыт"
                else:
                    account_id = found["id"]
    if account_id is not None:
        account = await _open_account(conn, account_id)
        account_text = account_text or account["number"]
        status = "identified"
    elif not qr:
        raise Invalid("Укажите лицевой счёт (account_id) или QR-код квитанции (qr)", field="account_id")
    if amount is None:
        raise Invalid("Не указана сумма платежа", field="amount")
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise Invalid("Сумма платежа должна быть больше нуля, с точностью до копеек", field="amount")
    if penalty is not None and (penalty < 0 or penalty > amount or penalty != penalty.quantize(Decimal("0.01"))):
        raise Invalid("Часть платежа на пени: от нуля до суммы платежа, с точностью до копеек", field="penalty")
    await ensure_open(conn, paid_on, what=f"платёж от {paid_on:%d.%m.%Y}", field="paid_on", account_id=account_id)
    payment_id = await store.insert_one(
        conn, agent_id=agent_row["id"], source=source, paid_on=paid_on, amount=amount, account_id=account_id,
        account_text=account_text, period=period.first_day if period else None, service_id=service_id,
        payer=payer, purpose=purpose, status=status, reason=reason if status == "unidentified" else note,
        storno_of=None, user_id=user_id, penalty=penalty or None)
    if status == "identified":
        await allocate(conn, [account_id])  # type: ignore[list-item]
    return await _get(conn, payment_id)


async def _get(conn: AsyncConnection, payment_id: int, *, lock: bool = False) -> dict[str, Any]:
    p = await store.get_payment(conn, payment_id, lock=lock)
    if p is None:
        raise NotFound("Платёж не найден")
    return p


async def get_payment(conn: AsyncConnection, payment_id: int) -> dict[str, Any]:
    return await _get(conn, payment_id)


async def storno_payment(conn: AsyncConnection, payment_id: int, *, note: str = "",
                         fiscal_refund: bool = False) -> dict[str, Any]:
    """The payment reversed: status storno (the row stays), its allocations removed, the account reallocated.
    A payment taken with a fiscal receipt (at the cash desk, or fiscalized in the cloud) goes back only with a
    refund receipt (54-FZ art. 1.2): only the cash desk's refund and cancel (`fiscal_refund`) may storno it."""
    p = await _get(conn, payment_id, lock=True)
    if p["status"] not in LIVE:
        raise Conflict(f"Платёж уже {'сторнирован' if p['status'] == 'storno' else 'откатан'}")
    if not fiscal_refund and await store.has_fiscal_receipt(conn, payment_id):
        raise Conflict("Платёж принят с кассовым чеком: вернуть его можно только чеком возврата — на рабочем месте "
                       "кассира («Возврат») или возвратом онлайн-оплаты")
    await store.set_status(conn, payment_id, status="storno", reason=note or "Сторно")
    await store.delete_allocations(conn, [payment_id])
    await allocate(conn, [p["account_id"]] if p["status"] == "identified" else [])
    return await _get(conn, payment_id)


async def transfer_payment(conn: AsyncConnection, payment_id: int, account_id: int, *, note: str = "",
                           user_id: int | None = None) -> dict[str, Any]:
    """Storno of the payment and the same money as a new payment (source 'transfer', `storno_of` = the
    original) on another account; both accounts reallocated."""
    p = await _get(conn, payment_id, lock=True)
    if p["status"] != "identified":
        raise Conflict("Перенести можно только опознанный платёж (неопознанный — привязать к счёту)")
    if p["account_id"] == account_id:
        raise Invalid("Платёж уже на этом лицевом счёте", field="account_id")
    target = await _open_account(conn, account_id)
    await store.set_status(conn, payment_id, status="storno",
                           reason=f"Перенесён на лицевой счёт {target['number']}" + (f": {note}" if note else ""))
    await store.delete_allocations(conn, [payment_id])
    new_id = await store.insert_one(
        conn, agent_id=p["agent_id"], source="transfer", paid_on=p["paid_on"], amount=p["amount"],
        account_id=account_id, account_text=target["number"], period=p["period"], service_id=p["service_id"],
        payer=p["payer"], purpose=p["purpose"], status="identified",
        reason=f"Перенесён с лицевого счёта {p['account_number']}" + (f": {note}" if note else ""),
        storno_of=payment_id, user_id=user_id)
    await allocate(conn, [p["account_id"], account_id])
    return {"storno": await _get(conn, payment_id), "payment": await _get(conn, new_id)}


async def identify_payment(conn: AsyncConnection, payment_id: int, account_id: int, *, note: str = "") -> dict[str, Any]:
    """An unidentified payment bound to an account by an operator, then allocated."""
    p = await _get(conn, payment_id, lock=True)
    if p["status"] != "unidentified":
        raise Conflict("Платёж не в очереди неопознанных")
    await _open_account(conn, account_id)
    await store.set_status(conn, payment_id, status="identified", reason=note, account_id=account_id,
                           keep_account=False)
    await allocate(conn, [account_id])
    return await _get(conn, payment_id)
