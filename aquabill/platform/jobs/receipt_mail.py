"""Paperless receipts by e-mail, the job's side: a campaign of kind 'receipts' (notifications/receipt_mail.py)
is run by the notification center's job (`notifications.campaign`, jobs/campaigns.py), which asks
`receipt_extras` for what each letter carries — the recipient's issued receipt as a PDF
(`platform/printing.receipt_pdf`: the issue's snapshot, rendered in the print process pool, never on the event
loop) and the issue's id as the letter's key (so its Message-ID is the same whichever campaign sends it)."""

from __future__ import annotations

from aquabill.notifications.delivery_store import Claimed
from aquabill.notifications.ports import Attachment
from aquabill.notifications.receipt_mail import KIND, campaign_kind, letter_key
from aquabill.notifications.runner import Extras
from aquabill.platform.jobs.context import JobContext
from aquabill.platform.printing import print_layout, receipt_file_name, receipt_pdf


class IssueGone(Exception):
    """The recipient's issue is no longer the one found (should not happen: issues are never deleted)."""


async def receipt_extras(ctx: JobContext, campaign_id: int) -> Extras | None:
    """The attachments provider of a receipts campaign; None for any other campaign."""
    async with ctx.transaction() as conn:
        kind, period = await campaign_kind(conn, campaign_id)
        if kind != KIND or period is None:
            return None
        layout = await print_layout(conn)

    async def extras(row: Claimed) -> tuple[str | None, tuple[Attachment, ...]]:
        issue_id, issue_no = int(row.vars["issue_id"]), int(row.vars["issue_no"])
        async with ctx.transaction() as conn:
            pdf, issue = await receipt_pdf(conn, row.account_id, period, issue_no=issue_no, layout=layout)
        if issue is None or int(issue["id"]) != issue_id:
            raise IssueGone(f"выпуск квитанции № {issue_no} не найден")
        name = receipt_file_name(str(row.vars.get("account") or row.account_id), period,
                                 issue_no if issue_no > 1 else None)
        return letter_key(issue_id), (Attachment(name, pdf, "application/pdf"),)

    return extras
