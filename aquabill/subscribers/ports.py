"""What the subscribers' doors ask of the outside world, as capabilities (`typing.Protocol`): sending a letter
and sending an SMS. The adapters live in `channels/` (mail/outgoing.py: SMTP; sms/smsru.py: SMS.ru); core
code never names a vendor. A failed delivery raises `DeliveryFailed` with the reason in Russian — a
`DomainError` (502), so a page or the API shows it plainly and callers may catch it like any refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from aquabill.base.errors import DomainError


@dataclass(frozen=True, slots=True)
class Letter:
    """One e-mail: plain text, with an HTML alternative when `html` is not empty."""

    to: str
    subject: str
    text: str
    html: str = ""


class DeliveryFailed(DomainError):
    """A letter or an SMS was not handed over to the provider; the message says why, in Russian."""

    status_code = 502
    code = "delivery_failed"


class MailSender(Protocol):
    async def send(self, letter: Letter) -> None:
        """Hand the letter to the mail server; raise `DeliveryFailed` when it is refused or unreachable."""
        ...


class SmsSender(Protocol):
    async def send(self, phone: str, text: str) -> str:
        """Send `text` to `phone` (+7XXXXXXXXXX); return the provider's message id; raise `DeliveryFailed`."""
        ...
