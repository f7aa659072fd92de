"""What a campaign asks of a channel: send one message to one address and say what became of it.

Every adapter (`aquabill.channels.*`) implements `Sender` for its channel; the campaign runner knows
nothing of SMTP, SMS gateways, Bot APIs or AMI. `Outgoing.key` is the idempotency key of one delivery
(campaign × recipient × channel): adapters whose peer accepts such a key pass it on, so a retried
send after a crash is not delivered twice by the peer either. Such a sender says so with a class attribute
`idempotent = True` (optional; absent means False): only then does the runner send a delivery again whose
worker died between claiming and recording it (notifications/delivery_store.py documents the rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

CHANNELS = ("email", "sms", "telegram", "max", "autocall", "inbox")

# What a delivery ended as. 'sent': handed to the peer; 'delivered': the peer confirmed it reached the
# person; 'answered' / 'busy' / 'no_answer': an autocall's outcome; 'failed': a permanent failure
# (bad address, bounce, rejected); 'skipped': not attempted (opt-out, no address, quiet hours passed).
STATUSES = ("sent", "delivered", "answered", "busy", "no_answer", "failed", "skipped")


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a letter (the receipt's PDF of a paperless account); only e-mail carries them."""

    filename: str
    content: bytes
    mime_type: str = "application/pdf"


@dataclass(frozen=True, slots=True)
class Outgoing:
    key: str  # idempotency key: "<campaign>:<recipient>:<channel>"
    channel: str  # one of CHANNELS
    address: str  # e-mail; phone as +7XXXXXXXXXX; messenger chat id; subscriber id (inbox)
    subject: str  # e-mail subject, inbox title; others ignore it
    text: str  # the rendered body, plain text
    sound: str | None = None  # autocall: the prepared sound's name (Asterisk Playback argument)
    account_id: int | None = None  # whose account the message is about (inbox links to it)
    attachments: tuple[Attachment, ...] = ()  # e-mail only (receipts); other channels ignore them


@dataclass(frozen=True, slots=True)
class Delivery:
    status: str  # one of STATUSES
    detail: str = ""  # a Russian text for the page (the peer's answer, the reason of a failure)
    external_id: str | None = None  # the peer's id of the message or call
    retry: bool = False  # a transient failure (peer down, rate limited): the runner tries again later
    parts: int = 1  # SMS parts
    cost: Decimal | None = None  # what the peer charged, when it says
    unreachable: bool = False  # the address can no longer be reached (bot blocked, chat gone): stop using it


class Sender(Protocol):
    channel: str

    async def send(self, message: Outgoing) -> Delivery: ...

    async def close(self) -> None: ...
