"""What the identity pages and API share: the portal's tenant for a request without a session, the client's
address (rate limits), the origin of links in letters, the session cookie, and the public pages' rendering."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response
from litestar.response import Redirect, Template

from aquabill.platform.auth.service import logout
from aquabill.platform.web.context import core_of, slug_from_host
from aquabill.platform.web.portal.context import PORTAL_COOKIE, current_subscriber, portal_token
from aquabill.tenants.context import Tenant

_HOST = re.compile(r"^[a-z0-9.-]+(:\d{1,5})?$")
HOME = "/my"


def client_ip(request: Request) -> str | None:
    """The peer's address (what a per-IP limit counts); forwarded headers are not trusted."""
    return request.client.host if request.client else None


def link_origin(request: Request) -> str:
    """Where links in letters point: this very host when it names the tenant (`<slug>.<domain>`), so a
    subscriber comes back to the portal they registered on; otherwise the service's public address."""
    settings = core_of(request).settings
    host = request.headers.get("host", "").strip().lower().rstrip(".")
    if slug_from_host(host, settings.domain) and _HOST.match(host):
        secure = settings.cookie_secure or settings.public_url.startswith("https://")
        return f"{'https' if secure else request.url.scheme}://{host}"
    return settings.base_url


def safe_next(target: str | None) -> str:
    """Only a portal path on this site: `/my…`, no scheme, no host, no `//` or backslashes."""
    target = target or ""
    if not (target == HOME or target.startswith(HOME + "/") or target.startswith(HOME + "?")) \
            or any(c in target for c in "\\\r\n") or "//" in target:
        return HOME
    return target


def signed_in(request: Request, token: str, target: str = HOME) -> Response:
    """Redirect to `target` with the portal's session cookie set."""
    settings = core_of(request).settings
    response = Redirect(path=safe_next(target), status_code=303)
    response.set_cookie(PORTAL_COOKIE, token, httponly=True, samesite="lax", path="/", secure=settings.cookie_secure,
                        max_age=settings.session_ttl_minutes * 60)
    return response


async def end_session(request: Request) -> bool:
    """Log out the request's subscriber session when it is one of this portal; False when there is none."""
    if await current_subscriber(request) is None:
        return False
    await logout(core_of(request), portal_token(request) or "")
    return True


def page(tenant: Tenant | None, template: str, *, status_code: int = 200, **context: Any) -> Template:
    """A public portal page (nobody signed in) with the layout's context."""
    return Template(template_name=f"portal/{template}", status_code=status_code,
                    context={"portal_tenant": tenant, "signed_in": False, "unread": 0, **context})
