"""Calls and telephony over the API.

- `GET /api/calls`: the call journal (filters: from/to local dates, status, direction, agent extension,
  number, account_id; limit/offset), newest first; `GET /api/calls/{id}`: one call;
- `POST /api/calls/originate {extension, number | account_id}`: click-to-call: the agent's phone rings, then
  the number is dialled; `POST /api/calls/{id}/callback {extension}`: call back the caller of a call;
- `GET /api/telephony/lookup?number=`: the tenant's accounts with that phone (caller lookup);
- `GET/PUT /api/telephony/connection`: the tenant's AMI connection (admin); the secret is write-only; GET
  also shows the supervised connection's state (connected / connecting / failed / disabled, last error).
Permission resources: "calls" (view, edit), "telephony" (admin) for the connection.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

import msgspec
from litestar import Request, get, post, put
from litestar.params import Parameter, QueryParameter

from aquabill.base.errors import Conflict, DomainError, Invalid, NotFound, found
from aquabill.billing_core.registry import account_card
from aquabill.billing_core.registry.phones import accounts_by_phone, normalise_phone
from aquabill.channels.asterisk.calls import OUTBOUND_PREFIX
from aquabill.channels.asterisk.control import AmiCallControl, AmiSettings
from aquabill.channels.asterisk.dialplan import dial_string
from aquabill.channels.asterisk.runtime.supervisor import read_state
from aquabill.channels.call_control import CallControl, CallControlError, OriginateRequest
from aquabill.contact_center import calls as store
from aquabill.platform.auth.permissions import requires
from aquabill.platform.secret_box import SecretBox
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.paging import Limit, Offset, page

VIEW, EDIT = [requires("calls", "view")], [requires("calls", "edit")]
ADMIN = [requires("telephony", "admin")]
TAGS = ["calls"]

Extension = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.+-]{1,40}$", description="Внутренний номер агента")]
Dialable = Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9 ()-]{3,30}$", description="Номер телефона")]
StatusQuery = Annotated[str | None, Parameter(pattern=r"^(answered|missed|abandoned|in_progress|lost)$")]
DirectionQuery = Annotated[str | None, Parameter(pattern=r"^(inbound|outbound)$")]


class TelephonyUnavailable(DomainError):
    status_code = 502
    code = "telephony_unavailable"


class OriginateIn(msgspec.Struct):
    extension: Extension
    number: Dialable | None = None
    account_id: int | None = None


class CallbackIn(msgspec.Struct):
    extension: Extension


class ConnectionIn(msgspec.Struct):
    host: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9.:_-]{1,253}$")]
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 5038
    secret: Annotated[str, msgspec.Meta(max_length=200)] | None = None  # None: keep the stored one
    enabled: bool = False
    technology: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9]{1,16}$")] = "PJSIP"
    originate_context: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{1,80}$")] = "from-internal"


def _call_control(ctx: Ctx, cfg: dict) -> CallControl:
    secret = SecretBox(ctx.core.settings.secret_key).open(cfg["secret_encrypted"]) if cfg["secret_encrypted"] else ""
    return AmiCallControl(AmiSettings(cfg["host"], cfg["port"], cfg["username"], secret,
                                      technology=cfg["technology"], context=cfg["originate_context"]))


async def _originate(ctx: Ctx, extension: str, number: str, account_id: int | None,
                     callback_of: int | None = None) -> dict:
    cfg = await store.get_connection(ctx.conn, with_secret=True)
    if cfg is None or not cfg["enabled"]:
        raise Conflict("Телефония не подключена: настройте соединение с АТС")
    dial = dial_string(number)
    if len(dial) < 3:
        raise Invalid("Неверный номер телефона", fields=[{"field": "number", "message": "нет цифр"}])
    call_ref = OUTBOUND_PREFIX + uuid.uuid4().hex
    call_id = await store.insert_outbound(ctx.conn, call_ref=call_ref, extension=extension, number=dial,
                                          number_normalised=normalise_phone(number), account_id=account_id,
                                          callback_of=callback_of, user_id=ctx.principal.user_id)
    try:
        await _call_control(ctx, cfg).originate(OriginateRequest(call_ref, extension, dial))
    except (CallControlError, ValueError) as exc:  # the row is rolled back with the request
        raise TelephonyUnavailable(str(exc)) from exc
    return await store.get_call(ctx.conn, call_id) or {}


@get("/api/calls", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_calls(ctx: Ctx, date_from: Annotated[date | None, QueryParameter(name="from", description="С даты (включительно)")] = None,
                     date_to: Annotated[date | None, QueryParameter(name="to", description="По дату (включительно)")] = None, status: StatusQuery = None,
                     direction: DirectionQuery = None,
                     agent: Annotated[str | None, Parameter(max_length=40)] = None,
                     number: Annotated[str | None, Parameter(max_length=30)] = None,
                     account_id: int | None = None, limit: Limit = 50, offset: Offset = 0) -> dict:
    items, total = await store.list_calls(ctx.conn, date_from=date_from, date_to=date_to, status=status,
                                          direction=direction, agent=agent, number=number,
                                          account_id=account_id, limit=limit, offset=offset,
                                          zone=ctx.core.settings.timezone)
    return page(items, total, limit, offset)


@get("/api/calls/{call_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_call(ctx: Ctx, call_id: int) -> dict:
    return found(await store.get_call(ctx.conn, call_id), "Звонок не найден")


@post("/api/calls/originate", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=201)
async def originate(ctx: Ctx, data: OriginateIn) -> dict:
    number = data.number
    if data.account_id is not None:
        card = await account_card(ctx.conn, data.account_id)
        if card is None:
            raise NotFound("Лицевой счёт не найден", fields=[{"field": "account_id", "message": "не найден"}])
        number = number or card["phone"]
        if not number:
            raise Invalid("У лицевого счёта не указан телефон", fields=[{"field": "account_id", "message": "нет телефона"}])
    if not number:
        raise Invalid("Укажите номер или лицевой счёт", fields=[{"field": "number", "message": "обязательно"}])
    return await _originate(ctx, data.extension, number, data.account_id)


@post("/api/calls/{call_id:int}/callback", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=201)
async def callback(ctx: Ctx, call_id: int, data: CallbackIn) -> dict:
    call = found(await store.get_call(ctx.conn, call_id), "Звонок не найден")
    number = call["caller"] if call["direction"] == "inbound" else call["called"]
    if not number or len(dial_string(number)) < 3:
        raise Conflict("Номер звонившего неизвестен: перезвонить некуда")
    return await _originate(ctx, data.extension, number, call["account_id"], callback_of=call_id)


@get("/api/telephony/lookup", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def lookup(ctx: Ctx, number: Annotated[str, Parameter(max_length=30, description="Номер звонящего")] = "") -> dict:
    items = await accounts_by_phone(ctx.conn, number)
    return {"number": number, "normalised": normalise_phone(number), "items": items}


async def _connection_view(ctx: Ctx) -> dict:
    cfg = await store.get_connection(ctx.conn, with_secret=True)
    if cfg is None:
        return {"configured": False, "enabled": False, "state": {"state": "disabled"}}
    has_secret = bool(cfg.pop("secret_encrypted"))
    state = await read_state(ctx.core, ctx.tenant.id)
    if not cfg["enabled"]:
        state = {"state": "disabled"}
    elif not state or state.get("state") == "disabled":
        state = {"state": "connecting", "error": ""}
    return {"configured": True, **cfg, "secret_set": has_secret, "state": state}


@get("/api/telephony/connection", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def get_connection(ctx: Ctx) -> dict:
    return await _connection_view(ctx)


@put("/api/telephony/connection", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def put_connection(request: Request, ctx: Ctx, data: ConnectionIn) -> dict:
    values = msgspec.structs.asdict(data)
    secret = values.pop("secret")
    if secret is not None:
        values["secret_encrypted"] = SecretBox(ctx.core.settings.secret_key).seal(secret)
    elif (await store.get_connection(ctx.conn)) is None:
        raise Invalid("Укажите пароль AMI", fields=[{"field": "secret", "message": "обязательно"}])
    await store.save_connection(ctx.conn, values, ctx.principal.user_id)
    tenant_id, redis, keys = ctx.tenant.id, ctx.core.redis, ctx.core.keys
    supervisor = getattr(request.app.state, "telephony", None)

    async def announce() -> None:
        async with redis.pipeline(transaction=True) as pipe:
            (pipe.sadd if data.enabled else pipe.srem)(keys.ami_tenants, tenant_id)
            pipe.incr(keys.ami_version(tenant_id))
            await pipe.execute()
        if supervisor is not None:
            supervisor.kick()

    ctx.after_commit(announce)
    return await _connection_view(ctx)


ROUTES = [list_calls, get_call, originate, callback, lookup, get_connection, put_connection]
