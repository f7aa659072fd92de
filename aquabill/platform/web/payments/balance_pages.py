"""Balances page: an account's debt by service × month of origin and its advance, and the turnover statement
(оборотно-сальдовая ведомость) of the account, or of the whole organisation, over a range of months.
The same queries as GET /api/accounts/{id}/balance and GET /api/balances/turnover; permission "payments" view.
"""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import Parameter
from litestar.response import Template

from aquabill.base.errors import Invalid
from aquabill.billing_core.payments.balances import TurnoverScope, account_balance, turnover
from aquabill.billing_core.payments.queries import account_brief, unidentified_totals
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import default_period
from aquabill.billing_core.reference.services import service_names
from aquabill.billing_core.registry.queries import account_by_number
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.forms import parse_period
from aquabill.platform.web.paging import Offset
from aquabill.platform.web.payments.payment_pages import VIEW, page_ctx

PAGE = 100
Text = Annotated[str, Parameter(max_length=64)]
FromMonth = Annotated[str, Parameter(query="from", max_length=7, description="Первый месяц ГГГГ-ММ")]
ToMonth = Annotated[str, Parameter(query="to", max_length=7, description="Последний месяц ГГГГ-ММ")]


def _month(raw: str, what: str, errors: list[str]) -> Period | None:
    """A month of the range; one that does not parse is noted in `errors` and left out."""
    try:
        return parse_period(raw)
    except Invalid as exc:
        errors.append(f"{what}: {exc.message}")
        return None


@get("/balances", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def balances_page(ctx: Ctx, account: Text = "", date_from: FromMonth = "", date_to: ToMonth = "", by_month: bool = False,
                        offset: Offset = 0) -> Template:
    errors: list[str] = []
    current = await default_period(ctx.conn)
    last = _month(date_to, "Конец диапазона", errors) or current
    first = _month(date_from, "Начало диапазона", errors) or last
    if first > last:
        errors.append("Начало диапазона позже его конца: показан один месяц")
        first = last
    found, balance = None, None
    number = account.strip()
    if number:
        account_id = await account_by_number(ctx.conn, number)
        if account_id is None:
            errors.append(f"Лицевой счёт № {number} не найден: показана ведомость по всей организации")
        else:
            found = await account_brief(ctx.conn, account_id)
            balance = await account_balance(ctx.conn, account_id)
    scope = TurnoverScope(account_id=found["id"] if found else None)
    statement = await turnover(ctx.conn, first, last, scope, by_month=by_month, limit=PAGE, offset=offset)
    services = await service_names(ctx.conn)
    return Template("payments/balances.html", context=page_ctx(
        ctx, account=number, found=found, balance=balance, statement=statement, first=str(first), last=str(last),
        by_month=by_month, offset=offset, limit=PAGE, services=services, message="; ".join(errors),
        error=bool(errors), unidentified=await unidentified_totals(ctx.conn)))


ROUTES = [balances_page]
