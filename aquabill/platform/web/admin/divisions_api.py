"""Divisions (участки, службы) over the API — one table for the month close (houses belong to a division,
a month is closed per division) and for requests (a division's head gets the escalations, `parent_id` is
the next level up). Reading needs registry/view or requests/view; changing needs registry/edit or
requests/admin.

A division: id, code, name, active, head_user_id, head_name, parent_id, house_ids (its houses).
The one implementation is `billing_core.divisions`.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import get, patch, post

from aquabill.billing_core import divisions as store
from aquabill.platform.auth.permissions import requires_any
from aquabill.platform.web.context import DEPS, Ctx

VIEW = [requires_any(("registry", "view"), ("requests", "view"))]
EDIT = [requires_any(("registry", "edit"), ("requests", "admin"))]
TAGS = ["divisions"]
Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_-]{1,32}$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class DivisionIn(msgspec.Struct):
    code: Code
    name: Name
    head_user_id: int | None = None
    parent_id: int | None = None
    active: bool = True
    house_ids: list[int] = msgspec.field(default_factory=list)


class DivisionPatch(msgspec.Struct):
    name: Name | None = None
    head_user_id: int | None = None
    parent_id: int | None = None
    active: bool | None = None
    house_ids: list[int] | None = None


async def _save(ctx: Ctx, division_id: int | None, data: msgspec.Struct) -> dict[str, Any]:
    values = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
    return await store.save_division(ctx.conn, division_id, values)


@get("/api/divisions", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def divisions(ctx: Ctx) -> dict:
    items = await store.list_divisions(ctx.conn)
    return {"items": items, "total": len(items)}


@post("/api/divisions", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def create_division(ctx: Ctx, data: DivisionIn) -> dict:
    return await _save(ctx, None, data)


@get("/api/divisions/{division_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_division(ctx: Ctx, division_id: int) -> dict:
    return await store.get_division(ctx.conn, division_id)


@patch("/api/divisions/{division_id:int}", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def patch_division(ctx: Ctx, division_id: int, data: DivisionPatch) -> dict:
    return await _save(ctx, division_id, data)


ROUTES = [divisions, create_division, get_division, patch_division]
