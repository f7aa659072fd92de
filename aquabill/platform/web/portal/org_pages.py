"""Organisations on the portal (#16): a portal user links an organisation with its INN and the one-time code staff
issued (`/my/org/link`), sees its linked organisations (`/my/org`), an organisation's contracts with the balance
(`/my/org/{id}`), its documents (`/my/org/{id}/documents`) and downloads a document's XML as issued and its PDF
(`/my/org/{id}/documents/{document_id}.xml|.pdf`).

Every `/my/org/{id}/…` route first checks the link (`portal.require_linked`): another organisation's id, a revoked
link, a document of another organisation — all the same 404 as a page that does not exist."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Response
from litestar.response import Template

from aquabill.base.errors import DomainError, NotFound
from aquabill.legal_entities import portal, portal_store
from aquabill.platform.web.forms import FORM
from aquabill.platform.web.paging import Offset
from aquabill.platform.web.portal.context import My, PortalScope
from aquabill.platform.web.portal.org_files import document_pdf
from aquabill.platform.web.portal.pages_common import page_get, page_post, pages, render

DOCUMENTS_PAGE = 30
NO_STORE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


class OrgLinkIn(msgspec.Struct):
    inn: Annotated[str, msgspec.Meta(max_length=40)] = ""
    code: Annotated[str, msgspec.Meta(max_length=40)] = ""


async def linked(my: PortalScope, counterparty_id: int) -> dict[str, Any]:
    """The organisation when it is linked to the user; else the 404 of a page that does not exist."""
    return await portal.require_linked(my.conn, my.subscriber_id, counterparty_id)


async def org_page(my: PortalScope, template: str, org: dict[str, Any], *, section: str, status_code: int = 200,
                   **context: Any) -> Template:
    """A page of one linked organisation (its header and the organisation's menu: `org_nav.html`)."""
    return await render(my, template, status_code=status_code, org=org, section=section, **context)


async def _link_page(my: PortalScope, *, status_code: int = 200, **context: Any) -> Template:
    return await render(my, "org_link.html", status_code=status_code,
                        orgs=await portal.linked_organisations(my.conn, my.subscriber_id),
                        **{"message": None, "error": None, "form": {}, **context})


@page_get("/my/org")
async def orgs_page(my: My) -> Template:
    return await render(my, "org_list.html", orgs=await portal.linked_organisations(my.conn, my.subscriber_id))


@page_get("/my/org/link")
async def org_link_page(my: My) -> Template:
    return await _link_page(my)


@page_post("/my/org/link")
async def org_link_submit(my: My, data: Annotated[OrgLinkIn, FORM]) -> Template:
    try:
        org = await portal.link_organisation(my.conn, my.subscriber_id, data.inn, data.code)
    except DomainError as exc:  # (the failed attempt is already counted: it is written on its own connection)
        return await _link_page(my, status_code=exc.status_code, error=exc.message, form={"inn": data.inn})
    return await _link_page(my, message=f"Организация «{org['display_name']}» (ИНН {org['inn']}) привязана.",
                            linked_id=org["id"])


@page_get("/my/org/{counterparty_id:int}")
async def org_contracts_page(my: My, counterparty_id: int) -> Template:
    org = await linked(my, counterparty_id)
    contracts = await portal_store.contracts_with_balance(my.conn, counterparty_id)
    return await org_page(my, "org_contracts.html", org, section="contracts", contracts=contracts,
                          totals=portal_store.totals(contracts))


@page_get("/my/org/{counterparty_id:int}/documents")
async def org_documents_page(my: My, counterparty_id: int, offset: Offset = 0) -> Template:
    org = await linked(my, counterparty_id)
    items, total = await portal_store.documents(my.conn, counterparty_id, limit=DOCUMENTS_PAGE, offset=offset)
    return await org_page(my, "org_documents.html", org, section="documents", documents=items,
                          paging=pages(total, DOCUMENTS_PAGE, offset))


def _attachment(name: str, content: bytes, media_type: str) -> Response:
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return Response(content=content, media_type=media_type, headers={
        **NO_STORE, "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"})


def _file(name: str) -> tuple[int, str]:
    """`123.xml` / `123.pdf` → (123, "xml"); anything else is the 404 of a missing document (litestar matches a
    path parameter as a whole segment, so the id and the extension come in one)."""
    stem, dot, ext = name.rpartition(".")
    if dot and ext in ("xml", "pdf") and stem.isascii() and stem.isdigit() and len(stem) <= 10 \
            and 0 < int(stem) <= 2_147_483_647:
        return int(stem), ext
    raise NotFound(portal_store.DOCUMENT_NOT_FOUND)


@page_get("/my/org/{counterparty_id:int}/documents/{file:str}")
async def org_document_file(my: My, counterparty_id: int, file: str) -> Response:
    """`{id}.xml`: the document's XML exactly as issued (windows-1251, the FNS format's file name);
    `{id}.pdf`: its printable PDF (the renderer staff use)."""
    await linked(my, counterparty_id)
    document_id, ext = _file(file[:32])
    if ext == "xml":
        name, xml = await portal_store.document_xml(my.conn, counterparty_id, document_id)
        return _attachment(name, xml, "application/xml")
    doc = await portal_store.document(my.conn, counterparty_id, document_id)
    content = await document_pdf(my, doc["id"])
    return _attachment(f"{doc['kind_name']} {doc['number']}.pdf", content, "application/pdf")


ROUTES = [orgs_page, org_link_page, org_link_submit, org_contracts_page, org_documents_page, org_document_file]
