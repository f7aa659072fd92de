"""SMS through SMS.ru's HTTP API: the `SmsSender` of `subscribers.ports`.

The protocol (SMS.ru's API page "Отправка сообщений", https://sms.ru/api/send, as its published client
samples use it — a PHP sample posting to https://sms.ru/sms/send with `json=1`): `POST {base}/sms/send` (GET works alike) with the form fields
`api_id` (the account's key), `to` (the number, digits only: 79161234567), `msg` (UTF-8 text), `json=1`
(answer in JSON), optionally `from` (an approved sender name) and `test=1` (checked and answered, not sent).
The answer:

    {"status": "OK", "status_code": 100,
     "sms": {"79161234567": {"status": "OK", "status_code": 100, "sms_id": "000000-10000000"}},
     "balance": 4122.56}

A refused request has `"status": "ERROR"` with its `status_code` and `status_text` at the top (200 wrong
api_id, 201 not enough money, …); a refused number has them in its own entry under `sms` (202 wrong
number, 207 number not allowed, …).

The setting `AQUABILL_SMS_URL` is the base address with the key (and the optional fields) in its query:
`https://sms.ru/?api_id=XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX[&from=Vodokanal][&test=1]`. Tests and the dev
server point it at the local fake (`devserver/fakes/sms_gateway.py`), which speaks the same API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx

from aquabill.subscribers.ports import DeliveryFailed

# what SMS.ru's codes mean (its API page); the answer's own status_text is preferred when there is one
STATUS_TEXTS = {
    200: "неправильный api_id", 201: "не хватает средств на счёте", 202: "неправильно указан номер телефона",
    203: "нет текста сообщения", 204: "имя отправителя не согласовано", 205: "сообщение слишком длинное",
    206: "превышен дневной лимит сообщений", 207: "на этот номер нельзя отправлять сообщения",
    208: "неправильно указано время отправки", 209: "номер в стоп-листе", 220: "сервис временно недоступен",
    230: "превышен лимит сообщений на этот номер в день", 231: "превышен лимит одинаковых сообщений в минуту",
    232: "превышен лимит одинаковых сообщений в день", 300: "неправильный token", 301: "неправильный api_id",
    302: "аккаунт не подтверждён",
}


@dataclass(frozen=True, slots=True)
class SmsRuConfig:
    endpoint: str  # https://sms.ru/sms/send
    api_id: str = field(repr=False)
    sender: str = ""  # `from`
    test: bool = False
    timeout: float = 15.0


def parse_sms_url(url: str) -> SmsRuConfig:
    parts = urlsplit(url.strip())
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if parts.scheme not in ("http", "https") or not parts.netloc or not query.get("api_id"):
        raise ValueError("ожидается https://sms.ru/?api_id=КЛЮЧ[&from=ИМЯ][&test=1]")
    endpoint = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/sms/send", "", ""))
    return SmsRuConfig(endpoint=endpoint, api_id=query["api_id"], sender=query.get("from", ""),
                       test=query.get("test", "0") in ("1", "true", "yes"))


def send_form(config: SmsRuConfig, phone: str, text: str) -> dict[str, str]:
    """The request's form fields for one message to `phone` (+7XXXXXXXXXX or digits)."""
    form = {"api_id": config.api_id, "to": "".join(c for c in phone if c.isdigit()), "msg": text, "json": "1"}
    if config.sender:
        form["from"] = config.sender
    if config.test:
        form["test"] = "1"
    return form


def _reason(entry: dict[str, Any]) -> str:
    code = entry.get("status_code")
    text = entry.get("status_text") or STATUS_TEXTS.get(code if isinstance(code, int) else -1, "")
    return f"{text} (код {code})" if text else f"код {code}"


def read_send_answer(body: bytes, phone: str) -> str:
    """The message id SMS.ru gave the message to `phone`; DeliveryFailed with the reason when it was refused."""
    try:
        answer = json.loads(body)
    except ValueError:
        raise DeliveryFailed("Не удалось отправить SMS: шлюз ответил не в формате JSON") from None
    if not isinstance(answer, dict):
        raise DeliveryFailed("Не удалось отправить SMS: непонятный ответ шлюза")
    if answer.get("status") != "OK":
        raise DeliveryFailed(f"Не удалось отправить SMS: {_reason(answer)}")
    sms = answer.get("sms") if isinstance(answer.get("sms"), dict) else {}
    digits = "".join(c for c in phone if c.isdigit())
    entry = sms.get(digits) or (next(iter(sms.values())) if len(sms) == 1 else None)
    if not isinstance(entry, dict):
        raise DeliveryFailed("Не удалось отправить SMS: в ответе шлюза нет этого номера")
    if entry.get("status") != "OK":
        raise DeliveryFailed(f"Не удалось отправить SMS на номер: {_reason(entry)}")
    return str(entry.get("sms_id") or "")


class SmsRuSender:
    """Sends SMS through SMS.ru (a `subscribers.ports.SmsSender`)."""

    def __init__(self, config: SmsRuConfig) -> None:
        self.config = config

    @classmethod
    def from_url(cls, url: str) -> SmsRuSender:
        try:
            return cls(parse_sms_url(url))
        except ValueError as exc:
            raise DeliveryFailed(f"Неверная настройка SMS-шлюза (AQUABILL_SMS_URL): {exc}") from exc

    async def send(self, phone: str, text: str) -> str:
        try:
            async with httpx.AsyncClient(timeout=self.config.timeout) as client:
                response = await client.post(self.config.endpoint, data=send_form(self.config, phone, text))
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"Не удалось отправить SMS: нет связи со шлюзом ({exc.__class__.__name__})") \
                from exc
        if response.status_code != 200:
            raise DeliveryFailed(f"Не удалось отправить SMS: шлюз ответил HTTP {response.status_code}")
        return read_send_answer(response.content, phone)
