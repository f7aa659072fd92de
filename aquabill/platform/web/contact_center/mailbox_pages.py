"""The mailboxes page (`/appeals/mailboxes`, permission appeals/admin): the tenant's IMAP mailboxes polled
for appeals — list with their last check and error, a form to add one and a form per mailbox to edit,
enable or disable it. The password is write-only: it is sealed with the app's secret key (as over the API,
`appeals_api._mailbox_values`), never shown back; an empty password field keeps the stored one."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import get, post
from litestar.response import Redirect, Template

from aquabill.base.errors import Invalid, found
from aquabill.contact_center.appeals import mail_store, store
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.contact_center.appeals_api import MailboxIn, MailboxPatch, _mailbox_values
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.forms import FORM, attempt

ADMIN = [requires("appeals", "admin")]
FIELDS = {"name": "название", "host": "сервер", "port": "порт", "username": "пользователь", "folder": "папка",
          "kind": "вид обращений", "password": "пароль"}


class MailboxForm(msgspec.Struct):
    action: str = "save"  # save | enable | disable
    name: str = ""
    host: str = ""
    port: str = "993"
    use_ssl: str = ""  # "1" when ticked
    username: str = ""
    password: str = ""
    folder: str = "INBOX"
    kind: str = ""
    enabled: str = ""  # "1" when ticked


def _values(form: MailboxForm, patch: bool) -> dict[str, Any]:
    """The form as the API's body, validated by the API's own types (MailboxIn / MailboxPatch)."""
    raw: dict[str, Any] = {"name": form.name.strip(), "host": form.host.strip(), "username": form.username.strip(),
                           "folder": form.folder.strip() or "INBOX", "use_ssl": form.use_ssl == "1",
                           "enabled": form.enabled == "1"}
    port = form.port.strip()
    if not port.isdigit():
        raise Invalid("Порт: число от 1 до 65535", fields=[{"field": "port", "message": "не число"}])
    raw["port"] = int(port)
    if form.kind.strip():
        raw["kind"] = form.kind.strip()
    if form.password:
        raw["password"] = form.password
    elif not patch:
        raw["password"] = ""
    try:
        data = msgspec.convert(raw, MailboxPatch if patch else MailboxIn)
    except msgspec.ValidationError as exc:
        where = str(exc).rsplit("$.", 1)[-1].rstrip("`").strip()
        label = FIELDS.get(where.split("`")[0], where)
        raise Invalid(f"Проверьте поле «{label}»", fields=[{"field": where, "message": str(exc)}]) from exc
    return msgspec.structs.asdict(data)


async def _page(ctx: Ctx, message: str = "", form: MailboxForm | None = None, notice: str = "") -> Template:
    return Template("contact_center/mailboxes.html", context={
        "principal": ctx.principal, "tenant": ctx.tenant, "mailboxes": await mail_store.list_mailboxes(ctx.conn),
        "kinds": await store.list_kinds(ctx.conn), "message": message, "notice": notice,
        "form": form or MailboxForm(use_ssl="1", enabled="1")})


@get("/appeals/mailboxes", dependencies=DEPS, guards=ADMIN, include_in_schema=False)
async def mailboxes_page(ctx: Ctx) -> Template:
    return await _page(ctx)


@post("/appeals/mailboxes", dependencies=DEPS, guards=ADMIN, include_in_schema=False, status_code=200)
async def mailbox_create(ctx: Ctx, data: Annotated[MailboxForm, FORM]) -> Template | Redirect:
    async with attempt(ctx) as tried:
        await mail_store.insert_mailbox(ctx.conn, await _mailbox_values(ctx, _values(data, patch=False)))
    if tried.refused:
        data.password = ""  # never echoed back
        return await _page(ctx, tried.message, data)
    return Redirect(path="/appeals/mailboxes", status_code=303)


@post("/appeals/mailboxes/{mailbox_id:int}", dependencies=DEPS, guards=ADMIN, include_in_schema=False,
      status_code=200)
async def mailbox_update(ctx: Ctx, mailbox_id: int, data: Annotated[MailboxForm, FORM]) -> Template | Redirect:
    current = found(await mail_store.get_mailbox(ctx.conn, mailbox_id), "Почтовый ящик не найден")
    async with attempt(ctx) as tried:
        if data.action in ("enable", "disable"):
            values: dict[str, Any] = {"enabled": data.action == "enable"}
        else:
            values = await _mailbox_values(ctx, _values(data, patch=True))
            if any(values.get(k, current[k]) != current[k] for k in ("host", "port", "username", "folder")):
                values.update(last_uid=0, uid_validity=None)  # another box or folder: its UIDs start over
        await mail_store.update_mailbox(ctx.conn, mailbox_id, values)
    if tried.refused:
        return await _page(ctx, f"Ящик «{current['name']}»: {tried.message}")
    return Redirect(path="/appeals/mailboxes", status_code=303)


ROUTES = [mailboxes_page, mailbox_create, mailbox_update]
