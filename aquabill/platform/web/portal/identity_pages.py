"""The portal's sign-in pages: login, registration (e-mail or phone), confirmation (the letter's link, the SMS
code), password reset (by link or by code), logout, and the signed-in subscriber's password change.

A refusal re-renders the form with its message (and its status); a missing portal (no tenant on this host)
is the portal's 404 page. Signing in sets the session cookie (`PORTAL_COOKIE`, HTTP-only, SameSite=Lax,
Secure behind HTTPS) and goes to `next` (a portal path) or `/my`.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from aquabill.base.errors import DomainError, Invalid
from aquabill.platform.auth import subscribers as auth
from aquabill.platform.web.context import core_of
from aquabill.platform.web.forms import FORM
from aquabill.platform.web.portal.context import PORTAL_COOKIE, My, current_subscriber, portal_tenant
from aquabill.platform.web.portal.identity_common import (
    client_ip,
    end_session,
    link_origin,
    page,
    safe_next,
    signed_in,
)
from aquabill.platform.web.portal.pages_common import PAGE_ERRORS, page_get, page_post, render

PASSWORDS_DIFFER = "Пароли не совпадают"


class LoginForm(msgspec.Struct):
    login: str = ""
    password: str = ""
    next: str = "/my"


class RegisterForm(msgspec.Struct):
    login: str = ""
    full_name: str = ""
    password: str = ""
    password2: str = ""


class CodeForm(msgspec.Struct):
    phone: str = ""
    code: str = ""


class ResetForm(msgspec.Struct):
    login: str = ""


class ResetCodeForm(msgspec.Struct):
    phone: str = ""
    code: str = ""
    password: str = ""
    password2: str = ""


class NewPasswordForm(msgspec.Struct):
    password: str = ""
    password2: str = ""


class ChangePasswordForm(msgspec.Struct):
    current: str = ""
    password: str = ""
    password2: str = ""


def _same(password: str, again: str) -> None:
    if password != again:
        raise Invalid(PASSWORDS_DIFFER, field="password2")


# the decorators of the pages anyone may open (the portal's 404 page when this host has no portal)
public_get = partial(get, exception_handlers=PAGE_ERRORS, include_in_schema=False)
public_post = partial(post, exception_handlers=PAGE_ERRORS, include_in_schema=False, status_code=200)


# ---- login and logout -------------------------------------------------------------------------------------

@public_get("/my/login")
async def login_page(request: Request, next: str = "/my") -> Response:
    tenant = await portal_tenant(request)
    if await current_subscriber(request) is not None:
        return Redirect(path=safe_next(next))
    return page(tenant, "login.html", next=safe_next(next), error=None, login_value="")


@public_post("/my/login")
async def login_submit(request: Request, data: Annotated[LoginForm, FORM]) -> Response:
    tenant = await portal_tenant(request)
    try:
        session = await auth.login(core_of(request), tenant, data.login, data.password)
    except DomainError as exc:
        return page(tenant, "login.html", status_code=exc.status_code, next=safe_next(data.next), error=exc.message,
                    login_value=data.login[:254], not_confirmed=exc.code == "not_confirmed")
    return signed_in(request, session.token, data.next)


@public_post("/my/logout")
async def logout_submit(request: Request) -> Response:
    await end_session(request)
    response = Redirect(path="/my/login", status_code=303)
    response.delete_cookie(PORTAL_COOKIE, path="/")
    return response


# ---- registration and confirmation -------------------------------------------------------------------------

@public_get("/my/register")
async def register_page(request: Request) -> Template:
    return page(await portal_tenant(request), "register.html", error=None, field=None, form={})


@public_post("/my/register")
async def register_submit(request: Request, data: Annotated[RegisterForm, FORM]) -> Template:
    tenant = await portal_tenant(request)
    try:
        _same(data.password, data.password2)
        sent = await auth.register(core_of(request), tenant, login=data.login, password=data.password,
                                   full_name=data.full_name, origin=link_origin(request), ip=client_ip(request))
    except DomainError as exc:
        return page(tenant, "register.html", status_code=exc.status_code, error=exc.message, field=exc.field,
                    form={"login": data.login[:254], "full_name": data.full_name[:200]})
    if sent.kind == "phone":
        return page(tenant, "confirm_phone.html", message=sent.message, error=None, phone=sent.to)
    return page(tenant, "sent.html", message=sent.message)


@public_get("/my/confirm/{token:str}")
async def confirm_page(request: Request, token: str) -> Template:
    tenant = await portal_tenant(request)
    live = await auth.link_is_live(core_of(request), tenant, "confirm_email", token)
    return page(tenant, "confirm.html", status_code=200 if live else 404, token=token if live else None,
                error=None if live else auth.BAD_LINK)


@public_post("/my/confirm/{token:str}")
async def confirm_submit(request: Request, token: str) -> Response:
    tenant = await portal_tenant(request)
    try:
        session = await auth.confirm_email(core_of(request), tenant, token)
    except DomainError as exc:
        return page(tenant, "confirm.html", status_code=exc.status_code, token=None, error=exc.message)
    return signed_in(request, session.token)


@public_get("/my/confirm-phone")
async def confirm_phone_page(request: Request, phone: str = "") -> Template:
    return page(await portal_tenant(request), "confirm_phone.html", message=None, error=None, phone=phone[:32])


@public_post("/my/confirm-phone")
async def confirm_phone_submit(request: Request, data: Annotated[CodeForm, FORM]) -> Response:
    tenant = await portal_tenant(request)
    try:
        session = await auth.confirm_phone(core_of(request), tenant, data.phone, data.code, ip=client_ip(request))
    except DomainError as exc:
        return page(tenant, "confirm_phone.html", status_code=exc.status_code, message=None, error=exc.message,
                    phone=data.phone[:32])
    return signed_in(request, session.token)


# ---- password reset -----------------------------------------------------------------------------------------

@public_get("/my/reset")
async def reset_page(request: Request) -> Template:
    return page(await portal_tenant(request), "reset.html", error=None, login_value="")


@public_post("/my/reset")
async def reset_submit(request: Request, data: Annotated[ResetForm, FORM]) -> Template:
    tenant = await portal_tenant(request)
    try:
        sent = await auth.request_reset(core_of(request), tenant, login=data.login, origin=link_origin(request),
                                        ip=client_ip(request))
    except DomainError as exc:
        return page(tenant, "reset.html", status_code=exc.status_code, error=exc.message, login_value=data.login[:254])
    if sent.kind == "phone":
        return page(tenant, "reset_code.html", message=sent.message, error=None, phone=sent.to)
    return page(tenant, "sent.html", message=sent.message)


@public_post("/my/reset/code")
async def reset_code_submit(request: Request, data: Annotated[ResetCodeForm, FORM]) -> Response:
    tenant = await portal_tenant(request)
    try:
        _same(data.password, data.password2)
        session = await auth.reset_with_code(core_of(request), tenant, data.phone, data.code, data.password,
                                             ip=client_ip(request))
    except DomainError as exc:
        return page(tenant, "reset_code.html", status_code=exc.status_code, message=None, error=exc.message,
                    phone=data.phone[:32])
    return signed_in(request, session.token)


@public_get("/my/reset/{token:str}")
async def reset_link_page(request: Request, token: str) -> Template:
    tenant = await portal_tenant(request)
    live = await auth.link_is_live(core_of(request), tenant, "reset", token)
    return page(tenant, "reset_new.html", status_code=200 if live else 404, token=token if live else None,
                error=None if live else auth.BAD_LINK)


@public_post("/my/reset/{token:str}")
async def reset_link_submit(request: Request, token: str, data: Annotated[NewPasswordForm, FORM]) -> Response:
    tenant = await portal_tenant(request)
    try:
        _same(data.password, data.password2)
        session = await auth.reset_with_link(core_of(request), tenant, token, data.password)
    except DomainError as exc:
        gone = exc.field == "token"
        return page(tenant, "reset_new.html", status_code=exc.status_code, token=None if gone else token,
                    error=exc.message)
    return signed_in(request, session.token)


# ---- the signed-in subscriber's password ------------------------------------------------------------------

@page_get("/my/password")
async def password_page(my: My) -> Template:
    return await render(my, "password.html", error=None)


@page_post("/my/password")
async def password_submit(my: My, request: Request, data: Annotated[ChangePasswordForm, FORM]) -> Response:
    try:
        _same(data.password, data.password2)
        session = await auth.change_password(my.core, my.tenant, my.subscriber_id, data.current, data.password)
    except DomainError as exc:
        return await render(my, "password.html", status_code=exc.status_code, error=exc.message)
    return signed_in(request, session.token, "/my/settings")


ROUTES = [login_page, login_submit, logout_submit, register_page, register_submit, confirm_page, confirm_submit,
          confirm_phone_page, confirm_phone_submit, reset_page, reset_submit, reset_code_submit, reset_link_page,
          reset_link_submit, password_page, password_submit]
