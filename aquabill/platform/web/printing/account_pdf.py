"""One account's receipt as a PDF for staff (`/accounts/{id}/receipt.pdf?period=ГГГГ-ММ&issue=N`: the issue N
as it was issued, by default the latest issue of the month, or the live receipt when the month was not
issued) and the account card's section «Квитанции» (`/accounts/{id}/receipt-files`): the issues with their
PDF links and where each was printed. Permissions: accounts view and receipts view."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, get
from litestar.params import Parameter
from litestar.response import Template

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import default_period
from aquabill.billing_core.receipts import issues_of
from aquabill.billing_core.registry.queries import account_card
from aquabill.platform.auth.permissions import requires
from aquabill.platform.printing import batches, receipt_file_name, receipt_pdf
from aquabill.platform.web.context import DEPS, Ctx

GUARDS = [requires("accounts", "view"), requires("receipts", "view")]
Month = Annotated[str, Parameter(max_length=16, description="Период ГГГГ-ММ")]
IssueNo = Annotated[int | None, Parameter(ge=1, le=10_000, description="Номер выпуска")]
CARD_ISSUES = 24


def parse_month(raw: str) -> Period:
    try:
        return Period.parse(raw or "")
    except ValueError as exc:
        raise Invalid("Месяц квитанции: укажите его как ГГГГ-ММ", field="period") from exc


@get("/accounts/{account_id:int}/receipt.pdf", dependencies=DEPS, guards=GUARDS, tags=["accounts"])
async def account_receipt_pdf(ctx: Ctx, account_id: int, period: Month = "", issue: IssueNo = None) -> Response:
    """The account's receipt of the month as a PDF (the issued one when the month was issued)."""
    card = await account_card(ctx.conn, account_id)
    if card is None:
        raise NotFound("Лицевой счёт не найден")
    month = parse_month(period) if period.strip() else await default_period(ctx.conn)
    pdf, got = await receipt_pdf(ctx.conn, account_id, month, issue_no=issue)
    name = receipt_file_name(card["number"], month, got["issue_no"] if got else None)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


@get("/accounts/{account_id:int}/receipt-files", dependencies=DEPS, guards=GUARDS, include_in_schema=False)
async def card_section(ctx: Ctx, account_id: int) -> Template:
    card = await account_card(ctx.conn, account_id)
    if card is None:
        raise NotFound("Лицевой счёт не найден")
    issues = await issues_of(ctx.conn, account_id, limit=CARD_ISSUES)
    return Template("printing/card_receipts_body.html", context={
        "account_id": account_id, "number": card["number"], "issues": issues,
        "printed": await batches.printed_where(ctx.conn, [i["id"] for i in issues]),
        "month": str(await default_period(ctx.conn))})


ROUTES = [account_receipt_pdf, card_section]
