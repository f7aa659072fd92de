"""Login, logout and token resolution for staff users and platform admins."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import DomainError
from aquabill.platform.auth import users as users_repo
from aquabill.platform.auth.passwords import new_token, token_hash, verify_password
from aquabill.platform.auth.permissions import Principal
from aquabill.platform.state import Core
from aquabill.tenants import control, registry
from aquabill.tenants.context import Tenant, tenant_transaction

INVALID_CREDENTIALS = "Неверный логин или пароль"


class AuthError(DomainError):
    status_code = 401
    code = "invalid_credentials"


@dataclass(frozen=True, slots=True)
class Session:
    kind: str
    user_id: int
    tenant: Tenant | None


async def new_session(core: Core, kind: str, user_id: int, tenant_id: int | None) -> str:
    token = new_token()
    expires = datetime.now(UTC) + timedelta(minutes=core.settings.session_ttl_minutes)
    async with core.engines.control.begin() as conn:
        await conn.execute(insert(control.sessions).values(
            token_hash=token_hash(token), kind=kind, tenant_id=tenant_id, user_id=user_id, expires_at=expires))
        await conn.execute(delete(control.sessions).where(control.sessions.c.expires_at < text("now()")))
    return token


async def _verify(password_hash: str | None, password: str) -> bool:
    """argon2 takes about a quarter of a CPU second: off the event loop (argon2-cffi releases the GIL), so
    the process keeps serving, and shedding, other requests meanwhile."""
    return await asyncio.to_thread(verify_password, password_hash, password)


async def login_staff(core: Core, tenant_slug: str, login: str, password: str) -> tuple[str, Tenant]:
    """Check the password with lockout after repeated failures; returns a new session token."""
    async with core.engines.control.connect() as conn:
        tenant = await registry.by_slug(conn, (tenant_slug or "").strip().lower())
    if tenant is None or tenant.status != "active":
        await _verify(None, password)
        raise AuthError(INVALID_CREDENTIALS)
    s = core.settings
    failure: AuthError | None = None
    async with tenant_transaction(core.engines, tenant) as conn:
        user = await users_repo.by_login(conn, login)
        if user is not None and user.locked_until and user.locked_until > datetime.now(UTC):
            raise AuthError(
                f"Учётная запись временно заблокирована после {s.lockout_attempts} неудачных попыток входа. "
                f"Повторите после {user.locked_until.astimezone().strftime('%H:%M')}.", code="account_locked")
        ok = await _verify(user.password_hash if user else None, password)
        if user is None or not user.is_active:
            raise AuthError(INVALID_CREDENTIALS)
        if ok:
            await users_repo.record_success(conn, user.id)
        else:  # the failure is counted and committed; the error is raised after the commit
            locked = await users_repo.record_failure(conn, user.id, s.lockout_attempts, s.lockout_minutes)
            failure = AuthError(INVALID_CREDENTIALS)
            if locked and locked > datetime.now(UTC):
                failure = AuthError(
                    f"Учётная запись заблокирована на {s.lockout_minutes} мин. после "
                    f"{s.lockout_attempts} неудачных попыток входа.", code="account_locked")
    if failure is not None:
        raise failure
    return await new_session(core, "staff", user.id, tenant.id), tenant


async def login_platform(core: Core, login: str, password: str) -> str:
    async with core.engines.control.connect() as conn:
        row = (await conn.execute(select(control.platform_admins).where(
            control.platform_admins.c.login == login.strip()))).first()
    if not await _verify(row.password_hash if row else None, password) or row is None:
        raise AuthError(INVALID_CREDENTIALS)
    return await new_session(core, "platform", row.id, None)


async def logout(core: Core, token: str) -> None:
    async with core.engines.control.begin() as conn:
        await conn.execute(delete(control.sessions).where(control.sessions.c.token_hash == token_hash(token)))


async def resolve_session(conn: AsyncConnection, token: str) -> Session | None:
    row = (await conn.execute(text(
        "SELECT s.kind, s.user_id, t.id, t.slug, t.name, t.status, t.schema_name, t.db_key "
        "FROM control.sessions s LEFT JOIN control.tenants t ON t.id = s.tenant_id "
        "WHERE s.token_hash = :h AND s.expires_at > now()"
    ), {"h": token_hash(token)})).first()
    if row is None:
        return None
    if row.kind == "platform":
        return Session("platform", row.user_id, None)
    if row.id is None or row.status != "active":
        return None
    tenant = Tenant(row.id, row.slug, row.name, row.status, row.schema_name, row.db_key)
    return Session("subscriber" if row.kind == "subscriber" else "staff", row.user_id, tenant)


async def principal_for(core: Core, token: str) -> tuple[Principal, Tenant | None] | None:
    async with core.engines.control.connect() as conn:
        session = await resolve_session(conn, token)
    if session is None:
        return None
    if session.kind == "platform":
        return Principal(kind="platform", user_id=session.user_id, login=f"platform#{session.user_id}"), None
    tenant = session.tenant
    if session.kind == "subscriber":  # a portal session: no staff permission, no staff route (kind check)
        return Principal(kind="subscriber", user_id=session.user_id, login=f"subscriber#{session.user_id}",
                         tenant_id=tenant.id, tenant_slug=tenant.slug), tenant
    async with tenant_transaction(core.engines, tenant) as conn:
        found = await users_repo.permissions_of(conn, session.user_id)
    if found is None:
        return None
    user_id, login, full_name, perms = found
    return Principal(kind="staff", user_id=user_id, login=login, full_name=full_name, tenant_id=tenant.id,
                     tenant_slug=tenant.slug, permissions=perms), tenant
