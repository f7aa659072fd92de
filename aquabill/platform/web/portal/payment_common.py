"""What the payment pages share: where the payer comes back to, the tenant of a public payment page (a payment
link or the return page, no sign-in needed), and the form's values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar import Request
from litestar.exceptions import HTTPException
from litestar.response import Template

from aquabill.base.errors import DomainError, NotFound
from aquabill.platform.web.context import core_of, slug_from_host
from aquabill.platform.web.portal.pages_common import page_error
from aquabill.subscribers.pay_links import BAD_LINK, read_pay_token
from aquabill.tenants import registry
from aquabill.tenants.context import Tenant
from aquabill.tenants.naming import SLUG_RE

# the public pages answer a refusal with the portal's error page
PUBLIC_ERRORS = {DomainError: page_error, HTTPException: page_error}
PAID_VIA = ("telegram", "max")  # `?via=` of a payment link the bots send (a label only)


class PayForm(msgspec.Struct):
    amount: str = ""
    contact: str = ""


def return_base(request: Request) -> str:
    """Scheme and host the payer returns to: the portal host the payment started on, or the public address."""
    settings = core_of(request).settings
    host = request.headers.get("host", "")
    if settings.public_url:
        if slug_from_host(host, settings.domain):
            return f"{urlsplit(settings.public_url).scheme}://{host}"
        return settings.public_url
    return str(request.base_url).rstrip("/")


async def _active(request: Request, slug: str, message: str) -> Tenant:
    if not SLUG_RE.match(slug or ""):
        raise NotFound(message)
    async with core_of(request).engines.control.connect() as conn:
        tenant = await registry.by_slug(conn, slug)
    if tenant is None or tenant.status != "active":
        raise NotFound(message)
    return tenant


async def link_tenant(request: Request, token: str) -> tuple[Tenant, int]:
    """(tenant, account id) of a payment link; a token of another tenant than the host names is refused."""
    slug, account_id = read_pay_token(core_of(request).settings.secret_key, token)
    host_slug = slug_from_host(request.headers.get("host", ""), core_of(request).settings.domain)
    if host_slug is not None and host_slug != slug:
        raise NotFound(BAD_LINK)
    return await _active(request, slug, BAD_LINK), account_id


async def return_tenant(request: Request, named: str) -> Tenant:
    """The tenant of the return page: the host's, else the one the return URL names (`?t=`)."""
    settings = core_of(request).settings
    host_slug = slug_from_host(request.headers.get("host", ""), settings.domain)
    if host_slug is not None and named and named != host_slug:
        raise NotFound("Платёж не найден")
    return await _active(request, host_slug or named or settings.portal_tenant, "Платёж не найден")


def form_values(form: dict[str, Any], data: PayForm | None) -> dict[str, str]:
    """The form's fields: as typed, or prefilled with what is due and the contact on file."""
    if data is not None:
        return {"amount": data.amount, "contact": data.contact}
    due: Decimal = form["due"]
    return {"amount": f"{due:.2f}".replace(".", ",") if due > 0 else "", "contact": form["contact"]}


def public_page(template: str, tenant: Tenant, *, status_code: int = 200, **context: Any) -> Template:
    return Template(template_name=f"portal/{template}", status_code=status_code,
                    context={"portal_tenant": tenant, "signed_in": False, "unread": 0, **context})
