"""Organisations' payments and debts API (resource "legal"): contract payments with filters and paging, an
unidentified payment assigned to a contract (audited; a payment already identified → 409), the reallocation of a
contract, a contract's turnover and the month's turnover statement of every contract.

`GET /api/legal/payments?contract_id=&counterparty_id=&from=&to=&status=&q=&limit=&offset=`,
`POST /api/legal/payments/{id}/assign` {contract_id, note}, `POST /api/legal/contracts/{id}/reallocate`,
`GET /api/legal/contracts/{id}/turnover?from=&to=` (dates ГГГГ-ММ-ДД; by default the current year),
`GET /api/legal/turnover?period=ГГГГ-ММ&q=&debtors=&limit=&offset=`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import get, post
from litestar.params import Parameter

from aquabill.base.errors import Invalid, NotFound
from aquabill.legal_entities.payments.allocation import reallocate
from aquabill.legal_entities.payments.assign import (
    STATUSES,
    PaymentFilter,
    assign_payment,
    list_contract_payments,
)
from aquabill.legal_entities.payments.turnover import contract_turnover, turnover_statement
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.forms import parse_date, parse_period
from aquabill.platform.web.paging import Limit, Offset, Search, page

VIEW, EDIT = [requires("legal", "view")], [requires("legal", "edit")]
TAGS = ["Юрлица: платежи и задолженность"]
OptionalId = Annotated[int | None, Parameter(ge=1, le=2_147_483_647, description="Идентификатор")]
FromDay = Annotated[str, Parameter(query="from", max_length=10, description="С даты ГГГГ-ММ-ДД")]
ToDay = Annotated[str, Parameter(query="to", max_length=10, description="По дату ГГГГ-ММ-ДД")]
Month = Annotated[str, Parameter(max_length=7, description="Месяц ГГГГ-ММ (по умолчанию текущий)")]
Status = Annotated[str, Parameter(max_length=16, description="Состояние: identified, storno, rolled_back")]
Flag = Annotated[bool, Parameter(description="Только должники (сальдо на конец больше нуля)")]


class AssignBody(msgspec.Struct, forbid_unknown_fields=True):
    contract_id: Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)]
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""


def day(raw: str, field: str, what: str) -> date | None:
    return parse_date(raw, field, f"{what}: ожидается дата ГГГГ-ММ-ДД", dotted=True)


def turnover_range(date_from: str, date_to: str) -> tuple[date, date]:
    """The range asked (by default the current calendar year up to today)."""
    today = date.today()
    return (day(date_from, "from", "Дата «с»") or today.replace(month=1, day=1),
            day(date_to, "to", "Дата «по»") or today)


def month_of(period: str) -> date:
    parsed = parse_period(period, "period", "Месяц: ожидается ГГГГ-ММ")
    return parsed.first_day if parsed is not None else date.today().replace(day=1)


def payment_filter(*, contract_id: int | None = None, counterparty_id: int | None = None, date_from: str = "",
                   date_to: str = "", status: str = "", q: str = "") -> PaymentFilter:
    if status and status not in STATUSES:
        raise Invalid("Состояние платежа: " + ", ".join(STATUSES), field="status")
    return PaymentFilter(contract_id=contract_id, counterparty_id=counterparty_id,
                         date_from=day(date_from, "from", "Дата «с»"), date_to=day(date_to, "to", "Дата «по»"),
                         status=status, q=q)


@get("/api/legal/payments", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_payments(ctx: Ctx, contract_id: OptionalId = None, counterparty_id: OptionalId = None,
                        date_from: FromDay = "", date_to: ToDay = "", status: Status = "", q: Search = "",
                        limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    """Payments bound to contracts, newest first; `amount` = the identified ones' total over every page."""
    flt = payment_filter(contract_id=contract_id, counterparty_id=counterparty_id, date_from=date_from,
                         date_to=date_to, status=status, q=q)
    items, total, amount = await list_contract_payments(ctx.conn, flt, limit=limit, offset=offset)
    return {**page(items, total, limit, offset), "amount": amount}


@post("/api/legal/payments/{payment_id:int}/assign", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=200)
async def assign(ctx: Ctx, payment_id: int, data: AssignBody) -> dict[str, Any]:
    """«Отнести на договор»: an unidentified payment bound to the contract, the contract reallocated (an advance
    gets its advance invoice). A payment already identified, storno or rolled back → 409."""
    return await assign_payment(ctx.conn, payment_id, data.contract_id, note=data.note.strip(),
                                user_id=ctx.principal.user_id)


@post("/api/legal/contracts/{contract_id:int}/reallocate", dependencies=DEPS, guards=EDIT, tags=TAGS,
      status_code=200)
async def reallocate_contract(ctx: Ctx, contract_id: int) -> dict[str, Any]:
    """The contract's payments allocated over its documents and penalties again (FIFO by due date)."""
    result = await reallocate(ctx.conn, [contract_id], user_id=ctx.principal.user_id)
    if not result["contracts"]:
        raise NotFound("Договор не найден")
    return result


@get("/api/legal/contracts/{contract_id:int}/turnover", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def turnover(ctx: Ctx, contract_id: int, date_from: FromDay = "", date_to: ToDay = "") -> dict[str, Any]:
    """Opening debt, charged (UPD, acts, UKD), paid, closing, penalties accrued / paid, and a row per month."""
    start, end = turnover_range(date_from, date_to)
    return await contract_turnover(ctx.conn, contract_id, start, end)


@get("/api/legal/turnover", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def statement(ctx: Ctx, period: Month = "", q: Search = "", debtors: Flag = False, limit: Limit = 50,
                    offset: Offset = 0) -> dict[str, Any]:
    """The month's turnover statement of every contract (search: contract number, counterparty, INN), with
    totals over every contract found."""
    result = await turnover_statement(ctx.conn, month_of(period), q=q, debtors=debtors, limit=limit, offset=offset)
    return {**result, "limit": limit, "offset": offset}


ROUTES = [list_payments, assign, reallocate_contract, turnover, statement]
