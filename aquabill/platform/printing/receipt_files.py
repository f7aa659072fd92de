"""One receipt as a PDF file, the same for everyone who asks for it: the staff's account card, the portal,
the bots and the mailing of paperless receipts.

When the month's receipt of the account was issued (`billing_core.receipts.issues`), the PDF is the issued
snapshot — what the subscriber got then, whatever was recalculated since; otherwise it is the live receipt
(`build_receipt`). The tenant's layout (`load_layout`) is printed on it; rendering runs in the process pool
(`channels.print.pool`), never on the event loop.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import NotFound
from aquabill.billing_core.periods import Period
from aquabill.billing_core.receipts import Receipt, build_receipt, issued_receipt, load_layout
from aquabill.channels.print import ReceiptLayout
from aquabill.channels.print.pool import render_in_pool


def layout_of(stored: dict[str, Any], *, tenant_name: str = "") -> ReceiptLayout:
    """The stored layout (`load_layout`'s dict) as the renderer takes it. The name printed at the top: the
    payee's from the requisites unless `tenant_name` is given (the renderer's rule)."""
    return ReceiptLayout(tenant_name=tenant_name, logo_png=stored.get("logo_png"),
                         header_text=stored.get("header_text") or "", notes=stored.get("notes") or "",
                         footer_text=stored.get("footer_text") or "")


async def print_layout(conn: AsyncConnection) -> ReceiptLayout:
    """The tenant's receipt layout, ready for the renderer."""
    return layout_of(await load_layout(conn))


async def receipt_snapshot(conn: AsyncConnection, account_id: int, period: Period, *,
                           issue_no: int | None = None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The receipt to print as its `as_dict()` snapshot, and its issue (None: the month was not issued for
    the account, the live receipt). With `issue_no`, that issue or NotFound."""
    try:
        issued = await issued_receipt(conn, account_id, period, issue_no)
    except NotFound:
        if issue_no is not None:
            raise
        return (await build_receipt(conn, account_id, period)).as_dict(), None
    issue = issued.pop("issue")
    return issued, issue


async def receipt_pdf(conn: AsyncConnection, account_id: int, period: Period, *, issue_no: int | None = None,
                      layout: ReceiptLayout | None = None) -> tuple[bytes, dict[str, Any] | None]:
    """The account's receipt for the month as a one-page PDF, and the issue it prints.

    - `conn`: a tenant connection (a request's `ctx.conn`, a job's `ctx.transaction()`); only read.
    - The latest issue of the month when the month was issued for the account (`issue_no`: an older one;
      NotFound when it does not exist), else the live receipt and `None` for the issue.
    - `layout`: the renderer's layout when the caller already has it (a job sending many), else the
      tenant's stored layout is loaded.
    - The issue is `issues.issued_receipt`'s `issue` dict (id, issue_no, due, pdf_sha256, reason, issued_at…).
    Raises NotFound for an unknown account; the bytes are the same for the same receipt and layout."""
    snapshot, issue = await receipt_snapshot(conn, account_id, period, issue_no=issue_no)
    pdf = await render_in_pool([snapshot], layout or await print_layout(conn))
    return pdf, issue


async def bot_receipt_pdf(conn: AsyncConnection, account_id: int, period: Period) -> bytes:
    """`receipt_pdf`'s bytes, as the bots' `BotEnv.receipt_pdf` takes it."""
    return (await receipt_pdf(conn, account_id, period))[0]


async def receipts_pdf(receipts: list[Receipt], layout: ReceiptLayout) -> bytes:
    """Many receipts in one PDF (rendered in the pool)."""
    return await render_in_pool(receipts, layout)


def receipt_file_name(account_number: str, period: Period, issue_no: int | None = None) -> str:
    """`receipt-<account>-<ГГГГ-ММ>[-N].pdf`, safe as a download name."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in account_number)[:40] or "account"
    return f"receipt-{safe}-{period}" + (f"-{issue_no}" if issue_no else "") + ".pdf"
