"""Staff users and roles of the caller's tenant."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import get, patch, post

from aquabill.base.errors import Conflict, Invalid, NotFound, found
from aquabill.platform.auth import users as repo
from aquabill.platform.auth.passwords import hash_password
from aquabill.platform.auth.permissions import ACTIONS, RESOURCES, requires
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.paging import Limit, Offset, Search, page

Login = Annotated[str, msgspec.Meta(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]


class UserIn(msgspec.Struct):
    login: Login
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    full_name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    email: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    roles: list[str] = msgspec.field(default_factory=list)


class UserPatch(msgspec.Struct):
    full_name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    email: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    is_active: bool | None = None
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)] | None = None
    roles: list[str] | None = None


class RoleIn(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(min_length=2, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    permissions: list[str] = msgspec.field(default_factory=list)


class RolePatch(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    permissions: list[str] | None = None


def _parse_permissions(items: list[str]) -> list[tuple[str, str]]:
    """`resource:action` strings, checked against the catalogue."""
    parsed, bad = [], []
    for item in items:
        resource, _, action = item.partition(":")
        if action not in ACTIONS or (resource != "*" and resource not in RESOURCES):
            bad.append(item)
        else:
            parsed.append((resource, action))
    if bad:
        raise Invalid("Неизвестные права: " + ", ".join(bad) + ". Формат: «раздел:действие», действия: "
                      + ", ".join(ACTIONS), fields=[{"field": "permissions", "message": "неизвестные права"}])
    return sorted(set(parsed))


def _role(row, permissions: list[str]) -> dict:
    return {"id": row.id, "code": row.code, "name": row.name, "permissions": permissions}


def _user(row, roles: list[str] | None = None) -> dict:
    d = {"id": row.id, "login": row.login, "full_name": row.full_name, "email": row.email,
         "is_active": row.is_active, "locked_until": row.locked_until, "last_login_at": row.last_login_at,
         "created_at": row.created_at}
    if roles is not None:
        d["roles"] = roles
    return d


def _password(pw: str) -> str:
    try:
        return hash_password(pw)
    except ValueError as exc:
        raise Invalid(str(exc), fields=[{"field": "password", "message": str(exc)}]) from exc


async def _check_roles(ctx: Ctx, roles: list[str]) -> None:
    unknown = await repo.unknown_roles(ctx.conn, roles)
    if unknown:
        raise Invalid("Неизвестные роли: " + ", ".join(unknown), fields=[{"field": "roles", "message": "неизвестна"}])


@get("/api/users", dependencies=DEPS, guards=[requires("users", "view")], tags=["users"])
async def list_users(ctx: Ctx, q: Search = "", limit: Limit = 50, offset: Offset = 0) -> dict:
    rows, total = await repo.list_users(ctx.conn, search=q, limit=limit, offset=offset)
    return page([_user(r) for r in rows], total, limit, offset)


@get("/api/users/{user_id:int}", dependencies=DEPS, guards=[requires("users", "view")], tags=["users"])
async def get_user(ctx: Ctx, user_id: int) -> dict:
    row = found(await repo.get_user(ctx.conn, user_id), "Пользователь не найден")
    return _user(row, await repo.role_codes_of(ctx.conn, user_id))


@post("/api/users", dependencies=DEPS, guards=[requires("users", "admin")], tags=["users"])
async def create_user(ctx: Ctx, data: UserIn) -> dict:
    if await repo.by_login(ctx.conn, data.login):
        raise Conflict(f"Логин «{data.login}» уже занят", fields=[{"field": "login", "message": "занят"}])
    await _check_roles(ctx, data.roles)
    user_id = await repo.create_user(ctx.conn, login=data.login, full_name=data.full_name, email=data.email,
                                     password_hash=_password(data.password), role_codes=data.roles)
    return _user(await repo.get_user(ctx.conn, user_id), data.roles)


@patch("/api/users/{user_id:int}", dependencies=DEPS, guards=[requires("users", "admin")], tags=["users"])
async def update_user(ctx: Ctx, user_id: int, data: UserPatch) -> dict:
    if await repo.get_user(ctx.conn, user_id) is None:
        raise NotFound("Пользователь не найден")
    values = {k: getattr(data, k) for k in ("full_name", "email", "is_active") if getattr(data, k) is not None}
    if data.password is not None:
        values.update(password_hash=_password(data.password), failed_attempts=0, locked_until=None)
    await repo.update_user(ctx.conn, user_id, values)
    if data.roles is not None:
        await _check_roles(ctx, data.roles)
        await repo.set_roles(ctx.conn, user_id, data.roles)
    return _user(await repo.get_user(ctx.conn, user_id), await repo.role_codes_of(ctx.conn, user_id))


@get("/api/roles", dependencies=DEPS, guards=[requires("users", "view")], tags=["users"])
async def list_roles(ctx: Ctx) -> dict:
    rows = await repo.list_roles(ctx.conn)
    items = [{"id": r.id, "code": r.code, "name": r.name, "permissions": list(r.permissions)} for r in rows]
    return page(items, len(items), len(items), 0)


@get("/api/permissions", dependencies=DEPS, guards=[requires("users", "view")], tags=["users"])
async def permission_catalogue(ctx: Ctx) -> dict:
    return {"resources": [{"code": k, "name": v} for k, v in RESOURCES.items()], "actions": list(ACTIONS)}


@post("/api/roles", dependencies=DEPS, guards=[requires("users", "admin")], tags=["users"])
async def create_role(ctx: Ctx, data: RoleIn) -> dict:
    perms = _parse_permissions(data.permissions)
    if any(r.code == data.code for r in await repo.list_roles(ctx.conn)):
        raise Conflict(f"Роль «{data.code}» уже существует", fields=[{"field": "code", "message": "занят"}])
    role_id = await repo.create_role(ctx.conn, data.code, data.name)
    await repo.set_permissions(ctx.conn, role_id, perms)
    return _role(await repo.role_by_id(ctx.conn, role_id), [f"{r}:{a}" for r, a in perms])


@patch("/api/roles/{role_id:int}", dependencies=DEPS, guards=[requires("users", "admin")], tags=["users"])
async def update_role(ctx: Ctx, role_id: int, data: RolePatch) -> dict:
    found(await repo.role_by_id(ctx.conn, role_id), "Роль не найдена")
    if data.name is not None:
        await repo.update_role(ctx.conn, role_id, data.name)
    if data.permissions is not None:
        await repo.set_permissions(ctx.conn, role_id, _parse_permissions(data.permissions))
    updated = next(r for r in await repo.list_roles(ctx.conn) if r.id == role_id)
    return _role(updated, list(updated.permissions))


ROUTES = [list_users, get_user, create_user, update_user, list_roles, permission_catalogue, create_role,
          update_role]
