"""The receipt as a PDF for the subscriber (`/my/accounts/{id}/receipt.pdf?period=ГГГГ-ММ`): the same file the
utility prints (platform/printing/receipt_files.py: the issued receipt when the month was issued), for an
account linked to the subscriber only (another account: 404, as every portal page). Without a period: the
latest month that has a receipt."""

from __future__ import annotations

from typing import Annotated

from litestar import Response
from litestar.params import Parameter

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core.periods import Period
from aquabill.platform.printing import receipt_file_name, receipt_pdf
from aquabill.platform.web.portal.context import My
from aquabill.platform.web.portal.pages_common import page_get
from aquabill.subscribers.portal import account_view, receipt_months

Month = Annotated[str, Parameter(max_length=16, description="Период ГГГГ-ММ")]


@page_get("/my/accounts/{account_id:int}/receipt.pdf")
async def receipt_pdf_file(my: My, account_id: int, period: Month = "") -> Response:
    account = await account_view(my.conn, my.subscriber_id, account_id)  # not linked: NotFound
    if period.strip():
        try:
            month = Period.parse(period)
        except ValueError as exc:
            raise Invalid(f"Месяц «{period.strip()[:16]}» не распознан: укажите его как ГГГГ-ММ") from exc
    else:
        months = await receipt_months(my.conn, my.subscriber_id, account_id, limit=1)
        if not months:
            raise NotFound("Квитанций по этому лицевому счёту пока нет")
        month = Period.parse(months[0])
    pdf, issue = await receipt_pdf(my.conn, account_id, month)
    name = receipt_file_name(account["number"], month)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"})


ROUTES = [receipt_pdf_file]
