"""Notices by SMS through SMS.ru's HTTP API (`channels/sms/smsru.py` describes the protocol and the setting).

Concurrent sends are coalesced (`batching.Batcher`): one `POST /sms/send` carries up to 100 messages, a lone
one as `to` + `msg`, several as `multi[<number>]=<text>` (SMS.ru's form for different texts to different
numbers, up to 100 per request, as its published PHP class sends it). The answer has an entry per number
(`sms` → number → status, status_code, sms_id); SMS.ru's old description says that with several numbers one
wrong number can make it refuse the whole request, so a batch refused for a number's reason is sent again
one message at a time.

SMS.ru takes no idempotency key: a request whose answer was lost (time-out, broken connection) may have been
sent, and sending it again may deliver it twice (reported as `retry`, the detail says so). Its send answer
has no price either: `parts` is counted here (`channels/sms/parts.py`), `cost` is taken from the answer only
if an entry carries one.

Codes (SMS.ru's API page, "Отправка сообщений"): 100 accepted → 'sent'; the number's or the text's faults
(202 wrong number, 203 no text, 204 sender name not approved, 205 too long, 207 no route, 209 stop-list, 212
not UTF-8, 214 abroad forbidden, 215 global stop-list, 216/217 forbidden words, 221 sender name needed) and
the account's (200/300/301 key, 302 account not confirmed, 233 anti-fraud) → 'failed'; 201 no money, 206
daily limit, 220 service unavailable, 230–232 per-number limits → retry later.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from aquabill.channels.notify.batching import Batcher, BatcherClosed
from aquabill.channels.sms.parts import sms_parts
from aquabill.channels.sms.smsru import STATUS_TEXTS, SmsRuConfig, parse_sms_url, send_form
from aquabill.notifications.ports import Delivery, Outgoing

BATCH = 100  # SMS.ru: up to 100 numbers per request
RETRY_CODES = frozenset({201, 206, 220, 230, 231, 232})
NUMBER_CODES = frozenset({202, 207, 209, 214, 215, 230, 231, 232})  # a batch refused for one number's reason


def digits_of(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())


def batch_form(config: SmsRuConfig, messages: list[Outgoing]) -> dict[str, str]:
    """The form of one request: `to` + `msg` for one message, `multi[<number>]` for several."""
    if len(messages) == 1:
        return send_form(config, messages[0].address, messages[0].text)
    form = send_form(config, messages[0].address, messages[0].text)
    del form["to"], form["msg"]
    for m in messages:
        form[f"multi[{digits_of(m.address)}]"] = m.text
    return form


def _reason(entry: dict[str, Any]) -> tuple[int | None, str]:
    code = entry.get("status_code")
    try:
        code = int(code) if code is not None else None
    except (TypeError, ValueError):
        code = None
    text = entry.get("status_text") or STATUS_TEXTS.get(code if code is not None else -1, "")
    return code, (f"{text} (код {code})" if text else f"код {code}")


def _refused(entry: dict[str, Any], parts: int) -> Delivery:
    code, reason = _reason(entry)
    if code in RETRY_CODES:
        return Delivery("failed", detail=f"SMS-шлюз временно не принял сообщение: {reason}", retry=True, parts=parts)
    return Delivery("failed", detail=f"SMS-шлюз не принял сообщение: {reason}", parts=parts)


def _cost(entry: dict[str, Any]) -> Decimal | None:
    raw = entry.get("cost")
    if raw is None:
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        return None


def read_answer(body: bytes, messages: list[Outgoing]) -> list[Delivery] | dict[str, Any]:
    """Each message's delivery from the gateway's answer; the answer itself (a dict) when the whole request
    was refused (top-level status ERROR), for the caller to decide."""
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        return [Delivery("failed", detail="SMS-шлюз ответил не в формате JSON", retry=True,
                         parts=sms_parts(m.text)) for m in messages]
    if answer.get("status") != "OK":
        return answer
    entries = answer.get("sms") if isinstance(answer.get("sms"), dict) else {}
    out = []
    for m in messages:
        parts = sms_parts(m.text)
        entry = entries.get(digits_of(m.address))
        if not isinstance(entry, dict):
            out.append(Delivery("failed", detail="В ответе SMS-шлюза нет этого номера", retry=True, parts=parts))
        elif entry.get("status") == "OK":
            counted = entry.get("sms")
            out.append(Delivery("sent", external_id=str(entry.get("sms_id") or "") or None,
                                parts=counted if isinstance(counted, int) and counted > 0 else parts,
                                cost=_cost(entry)))
        else:
            out.append(_refused(entry, parts))
    return out


class SmsSender:
    """`notifications.ports.Sender` for 'sms'."""

    channel = "sms"

    def __init__(self, config: SmsRuConfig, *, workers: int = 4, batch: int = BATCH,
                 http: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(config.timeout, connect=5.0),
                                               limits=httpx.Limits(max_connections=workers * 2))
        self._batcher: Batcher[Outgoing, Delivery] = Batcher(self._flush, size=batch, workers=workers,
                                                             key=lambda m: digits_of(m.address))

    @classmethod
    def from_url(cls, url: str, **kw) -> SmsSender:
        """ValueError with the reason when `url` is not an SMS.ru setting."""
        return cls(parse_sms_url(url), **kw)

    @property
    def requests(self) -> int:
        return self._batcher.flushes

    async def send(self, message: Outgoing) -> Delivery:
        digits = digits_of(message.address)
        if not 10 <= len(digits) <= 15:
            return Delivery("failed", detail=f"Неверный номер телефона: {message.address}")
        if not message.text.strip():
            return Delivery("failed", detail="Пустой текст сообщения", parts=0)
        try:
            return await self._batcher.submit(message)
        except BatcherClosed:
            return Delivery("failed", detail="Отправка SMS остановлена", retry=True, parts=sms_parts(message.text))

    async def _flush(self, messages: list[Outgoing]) -> list[Delivery]:
        answer = await self._post(messages)
        if isinstance(answer, list):
            return answer
        code, reason = _reason(answer)
        if len(messages) > 1 and code in NUMBER_CODES:  # one number may have spoilt the batch: one by one
            return [(await self._flush([m]))[0] for m in messages]
        return [_refused(answer, sms_parts(m.text)) for m in messages]

    async def _post(self, messages: list[Outgoing]) -> list[Delivery] | dict[str, Any]:
        def transient(detail: str) -> list[Delivery]:
            return [Delivery("failed", detail=detail, retry=True, parts=sms_parts(m.text)) for m in messages]

        try:
            response = await self._http.post(self.config.endpoint, data=batch_form(self.config, messages))
        except httpx.ConnectError as exc:
            return transient(f"Нет связи с SMS-шлюзом ({exc.__class__.__name__})")
        except httpx.HTTPError as exc:  # the request may have reached the gateway: a resend may duplicate
            return transient(f"SMS-шлюз не ответил ({exc.__class__.__name__}); сообщение могло уйти, "
                             "повтор может его задвоить")
        if response.status_code != 200:
            return transient(f"SMS-шлюз ответил HTTP {response.status_code}")
        return read_answer(response.content, messages)

    async def close(self) -> None:
        await self._batcher.close()
        await self._http.aclose()
