"""The subscriber's accounts: the dashboard (`/my`: each account's balance and debt by service), an account's
charges and payments (`/my/accounts/{id}`), and the receipt of any month — the same document staff print."""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter
from litestar.response import Template

from aquabill.billing_core.periods import Period
from aquabill.billing_core.receipts import build_receipt
from aquabill.platform.web.billing.receipt_view import qr_svg
from aquabill.platform.web.paging import Offset
from aquabill.platform.web.portal.context import My
from aquabill.platform.web.portal.pages_common import page_get, pages, render
from aquabill.subscribers.portal import (
    account_view,
    charges_history,
    dashboard,
    payments_history,
    receipt_months,
)

MONTHS_PAGE, PAYMENTS_PAGE = 3, 10
Month = Annotated[str, Parameter(max_length=7, description="Период ГГГГ-ММ")]


@page_get("/my")
async def dashboard_page(my: My) -> Template:
    return await render(my, "dashboard.html", accounts=await dashboard(my.conn, my.subscriber_id))


@page_get("/my/accounts/{account_id:int}")
async def account_page(my: My, account_id: int, months: Offset = 0, payments: Offset = 0) -> Template:
    account = await account_view(my.conn, my.subscriber_id, account_id)
    charges, months_total = await charges_history(my.conn, my.subscriber_id, account_id, limit=MONTHS_PAGE,
                                                  offset=months)
    paid, paid_total = await payments_history(my.conn, my.subscriber_id, account_id, limit=PAYMENTS_PAGE,
                                              offset=payments)
    return await render(my, "account.html", a=account, charges=charges, payments=paid,
                        months_pager=pages(months_total, MONTHS_PAGE, months),
                        payments_pager=pages(paid_total, PAYMENTS_PAGE, payments),
                        receipts=await receipt_months(my.conn, my.subscriber_id, account_id, limit=12))


@page_get("/my/accounts/{account_id:int}/receipt")
async def receipt_page(my: My, account_id: int, period: Month = "") -> Template:
    account = await account_view(my.conn, my.subscriber_id, account_id)
    months = await receipt_months(my.conn, my.subscriber_id, account_id)
    error = None
    month = None
    if period.strip():
        try:
            month = Period.parse(period)
        except ValueError:
            error = f"Месяц «{period.strip()}» не распознан: выберите месяц из списка"
    if month is None:
        month = Period.parse(months[0]) if months else None
    if month is None:
        return await render(my, "receipt.html", a=account, r=None, months=months, month="", error=error)
    receipt = await build_receipt(my.conn, account_id, month)
    return await render(my, "receipt.html", a=account, r=receipt, months=months, month=str(month), error=error,
                        qr_svg=qr_svg(receipt.qr) if receipt.qr else None)


ROUTES = [dashboard_page, account_page, receipt_page]
