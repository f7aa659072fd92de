"""SQL of incoming payments: agents, files as received, payments (one statement per file), the queue of
unidentified payments. Set-based: a file's lines are staged in a temporary table (`payment_stage`, filled
by COPY by the caller or from arrays here), then identified and inserted with one INSERT … SELECT."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import column, table, text, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.run import tuning

AGENT_COLUMNS = ("code", "name", "kind", "inn", "contract", "commission_percent", "file_format", "file_layout",
                 "active")
_AGENTS = table("payment_agents", column("id"),
                *(column(c, JSONB if c == "file_layout" else None) for c in AGENT_COLUMNS))
PAYMENT_COLUMNS = (
    "p.id, p.agent_id, g.code AS agent_code, p.file_id, p.line_no, p.operation_id, p.source, p.paid_on, p.amount, "
    "p.commission, p.account_id, a.number AS account_number, p.account_text, p.period, p.service_id, p.payer, "
    "p.purpose, p.status, p.reason, p.storno_of, p.penalty, p.created_at, p.created_by")
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


async def insert_agent(conn: AsyncConnection, values: dict[str, Any]) -> int | None:
    """The new agent's id; None when an agent with that code already exists."""
    row = {c: values[c] for c in AGENT_COLUMNS if c in values}
    return (await conn.execute(insert(_AGENTS).values(row).on_conflict_do_nothing(index_elements=["code"])
                               .returning(_AGENTS.c.id))).scalar()


async def update_agent(conn: AsyncConnection, agent_id: int, values: dict[str, Any]) -> bool:
    """Change the given fields (the code stays); False when there is no such agent."""
    row = {c: values[c] for c in AGENT_COLUMNS if c in values and c != "code"}
    if not row:
        return (await get_agent(conn, agent_id=agent_id)) is not None
    return (await conn.execute(update(_AGENTS).where(_AGENTS.c.id == agent_id).values(row)
                               .returning(_AGENTS.c.id))).scalar() is not None


# ---- files -----------------------------------------------------------------------------------------------

async def file_by_checksum(conn: AsyncConnection, agent_id: int, checksum: str) -> dict[str, Any] | None:
    r = (await conn.execute(text(
        f"SELECT {FILE_COLUMNS} FROM payment_files f JOIN payment_agents g ON g.id = f.agent_id "
        "WHERE f.agent_id = :a AND f.checksum = :c FOR UPDATE OF f"), {"a": agent_id, "c": checksum})).first()
    return _row(r) if r else None


async def insert_file(conn: AsyncConnection, *, agent_id: int, file_name: str, content: bytes, checksum: str,
                      fmt: str, user_id: int | None) -> int | None:
    """The file as received; None when this agent's file with that checksum is already stored."""
    file_id = (await conn.execute(text(
        "INSERT INTO payment_files(agent_id, file_name, checksum, format, created_by) "
        "VALUES (:a, :n, :s, :f, :u) ON CONFLICT (agent_id, checksum) DO NOTHING RETURNING id"),
        {"a": agent_id, "n": file_name, "s": checksum, "f": fmt, "u": user_id})).scalar()
    if file_id is not None:
        await conn.execute(text("INSERT INTO payment_file_contents(file_id, content) VALUES (:f, :c)"),
                           {"f": file_id, "c": content})
    return file_id


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

# the staged lines of one file (temporary tables, dropped at commit): what `stage_lines` or a COPY fills
STAGE_TABLE = "payment_stage"
STAGE_COLUMNS = ("line_no", "operation_id", "paid_on", "amount", "commission", "account_text", "period", "payer",
                 "purpose")
STAGE_READINGS_TABLE = "payment_stage_readings"
STAGE_READINGS_COLUMNS = ("line_no", "ord", "serial", "value")


BULK_LINES = 10_000  # a file with more lines is loaded with `tune_for_bulk`


async def tune_for_bulk(conn: AsyncConnection) -> None:
    """For the rest of the transaction: sorts and hashes of a big file stay in memory, no JIT compiling
    (it costs more than it saves on these statements)."""
    await conn.execute(text(tuning.work_mem_sql()))
    await conn.execute(text("SET LOCAL jit = off"))


async def create_stage(conn: AsyncConnection) -> None:
    """Empty staging tables for one file's lines (and their readings), temporary, dropped at commit."""
    await conn.execute(text(
        "DROP TABLE IF EXISTS pg_temp.payment_stage, pg_temp.payment_stage_readings, pg_temp.payment_loaded"))
    await conn.execute(text(
        "CREATE TEMP TABLE payment_stage (line_no integer, operation_id text, paid_on date NOT NULL, "
        "amount numeric(14, 2) NOT NULL, commission numeric(14, 2) NOT NULL, account_text text NOT NULL, "
        "period date, payer text NOT NULL, purpose text NOT NULL) ON COMMIT DROP"))
    await conn.execute(text(
        "CREATE TEMP TABLE payment_stage_readings (line_no integer NOT NULL, ord integer NOT NULL, "
        "serial text NOT NULL, value numeric NOT NULL) ON COMMIT DROP"))
    await conn.execute(text(
        "CREATE TEMP TABLE payment_loaded (id bigint, line_no integer, account_id integer, status text, "
        "paid_on date, amount numeric(14, 2)) ON COMMIT DROP"))


async def stage_lines(conn: AsyncConnection, lines: Sequence[PaymentLine]) -> None:
    """Lines into the staging tables with one INSERT each (a bulk caller COPYs instead)."""
    if not lines:
        return
    await conn.execute(text(
        "INSERT INTO pg_temp.payment_stage SELECT * FROM unnest(CAST(:line_no AS int[]), CAST(:op AS text[]), "
        "CAST(:paid_on AS date[]), CAST(:amount AS numeric[]), CAST(:commission AS numeric[]), "
        "CAST(:acc AS text[]), CAST(:period AS date[]), CAST(:payer AS text[]), CAST(:purpose AS text[]))"),
        {"line_no": [x.line_no for x in lines], "op": [x.operation_id for x in lines],
         "paid_on": [x.paid_on for x in lines], "amount": [x.amount for x in lines],
         "commission": [x.commission for x in lines], "acc": [x.account_text.strip() for x in lines],
         "period": [x.period for x in lines], "payer": [x.payer for x in lines],
         "purpose": [x.purpose for x in lines]})
    readings = [(x.line_no, i, serial, value) for x in lines for i, (serial, value) in enumerate(x.readings)]
    if readings:
        await conn.execute(text(
            "INSERT INTO pg_temp.payment_stage_readings SELECT * FROM unnest(CAST(:l AS int[]), "
            "CAST(:o AS int[]), CAST(:s AS text[]), CAST(:v AS numeric[]))"),
            {"l": [r[0] for r in readings], "o": [r[1] for r in readings], "s": [r[2] for r in readings],
             "v": [r[3] for r in readings]})


async def insert_staged(conn: AsyncConnection, *, agent_id: int, file_id: int | None, source: str,
                        user_id: int | None, service_id: int | None = None, note: str = "") -> None:
    """One INSERT for all staged lines: accounts found by exact number (open → identified; unknown or closed
    → unidentified with the reason); an operation id the agent already has adds nothing. What was inserted
    goes to the temporary table `payment_loaded` (see `loaded_summary`, `duplicate_lines`)."""
    await conn.execute(text(
        "WITH ins AS (INSERT INTO payments(agent_id, file_id, line_no, operation_id, source, paid_on, amount, "
        "commission, account_id, account_text, period, service_id, payer, purpose, status, reason, created_by) "
        "SELECT :agent, :file, l.line_no, l.operation_id, :source, l.paid_on, l.amount, l.commission, "
        "CASE WHEN a.status = 'open' THEN a.id END, l.account_text, l.period, :service, l.payer, l.purpose, "
        "CASE WHEN a.status = 'open' THEN 'identified' ELSE 'unidentified' END, "
        "CASE WHEN l.account_text = '' THEN 'Лицевой счёт не указан' "
        "WHEN a.id IS NULL THEN 'Лицевой счёт ' || l.account_text || ' не найден' "
        "WHEN a.status <> 'open' THEN 'Лицевой счёт ' || l.account_text || ' закрыт' "
        "|| coalesce(' ' || to_char(a.closed_on, 'DD.MM.YYYY'), '') ELSE :note END, :user "
        "FROM pg_temp.payment_stage l LEFT JOIN accounts a ON a.number = l.account_text ORDER BY l.line_no "
        "ON CONFLICT (agent_id, operation_id) WHERE operation_id IS NOT NULL AND status <> 'rolled_back' "
        "DO NOTHING RETURNING id, line_no, account_id, status, paid_on, amount) "
        "INSERT INTO pg_temp.payment_loaded SELECT * FROM ins"),
        {"agent": agent_id, "file": file_id, "source": source, "user": user_id, "service": service_id,
         "note": note})


async def loaded_summary(conn: AsyncConnection) -> Any:
    """(loaded, unidentified, amount) of the lines `insert_staged` inserted."""
    return (await conn.execute(text(
        "SELECT count(*) AS loaded, count(*) FILTER (WHERE status = 'unidentified') AS unidentified, "
        "coalesce(sum(amount), 0) AS amount FROM pg_temp.payment_loaded"))).one()


async def duplicate_lines(conn: AsyncConnection) -> list[Any]:
    """(line_no, operation_id) of the staged lines not inserted: the agent already has their operation."""
    return (await conn.execute(text(
        "SELECT s.line_no, s.operation_id FROM pg_temp.payment_stage s WHERE NOT EXISTS ("
        "SELECT 1 FROM pg_temp.payment_loaded l WHERE l.line_no = s.line_no) "
        "ORDER BY s.line_no"))).all()


async def loaded_accounts(conn: AsyncConnection) -> list[int]:
    """The accounts of the identified payments `insert_staged` inserted."""
    return list((await conn.execute(text(
        "SELECT coalesce(array_agg(DISTINCT account_id), '{}') FROM pg_temp.payment_loaded "
        "WHERE status = 'identified' AND account_id IS NOT NULL"))).scalar_one())


async def loaded_readings(conn: AsyncConnection) -> list[Any]:
    """Readings staged with inserted payments of an account: (line_no, account_id, paid_on, serial, value)."""
    return (await conn.execute(text(
        "SELECT l.line_no, l.account_id, l.paid_on, r.serial, r.value FROM pg_temp.payment_stage_readings r "
        "JOIN pg_temp.payment_loaded l ON l.line_no = r.line_no WHERE l.account_id IS NOT NULL "
        "ORDER BY r.line_no, r.ord"))).all()


async def insert_one(conn: AsyncConnection, *, agent_id: int, source: str, paid_on: date, amount: Decimal,
                     account_id: int | None, account_text: str, period: date | None, service_id: int | None,
                     payer: str, purpose: str, status: str, reason: str, storno_of: int | None,
                     user_id: int | None, penalty: Decimal | None = None, operation_id: str | None = None) -> int:
    """`operation_id`: the agent's id of the operation (unique per agent, `payments_operation`)."""
    return (await conn.execute(text(
        "INSERT INTO payments(agent_id, source, paid_on, amount, account_id, account_text, period, service_id, "
        "payer, purpose, status, reason, storno_of, created_by, penalty, operation_id) VALUES (:agent, :source, "
        ":paid_on, :amount, :account, :acc, :period, :service, :payer, :purpose, :status, :reason, :storno_of, "
        ":user, :penalty, :operation) RETURNING id"),
        {"agent": agent_id, "source": source, "paid_on": paid_on, "amount": amount, "account": account_id,
         "acc": account_text, "period": period, "service": service_id, "payer": payer, "purpose": purpose,
         "status": status, "reason": reason, "storno_of": storno_of, "user": user_id,
         "penalty": penalty, "operation": operation_id})).scalar_one()


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
    """The payments' allocations removed: over accounts' charges, and over contracts' documents (#16, an
    organisation's payment; its contract is reallocated by `legal_entities.payments.allocation`)."""
    if payment_ids:
        await conn.execute(text("DELETE FROM payment_allocations WHERE payment_id = ANY(CAST(:p AS bigint[]))"),
                           {"p": payment_ids})
        await conn.execute(text("DELETE FROM contract_allocations WHERE payment_id = ANY(CAST(:p AS bigint[]))"),
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


async def has_fiscal_receipt(conn: AsyncConnection, payment_id: int) -> bool:
    """Whether the payment was taken with a fiscal receipt: printed (payment_fiscal, #15) or being printed at the
    cash desk (a cash receipt not failed or cancelled)."""
    return bool((await conn.execute(text("""
        SELECT EXISTS (SELECT 1 FROM payment_fiscal WHERE payment_id = :p AND operation = 'sale')
            OR EXISTS (SELECT 1 FROM cash_receipts WHERE payment_id = :p AND operation = 'sale'
                       AND status IN ('pending', 'printing', 'done'))"""), {"p": payment_id})).scalar())
