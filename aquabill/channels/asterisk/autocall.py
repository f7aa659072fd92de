"""Autocall: a notice read to the subscriber by phone, through the tenant's own Asterisk (the `Sender` of the
'autocall' channel of the notification center).

One AMI session (an `AmiClient`, panoramisk's Manager) is kept open for many calls, logged in with
`Events: call` and a session filter on OriginateResponse (best effort: the Filter action needs the manager
user's `system` permission; without it every call event still arrives and is ignored). Each call is

    Action: Originate            ActionID / ChannelId: autocall-<uuid>   (one per call, never reused)
    Channel: Local/<dial string>@<originate context>   (the tenant's dial plan dials out through its trunk)
    Application: Playback        Data: <sound>
    Timeout: <ring timeout, ms>  CallerID: <the utility's phone from its payee requisites, if set>
    Variable: AQUABILL_NOTICE=<Outgoing.key>   (the call is traceable in the PBX's CDR / CEL)
    Async: true

Asterisk answers "Originate successfully queued" at once and, when the call is answered or has failed, sends
the OriginateResponse event carrying the same ActionID: `send()` returns then, with the outcome mapped from
the event's Reason (REASONS below). No event within the ring timeout plus a grace → 'no_answer'. The link
dropping while calls are pending → those sends return `retry=True` (the call may still have been placed: the
PBX, not us, knows; the runner decides). A refused login is remembered: every later send fails at once with
Asterisk's words, without logging in again (a PBX may ban an address after repeated failed logins).

Prepared sounds. A sound is an Asterisk sound name (`custom/aquabill-outage`), the Playback argument without
the extension; `&` joins several files. The sound files themselves live on the PBX: the utility records them
and uploads them to its Asterisk (`/var/lib/asterisk/sounds/<language>/custom/…`, in a format its codecs
play, e.g. `.wav` 8 kHz mono or `.alaw`); the campaign compose page takes the sound name from the message
template. Aquabill neither stores nor transfers the audio.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import Mapping

from aquabill.billing_core.receipts.requisites import load_requisites
from aquabill.billing_core.registry.phones import normalise_phone
from aquabill.channels.asterisk.client import AmiAuthError, AmiClient
from aquabill.channels.asterisk.control import AmiSettings
from aquabill.channels.asterisk.dialplan import dial_string
from aquabill.channels.asterisk.protocol import Message, ProtocolError
from aquabill.contact_center import calls as telephony_store
from aquabill.notifications.ports import Delivery, Outgoing
from aquabill.platform.secret_box import SecretBox
from aquabill.platform.state import Core
from aquabill.tenants.context import Tenant, tenant_transaction

log = logging.getLogger(__name__)

CHANNEL = "autocall"
RING_TIMEOUT_S = 30.0
GRACE_S = 15.0  # how much later than the ring timeout the OriginateResponse may come (Local channel, trunk)
NOTICE_VARIABLE = "AQUABILL_NOTICE"
SOUND_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,199}(&[A-Za-z0-9_][A-Za-z0-9_./-]{0,199}){0,9}$")

# The OriginateResponse's `Reason` is the AST_CONTROL_* frame code the outgoing call ended on (Asterisk
# include/asterisk/frame.h, enum ast_control_frame_type: HANGUP 1, RING 2, RINGING 3, ANSWER 4, BUSY 5,
# CONGESTION 8); main/manager.c fast_originate prints it as `Reason: %d`, and main/channel.c
# __ast_request_and_dial sets it: RINGING while the far end rings (left so when the ring timeout expires),
# BUSY / CONGESTION / ANSWER from the far end's control frame, HANGUP when the far end hangs up before
# answering, 0 when the channel could not be requested or called at all (Asterisk 12+ derives the same codes
# from the dial's hangup cause, main/pbx.c pbx_dial_reason). Event fields: reference/asterisk-ami/
# official-docs/events/OriginateResponse.md.
REASONS: dict[str, tuple[str, str]] = {
    "4": ("answered", "Абонент ответил, сообщение воспроизводится"),
    "5": ("busy", "Занято"),
    "3": ("no_answer", "Не ответил за время вызова"),
    "2": ("no_answer", "Не ответил за время вызова"),
    "1": ("no_answer", "Абонент сбросил вызов"),
    "8": ("failed", "Сеть перегружена или номер недоступен"),
    "0": ("failed", "Вызов не удался: номер не набран (проверьте номер и маршрут АТС)"),
}


class LinkLost(ConnectionError):
    pass


def outcome(event: Mapping[str, str], call_id: str) -> Delivery:
    """An OriginateResponse event → the delivery's outcome."""
    reason = (event.get("Reason") or "").strip()
    response = (event.get("Response") or "").lower()
    uniqueid = event.get("Uniqueid") or ""
    external_id = uniqueid if uniqueid and not uniqueid.startswith("<") else call_id
    if response == "success" and reason in ("", "4"):
        status, detail = REASONS["4"]
    elif reason in REASONS and reason != "4":
        status, detail = REASONS[reason]
    else:
        status, detail = "failed", "Вызов не удался"
    return Delivery(status=status, detail=f"{detail} (Reason {reason or '—'})", external_id=external_id)


class AmiAutocall:
    channel = CHANNEL

    def __init__(self, settings: AmiSettings, *, ring_timeout: float = RING_TIMEOUT_S, caller_id: str = "",
                 grace: float = GRACE_S, timeout: float = 10.0) -> None:
        self.settings = settings
        self.ring_timeout = ring_timeout
        self.caller_id = caller_id
        self.grace = grace
        self.timeout = timeout  # connecting, logging in, an action's response
        self._client: AmiClient | None = None
        self._watch: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._pending: dict[str, asyncio.Future[Message]] = {}
        self._refused: str | None = None  # Asterisk's words when it refused our login
        self._closed = False

    def __repr__(self) -> str:
        return f"AmiAutocall({self.settings!r})"

    def fields(self, message: Outgoing, call_id: str) -> dict[str, str]:
        """The Originate action of one call (ActionID included)."""
        fields = {
            "ActionID": call_id,
            "Channel": f"Local/{dial_string(message.address)}@{self.settings.context}",
            "Application": "Playback",
            "Data": message.sound or "",
            "Timeout": str(round(self.ring_timeout * 1000)),
            "Variable": f"{NOTICE_VARIABLE}={_variable_value(message.key)}",
            "ChannelId": call_id,
            "Async": "true",
        }
        if self.caller_id:
            fields["CallerID"] = self.caller_id
        return fields

    async def send(self, message: Outgoing) -> Delivery:
        if self._closed:
            return Delivery("failed", "Отправитель автообзвона закрыт", retry=True)
        if not message.sound or not SOUND_RE.match(message.sound):
            return Delivery("failed", f"Не задана или неверна звуковая запись для автообзвона: «{message.sound or ''}»")
        if len(dial_string(message.address)) < 3:
            return Delivery("failed", f"Неверный номер телефона: «{message.address}»")
        if self._refused is not None:
            return Delivery("failed", self._refused)
        try:
            client = await self._session()
        except AmiAuthError as exc:
            return Delivery("failed", self._refused or str(exc))
        except (OSError, TimeoutError, ConnectionError) as exc:
            return self._unreachable(exc)
        call_id = "autocall-" + uuid.uuid4().hex
        answer: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = answer  # before sending: the event may come in the same read as the response
        try:
            return await self._call(client, message, call_id, answer)
        finally:
            self._pending.pop(call_id, None)
            if not answer.done():
                answer.cancel()
            elif not answer.cancelled():
                answer.exception()  # a link lost before the Originate was answered: seen, not an orphan

    async def _call(self, client: AmiClient, message: Outgoing, call_id: str,
                    answer: asyncio.Future[Message]) -> Delivery:
        try:
            reply = await client.send("Originate", **self.fields(message, call_id))
        except ProtocolError as exc:
            return Delivery("failed", f"Недопустимые данные вызова: {exc}", external_id=call_id)
        except (OSError, TimeoutError, ConnectionError) as exc:
            return self._unreachable(exc, call_id)
        if (reply.response or "").lower() != "success":
            return Delivery("failed", f"АТС не приняла вызов: {reply.get('Message') or reply.response}",
                            external_id=call_id)
        try:
            event = await asyncio.wait_for(asyncio.shield(answer), self.ring_timeout + self.grace)
        except TimeoutError:
            return Delivery("no_answer", f"АТС не сообщила итог вызова за {self.ring_timeout + self.grace:g} с",
                            external_id=call_id)
        except LinkLost as exc:
            return Delivery("failed", f"Связь с АТС прервалась во время вызова: {exc}", external_id=call_id,
                            retry=True)
        return outcome(event, call_id)

    def _unreachable(self, exc: BaseException, call_id: str | None = None) -> Delivery:
        s = self.settings
        return Delivery("failed", f"АТС недоступна ({s.host}:{s.port}): {exc or type(exc).__name__}",
                        external_id=call_id, retry=True)

    async def _session(self) -> AmiClient:
        async with self._lock:
            if self._client is not None:
                return self._client
            if self._refused is not None:
                raise AmiAuthError(self._refused)
            s = self.settings
            client = AmiClient(s.host, s.port, s.username, s.secret, on_event=self._on_event,
                               timeout=self.timeout, events="call")
            try:
                await client.connect()
            except AmiAuthError as exc:
                self._refused = f"АТС отклонила вход (проверьте пользователя и пароль AMI): {exc}"
                raise
            with contextlib.suppress(ConnectionError, TimeoutError, OSError):
                await client.send("Filter", Operation="Add", Filter="Event: OriginateResponse")
            self._client = client
            self._watch = asyncio.create_task(self._watch_link(client), name=f"autocall-link {s.host}")
            return client

    async def _watch_link(self, client: AmiClient) -> None:
        try:
            await client.closed()
        except Exception as exc:  # closed() always raises: the reason the link ended
            reason = str(exc) or type(exc).__name__
            log.info("autocall AMI link to %s ended: %s", self.settings.host, reason)
            if self._client is client:
                self._client = None
            for fut in list(self._pending.values()):
                if not fut.done():
                    fut.set_exception(LinkLost(reason))

    def _on_event(self, event: Message) -> None:
        if event.event != "OriginateResponse" or event.action_id is None:
            return
        fut = self._pending.get(event.action_id)
        if fut is not None and not fut.done():
            fut.set_result(event)

    async def close(self) -> None:
        self._closed = True
        client, watch = self._client, self._watch
        self._client = self._watch = None
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        for fut in list(self._pending.values()):
            if not fut.done():
                fut.set_exception(LinkLost("отправитель закрыт"))
        if client is not None:
            await client.close(logoff=True)


def _variable_value(key: str) -> str:
    """Outgoing.key as a channel variable value: Asterisk splits `Variable:` on commas, so only safe
    characters pass."""
    return re.sub(r"[^A-Za-z0-9:_.-]", "_", key)[:120]


def caller_id_of(phone: str | None) -> str:
    """The utility's phone (payee requisites) as the caller id: +7XXXXXXXXXX, other numbers as digits."""
    if not phone:
        return ""
    return normalise_phone(phone) or "".join(c for c in phone if c.isdigit())


async def autocall_sender(core: Core, tenant: Tenant, *, ring_timeout: float = RING_TIMEOUT_S,
                          grace: float = GRACE_S) -> AmiAutocall | None:
    """The tenant's autocall sender over its telephony connection; None when telephony is not set up and
    enabled, or its stored secret cannot be opened (a warning is logged). The caller id is the utility's
    phone from its payee requisites, when set."""
    async with tenant_transaction(core.engines, tenant) as conn:
        cfg = await telephony_store.get_connection(conn, with_secret=True)
        requisites = await load_requisites(conn) if cfg is not None and cfg["enabled"] else None
    if cfg is None or not cfg["enabled"]:
        return None
    try:
        secret = SecretBox(core.settings.secret_key).open(cfg["secret_encrypted"]) if cfg["secret_encrypted"] else ""
    except ValueError:
        log.warning("autocall: the AMI secret of tenant %s does not open", tenant.id)
        return None
    settings = AmiSettings(cfg["host"], cfg["port"], cfg["username"], secret, technology=cfg["technology"],
                           context=cfg["originate_context"])
    return AmiAutocall(settings, ring_timeout=ring_timeout, grace=grace,
                       caller_id=caller_id_of(requisites.phone if requisites else None))
