"""Seeders run inside a new tenant's provisioning transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.platform.auth import users as repo
from aquabill.platform.auth.passwords import hash_password
from aquabill.tenants.context import Tenant


def admin_seeder(login: str, password: str, full_name: str = "Администратор"):
    password_hash = hash_password(password)  # validate before the schema is created

    async def seed(conn: AsyncConnection, _tenant: Tenant) -> None:
        await repo.create_user(conn, login=login, full_name=full_name, email=None,
                               password_hash=password_hash, role_codes=["admin"])

    return seed
