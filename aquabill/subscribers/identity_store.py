"""Subscribers and their one-time codes in the tenant schema (tables of t0020).

`subscribers` is audited (the password hash left out); `subscriber_codes` keeps only digests of the secrets
(`identity.secret_digest`). A new code of a purpose replaces the subscriber's earlier ones of that purpose.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.subscribers.identity import CODE_ATTEMPTS

COLUMNS = ("id, email, phone, full_name, password_hash, email_confirmed_at, phone_confirmed_at, paperless, "
           "preferred_channel, is_active, failed_logins, locked_until, created_at, created_via")


async def _one(conn: AsyncConnection, where: str, params: dict[str, Any]) -> dict[str, Any] | None:
    row = (await conn.execute(text(f"SELECT {COLUMNS} FROM subscribers WHERE {where}"), params)).first()
    return dict(row._mapping) if row else None


async def by_id(conn: AsyncConnection, subscriber_id: int) -> dict[str, Any] | None:
    return await _one(conn, "id = :v", {"v": subscriber_id})


async def by_login(conn: AsyncConnection, kind: str, value: str) -> dict[str, Any] | None:
    """The subscriber whose e-mail (kind 'email') or phone (kind 'phone') this is, or None."""
    assert kind in ("email", "phone")
    return await _one(conn, f"{kind} = :v", {"v": value})


def confirmed(subscriber: dict[str, Any], kind: str) -> bool:
    return subscriber[f"{kind}_confirmed_at"] is not None


async def create(conn: AsyncConnection, *, kind: str, value: str, full_name: str, password_hash: str,
                 via: str = "portal") -> int | None:
    """The new subscriber's id; None when that e-mail or phone was registered meanwhile (a concurrent request)."""
    assert kind in ("email", "phone")
    return (await conn.execute(text(
        f"INSERT INTO subscribers({kind}, full_name, password_hash, created_via) VALUES (:v, :n, :h, :via) "
        f"ON CONFLICT ({kind}) WHERE {kind} IS NOT NULL DO NOTHING RETURNING id"),
        {"v": value, "n": full_name, "h": password_hash, "via": via})).scalar()


async def mark_confirmed(conn: AsyncConnection, subscriber_id: int, kind: str) -> None:
    assert kind in ("email", "phone")
    await conn.execute(text(
        f"UPDATE subscribers SET {kind}_confirmed_at = coalesce({kind}_confirmed_at, now()) WHERE id = :id"),
        {"id": subscriber_id})


async def set_password(conn: AsyncConnection, subscriber_id: int, password_hash: str) -> None:
    await conn.execute(text(
        "UPDATE subscribers SET password_hash = :h, failed_logins = 0, locked_until = NULL WHERE id = :id"),
        {"id": subscriber_id, "h": password_hash})


async def record_failure(conn: AsyncConnection, subscriber_id: int, limit: int, minutes: int) -> datetime | None:
    """Count a failed login; lock the subscriber for `minutes` at the `limit`-th. Returns locked_until."""
    return (await conn.execute(text(
        "UPDATE subscribers SET failed_logins = failed_logins + 1, "
        "  locked_until = CASE WHEN failed_logins + 1 >= :limit THEN now() + make_interval(mins => :mins) "
        "    ELSE locked_until END "
        "WHERE id = :id RETURNING locked_until"), {"id": subscriber_id, "limit": limit, "mins": minutes})).scalar()


async def record_success(conn: AsyncConnection, subscriber_id: int) -> None:
    await conn.execute(text(
        "UPDATE subscribers SET failed_logins = 0, locked_until = NULL "
        "WHERE id = :id AND (failed_logins <> 0 OR locked_until IS NOT NULL)"), {"id": subscriber_id})


# ---- one-time codes ------------------------------------------------------------------------------------

async def issue_code(conn: AsyncConnection, subscriber_id: int, purpose: str, digest: bytes, ttl: timedelta) -> None:
    """Store a new secret of `purpose` for the subscriber; its earlier ones of that purpose stop working."""
    await conn.execute(text("DELETE FROM subscriber_codes WHERE subscriber_id = :s AND purpose = :p"),
                       {"s": subscriber_id, "p": purpose})
    await conn.execute(text(
        "INSERT INTO subscriber_codes(subscriber_id, purpose, code_hash, expires_at) "
        "VALUES (:s, :p, :h, now() + make_interval(secs => :ttl))"),
        {"s": subscriber_id, "p": purpose, "h": digest, "ttl": ttl.total_seconds()})


async def take_link(conn: AsyncConnection, purpose: str, digest: bytes) -> int | None:
    """Spend a link's secret: the subscriber it was issued to, or None (unknown, used or expired)."""
    return (await conn.execute(text(
        "UPDATE subscriber_codes SET used_at = now() "
        "WHERE code_hash = :h AND purpose = :p AND used_at IS NULL AND expires_at > now() "
        "RETURNING subscriber_id"), {"h": digest, "p": purpose})).scalar()


async def peek_link(conn: AsyncConnection, purpose: str, digest: bytes) -> int | None:
    """The subscriber a live link's secret belongs to, without spending it (the page before the button)."""
    return (await conn.execute(text(
        "SELECT subscriber_id FROM subscriber_codes "
        "WHERE code_hash = :h AND purpose = :p AND used_at IS NULL AND expires_at > now()"),
        {"h": digest, "p": purpose})).scalar()


async def take_code(conn: AsyncConnection, subscriber_id: int, purpose: str, digest: bytes) -> bool:
    """Check a phone code: True (and spent) when it is the subscriber's live code; a wrong one counts against
    it, and after `CODE_ATTEMPTS` wrong tries the code is dead."""
    row = (await conn.execute(text(
        "SELECT id, code_hash FROM subscriber_codes WHERE subscriber_id = :s AND purpose = :p "
        "AND used_at IS NULL AND expires_at > now() AND attempts < :max ORDER BY id DESC LIMIT 1 FOR UPDATE"),
        {"s": subscriber_id, "p": purpose, "max": CODE_ATTEMPTS})).first()
    if row is None:
        return False
    if hmac.compare_digest(bytes(row.code_hash), digest):
        await conn.execute(text("UPDATE subscriber_codes SET used_at = now() WHERE id = :id"), {"id": row.id})
        return True
    await conn.execute(text("UPDATE subscriber_codes SET attempts = attempts + 1 WHERE id = :id"), {"id": row.id})
    return False
