"""Queries on the control schema: tenants and their databases."""

from __future__ import annotations

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.tenants import control
from aquabill.tenants.context import Tenant
from aquabill.tenants.naming import validate_db_key

_T = control.tenants
_COLS = (_T.c.id, _T.c.slug, _T.c.name, _T.c.status, _T.c.schema_name, _T.c.db_key)


def _tenant(row) -> Tenant:
    return Tenant(id=row.id, slug=row.slug, name=row.name, status=row.status,
                  schema_name=row.schema_name, db_key=row.db_key)


async def by_slug(conn: AsyncConnection, slug: str) -> Tenant | None:
    row = (await conn.execute(select(*_COLS).where(_T.c.slug == slug))).first()
    return _tenant(row) if row else None


async def by_id(conn: AsyncConnection, tenant_id: int) -> Tenant | None:
    row = (await conn.execute(select(*_COLS).where(_T.c.id == tenant_id))).first()
    return _tenant(row) if row else None


async def list_tenants(
    conn: AsyncConnection, *, search: str = "", limit: int | None = None, offset: int = 0
) -> tuple[list[Tenant], int]:
    cond = or_(_T.c.slug.ilike(f"%{search}%"), _T.c.name.ilike(f"%{search}%")) if search else None
    q = select(*_COLS).order_by(_T.c.id).offset(offset)
    cq = select(func.count()).select_from(_T)
    if cond is not None:
        q, cq = q.where(cond), cq.where(cond)
    if limit is not None:
        q = q.limit(limit)
    rows = (await conn.execute(q)).all()
    total = (await conn.execute(cq)).scalar_one()
    return [_tenant(r) for r in rows], total


async def insert_tenant(conn: AsyncConnection, slug: str, name: str, schema: str, db_key: str) -> Tenant:
    row = (await conn.execute(
        insert(_T).values(slug=slug, name=name, schema_name=schema, db_key=db_key, status="provisioning")
        .returning(*_COLS)
    )).one()
    return _tenant(row)


async def set_status(conn: AsyncConnection, tenant_id: int, status: str, revision: str | None = None) -> None:
    values: dict[str, object] = {"status": status}
    if revision is not None:
        values["revision"] = revision
    await conn.execute(update(_T).where(_T.c.id == tenant_id).values(**values))


async def set_revisions(conn: AsyncConnection, revisions: dict[str, str]) -> None:
    """Record the revision each schema reached (one statement)."""
    if not revisions:
        return
    from sqlalchemy import text

    await conn.execute(text(
        "UPDATE control.tenants t SET revision = v.rev "
        "FROM unnest(CAST(:schemas AS text[]), CAST(:revs AS text[])) AS v(schema_name, rev) "
        "WHERE t.schema_name = v.schema_name"
    ), {"schemas": list(revisions), "revs": list(revisions.values())})


async def database_urls(conn: AsyncConnection) -> dict[str, str | None]:
    rows = await conn.execute(select(control.databases.c.key, control.databases.c.url))
    return {r.key: r.url for r in rows}


async def register_database(conn: AsyncConnection, key: str, url: str) -> None:
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    stmt = pg_insert(control.databases).values(key=validate_db_key(key), url=url)
    await conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"url": url}))
