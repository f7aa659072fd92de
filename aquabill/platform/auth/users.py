"""Queries on tenant staff users, roles and permissions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.tables import roles, user_roles, users

USER_COLS = (users.c.id, users.c.login, users.c.full_name, users.c.email, users.c.is_active,
             users.c.locked_until, users.c.last_login_at, users.c.created_at)


async def by_login(conn: AsyncConnection, login: str):
    return (await conn.execute(select(users).where(func.lower(users.c.login) == login.strip().lower()))).first()


async def permissions_of(conn: AsyncConnection, user_id: int):
    """The active user with the set of (resource, action) its roles grant, or None."""
    row = (await conn.execute(text(
        "SELECT u.id, u.login, u.full_name, "
        "  coalesce(array_agg(p.resource || ':' || p.action) FILTER (WHERE p.id IS NOT NULL), '{}') AS perms "
        "FROM users u LEFT JOIN user_roles ur ON ur.user_id = u.id "
        "LEFT JOIN role_permissions p ON p.role_id = ur.role_id "
        "WHERE u.id = :id AND u.is_active GROUP BY u.id"
    ), {"id": user_id})).first()
    if row is None:
        return None
    perms = frozenset(tuple(p.split(":", 1)) for p in row.perms)
    return row.id, row.login, row.full_name, perms


async def record_failure(conn: AsyncConnection, user_id: int, attempts_limit: int, lock_minutes: int) -> datetime | None:
    row = (await conn.execute(text(
        "UPDATE users SET failed_attempts = failed_attempts + 1, "
        "  locked_until = CASE WHEN failed_attempts + 1 >= :limit "
        "    THEN now() + make_interval(mins => :mins) ELSE locked_until END "
        "WHERE id = :id RETURNING locked_until"
    ), {"id": user_id, "limit": attempts_limit, "mins": lock_minutes})).first()
    return row.locked_until if row else None


async def record_success(conn: AsyncConnection, user_id: int) -> None:
    await conn.execute(update(users).where(users.c.id == user_id).values(
        failed_attempts=0, locked_until=None, last_login_at=func.now()))


async def list_users(conn: AsyncConnection, *, search: str = "", limit: int = 50, offset: int = 0):
    q = select(*USER_COLS).order_by(users.c.login)
    cq = select(func.count()).select_from(users)
    if search:
        cond = or_(users.c.login.ilike(f"%{search}%"), users.c.full_name.ilike(f"%{search}%"))
        q, cq = q.where(cond), cq.where(cond)
    rows = (await conn.execute(q.limit(limit).offset(offset))).all()
    return rows, (await conn.execute(cq)).scalar_one()


async def get_user(conn: AsyncConnection, user_id: int):
    return (await conn.execute(select(*USER_COLS).where(users.c.id == user_id))).first()


async def role_codes_of(conn: AsyncConnection, user_id: int) -> list[str]:
    rows = await conn.execute(
        select(roles.c.code).join(user_roles, user_roles.c.role_id == roles.c.id)
        .where(user_roles.c.user_id == user_id).order_by(roles.c.code))
    return [r.code for r in rows]


async def create_user(conn: AsyncConnection, *, login: str, full_name: str, email: str | None,
                      password_hash: str, role_codes: list[str]) -> int:
    user_id = (await conn.execute(insert(users).values(
        login=login.strip(), full_name=full_name, email=email, password_hash=password_hash
    ).returning(users.c.id))).scalar_one()
    await set_roles(conn, user_id, role_codes)
    return user_id


async def set_roles(conn: AsyncConnection, user_id: int, role_codes: list[str]) -> None:
    await conn.execute(user_roles.delete().where(user_roles.c.user_id == user_id))
    if role_codes:
        await conn.execute(text(
            "INSERT INTO user_roles(user_id, role_id) SELECT :uid, id FROM roles WHERE code = ANY(:codes)"
        ), {"uid": user_id, "codes": role_codes})


async def unknown_roles(conn: AsyncConnection, role_codes: list[str]) -> list[str]:
    known = {r.code for r in await conn.execute(select(roles.c.code).where(roles.c.code.in_(role_codes)))}
    return [c for c in role_codes if c not in known]


async def update_user(conn: AsyncConnection, user_id: int, values: dict) -> None:
    if values:
        await conn.execute(update(users).where(users.c.id == user_id).values(**values))


async def list_roles(conn: AsyncConnection):
    rows = await conn.execute(text(
        "SELECT r.id, r.code, r.name, coalesce(array_agg(p.resource || ':' || p.action ORDER BY p.resource, p.action) "
        "  FILTER (WHERE p.id IS NOT NULL), '{}') AS permissions "
        "FROM roles r LEFT JOIN role_permissions p ON p.role_id = r.id GROUP BY r.id ORDER BY r.code"))
    return rows.all()


async def role_by_id(conn: AsyncConnection, role_id: int):
    return (await conn.execute(select(roles).where(roles.c.id == role_id))).first()


async def create_role(conn: AsyncConnection, code: str, name: str) -> int:
    return (await conn.execute(insert(roles).values(code=code, name=name).returning(roles.c.id))).scalar_one()


async def update_role(conn: AsyncConnection, role_id: int, name: str) -> None:
    await conn.execute(update(roles).where(roles.c.id == role_id).values(name=name))


async def set_permissions(conn: AsyncConnection, role_id: int, permissions: list[tuple[str, str]]) -> None:
    """Replace a role's permissions; only the differences are written (and audited)."""
    resources = [r for r, _ in permissions]
    actions = [a for _, a in permissions]
    await conn.execute(text(
        "DELETE FROM role_permissions p WHERE p.role_id = :rid AND (p.resource, p.action) NOT IN "
        "(SELECT * FROM unnest(CAST(:res AS text[]), CAST(:act AS text[])))"
    ), {"rid": role_id, "res": resources, "act": actions})
    await conn.execute(text(
        "INSERT INTO role_permissions(role_id, resource, action) "
        "SELECT :rid, r, a FROM unnest(CAST(:res AS text[]), CAST(:act AS text[])) AS v(r, a) "
        "ON CONFLICT (role_id, resource, action) DO NOTHING"
    ), {"rid": role_id, "res": resources, "act": actions})


async def active_users(conn: AsyncConnection) -> list[dict]:
    """Active staff for choosing an operator or executor: id and a display name, by name."""
    rows = await conn.execute(text(
        "SELECT id, coalesce(nullif(full_name, ''), login) AS name FROM users WHERE is_active ORDER BY 2"))
    return [dict(r._mapping) for r in rows]


async def count_active(conn: AsyncConnection) -> int:
    return (await conn.execute(text("SELECT count(*) FROM users WHERE is_active"))).scalar_one()
