"""The subscriber's settings page: paperless receipts by e-mail and the preferred channel for notices
(changing the password is on the identity pages)."""

from __future__ import annotations

from litestar import Request
from litestar.response import Template

from aquabill.platform.web.forms import attempt, parse_text
from aquabill.platform.web.portal.context import My, PortalScope
from aquabill.platform.web.portal.pages_common import page_get, page_post, render
from aquabill.subscribers.portal_settings import save_settings, subscriber_settings

PASSWORD_PAGE = "/my/password"


def _password_link() -> str | None:
    """The identity pages' change-password page, when they have one (imported here: no import cycle)."""
    from aquabill.platform.web.portal import identity_routes

    paths = {p for r in identity_routes.ROUTES for p in getattr(r, "paths", ())}
    return PASSWORD_PAGE if PASSWORD_PAGE in paths else None


async def _page(my: PortalScope, *, message: str = "", error: bool = False, form: dict | None = None) -> Template:
    current = await subscriber_settings(my.conn, my.subscriber_id)
    return await render(my, "settings.html", s={**current, **(form or {})}, message=message, error=error,
                        password_link=_password_link())


@page_get("/my/settings")
async def settings_page(my: My) -> Template:
    return await _page(my)


@page_post("/my/settings")
async def settings_form(my: My, request: Request) -> Template:
    form = await request.form()
    paperless = parse_text(form.get("paperless"), 10) in ("1", "on", "true")
    channel = parse_text(form.get("preferred_channel"), 16)
    async with attempt(my) as tried:
        await save_settings(my.conn, my.subscriber_id, paperless=paperless, preferred_channel=channel)
    if tried.refused:
        return await _page(my, message=tried.message, error=True,
                           form={"paperless": paperless, "preferred_channel": channel})
    return await _page(my, message="Настройки сохранены")


ROUTES = [settings_page, settings_form]
