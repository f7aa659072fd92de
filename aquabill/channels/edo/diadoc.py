"""A client of Kontur.Diadoc's HTTP API over httpx, JSON both ways (`Accept` / `Content-Type:
application/json`; the API answers protobuf by default).

What was checked in the operator's documentation (github.com/diadoc/diadocapi-docs, `docs/source/`):
- `Authorization.rst`, `http/obsolete/Authenticate.rst`: every call carries `Authorization: DiadocAuth
  ddauth_api_client_id=<developer key>,ddauth_token=<token>`; the token comes from `POST /V3/Authenticate?
  type=password` with the JSON `{"login", "password"}` (the header then has the client id only), it is text and
  lives 24 hours — we keep it for 23 in this process. (Diadoc calls this scheme obsolete in favour of OpenID
  Connect, which needs a browser redirect; a service account's login is what an unattended sender has.)
- `http/PostMessage.rst`, `proto/MessageToPost.rst`, `proto/DocumentAttachment`: `POST /V3/PostMessage?
  operationId=…` with {FromBoxId, ToBoxId, DocumentAttachments: [{SignedContent: {Content, Signature} (base64),
  TypeNamedId, Function, Version, CustomDocumentId}]} → the `Message` {MessageId, Entities: [{EntityId, …}]}.
  A repeated call with the same operationId "завершится успехом … результат равен результату первого
  успешного вызова": that is how an unknown outcome is resolved without sending twice. 409 = a duplicate.
- `http/GetDocument.rst`, `proto/Document.rst`, `proto/RecipientResponseStatus.rst`: `GET /V3/GetDocument?
  boxId&messageId&entityId` → `Document` with DeliveryTimestampTicks (delivered when > 0) and
  RecipientResponseStatus (WithRecipientSignature / WithRecipientPartiallySignature = signed by the buyer,
  RecipientSignatureRequestRejected = refused). Not verified: where the operator puts the buyer's refusal text
  in the JSON of a Document — in Diadoc it is the comment of the rejection entity; we read
  DocflowStatus.PrimaryStatus.StatusHint (what the fake fills) and fall back to a generic text.
- `http/GetOrganization.rst`: `GET /GetOrganization?fnsParticipantId=` → Organization {Boxes: [{BoxId}]}: the
  buyer's box from its EDO participant id (ИдПол of the UPD's file name).

Errors: 5xx, timeouts and cut connections are retried here a few times with back-off (`RETRIES`; safe: the
operationId) and then raised as `DiadocUnknown` (the caller retries later); a 4xx is `DiadocRefused` (recorded
as failed), 401/402/403 `DiadocSettings` (the settings must be fixed). Messages are Russian.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from dataclasses import dataclass
from typing import Any, NamedTuple

import httpx

from aquabill.channels.json_client import JsonApiClient

DEFAULT_API_URL = "https://diadoc-api.kontur.ru"
UTD = "UniversalTransferDocument"  # DocumentTypeNamedId of the UPD (and of the act in its ДОП function)
UCD = "UniversalCorrectionDocument"  # of the УКД
UTD_VERSION = "utd970_05_03_01"  # the UPD of order ЕД-7-26/970@ (format 5.03) as Diadoc names its version
UCD_VERSION = "ucd736_05_01_02"  # not verified against GetDocumentTypes: the УКД's version id at Diadoc
TOKEN_TTL = 23 * 3600.0
RETRIES = (0.2, 1.0)  # pauses before the repeats of a call that failed with a 5xx / timeout / cut connection
_TOKENS: dict[tuple[str, str, str, str], tuple[str, float]] = {}


class DiadocError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DiadocUnknown(DiadocError):
    """No answer or a server error: whether it took effect is unknown; the same call may be repeated later."""


class DiadocRefused(DiadocError):
    """The operator refused the request (4xx): repeating it changes nothing."""


class DiadocSettings(DiadocRefused):
    """The developer key, the login, the password or the box is wrong, or the subscription ended."""


class Posted(NamedTuple):
    """(message_id, entity_id) of a posted document."""

    message_id: str
    entity_id: str


@dataclass(frozen=True, slots=True)
class DocumentState:
    """What the operator says of a sent document, in our statuses: sent / delivered / signed / rejected."""

    status: str
    reason: str = ""


_STATUS_TEXT = {
    400: "Диадок отклонил запрос как неверный",
    401: "Диадок не принял ключ разработчика, логин или пароль",
    402: "у организации закончилась подписка на API Диадока",
    403: "нет доступа к ящику организации в Диадоке",
    404: "в Диадоке не найдено",
    409: "Диадок отклонил сообщение: это дубликат, или контрагент не принимает документы",
}


def refusal(status: int, body: bytes) -> DiadocError:
    detail = body.decode("utf-8", "replace").strip()[:300]
    text = _STATUS_TEXT.get(status, f"Диадок ответил ошибкой {status}")
    message = f"{text}: {detail}" if detail else text
    if status >= 500:
        return DiadocUnknown(message)
    if status in (401, 402, 403):
        return DiadocSettings(message)
    return DiadocRefused(message)


def document_state(doc: dict[str, Any]) -> DocumentState:
    response = doc.get("RecipientResponseStatus") or ""
    if response in ("WithRecipientSignature", "WithRecipientPartiallySignature"):
        return DocumentState("signed")
    if response == "RecipientSignatureRequestRejected":
        primary = (doc.get("DocflowStatus") or {}).get("PrimaryStatus") or {}
        return DocumentState("rejected", str(primary.get("StatusHint") or "Покупатель отказал в подписи"))
    if int(doc.get("DeliveryTimestampTicks") or 0) > 0:
        return DocumentState("delivered")
    return DocumentState("sent")


class Diadoc(JsonApiClient):
    """`async with Diadoc(api_url, client_id, login, password) as api:` — one HTTP client per use."""

    def __init__(self, api_url: str, client_id: str, login: str, password: str, *, timeout: float = 15.0,
                 retries: tuple[float, ...] = RETRIES, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.api_url, self.client_id, self.login = api_url.rstrip("/"), client_id, login
        self._password, self.timeout, self.retries, self.transport = password, timeout, retries, transport
        self._key = (self.api_url, client_id, login, hashlib.sha256(password.encode()).hexdigest())
        self._client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"Diadoc({self.api_url!r}, client_id={self.client_id!r}, login={self.login!r})"

    def _auth(self, token: str | None) -> str:
        value = f"DiadocAuth ddauth_api_client_id={self.client_id}"
        return f"{value},ddauth_token={token}" if token else value

    async def _once(self, method: str, path: str, params: dict[str, str] | None, body: Any,
                    token: str | None) -> httpx.Response:
        assert self._client is not None, "use `async with Diadoc(...)`"
        headers = {"Authorization": self._auth(token)}
        try:
            return await self._client.request(method, path, params=params, json=body, headers=headers)
        except httpx.TimeoutException:
            raise DiadocUnknown("Диадок не ответил вовремя") from None
        except httpx.TransportError as exc:
            raise DiadocUnknown(f"нет связи с Диадоком ({exc.__class__.__name__})") from None

    async def _call(self, method: str, path: str, *, params: dict[str, str] | None = None, body: Any = None,
                    token: str | None = None) -> httpx.Response:
        """The call, repeated after `retries` pauses while the outcome is unknown; a 4xx raises at once."""
        for attempt, pause in enumerate((0.0, *self.retries)):
            if pause:
                await asyncio.sleep(pause)
            try:
                response = await self._once(method, path, params, body, token)
            except DiadocUnknown:
                if attempt == len(self.retries):
                    raise
                continue
            if response.status_code >= 500 and attempt < len(self.retries):
                continue
            if response.status_code >= 400:
                raise refusal(response.status_code, response.content)
            return response
        raise AssertionError("unreachable")

    async def token(self, *, fresh: bool = False) -> str:
        kept = _TOKENS.get(self._key)
        if kept is not None and not fresh and time.monotonic() - kept[1] < TOKEN_TTL:
            return kept[0]
        response = await self._call("POST", "/V3/Authenticate", params={"type": "password"},
                                    body={"login": self.login, "password": self._password})
        token = response.text.strip()
        if not token:
            raise DiadocSettings("Диадок не выдал токен авторизации")
        _TOKENS[self._key] = (token, time.monotonic())
        return token

    async def _authorized(self, method: str, path: str, *, params: dict[str, str] | None = None,
                          body: Any = None) -> httpx.Response:
        try:
            return await self._call(method, path, params=params, body=body, token=await self.token())
        except DiadocSettings as exc:
            if not exc.message.startswith(_STATUS_TEXT[401]):
                raise
            _TOKENS.pop(self._key, None)  # the token expired or was revoked: log in again, once
            return await self._call(method, path, params=params, body=body, token=await self.token(fresh=True))

    async def check(self, box_id: str) -> str:
        """The settings work: a fresh token and our box (`GET /GetBox?boxId=`); the box's title."""
        await self.token(fresh=True)
        box = (await self._authorized("GET", "/GetBox", params={"boxId": box_id})).json()
        return str(box.get("Title") or box_id)

    async def box_of_participant(self, participant_id: str) -> str:
        """The box of the organisation with this EDO participant id (its first box)."""
        org = (await self._authorized("GET", "/GetOrganization", params={"fnsParticipantId": participant_id})).json()
        boxes = org.get("Boxes") or []
        if not boxes or not boxes[0].get("BoxId"):
            raise DiadocRefused(f"в Диадоке нет ящика участника ЭДО {participant_id}")
        return str(boxes[0]["BoxId"])

    async def post_message(self, from_box: str, to_box: str, content: bytes, signature: bytes,
                           type_named_id: str = UTD, function: str = "СЧФДОП", version: str = UTD_VERSION, *,
                           operation_id: str, custom_document_id: str = "") -> Posted:
        """Send one signed document; the same `operation_id` again answers the first message (not a new one)."""
        attachment = {"SignedContent": {"Content": base64.b64encode(content).decode("ascii"),
                                        "Signature": base64.b64encode(signature).decode("ascii")},
                      "TypeNamedId": type_named_id, "Function": function, "Version": version,
                      "CustomDocumentId": custom_document_id}
        body = {"FromBoxId": from_box, "ToBoxId": to_box, "DocumentAttachments": [attachment]}
        message = (await self._authorized("POST", "/V3/PostMessage", params={"operationId": operation_id},
                                          body=body)).json()
        entities = [e for e in message.get("Entities") or [] if e.get("EntityType", "Attachment") == "Attachment"]
        if not message.get("MessageId") or not entities:
            raise DiadocUnknown("Диадок ответил сообщением без идентификаторов")
        return Posted(str(message["MessageId"]), str(entities[0]["EntityId"]))

    async def get_document(self, box_id: str, message_id: str, entity_id: str) -> DocumentState:
        doc = (await self._authorized("GET", "/V3/GetDocument", params={
            "boxId": box_id, "messageId": message_id, "entityId": entity_id, "injectEntityContent": "false"})).json()
        return document_state(doc)


async def check_connection(api_url: str, client_id: str, login: str, password: str, box_id: str) -> tuple[bool, str]:
    """(works, a Russian message) for the settings page's «Проверить связь»."""
    try:
        async with Diadoc(api_url, client_id, login, password, timeout=10.0, retries=()) as api:
            title = await api.check(box_id)
    except DiadocUnknown as exc:
        return False, f"Диадок недоступен: {exc.message}"
    except DiadocError as exc:
        return False, f"Подключение не работает: {exc.message}"
    return True, f"Подключение работает: ящик «{title}»"
