"""Configuration of requests: executors with their territories and caps, routes with their phases (time
limit, reaction time, executor person or division, required documents). The service divisions themselves
are the organisation's (`billing_core.divisions`)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import column, insert, table, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, Invalid, NotFound
from aquabill.billing_core.divisions import check_code, check_name, require_division, require_user

KINDS = {"emergency": "Аварийная", "planned": "Плановая", "paid": "Платная"}
MAX_MINUTES = 60 * 24 * 365

_EXECUTOR_COLUMNS = ("user_id", "division_id", "cap", "active")
_PHASE_COLUMNS = ("route_id", "ordinal", "name", "time_limit_minutes", "working_time", "reaction_minutes",
                  "executor_user_id", "division_id", "required_documents")
_EXECUTORS = table("executors", column("id"), *(column(c) for c in _EXECUTOR_COLUMNS))
_ROUTES = table("request_routes", column("id"), column("name"), column("active"))
_DOCUMENTS = JSONB(none_as_null=True)  # required_documents: a list bound as jsonb (None stays NULL)
_PHASES = table("route_phases", column("id"),
                *(column(c, _DOCUMENTS if c == "required_documents" else None) for c in _PHASE_COLUMNS))


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(message, fields=[{"field": field, "message": message}])


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise _invalid("kind", "Вид заявки: emergency (аварийная), planned (плановая) или paid (платная)")
    return kind


# ---- executors ---------------------------------------------------------------------------------------

_EXE = """SELECT e.id, e.user_id, u.login, u.full_name, e.division_id, d.name AS division_name, e.cap, e.active,
       (SELECT count(*) FROM requests r WHERE r.assignee_user_id = e.user_id
         AND r.status IN ('assigned', 'in_work')) AS load,
       coalesce((SELECT array_agg(t.house_id ORDER BY t.house_id) FROM executor_territories t
                 WHERE t.executor_id = e.id AND t.house_id IS NOT NULL), '{}') AS house_ids,
       coalesce((SELECT array_agg(t.street_id ORDER BY t.street_id) FROM executor_territories t
                 WHERE t.executor_id = e.id AND t.street_id IS NOT NULL), '{}') AS street_ids
    FROM executors e JOIN users u ON u.id = e.user_id JOIN divisions d ON d.id = e.division_id"""


async def list_executors(conn: AsyncConnection, division_id: int | None = None) -> list[dict[str, Any]]:
    rows = await conn.execute(text(_EXE + " WHERE (CAST(:d AS int) IS NULL OR e.division_id = :d) "
                                   "ORDER BY d.name, u.full_name, e.id"), {"d": division_id})
    return [dict(r._mapping) for r in rows]


async def get_executor(conn: AsyncConnection, executor_id: int) -> dict[str, Any]:
    row = (await conn.execute(text(_EXE + " WHERE e.id = :i"), {"i": executor_id})).first()
    if row is None:
        raise NotFound("Исполнитель не найден")
    return dict(row._mapping)


async def save_executor(conn: AsyncConnection, executor_id: int | None, values: dict[str, Any]) -> dict[str, Any]:
    """Create (user_id and division_id required) or change an executor; `house_ids` / `street_ids`, when
    given, replace the territory."""
    if executor_id is not None:
        await get_executor(conn, executor_id)
    elif values.get("user_id") is None or values.get("division_id") is None:
        raise _invalid("user_id", "Укажите пользователя и подразделение исполнителя")
    await require_user(conn, values.get("user_id"))
    await require_division(conn, values.get("division_id"))
    cap = values.get("cap")
    if cap is not None and not 0 <= cap <= 1000:
        raise _invalid("cap", "Предел одновременных заявок: от 0 до 1000")
    if values.get("user_id") is not None and (await conn.execute(text(
            "SELECT EXISTS (SELECT 1 FROM executors WHERE user_id = :u AND id <> :i)"),
            {"u": values["user_id"], "i": executor_id or 0})).scalar_one():
        raise Conflict("Этот пользователь уже исполнитель", fields=[{"field": "user_id", "message": "занят"}])
    for key, table_name in (("house_ids", "houses"), ("street_ids", "streets")):
        ids = values.get(key)
        if ids is not None:
            found = (await conn.execute(text(f"SELECT count(*) FROM {table_name} WHERE id = ANY(:ids)"),
                                        {"ids": list(set(ids))})).scalar_one()
            if found != len(set(ids)):
                raise NotFound("Дом или улица территории не найдены", fields=[{"field": key, "message": "не найдены"}])
    row = {c: values[c] for c in _EXECUTOR_COLUMNS if values.get(c) is not None}
    if executor_id is None:
        executor_id = (await conn.execute(insert(_EXECUTORS).values(row).returning(_EXECUTORS.c.id))).scalar_one()
    elif row:
        await conn.execute(update(_EXECUTORS).where(_EXECUTORS.c.id == executor_id).values(row))
    if values.get("house_ids") is not None or values.get("street_ids") is not None:
        for key, col in (("house_ids", "house_id"), ("street_ids", "street_id")):
            if values.get(key) is None:
                continue
            await conn.execute(text(f"DELETE FROM executor_territories WHERE executor_id = :e AND {col} IS NOT NULL"),
                               {"e": executor_id})
            await conn.execute(text(f"INSERT INTO executor_territories(executor_id, {col}) "
                                    "SELECT :e, x FROM unnest(CAST(:ids AS int[])) x"),
                               {"e": executor_id, "ids": sorted(set(values[key]))})
    return await get_executor(conn, executor_id)


# ---- routes and phases -------------------------------------------------------------------------------

_PHASE = """SELECT p.id, p.route_id, p.ordinal, p.name, p.time_limit_minutes, p.working_time, p.reaction_minutes,
       p.executor_user_id, u.full_name AS executor_name, p.division_id, d.name AS division_name,
       p.required_documents
    FROM route_phases p LEFT JOIN users u ON u.id = p.executor_user_id
    LEFT JOIN divisions d ON d.id = p.division_id"""


def document_names(raw: Any) -> list[str]:
    """The names of a phase's required documents (JSON list; anything but a string is shown as JSON)."""
    if isinstance(raw, str):
        raw = json.loads(raw)
    return [x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in (raw or [])]


def _phase(row) -> dict[str, Any]:
    d = dict(row._mapping)
    d["required_documents"] = document_names(d["required_documents"])
    return d


async def list_routes(conn: AsyncConnection, *, kind: str | None = None) -> list[dict[str, Any]]:
    routes = [dict(r._mapping) for r in await conn.execute(text(
        "SELECT id, code, name, kind, active FROM request_routes "
        "WHERE CAST(:k AS text) IS NULL OR kind = :k ORDER BY kind, id"), {"k": kind})]
    phases = [_phase(r) for r in await conn.execute(text(_PHASE + " ORDER BY p.route_id, p.ordinal"))]
    for route in routes:
        route["phases"] = [p for p in phases if p["route_id"] == route["id"]]
    return routes


async def get_route(conn: AsyncConnection, route_id: int) -> dict[str, Any]:
    row = (await conn.execute(text("SELECT id, code, name, kind, active FROM request_routes WHERE id = :i"),
                              {"i": route_id})).first()
    if row is None:
        raise NotFound("Маршрут не найден")
    phases = [_phase(r) for r in await conn.execute(text(_PHASE + " WHERE p.route_id = :i ORDER BY p.ordinal"),
                                                    {"i": route_id})]
    return {**dict(row._mapping), "phases": phases}


async def get_phase(conn: AsyncConnection, phase_id: int) -> dict[str, Any]:
    row = (await conn.execute(text(_PHASE + " WHERE p.id = :i"), {"i": phase_id})).first()
    if row is None:
        raise NotFound("Этап маршрута не найден")
    return _phase(row)


async def save_route(conn: AsyncConnection, route_id: int | None, values: dict[str, Any]) -> dict[str, Any]:
    """Create (code, name, kind and optionally `phases`) or change a route (name, active)."""
    if route_id is None:
        values["code"] = check_code(values.get("code", ""))
        values["name"] = check_name(values.get("name", ""))
        values["kind"] = check_kind(values.get("kind", ""))
        if (await conn.execute(text("SELECT EXISTS (SELECT 1 FROM request_routes WHERE code = :c)"),
                               {"c": values["code"]})).scalar_one():
            raise Conflict("Маршрут с таким кодом уже есть", fields=[{"field": "code", "message": "занят"}])
        route_id = (await conn.execute(text(
            "INSERT INTO request_routes(code, name, kind, active) VALUES (:code, :name, :kind, :active) RETURNING id"),
            {**values, "active": values.get("active", True)})).scalar_one()
        for phase in values.get("phases") or []:
            await save_phase(conn, None, {**phase, "route_id": route_id})
    else:
        await get_route(conn, route_id)
        if "name" in values:
            values["name"] = check_name(values["name"])
        row = {c: values[c] for c in ("name", "active") if values.get(c) is not None}
        if row:
            await conn.execute(update(_ROUTES).where(_ROUTES.c.id == route_id).values(row))
    return await get_route(conn, route_id)


async def save_phase(conn: AsyncConnection, phase_id: int | None, values: dict[str, Any]) -> dict[str, Any]:
    """Add a phase to a route (at the end unless `ordinal` is given) or change one; only given keys change."""
    if phase_id is None:
        await get_route(conn, values["route_id"])
        values["name"] = check_name(values.get("name", ""))
        if values.get("time_limit_minutes") is None:
            raise _invalid("time_limit_minutes", "Укажите срок этапа в минутах")
        if values.get("ordinal") is None:
            values["ordinal"] = (await conn.execute(text(
                "SELECT coalesce(max(ordinal), 0) + 1 FROM route_phases WHERE route_id = :r"),
                {"r": values["route_id"]})).scalar_one()
    else:
        current = await get_phase(conn, phase_id)
        values["route_id"] = current["route_id"]
        if "name" in values:
            values["name"] = check_name(values["name"])
    for key in ("time_limit_minutes", "reaction_minutes"):
        v = values.get(key)
        if v is not None and not 0 < v <= MAX_MINUTES:
            raise _invalid(key, "Срок в минутах: больше нуля и не больше года")
    if values.get("ordinal") is not None and not 0 < values["ordinal"] <= 100:
        raise _invalid("ordinal", "Порядковый номер этапа: от 1 до 100")
    await require_user(conn, values.get("executor_user_id"), "executor_user_id")
    await require_division(conn, values.get("division_id"))
    docs = values.get("required_documents")
    if docs is not None:
        docs = [str(d).strip() for d in docs if str(d).strip()]
        if any(len(d) > 200 for d in docs) or len(docs) > 20:
            raise _invalid("required_documents", "До 20 документов, название до 200 знаков")
        values["required_documents"] = docs
    if values.get("ordinal") is not None and (await conn.execute(text(
            "SELECT EXISTS (SELECT 1 FROM route_phases WHERE route_id = :r AND ordinal = :o AND id <> :i)"),
            {"r": values["route_id"], "o": values["ordinal"], "i": phase_id or 0})).scalar_one():
        raise Conflict("Этап с таким порядковым номером уже есть", fields=[{"field": "ordinal", "message": "занят"}])
    row = {c: values[c] for c in _PHASE_COLUMNS if c in values}
    if phase_id is None:
        phase_id = (await conn.execute(insert(_PHASES).values(row).returning(_PHASES.c.id))).scalar_one()
    else:
        await conn.execute(update(_PHASES).where(_PHASES.c.id == phase_id).values(row))
    return await get_phase(conn, phase_id)
