"""Test support for the subscribers' doors: a subscriber with a portal session, made directly in the database
(the registration flow itself is tested in tests/integration/subscribers/test_identity*.py)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text

from aquabill.platform.auth.service import new_session
from aquabill.platform.state import Core
from aquabill.platform.web.portal.context import PORTAL_COOKIE
from aquabill.tenants.context import Tenant, tenant_transaction


@dataclass
class PortalUser:
    subscriber_id: int
    token: str
    tenant: Tenant

    @property
    def headers(self) -> dict[str, str]:
        """Bearer token plus the tenant's host (the portal serves the tenant named by the host)."""
        return {"Authorization": f"Bearer {self.token}", "Host": f"{self.tenant.slug}.localhost"}

    @property
    def cookies(self) -> dict[str, str]:
        return {PORTAL_COOKIE: self.token}


async def portal_user(core: Core, tenant: Tenant, *, account_ids: Sequence[int] = (), email: str | None = None,
                      full_name: str = "Абонент Тестовый") -> PortalUser:
    """A confirmed subscriber linked to `account_ids`, signed in (a session token of kind 'subscriber')."""
    email = email or f"s{secrets.token_hex(4)}@example.ru"
    async with tenant_transaction(core.engines, tenant) as conn:
        sid = (await conn.execute(text(
            "INSERT INTO subscribers(email, full_name, email_confirmed_at) VALUES (:e, :n, now()) RETURNING id"),
            {"e": email, "n": full_name})).scalar_one()
        for account_id in account_ids:
            await conn.execute(text("INSERT INTO subscriber_links(subscriber_id, account_id) VALUES (:s, :a)"),
                               {"s": sid, "a": account_id})
    token = await new_session(core, "subscriber", sid, tenant.id)
    return PortalUser(sid, token, tenant)
