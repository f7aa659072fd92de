"""Reading the audit log: an object's history and a filtered journal."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import Provide
from litestar.params import Parameter
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.tables import audit_log
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import Ctx, provide_tenant_scope
from aquabill.platform.web.paging import Limit, Offset, page

DEPS = {"ctx": Provide(provide_tenant_scope)}
TableName = Annotated[str, Parameter(max_length=63, pattern=r"^[a-z_][a-z0-9_]*$")]


def _entry(r) -> dict:
    return {"id": r.id, "at": r.at, "table": r.table_name, "row_id": r.row_id, "action": r.action,
            "old": r.old_row, "new": r.new_row, "user_id": r.user_id, "txid": r.txid}


async def _entries(conn: AsyncConnection, rows: list) -> list[dict]:
    """Entries as shown; an insert logged by reference (bulk tables, t0015: no copy of the row) shows the
    row as inserted — the old state of the row's next entry that has one, else the row as it stands."""
    entries = [_entry(r) for r in rows]
    for e in entries:
        if e["action"] != "insert" or e["new"] is not None or e["row_id"] is None:
            continue
        e["new"] = (await conn.execute(text(
            "SELECT coalesce((SELECT n.old_row FROM audit_log n WHERE n.table_name = :t AND n.row_id = :r "
            "AND n.id > :id AND n.old_row IS NOT NULL ORDER BY n.id LIMIT 1), "
            f"(SELECT to_jsonb(x) FROM {_quoted(e['table'])} x WHERE x.id = CAST(:r AS bigint)))"),
            {"t": e["table"], "r": e["row_id"], "id": e["id"]})).scalar()
        e["by_reference"] = True
    return entries


def _quoted(table: str) -> str:
    return '"' + table.replace('"', '""') + '"'


@get("/api/audit/{table:str}/{row_id:str}", dependencies=DEPS, guards=[requires("audit", "view")], tags=["audit"])
async def object_history(ctx: Ctx, table: TableName, row_id: str,
                         limit: Limit = 100, offset: Offset = 0) -> dict:
    cond = (audit_log.c.table_name == table) & (audit_log.c.row_id == row_id)
    rows = (await ctx.conn.execute(
        select(audit_log).where(cond).order_by(audit_log.c.id).limit(limit).offset(offset))).all()
    total = (await ctx.conn.execute(select(func.count()).select_from(audit_log).where(cond))).scalar_one()
    return page(await _entries(ctx.conn, rows), total, limit, offset)


@get("/api/audit", dependencies=DEPS, guards=[requires("audit", "view")], tags=["audit"])
async def journal(ctx: Ctx, table: TableName | None = None, user_id: int | None = None,
                  limit: Limit = 50, offset: Offset = 0) -> dict:
    q = select(audit_log).order_by(audit_log.c.id.desc())
    cq = select(func.count()).select_from(audit_log)
    for col, val in ((audit_log.c.table_name, table), (audit_log.c.user_id, user_id)):
        if val is not None:
            q, cq = q.where(col == val), cq.where(col == val)
    rows = (await ctx.conn.execute(q.limit(limit).offset(offset))).all()
    return page(await _entries(ctx.conn, rows), (await ctx.conn.execute(cq)).scalar_one(), limit, offset)


ROUTES = [object_history, journal]
