"""Bounded parameter types shared by the routes: ids, paging and search.

PostgreSQL's `integer` is 32-bit: an id or offset beyond it must be refused as the input's fault (422), never
reach the driver. Query parameters use the annotated types below; every integer path parameter is checked
once for all routes by `check_path_ids` (the app's before-request hook)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request
from litestar.params import Parameter

from aquabill.base.errors import Invalid

INT4_MAX = 2_147_483_647
Id = Annotated[int, Parameter(ge=1, le=INT4_MAX, description="Идентификатор")]
Limit = Annotated[int, Parameter(ge=1, le=500, description="Сколько записей вернуть (1–500)")]
Offset = Annotated[int, Parameter(ge=0, le=INT4_MAX, description="Сколько записей пропустить")]
Search = Annotated[str, Parameter(max_length=200, description="Строка поиска")]


def page(items: list[Any], total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": limit, "offset": offset}


async def check_path_ids(request: Request) -> None:
    """Refuse an integer path parameter outside PostgreSQL's integer range (no id is that large)."""
    for name, value in request.path_params.items():
        if isinstance(value, int) and not -INT4_MAX - 1 <= value <= INT4_MAX:
            raise Invalid("Недопустимый идентификатор", field=name)
