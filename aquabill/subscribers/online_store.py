"""SQL of online payment: the tenant's acquiring settings, payment attempts (`online_payments`) and refunds
(`online_refunds`), see migration t0024. Never commits."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

SETTINGS_COLUMNS = ("provider", "shop_id", "secret", "secret_changed_at", "send_receipt", "vat", "vat_by_service",
                    "tax_system", "enabled", "updated_at")
ATTEMPT_COLUMNS = (
    "o.id, o.account_id, a.number AS account_number, o.subscriber_id, o.channel, o.amount, o.receipt, o.contact, "
    "o.status, o.provider, o.provider_payment_id, o.confirmation_url, o.return_url, o.cancel_party, "
    "o.cancel_reason, o.problem, o.payment_id, o.refunded, o.created_at, o.paid_at, o.credited_at, "
    "o.credited_via, o.credited_by, o.notified_at, o.checked_at")
REFUND_COLUMNS = ("id, online_payment_id, amount, reason, status, provider_refund_id, payment_id, cancel_reason, "
                  "created_at, created_by, recorded_at")


def _row(r: Any) -> dict[str, Any]:
    return dict(r._mapping)


# ---- settings ----------------------------------------------------------------------------------------------

async def load_settings(conn: AsyncConnection) -> dict[str, Any] | None:
    """The acquiring settings (the secret still sealed), or None when they were never saved."""
    r = (await conn.execute(text(f"SELECT {', '.join(SETTINGS_COLUMNS)} FROM acquiring_settings WHERE id = 1"))).first()
    return _row(r) if r else None


async def save_settings(conn: AsyncConnection, values: dict[str, Any]) -> None:
    """Insert or update the one row; `secret` only when given (a sealed token)."""
    cols = ["provider", "shop_id", "send_receipt", "vat", "vat_by_service", "tax_system", "enabled"]
    params = {c: values[c] for c in cols}
    params["vat_by_service"] = json.dumps(params["vat_by_service"])
    secret_set = "secret" in values
    if secret_set:
        params["secret"] = values["secret"]
    insert_cols = cols + (["secret", "secret_changed_at"] if secret_set else [])
    insert_vals = [f"CAST(:{c} AS jsonb)" if c == "vat_by_service" else f":{c}" for c in cols] + (
        [":secret", "now()"] if secret_set else [])
    updates = [f"{c} = excluded.{c}" for c in cols] + (
        ["secret = excluded.secret", "secret_changed_at = now()"] if secret_set else [])
    await conn.execute(text(
        f"INSERT INTO acquiring_settings(id, {', '.join(insert_cols)}, updated_at) "
        f"VALUES (1, {', '.join(insert_vals)}, now()) "
        f"ON CONFLICT (id) DO UPDATE SET {', '.join(updates)}, updated_at = now()"), params)


# ---- attempts ------------------------------------------------------------------------------------------------

async def insert_attempt(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(text(
        "INSERT INTO online_payments(id, account_id, subscriber_id, channel, amount, receipt, contact, status, "
        "provider, return_url) VALUES (:id, :account_id, :subscriber_id, :channel, :amount, CAST(:receipt AS jsonb), "
        ":contact, 'new', :provider, :return_url)"),
        {**values, "receipt": json.dumps(values["receipt"], ensure_ascii=False)})


async def get_attempt(conn: AsyncConnection, attempt_id: UUID, *, lock: bool = False) -> dict[str, Any] | None:
    r = (await conn.execute(text(
        f"SELECT {ATTEMPT_COLUMNS} FROM online_payments o JOIN accounts a ON a.id = o.account_id "
        f"WHERE o.id = :id{' FOR UPDATE OF o' if lock else ''}"), {"id": attempt_id})).first()
    return _row(r) if r else None


async def attempt_id_by_provider(conn: AsyncConnection, provider_payment_id: str) -> UUID | None:
    return (await conn.execute(text("SELECT id FROM online_payments WHERE provider_payment_id = :p"),
                               {"p": provider_payment_id})).scalar()


async def update_attempt(conn: AsyncConnection, attempt_id: UUID, **values: Any) -> None:
    """Set the given columns; a value "now()" is the statement's time."""
    sets = [f"{c} = now()" if v == "now()" else f"{c} = :{c}" for c, v in values.items()]
    await conn.execute(text(f"UPDATE online_payments SET {', '.join(sets)} WHERE id = :id"),
                       {"id": attempt_id, **{c: v for c, v in values.items() if v != "now()"}})


async def claim_check(conn: AsyncConnection, attempt_id: UUID, seconds: float) -> bool:
    """True (and `checked_at` set) when the attempt is still unfinished and was not read back from the acquirer
    within `seconds`: one re-read at a time, however many pages poll it."""
    return (await conn.execute(text(
        "UPDATE online_payments SET checked_at = now() WHERE id = :id AND status IN ('new', 'pending') "
        "AND (checked_at IS NULL OR checked_at < now() - make_interval(secs => :s)) RETURNING id"),
        {"id": attempt_id, "s": seconds})).first() is not None


async def list_attempts(conn: AsyncConnection, *, status: str = "", account_id: int | None = None,
                        limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    conds, params = [], {}
    if status:
        conds.append("o.status = :status")
        params["status"] = status
    if account_id is not None:
        conds.append("o.account_id = :account")
        params["account"] = account_id
    where = ("WHERE " + " AND ".join(conds)) if conds else ""
    total = (await conn.execute(text(f"SELECT count(*) FROM online_payments o {where}"), params)).scalar_one()
    rows = await conn.execute(text(
        f"SELECT {ATTEMPT_COLUMNS} FROM online_payments o JOIN accounts a ON a.id = o.account_id {where} "
        "ORDER BY o.created_at DESC, o.id LIMIT :lim OFFSET :off"), {**params, "lim": limit, "off": offset})
    return [_row(r) for r in rows], total


async def account_number(conn: AsyncConnection, account_id: int) -> dict[str, Any] | None:
    r = (await conn.execute(text("SELECT id, number, status FROM accounts WHERE id = :a"), {"a": account_id})).first()
    return _row(r) if r else None


async def subscriber_contact(conn: AsyncConnection, subscriber_id: int) -> tuple[str | None, str | None]:
    """The subscriber's e-mail and phone (either may be None)."""
    r = (await conn.execute(text("SELECT email, phone FROM subscribers WHERE id = :s"), {"s": subscriber_id})).first()
    return (r.email, r.phone) if r else (None, None)


async def set_subscriber(conn: AsyncConnection, subscriber_id: int) -> None:
    """Name the acting subscriber in the transaction for the audit triggers (as the portal's scope does)."""
    await conn.execute(text("SELECT set_config('aquabill.subscriber_id', :s, true)"), {"s": str(subscriber_id)})


# ---- refunds -------------------------------------------------------------------------------------------------

async def insert_refund(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(text(
        "INSERT INTO online_refunds(id, online_payment_id, amount, reason, status, created_by) "
        "VALUES (:id, :online_payment_id, :amount, :reason, 'new', :created_by)"), values)


async def get_refund(conn: AsyncConnection, refund_id: UUID, *, lock: bool = False) -> dict[str, Any] | None:
    r = (await conn.execute(text(
        f"SELECT {REFUND_COLUMNS} FROM online_refunds WHERE id = :id{' FOR UPDATE' if lock else ''}"),
        {"id": refund_id})).first()
    return _row(r) if r else None


async def refunds_of(conn: AsyncConnection, attempt_id: UUID) -> list[dict[str, Any]]:
    return [_row(r) for r in await conn.execute(text(
        f"SELECT {REFUND_COLUMNS} FROM online_refunds WHERE online_payment_id = :id ORDER BY created_at, id"),
        {"id": attempt_id})]


async def refund_to_match(conn: AsyncConnection, provider_refund_id: str, attempt_id: UUID | None) -> UUID | None:
    """The refund the acquirer's refund is: by its id, else the attempt's one unfinished refund."""
    found = (await conn.execute(text("SELECT id FROM online_refunds WHERE provider_refund_id = :p"),
                                {"p": provider_refund_id})).scalar()
    if found is not None or attempt_id is None:
        return found
    return (await conn.execute(text(
        "SELECT id FROM online_refunds WHERE online_payment_id = :a AND status IN ('new', 'pending') "
        "AND provider_refund_id IS NULL"), {"a": attempt_id})).scalar()


async def unfinished_refund(conn: AsyncConnection, attempt_id: UUID) -> dict[str, Any] | None:
    r = (await conn.execute(text(
        f"SELECT {REFUND_COLUMNS} FROM online_refunds WHERE online_payment_id = :a AND status IN ('new', 'pending')"),
        {"a": attempt_id})).first()
    return _row(r) if r else None


async def update_refund(conn: AsyncConnection, refund_id: UUID, **values: Any) -> None:
    sets = [f"{c} = now()" if v == "now()" else f"{c} = :{c}" for c, v in values.items()]
    await conn.execute(text(f"UPDATE online_refunds SET {', '.join(sets)} WHERE id = :id"),
                       {"id": refund_id, **{c: v for c, v in values.items() if v != "now()"}})
