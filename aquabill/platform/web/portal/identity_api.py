"""The portal's sign-in API (`/api/my/auth/…`), for apps and scripts: the same steps as the pages, with a
bearer token instead of the cookie. The tenant is the host's portal, as for the pages."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import msgspec
from litestar import Request, get, post

from aquabill.base.errors import Invalid
from aquabill.platform.auth import subscribers as auth
from aquabill.platform.auth.service import logout
from aquabill.platform.web.context import core_of
from aquabill.platform.web.portal.context import PORTAL_DEPS, My, portal_tenant
from aquabill.platform.web.portal.identity_common import client_ip, link_origin

TAGS = ["Личный кабинет: вход и счета"]
Text = Annotated[str, msgspec.Meta(max_length=256)]


class RegisterIn(msgspec.Struct):
    login: Text  # an e-mail address or a mobile number
    password: Text
    full_name: Annotated[str, msgspec.Meta(max_length=200)] = ""


class LoginIn(msgspec.Struct):
    login: Text
    password: Text


class ConfirmIn(msgspec.Struct):
    token: Text


class CodeIn(msgspec.Struct):
    phone: Annotated[str, msgspec.Meta(max_length=32)]
    code: Annotated[str, msgspec.Meta(max_length=16)]


class ResetRequestIn(msgspec.Struct):
    login: Text


class ResetIn(msgspec.Struct):
    password: Text
    token: Text = ""  # the link's token (e-mail), or
    phone: Annotated[str, msgspec.Meta(max_length=32)] = ""  # the phone and its SMS code
    code: Annotated[str, msgspec.Meta(max_length=16)] = ""


def _session(signed: auth.SignedIn) -> dict:
    return {"token": signed.token, "token_type": "bearer", "subscriber_id": signed.subscriber_id}


def _sent(sent: auth.Sent) -> dict:
    return {"status": "sent", "kind": sent.kind, "to": sent.to, "message": sent.message}


@post("/api/my/auth/register", tags=TAGS, status_code=202)
async def api_register(request: Request, data: RegisterIn) -> dict:
    """Register by e-mail (a confirmation link is mailed) or phone (a code is sent by SMS)."""
    sent = await auth.register(core_of(request), await portal_tenant(request), login=data.login,
                               password=data.password, full_name=data.full_name, origin=link_origin(request),
                               ip=client_ip(request))
    return _sent(sent)


@post("/api/my/auth/confirm", tags=TAGS, status_code=200)
async def api_confirm(request: Request, data: ConfirmIn) -> dict:
    """Confirm the e-mail address with the token of the letter's link; signs in."""
    return _session(await auth.confirm_email(core_of(request), await portal_tenant(request), data.token))


@post("/api/my/auth/confirm-phone", tags=TAGS, status_code=200)
async def api_confirm_phone(request: Request, data: CodeIn) -> dict:
    """Confirm the phone with the SMS code; signs in."""
    return _session(await auth.confirm_phone(core_of(request), await portal_tenant(request), data.phone, data.code,
                                             ip=client_ip(request)))


@post("/api/my/auth/login", tags=TAGS, status_code=200)
async def api_login(request: Request, data: LoginIn) -> dict:
    return _session(await auth.login(core_of(request), await portal_tenant(request), data.login, data.password))


@post("/api/my/auth/logout", dependencies=PORTAL_DEPS, tags=TAGS, status_code=200)
async def api_logout(my: My) -> dict:
    my.after_commit(partial(logout, my.core, my.token))
    return {"status": "ok"}


@post("/api/my/auth/reset-request", tags=TAGS, status_code=202)
async def api_reset_request(request: Request, data: ResetRequestIn) -> dict:
    """Ask for a reset link (e-mail) or code (phone); the answer is the same whether the login is known or not."""
    sent = await auth.request_reset(core_of(request), await portal_tenant(request), login=data.login,
                                    origin=link_origin(request), ip=client_ip(request))
    return _sent(sent)


@post("/api/my/auth/reset", tags=TAGS, status_code=200)
async def api_reset(request: Request, data: ResetIn) -> dict:
    """Set a new password with the reset link's token, or with the phone and its SMS code; signs in."""
    core, tenant = core_of(request), await portal_tenant(request)
    if data.token:
        return _session(await auth.reset_with_link(core, tenant, data.token, data.password))
    if data.phone or data.code:
        return _session(await auth.reset_with_code(core, tenant, data.phone, data.code, data.password,
                                                   ip=client_ip(request)))
    raise Invalid("Укажите токен из ссылки или телефон и код из SMS", field="token")


@get("/api/my/auth/me", dependencies=PORTAL_DEPS, tags=TAGS)
async def api_me(my: My) -> dict:
    return {**await auth.profile(my.conn, my.subscriber_id), "tenant": {"slug": my.tenant.slug,
                                                                          "name": my.tenant.name}}


ROUTES = [api_register, api_confirm, api_confirm_phone, api_login, api_logout, api_reset_request, api_reset, api_me]
