"""A local fake of Kontur.Diadoc's HTTP API (the shapes `channels/edo/diadoc.py` describes, with its sources), for
the tests and the dev server. Nothing here is used in production. JSON only.

- `POST /V3/Authenticate?type=password` (header `DiadocAuth ddauth_api_client_id=…`, a known developer key;
  body {login, password}) → the token as text; a wrong key or pair → 401.
- Every other call needs `Authorization: DiadocAuth ddauth_api_client_id=…,ddauth_token=…` (401 otherwise);
  a box not of the token's user → 403.
- `GET /GetBox?boxId=`, `GET /GetOrganization?fnsParticipantId=` (404 for an unknown participant, unless
  `open_registry`: the dev server makes a box for any well-formed id).
- `POST /V3/PostMessage?operationId=` {FromBoxId, ToBoxId, DocumentAttachments: [{SignedContent: {Content,
  Signature}, TypeNamedId, Function, Version, CustomDocumentId}]}: the content must be windows-1251 XML whose root
  is `Файл` with an `ИдФайл` naming the recipient's and the sender's participant ids (ИдПол_ИдОтпр), the
  signature a DER CMS structure; otherwise 400 with the reason. A repeated operationId of the box answers the
  first message (nothing new is stored). → the Message {MessageId, Entities: [{EntityId, EntityType}]}.
- `GET /V3/GetDocument?boxId&messageId&entityId` → the Document: delivered (DeliveryTimestampTicks) from the first
  look on; RecipientResponseStatus WaitingForRecipientSignature → WithRecipientSignature, or
  RecipientSignatureRequestRejected with the reason in DocflowStatus.PrimaryStatus.StatusHint.
Control (tests, demo): `POST /__fake/sign?messageId=`, `POST /__fake/reject?messageId=&reason=`; a buyer box
added with `reject_reason` refuses whatever `auto_sign_after` would sign; `auto_sign_after` (seconds, None: never)
signs a delivered document that long after it was posted, at the next look.
Test options: `fail_next(status, times, path)` — the next calls of that path answer that status (doing nothing); `drop_next(times)` — the
message is stored but the connection is cut in the middle of the answer; `hold()` / `release()` — PostMessage
waits after storing the message (a sender killed mid-call). What it received: `calls` (method, path, status, operationId),
`messages`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from cryptography.hazmat.primitives.serialization import pkcs7
from lxml import etree

from aquabill.devserver.fakes.http import AsgiServer, ThreadServed, read_body, respond

AUTH_RE = re.compile(r"^DiadocAuth\s+(.*)$", re.S)
FILE_ID_RE = re.compile(r"^ON_[A-Z]+_(?P<recipient>[0-9A-Za-z-]{4,46})_(?P<sender>[0-9A-Za-z-]{4,46})_\d{8}_"
                        r"[0-9a-fA-F-]{36}(?:_\d+)*$")
PARTICIPANT_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{3,45}$")
TICKS_AT_EPOCH = 621355968000000000  # .NET ticks (100 ns since 0001-01-01) at 1970-01-01


def ticks(at: float) -> int:
    return TICKS_AT_EPOCH + int(at * 10_000_000)


@dataclass
class Box:
    box_id: str
    participant_id: str
    title: str
    owner: str  # the login that may use it
    reject_reason: str | None = None  # a buyer that refuses to sign, with this reason


@dataclass
class Message:
    message_id: str
    entity_id: str
    from_box: str
    to_box: str
    content: bytes
    signature: bytes
    type_named_id: str
    function: str
    version: str
    custom_id: str
    posted_at: float = field(default_factory=time.time)
    delivered_at: float = 0.0
    response: str = "WaitingForRecipientSignature"
    reason: str = ""


@dataclass
class Call:
    method: str
    path: str
    status: int
    operation_id: str = ""


class Refusal(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


class FakeDiadoc(ThreadServed):
    thread_name, title = "fake-diadoc", "the fake Diadoc"

    def __init__(self, *, auto_sign_after: float | None = None, open_registry: bool = False) -> None:
        self.auto_sign_after, self.open_registry = auto_sign_after, open_registry
        self.client_ids: set[str] = set()
        self.users: dict[str, str] = {}  # login → password
        self.boxes: dict[str, Box] = {}
        self.messages: dict[str, Message] = {}
        self.calls: list[Call] = []
        self._tokens: dict[str, str] = {}  # token → login
        self._operations: dict[tuple[str, str], str] = {}  # (from box, operationId) → message id
        self._fails: list[tuple[str, int]] = []
        self._drops = 0
        self._hold: threading.Event | None = None
        self.held = threading.Event()  # set when a PostMessage is waiting on `hold` (the fake may run in a thread)
        self._server: AsgiServer | None = None

    # ---- set-up and test options -----------------------------------------------------------------------------

    def add_client(self, client_id: str | None = None) -> str:
        client_id = client_id or f"testClient-{secrets.token_hex(16)}"
        self.client_ids.add(client_id)
        return client_id

    def add_user(self, login: str | None = None, password: str | None = None) -> tuple[str, str]:
        login, password = login or f"user-{secrets.token_hex(3)}", password or secrets.token_urlsafe(9)
        self.users[login] = password
        return login, password

    def add_box(self, participant_id: str, *, owner: str = "", title: str = "", box_id: str | None = None,
                reject_reason: str | None = None) -> Box:
        box = Box(box_id or f"{uuid.uuid4().hex}@diadoc.fake", participant_id, title or participant_id, owner,
                  reject_reason)
        self.boxes[box.box_id] = box
        return box

    def fail_next(self, status: int = 500, times: int = 1, path: str = "/V3/PostMessage") -> None:
        """The next `times` calls of `path` answer `status` without doing anything."""
        self._fails.extend([(path, status)] * times)

    def drop_next(self, times: int = 1) -> None:
        self._drops += times

    def hold(self) -> None:
        self._hold = threading.Event()
        self.held = threading.Event()

    def release(self) -> None:
        if self._hold is not None:
            self._hold.set()
            self._hold = None

    def posts(self) -> list[Call]:
        return [c for c in self.calls if c.path == "/V3/PostMessage"]

    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.url

    # ---- serving -----------------------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeDiadoc:
        self._loop = asyncio.get_running_loop()
        self._server = AsgiServer(self, host, port)
        await self._server.start()
        return self

    async def stop(self) -> None:
        self.release()
        if self._server is not None:
            await self._server.stop()

    async def __aenter__(self) -> FakeDiadoc:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = {k: v[0] for k, v in parse_qs(scope.get("query_string", b"").decode()).items()}
        method, path = scope["method"], scope["path"]
        drop = False
        try:
            failing = next((f for f in self._fails if f[0] == path), None)
            if failing is not None:
                self._fails.remove(failing)
                raise Refusal(failing[1], "Внутренняя ошибка сервера (тестовый отказ)")
            answer = await self._answer(method, path, query, headers, body)
            status = 200
            if path == "/V3/PostMessage" and self._drops:
                self._drops -= 1
                drop = True
        except Refusal as exc:
            status, answer = exc.status, exc.text
        self.calls.append(Call(method, path, status, query.get("operationId", "")))
        if isinstance(answer, str):
            content, kind = answer.encode(), "text/plain; charset=utf-8"
        else:
            content, kind = json.dumps(answer, ensure_ascii=False).encode(), "application/json; charset=utf-8"
        if drop:  # the answer starts and the connection is cut: the client cannot tell what happened
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", kind.encode()), (b"content-length", str(len(content)).encode())]})
            await send({"type": "http.response.body", "body": content[:5], "more_body": True})
            return
        await respond(send, status, content, kind)

    # ---- the API -----------------------------------------------------------------------------------------------

    def _credentials(self, headers: dict[str, str]) -> dict[str, str]:
        m = AUTH_RE.match(headers.get("authorization", "").strip())
        if m is None:
            raise Refusal(401, "Не передан заголовок Authorization со схемой DiadocAuth")
        parts = dict(p.strip().split("=", 1) for p in m[1].split(",") if "=" in p)
        if parts.get("ddauth_api_client_id") not in self.client_ids:
            raise Refusal(401, "Неизвестный ключ разработчика (ddauth_api_client_id)")
        return parts

    def _user(self, headers: dict[str, str]) -> str:
        login = self._tokens.get(self._credentials(headers).get("ddauth_token", ""))
        if login is None:
            raise Refusal(401, "Авторизационный токен не распознан или просрочен")
        return login

    def _own_box(self, login: str, box_id: str) -> Box:
        box = self.boxes.get(box_id)
        if box is None or box.owner != login:
            raise Refusal(403, f"Нет доступа к ящику {box_id}")
        return box

    async def _answer(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
                      body: bytes) -> Any:
        if method == "POST" and path in ("/__fake/sign", "/__fake/reject"):
            return self._control(path, query)
        if method == "POST" and path == "/V3/Authenticate":
            self._credentials(headers)
            data = _json(body)
            login = str(data.get("login", ""))
            if query.get("type") != "password" or login not in self.users or \
                    not secrets.compare_digest(self.users[login], str(data.get("password", ""))):
                raise Refusal(401, "Неверный логин или пароль")
            token = secrets.token_urlsafe(48)
            self._tokens[token] = login
            return token
        login = self._user(headers)
        if method == "GET" and path == "/GetBox":
            box = self._own_box(login, query.get("boxId", ""))
            return {"BoxId": box.box_id, "Title": box.title, "FnsParticipantId": box.participant_id}
        if method == "GET" and path == "/GetOrganization":
            return self._organization(query.get("fnsParticipantId", ""))
        if method == "POST" and path == "/V3/PostMessage":
            return await self._post(login, query.get("operationId", ""), _json(body))
        if method == "GET" and path == "/V3/GetDocument":
            return self._document(login, query)
        raise Refusal(404, "Метод не найден")

    def _organization(self, participant_id: str) -> dict[str, Any]:
        boxes = [b for b in self.boxes.values() if b.participant_id == participant_id]
        if not boxes and self.open_registry and PARTICIPANT_RE.match(participant_id):
            boxes = [self.add_box(participant_id, owner=f"counterparty-{participant_id}")]
        if not boxes:
            raise Refusal(404, f"Организация с идентификатором участника {participant_id} не найдена")
        return {"OrgId": boxes[0].box_id, "FnsParticipantId": participant_id, "FullName": boxes[0].title,
                "Boxes": [{"BoxId": b.box_id, "Title": b.title} for b in boxes]}

    async def _post(self, login: str, operation_id: str, data: dict[str, Any]) -> dict[str, Any]:
        sender = self._own_box(login, str(data.get("FromBoxId", "")))
        known = self._operations.get((sender.box_id, operation_id)) if operation_id else None
        if known is not None:
            return self._message_json(self.messages[known])
        recipient = self.boxes.get(str(data.get("ToBoxId", "")))
        if recipient is None or recipient.box_id == sender.box_id:
            raise Refusal(400, "Ящик получателя не найден")
        attachments = data.get("DocumentAttachments")
        if not isinstance(attachments, list) or len(attachments) != 1 or not isinstance(attachments[0], dict):
            raise Refusal(400, "Ожидается один документ в DocumentAttachments")
        att = attachments[0]
        signed = att.get("SignedContent") or {}
        try:
            content = base64.b64decode(str(signed.get("Content", "")), validate=True)
            signature = base64.b64decode(str(signed.get("Signature", "")), validate=True)
        except (binascii.Error, ValueError):
            raise Refusal(400, "SignedContent: Content и Signature должны быть в base64") from None
        check_xml(content, recipient.participant_id, sender.participant_id)
        check_signature(signature)
        if not att.get("TypeNamedId"):
            raise Refusal(400, "Не указан TypeNamedId")
        msg = Message(str(uuid.uuid4()), str(uuid.uuid4()), sender.box_id, recipient.box_id, content, signature,
                      str(att["TypeNamedId"]), str(att.get("Function", "")), str(att.get("Version", "")),
                      str(att.get("CustomDocumentId", "")))
        self.messages[msg.message_id] = msg
        if operation_id:
            self._operations[(sender.box_id, operation_id)] = msg.message_id
        if self._hold is not None:
            hold = self._hold
            self.held.set()
            await asyncio.to_thread(hold.wait, 30)
        return self._message_json(msg)

    @staticmethod
    def _message_json(msg: Message) -> dict[str, Any]:
        return {"MessageId": msg.message_id, "FromBoxId": msg.from_box, "ToBoxId": msg.to_box,
                "TimestampTicks": ticks(msg.posted_at),
                "Entities": [{"EntityType": "Attachment", "EntityId": msg.entity_id, "AttachmentType": "Nonformalized",
                              "CustomDocumentId": msg.custom_id}]}

    def _document(self, login: str, query: dict[str, str]) -> dict[str, Any]:
        box = self._own_box(login, query.get("boxId", ""))
        msg = self.messages.get(query.get("messageId", ""))
        if msg is None or msg.entity_id != query.get("entityId") or box.box_id not in (msg.from_box, msg.to_box):
            raise Refusal(404, "Документ не найден")
        self._advance(msg)
        rejected = msg.response == "RecipientSignatureRequestRejected"
        primary = {"Severity": "Error" if rejected else "Info",
                   "StatusText": {"WithRecipientSignature": "Подписан контрагентом",
                                  "RecipientSignatureRequestRejected": "Контрагент отказал в подписи"}.get(
                       msg.response, "Доставлен" if msg.delivered_at else "Отправлен"),
                   "StatusHint": msg.reason}
        return {"MessageId": msg.message_id, "EntityId": msg.entity_id, "CounteragentBoxId": msg.to_box,
                "TypeNamedId": msg.type_named_id, "Function": msg.function, "Version": msg.version,
                "CustomDocumentId": msg.custom_id, "CreationTimestampTicks": ticks(msg.posted_at),
                "SendTimestampTicks": ticks(msg.posted_at),
                "DeliveryTimestampTicks": ticks(msg.delivered_at) if msg.delivered_at else 0,
                "RecipientResponseStatus": msg.response, "DocflowStatus": {"PrimaryStatus": primary}}

    def _advance(self, msg: Message) -> None:
        if not msg.delivered_at:
            msg.delivered_at = time.time()
            return
        if msg.response == "WaitingForRecipientSignature" and self.auto_sign_after is not None \
                and time.time() - msg.posted_at >= self.auto_sign_after:
            reason = self.boxes[msg.to_box].reject_reason
            self._respond(msg, reject=reason is not None, reason=reason or "")

    def _respond(self, msg: Message, *, reject: bool, reason: str = "") -> None:
        msg.delivered_at = msg.delivered_at or time.time()
        msg.response = "RecipientSignatureRequestRejected" if reject else "WithRecipientSignature"
        msg.reason = reason

    def _control(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        msg = self.messages.get(query.get("messageId", ""))
        if msg is None:
            raise Refusal(404, "Сообщение не найдено")
        if path == "/__fake/sign":
            self._respond(msg, reject=False)
        else:
            self._respond(msg, reject=True, reason=query.get("reason") or "Отказ в подписи")
        return {"MessageId": msg.message_id, "RecipientResponseStatus": msg.response}


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        raise Refusal(400, "Тело запроса не JSON") from None
    if not isinstance(data, dict):
        raise Refusal(400, "Тело запроса должно быть объектом JSON")
    return data


def check_xml(content: bytes, recipient: str, sender: str) -> None:
    """Windows-1251 XML, root Файл, ИдФайл naming this recipient and sender; Refusal(400) otherwise."""
    head = content[:120].lower()
    if not re.match(rb"<\?xml[^>]*encoding=[\"']windows-1251[\"']", head):
        raise Refusal(400, "Файл документа должен быть XML в кодировке windows-1251")
    try:
        root = etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise Refusal(400, f"Файл документа не разбирается как XML: {exc}") from None
    if root.tag != "Файл":
        raise Refusal(400, f"Корневой элемент должен быть «Файл», а не «{root.tag}»")
    m = FILE_ID_RE.match(root.get("ИдФайл", ""))
    if m is None:
        raise Refusal(400, f"ИдФайл «{root.get('ИдФайл', '')}» не соответствует формату")
    if m["recipient"] != recipient or m["sender"] != sender:
        raise Refusal(400, f"ИдФайл называет получателя {m['recipient']} и отправителя {m['sender']}, а сообщение "
                           f"идёт от {sender} к {recipient}")


def check_signature(signature: bytes) -> None:
    try:
        pkcs7.load_der_pkcs7_certificates(signature)
    except ValueError:
        raise Refusal(400, "Подпись должна быть открепленной подписью CMS (PKCS #7, DER)") from None


# ---- the dev server ------------------------------------------------------------------------------------------

DEV_CLIENT_ID = "aquabill-dev-8ee1638deae84c86b8e2069955c2825a"
DEV_LOGIN = "aquabill-dev"
DEV_PASSWORD = "aquabill-dev-password"
DEV_BOX = "aquabill-dev@diadoc.fake"
DEV_PARTICIPANT = "2BM-5753000016-575301001"  # the demo seller's EDO id (demo/legal_story.py: 2BM-<INN>-<KPP>)
DEV_AUTO_SIGN = 20.0  # seconds after which a buyer "signs" in `make run`


def start_for_dev() -> tuple[FakeDiadoc, dict[str, Any]]:
    """The fake in a thread of its own for `aquabill dev`: our box, any counterparty's participant id gets a box,
    documents are signed `DEV_AUTO_SIGN` seconds after sending; returns it and the settings to run with."""
    fake = FakeDiadoc(auto_sign_after=DEV_AUTO_SIGN, open_registry=True).start_in_thread()
    fake.add_client(DEV_CLIENT_ID)
    fake.add_user(DEV_LOGIN, DEV_PASSWORD)
    fake.add_box(DEV_PARTICIPANT, owner=DEV_LOGIN, title="Демо-водоканал", box_id=DEV_BOX)
    return fake, {"diadoc_api_url": fake.url}


async def configure_dev_tenant(core: Any, tenant: Any, api_url: str) -> None:
    """The demo tenant's EDO settings for the dev server's fake (switched on, our box, the dev credentials
    sealed with the app's key), unless the tenant has settings of its own already (a real operator's address);
    settings made for an earlier dev run (a fake on another port) or left without an address are refreshed."""
    from aquabill.channels.edo.runner import seal_credentials
    from aquabill.legal_entities import edo_store
    from aquabill.tenants.context import tenant_transaction

    async with tenant_transaction(core.engines, tenant) as conn:
        own = await edo_store.get_settings(conn)
        if own is not None and own.get("api_url") and not str(own["api_url"]).startswith("http://127.0.0.1"):
            return
        await edo_store.save_settings(
            conn, {"enabled": True, "api_url": api_url, "client_id": DEV_CLIENT_ID, "box_id": DEV_BOX,
                   "participant_id": DEV_PARTICIPANT},
            sealed=seal_credentials(core.settings.secret_key, DEV_LOGIN, DEV_PASSWORD), user_id=None)
