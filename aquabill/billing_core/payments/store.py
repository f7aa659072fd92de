"""SQL of incoming payments: agents, files as received, payments (one statement per file), the queue of
unidentified payments. Set-based: a file's payments go in with one INSERT … SELECT FROM unnest(…)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

AGENT_COLUMNS = ("code", "name", "kind", "inn", "contract", "commission_percent", "file_format", "file_layout",
                 "active")
PAYMENT_COLUMNS = (
    "p.id, p.agent_id, g.code AS agent_code, p.file_id, p.line_no, p.operation_id, p.source, p.paid_on, p.amount, "
    "p.commission, p.account_id, a.number AS account_number, p.account_text, p.period, p.service_id, p.payer, "
    "p.purpose, p.status, p.reason, p.storno_of, p.created_at, p.created_by")
FILE_COLUMNS = ("f.id, f.agent_id, g.code AS agent_code, f.file_name, f.checksum, f.format, f.status, f.lines, "
                "f.loaded, f.unidentified, f.failed, f.amount, f.created_at, f.created_by, f.rolled_back_at")


@dataclass(frozen=True, slots=True)
class PaymentLine:
    """One incoming payment as a file (or an operator) gives it; the account is still text."""

    line_no: int | None
    operation_id: str | None
    paid_on: date
    amount: Decimal
    account_text: str
    commission: Decimal = Decimal("0.00")
    period: date | None = None  # first day of the month the payer named
    payer: str = ""
    purpose: str = ""
    readings: tuple[tuple[str, Decimal], ...] = ()  # (meter serial, value) read on paid_on


@dataclass(frozen=True, slots=True)
class InsertedPayment:
    id: int
    line_no: int | None
    account_id: int | None
    status: str
    paid_on: date


def _row(r: Any) -> dict[str, Any]:
    return dict(r._mapping)


# ---- agents ----------------------------------------------------------------------------------------------

async def list_agents(conn: AsyncConnection) -> list[dict[str, Any]]:
    return [_row(r) for r in await conn.execute(text(
        f"SELECT id, {', '.join(AGENT_COLUMNS)} FROM payment_agents ORDER BY code"))]


async def get_agent(conn: AsyncConnection, *, agent_id: int | None = None, code: str | None = None
                    ) -> dict[str, Any] | None:
    cond, value = ("id = :v", agent_id) if agent_id is not None else ("code = :v", code)
    r = (await conn.execute(text(f"SELECT id, {', '.join(AGENT_COLUMNS)} FROM payment_agents WHERE {cond}"),
                            {"v": value})).first()
    return _row(r) if r else None


async def insert_agent(conn: AsyncConnection, values: dict[str, Any]) -> int:
    cols = [c for c in AGENT_COLUMNS if c in values]
    params = {c: json.dumps(values[c]) if c == "file_layout" else values[c] for c in cols}
    return (await conn.execute(text(
        f"INSERT INTO payment_agents({', '.join(cols)}) VALUES "
        f"({', '.join(f'CAST(:{c} AS jsonb)' if c == 'file_layout' else f':{c}' for c in cols)}) "
        "ON CONFLICT (code) DO NOTHING RETURNING id"), params)).scalar()


async def update_agent(conn: AsyncConnection, agent_id: int, values: dict[str, Any]) -> bool:
    cols = [c for c in AGENT_COLUMNS if c in values and c != "code"]
    if not cols:
        return (await get_agent(conn, agent_id=agent_id)) is not None
    params = {c: json.dumps(values[c]) if c == "file_layout" else values[c] for c in cols}
    sets = ", ".join(f"{c} = CAST(:{c} AS jsonb)" if c == "file_layout" else f"{c} = :{c}" for c in cols)
    return (await conn.execute(text(f"UPDATE payment_agents SET {sets} WHERE id = :id RETURNING id"),
                               {**params, "id": agent_id})).scalar() is not None


# ---- files -----------------------------------------------------------------------------------------------

async def file_by_checksum(conn: AsyncConnection, agent_id: int, checksum: str) -> dict[str, Any] | None:
    r = (await conn.execute(text(
        f"SELECT {FILE_COLUMNS} FROM payment_files f JOIN payment_agents g ON g.id = f.agent_id "
        "WHERE f.agent_id = :a AND f.checksum = :c FOR UPDATE OF f"), {"a": agent_id, "c": checksum})).first()
    return _row(r) if r else None


async def insert_file(conn: AsyncConnection, *, agent_id: int, file_name: str, content: bytes, checksum: str,
                      fmt: str, user_id: int | None) -> int | None:
    """The file as received; None when this agent's file with that checksum is already stored."""
    return (await conn.execute(text(
        "INSERT INTO payment_files(agent_id, file_name, content, checksum, format, created_by) "
        "VALUES (:a, :n, :c, :s, :f, :u) ON CONFLICT (agent_id, checksum) DO NOTHING RETURNING id"),
        {"a": agent_id, "n": file_name, "c": content, "s": checksum, "f": fmt, "u": user_id})).scalar()


async def reopen_file(conn: AsyncConnection, file_id: int) -> None:
    """A rolled-back file loaded again: its row is used again (the content is the same by checksum)."""
    await conn.execute(text("UPDATE payment_files SET status = 'loaded', rolled_back_at = NULL WHERE id = :f"),
                       {"f": file_id})


async def finish_file(conn: AsyncConnection, file_id: int, *, lines: int, loaded: int, unidentified: int,
                      failed: int, amount: Decimal, errors: list[dict[str, Any]]) -> None:
    await conn.execute(text(
        "UPDATE payment_files SET lines = :l, loaded = :ld, unidentified = :u, failed = :fl, amount = :am, "
        "errors = CAST(:e AS jsonb) WHERE id = :f"),
        {"f": file_id, "l": lines, "ld": loaded, "u": unidentified, "fl": failed, "am": amount,
         "e": json.dumps(errors, ensure_ascii=False)})


async def get_file(conn: AsyncConnection, file_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    r = (await conn.execute(text(
        f"SELECT {FILE_COLUMNS}, f.errors FROM payment_files f JOIN payment_agents g ON g.id = f.agent_id "
        f"WHERE f.id = :f{' FOR UPDATE OF f' if lock else ''}"), {"f": file_id})).first()
    return _row(r) if r else None


async def list_files(conn: AsyncConnection, *, agent_id: int | None, limit: int, offset: int
                     ) -> tuple[list[dict[str, Any]], int]:
    where, params = ("WHERE f.agent_id = :a", {"a": agent_id}) if agent_id is not None else ("", {})
    total = (await conn.execute(text(f"SELECT count(*) FROM payment_files f {where}"), params)).scalar_one()
    items = [_row(r) for r in await conn.execute(text(
        f"SELECT {FILE_COLUMNS} FROM payment_files f JOIN payment_agents g ON g.id = f.agent_id {where} "
        "ORDER BY f.id DESC LIMIT :lim OFFSET :off"), {**params, "lim": limit, "off": offset})]
    return items, total


async def file_closed_months(conn: AsyncConnection, file_id: int) -> list[date]:
    """Closed billing months holding live payments of the file (or payments transferred from them)."""
    return [r[0] for r in await conn.execute(text(
        "SELECT pr.period FROM periods pr WHERE pr.status = 'closed' AND pr.period IN ("
        "SELECT date_trunc('month', p.paid_on)::date FROM payments p "
        "WHERE p.status IN ('identified', 'unidentified') AND (p.file_id = :f OR p.storno_of IN "
        "(SELECT id FROM payments WHERE file_id = :f))) ORDER BY 1 FOR SHARE"), {"f": file_id})]


async def roll_back_file(conn: AsyncConnection, file_id: int, note: str) -> list[int]:
    """Every live payment of the file (and the ones transferred from them) → rolled_back, allocations
    removed; returns the accounts touched."""
    rows = (await conn.execute(text(
        "UPDATE payments SET status = 'rolled_back', reason = :n WHERE status IN ('identified', 'unidentified') "
        "AND (file_id = :f OR storno_of IN (SELECT id FROM payments WHERE file_id = :f)) "
        "RETURNING id, account_id"), {"f": file_id, "n": note})).all()
    await delete_allocations(conn, [r.id for r in rows])
    await conn.execute(text(
        "UPDATE payment_files SET status = 'rolled_back', rolled_back_at = now() WHERE id = :f"), {"f": file_id})
    return sorted({r.account_id for r in rows if r.account_id is not None})


# ---- payments --------------------------------------------------------------------------------------------

async def insert_payments(conn: AsyncConnection, lines: Sequence[PaymentLine], *, agent_id: int,
                          file_id: int | None, source: str, user_id: int | None, service_id: int | None = None,
                          note: str = "") -> list[InsertedPayment]:
    """One INSERT for all lines: accounts found by exact number (open → identified; unknown or closed →
    unidentified with the reason); an operation id the agent already has adds nothing (not returned)."""
    if not lines:
        return []
    rows = (await conn.execute(text(
        "INSERT INTO payments(agent_id, file_id, line_no, operation_id, source, paid_on, amount, commission, "
        "account_id, account_text, period, service_id, payer, purpose, status, reason, created_by) "
        "SELECT :agent, :file, l.line_no, l.op, :source, l.paid_on, l.amount, l.commission, "
        "CASE WHEN a.status = 'open' THEN a.id END, l.acc, l.period, :service, l.payer, l.purpose, "
        "CASE WHEN a.status = 'open' THEN 'identified' ELSE 'unidentified' END, "
        "CASE WHEN l.acc = '' THEN 'Лицевой счёт не указан' "
        "WHEN a.id IS NULL THEN 'Лицевой счёт ' || l.acc || ' не найден' "
        "WHEN a.status <> 'open' THEN 'Лицевой счёт ' || l.acc || ' закрыт' "
        "|| coalesce(' ' || to_char(a.closed_on, 'DD.MM.YYYY'), '') ELSE :note END, :user "
        "FROM unnest(CAST(:line_no AS int[]), CAST(:op AS text[]), CAST(:paid_on AS date[]), "
        "CAST(:amount AS numeric[]), CAST(:commission AS numeric[]), CAST(:acc AS text[]), "
        "CAST(:period AS date[]), CAST(:payer AS text[]), CAST(:purpose AS text[])) "
        "AS l(line_no, op, paid_on, amount, commission, acc, period, payer, purpose) "
        "LEFT JOIN accounts a ON a.number = l.acc "
        "ON CONFLICT (agent_id, operation_id) WHERE operation_id IS NOT NULL AND status <> 'rolled_back' "
        "DO NOTHING RETURNING id, line_no, account_id, status, paid_on"),
        {"agent": agent_id, "file": file_id, "source": source, "user": user_id, "service": service_id,
         "note": note,
         "line_no": [x.line_no for x in lines], "op": [x.operation_id for x in lines],
         "paid_on": [x.paid_on for x in lines], "amount": [x.amount for x in lines],
         "commission": [x.commission for x in lines], "acc": [x.account_text.strip() for x in lines],
         "period": [x.period for x in lines], "payer": [x.payer for x in lines],
         "purpose": [x.purpose for x in lines]})).all()
    return [InsertedPayment(r.id, r.line_no, r.account_id, r.status, r.paid_on) for r in rows]


async def insert_one(conn: AsyncConnection, *, agent_id: int, source: str, paid_on: date, amount: Decimal,
                     account_id: int | None, account_text: str, period: date | None, service_id: int | None,
                     payer: str, purpose: str, status: str, reason: str, storno_of: int | None,
                     user_id: int | None) -> int:
    return (await conn.execute(text(
        "INSERT INTO payments(agent_id, source, paid_on, amount, account_id, account_text, period, service_id, "
        "payer, purpose, status, reason, storno_of, created_by) VALUES (:agent, :source, :paid_on, :amount, "
        ":account, :acc, :period, :service, :payer, :purpose, :status, :reason, :storno_of, :user) RETURNING id"),
        {"agent": agent_id, "source": source, "paid_on": paid_on, "amount": amount, "account": account_id,
         "acc": account_text, "period": period, "service": service_id, "payer": payer, "purpose": purpose,
         "status": status, "reason": reason, "storno_of": storno_of, "user": user_id})).scalar_one()


async def get_payment(conn: AsyncConnection, payment_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    r = (await conn.execute(text(
        f"SELECT {PAYMENT_COLUMNS} FROM payments p JOIN payment_agents g ON g.id = p.agent_id "
        f"LEFT JOIN accounts a ON a.id = p.account_id WHERE p.id = :p{' FOR UPDATE OF p' if lock else ''}"),
        {"p": payment_id})).first()
    return _row(r) if r else None


async def set_status(conn: AsyncConnection, payment_id: int, *, status: str, reason: str,
                     account_id: int | None = None, keep_account: bool = True) -> None:
    await conn.execute(text(
        "UPDATE payments SET status = :s, reason = :r, "
        "account_id = CASE WHEN :keep THEN account_id ELSE CAST(:a AS int) END WHERE id = :p"),
        {"s": status, "r": reason, "a": account_id, "keep": keep_account, "p": payment_id})


async def delete_allocations(conn: AsyncConnection, payment_ids: list[int]) -> None:
    if payment_ids:
        await conn.execute(text("DELETE FROM payment_allocations WHERE payment_id = ANY(CAST(:p AS bigint[]))"),
                           {"p": payment_ids})


async def account_by_id(conn: AsyncConnection, account_id: int) -> dict[str, Any] | None:
    r = (await conn.execute(text("SELECT id, number, status, closed_on FROM accounts WHERE id = :a"),
                            {"a": account_id})).first()
    return _row(r) if r else None


async def account_by_number(conn: AsyncConnection, number: str) -> dict[str, Any] | None:
    r = (await conn.execute(text("SELECT id, number, status, closed_on FROM accounts WHERE number = :n"),
                            {"n": number.strip()})).first()
    return _row(r) if r else None


async def list_payments(conn: AsyncConnection, *, status: str | None = None, account_id: int | None = None,
                        file_id: int | None = None, q: str = "", limit: int = 50, offset: int = 0
                        ) -> tuple[list[dict[str, Any]], int]:
    """Payments filtered; `q` searches the payer's text (account as written, payer, purpose, operation id),
    an amount (`1500` or `1 500,00`) or a date (`15.11.2026` / `2026-11-15`)."""
    conds, params = [], {}
    if status:
        conds.append("p.status = :status")
        params["status"] = status
    if account_id is not None:
        conds.append("p.account_id = :account")
        params["account"] = account_id
    if file_id is not None:
        conds.append("p.file_id = :file")
        params["file"] = file_id
    q = q.strip()
    if q:
        alts = ["p.account_text ILIKE :like", "p.payer ILIKE :like", "p.purpose ILIKE :like",
                "p.operation_id ILIKE :like"]
        params["like"] = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        amount = _as_amount(q)
        if amount is not None:
            alts.append("p.amount = :q_amount")
            params["q_amount"] = amount
        day = _as_date(q)
        if day is not None:
            alts.append("p.paid_on = :q_date")
            params["q_date"] = day
        conds.append("(" + " OR ".join(alts) + ")")
    where = ("WHERE " + " AND ".join(conds)) if conds else ""
    total = (await conn.execute(text(f"SELECT count(*) FROM payments p {where}"), params)).scalar_one()
    items = [_row(r) for r in await conn.execute(text(
        f"SELECT {PAYMENT_COLUMNS} FROM payments p JOIN payment_agents g ON g.id = p.agent_id "
        f"LEFT JOIN accounts a ON a.id = p.account_id {where} ORDER BY p.paid_on DESC, p.id DESC "
        "LIMIT :lim OFFSET :off"), {**params, "lim": limit, "off": offset})]
    return items, total


def _as_amount(q: str) -> Decimal | None:
    raw = q.replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        value = Decimal(raw)
    except ArithmeticError:
        return None
    return value if value.is_finite() and raw.replace(".", "", 1).isdigit() else None


def _as_date(q: str) -> date | None:
    for fmt in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(q, fmt).date()
        except ValueError:
            continue
    return None


async def meters_of_accounts(conn: AsyncConnection, account_ids: list[int], serials: list[str]) -> list[Any]:
    return (await conn.execute(text(
        "SELECT id, account_id, serial, installed_on, removed_on FROM meters "
        "WHERE account_id = ANY(CAST(:a AS int[])) AND serial = ANY(CAST(:s AS text[])) ORDER BY installed_on, id"),
        {"a": account_ids, "s": serials})).all()
