"""The printable PDF of an organisation's document for the portal: exactly what the staff's
`GET /legal/documents/{id}.pdf` serves (L2: `issue.queries.print_data` → `channels/print/legal_bill_pdf.render_bill`
for a bill, `legal_upd_pdf.render_upd` for the others), called for a document whose link the caller has checked.
The rendering (reportlab, CPU-bound) runs in a worker thread."""

from __future__ import annotations

import asyncio

from aquabill.channels.print.legal_bill_pdf import render_bill
from aquabill.channels.print.legal_upd_pdf import render_upd
from aquabill.legal_entities.issue import queries
from aquabill.platform.web.portal.context import PortalScope


async def document_pdf(my: PortalScope, document_id: int) -> bytes:
    """The PDF bytes of the document (the caller has checked it is the linked organisation's)."""
    data = await queries.print_data(my.conn, document_id)
    render = render_bill if data["document"]["kind"] == "bill" else render_upd
    return await asyncio.to_thread(render, data)
