"""The legal entities' calculation over the API (resource "legal": view to read, edit to start and to enter data).

- `POST /api/legal/runs {"period": "2026-11-01", "contract_id": null}` — starts the job `legal.run` (202; progress
  over the WebSocket); refused with 409 while another calculation is queued or running;
- `GET /api/legal/runs?limit=&offset=` — the runs, newest first (and `active`: the job running now, if any);
- `GET /api/legal/charges?period=ГГГГ-ММ&q=&limit=&offset=` — the month's lines per contract (totals);
- `GET /api/legal/contracts/{id}/charges?period=ГГГГ-ММ` — a contract's lines posted to the month, each with its
  explanation in Russian;
- `GET /api/legal/precipitation`, `POST /api/legal/precipitation {"month": "2026-11-01", "mm": "42.4",
  "source": "…"}` — the month's precipitation for stormwater (audited).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import get, post
from litestar.params import Parameter
from sqlalchemy import text

from aquabill.base.errors import Invalid
from aquabill.billing_core.periods import Period
from aquabill.legal_entities.calc import store
from aquabill.platform.auth.permissions import requires
from aquabill.platform.jobs import store as jobs_store
from aquabill.platform.jobs.legal_calc import LEGAL_RUN_JOB
from aquabill.platform.jobs.service import start_job
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.paging import Limit, Offset, Search, page

VIEW, EDIT = [requires("legal", "view")], [requires("legal", "edit")]
TAGS = ["Юрлица: расчёт"]
Id = Annotated[int, Parameter(ge=0, le=2_147_483_647, description="Идентификатор")]
PeriodQuery = Annotated[str, Parameter(max_length=10, description="Месяц ГГГГ-ММ (или ГГГГ-ММ-ДД)")]
Text = Annotated[str, msgspec.Meta(max_length=300)]


class RunIn(msgspec.Struct):
    period: Annotated[str, msgspec.Meta(max_length=10)]
    contract_id: Annotated[int, msgspec.Meta(ge=0, le=2_147_483_647)] | None = None


class PrecipitationIn(msgspec.Struct):
    month: Annotated[str, msgspec.Meta(max_length=10)]
    mm: Annotated[str | float | int, msgspec.Meta(description="Миллиметры осадков за месяц")]
    source: Text = ""


def parse_month(raw: str, field: str = "period") -> Period:
    """«2026-11-01», «2026-11» or «11.2026» → the month."""
    raw = (raw or "").strip()
    try:
        if len(raw) == 10 and raw[4] == "-":
            return Period.of(date.fromisoformat(raw))
        return Period.parse(raw)
    except ValueError:
        raise Invalid(f"Месяц «{raw[:10]}» не распознан: ожидается ГГГГ-ММ или ГГГГ-ММ-ДД", field=field) from None


async def start_run(ctx: Ctx, period: Period, contract_id: int | None) -> dict[str, Any]:
    """Start the job (shared by the API and the page); 409 while another calculation is queued or running."""
    if contract_id is not None:
        await store.contract_charges(ctx.conn, contract_id)  # 404 for an unknown contract
    await store.ensure_idle(ctx.conn)
    job_id = await start_job(ctx, LEGAL_RUN_JOB, {"period": period.first_day.isoformat(),
                                                 "contract_id": contract_id})
    return {"mode": "job", "period": str(period), "job": jobs_store.to_dict(await jobs_store.get(ctx.conn, job_id))}


@post("/api/legal/runs", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=202)
async def post_run(ctx: Ctx, data: RunIn) -> dict[str, Any]:
    return await start_run(ctx, parse_month(data.period), data.contract_id)


@get("/api/legal/runs", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_runs(ctx: Ctx, limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
    items, total = await store.list_runs(ctx.conn, limit=limit, offset=offset)
    return {**page(items, total, limit, offset), "active": await store.active_job(ctx.conn)}


@get("/api/legal/charges", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def month_charges(ctx: Ctx, period: PeriodQuery = "", q: Search = "", limit: Limit = 50,
                        offset: Offset = 0) -> dict[str, Any]:
    """The month's lines per contract; without `period`, the latest month anything was posted to."""
    if period:
        month = parse_month(period)
    else:
        latest = await ctx.conn.scalar(text("SELECT max(posted_period) FROM legal_charges"))
        month = Period.of(latest or date.today())
    return await store.month_totals(ctx.conn, month, q, limit=limit, offset=offset)


@get("/api/legal/contracts/{contract_id:int}/charges", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def contract_charges(ctx: Ctx, contract_id: Id, period: PeriodQuery = "") -> dict[str, Any]:
    return await store.contract_charges(ctx.conn, contract_id, parse_month(period) if period else None)


@get("/api/legal/precipitation", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_precipitation(ctx: Ctx) -> dict[str, Any]:
    items = await store.list_precipitation(ctx.conn)
    return page(items, len(items), len(items), 0)


@post("/api/legal/precipitation", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=201)
async def set_precipitation(ctx: Ctx, data: PrecipitationIn) -> dict[str, Any]:
    month = parse_month(data.month, "month")
    return await store.set_precipitation(ctx.conn, month.first_day, data.mm, data.source,
                                         user_id=ctx.principal.user_id)


ROUTES = [post_run, list_runs, month_charges, contract_charges, list_precipitation, set_precipitation]
