"""Reading the audit log: an object's history and a filtered journal."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import Parameter

from aquabill.platform import audit
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.paging import Limit, Offset, page

TableName = Annotated[str, Parameter(max_length=63, pattern=r"^[a-z_][a-z0-9_]*$")]


@get("/api/audit/{table:str}/{row_id:str}", dependencies=DEPS, guards=[requires("audit", "view")], tags=["audit"])
async def object_history(ctx: Ctx, table: TableName, row_id: str,
                         limit: Limit = 100, offset: Offset = 0) -> dict:
    items, total = await audit.object_history(ctx.conn, table, row_id, limit=limit, offset=offset)
    return page(items, total, limit, offset)


@get("/api/audit", dependencies=DEPS, guards=[requires("audit", "view")], tags=["audit"])
async def journal(ctx: Ctx, table: TableName | None = None, user_id: int | None = None,
                  limit: Limit = 50, offset: Offset = 0) -> dict:
    items, total = await audit.journal(ctx.conn, table=table, user_id=user_id, limit=limit, offset=offset)
    return page(items, total, limit, offset)


ROUTES = [object_history, journal]
