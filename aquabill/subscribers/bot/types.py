"""The neutral types of a bot conversation: what a messenger adapter hands in (`BotEvent`) and what it
sends back (`Reply`). No messenger names anything here; each adapter maps its own updates and keyboards.

Button payloads are short codes (`bal:123`), at most 64 bytes of UTF-8 — Telegram's `callback_data` limit,
the stricter of the two messengers (MAX allows more).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from aquabill.billing_core.periods import Period

CHANNELS = ("telegram", "max")
MAX_PAYLOAD_BYTES = 64
MAX_TEXT = 3900  # below both messengers' limits (Telegram 4096, MAX 4000)


class PayloadTooLong(ValueError):
    pass


def check_payload(payload: str) -> str:
    """A button's payload as given, or PayloadTooLong when it does not fit a callback (1..64 bytes)."""
    size = len(payload.encode())
    if not 1 <= size <= MAX_PAYLOAD_BYTES:
        raise PayloadTooLong(f"payload of {size} bytes (1..{MAX_PAYLOAD_BYTES}): {payload[:80]!r}")
    return payload


@dataclass(frozen=True, slots=True)
class Button:
    """A button: pressing it sends `payload` back to the bot, or opens `url`."""

    label: str
    payload: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if (self.payload is None) == (self.url is None):
            raise ValueError("a button has exactly one of payload and url")
        if self.payload is not None:
            check_payload(self.payload)


@dataclass(frozen=True, slots=True)
class Document:
    """A file sent with the reply (e.g. a receipt)."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to the chat: text and buttons as rows; optionally a document."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    document: Document | None = None

    def payloads(self) -> list[str]:
        return [b.payload for row in self.buttons for b in row if b.payload is not None]


@dataclass(frozen=True, slots=True)
class PhotoRef:
    """A photo the subscriber sent: the messenger's reference (Telegram `file_id`, MAX `url`)."""

    ref: str
    mime_type: str = "image/jpeg"


@dataclass(frozen=True, slots=True)
class Contact:
    """A phone number the subscriber shared; `own` when the messenger says it is the sender's own."""

    phone: str
    own: bool = False


@dataclass(frozen=True, slots=True)
class BotEvent:
    """One incoming update, as the conversation sees it.

    `update_key` identifies the delivery (Telegram `update_id`, MAX `mid` / `callback_id`): a repeated one
    is answered once. `chat_key` is where replies go. `payload` is set for a button press, `text` for a
    typed message (a command such as /start included), `photo` / `contact` for those attachments."""

    channel: str
    chat_key: str
    update_key: str
    text: str | None = None
    payload: str | None = None
    photo: PhotoRef | None = None
    contact: Contact | None = None
    name: str = ""  # the sender's name as the messenger shows it (for a new subscriber's record)

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}")
        if not self.chat_key or not self.update_key:
            raise ValueError("chat_key and update_key are required")


PhotoFetcher = Callable[[PhotoRef], Awaitable[bytes]]
ReceiptPdf = Callable[[Any, int, Period], Awaitable[bytes]]  # (the tenant connection, account id, month)


@dataclass(frozen=True, slots=True)
class BotEnv:
    """What the conversation needs from outside, given by the runtime: today's date (the tenant's time
    zone), the tenant's slug and name, where the public pages are (`base_url`), the secret that signs pay
    links, and how to download a photo the subscriber sent (the adapter's capability)."""

    today: date
    tenant_slug: str
    tenant_name: str
    base_url: str
    pay_secret: str
    fetch_photo: PhotoFetcher | None = None
    channel: str = ""  # 'telegram' | 'max': the pay link says where the payment came from
    # the account's receipt of a month as the PDF the portal gives (conn, account id, month) → bytes; None: the
    # bot sends its HTML receipt instead (the domain cannot render PDFs: channels/bots/service.py fills it)
    receipt_pdf: ReceiptPdf | None = None
    # the tenant's quoted schema when `handle` binds the transaction itself (its first statement sets the
    # search_path: one round trip less per event); empty: the caller bound it (`tenant_transaction`)
    schema: str = ""


@dataclass
class Outcome:
    """What handling an event produced: the replies (in order), events to publish after the commit (name,
    data), and whether it was a repeated delivery (then nothing else)."""

    replies: list[Reply] = field(default_factory=list)
    events: list[tuple[str, dict]] = field(default_factory=list)
    duplicate: bool = False
