"""Pagination and search parameters shared by list endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from litestar.params import Parameter

Limit = Annotated[int, Parameter(ge=1, le=500, description="Сколько записей вернуть (1–500)")]
Offset = Annotated[int, Parameter(ge=0, description="Сколько записей пропустить")]
Search = Annotated[str, Parameter(max_length=200, description="Строка поиска")]


def page(items: list[Any], total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": limit, "offset": offset}
