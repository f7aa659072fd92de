"""The call-control capability (click-to-call, call-back): what the platform asks of a telephony system,
without naming one. The Asterisk adapter is `channels.asterisk.AmiCallControl`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class CallControlError(Exception):
    """The telephony system refused or could not be reached (message for people, in Russian)."""


@dataclass(frozen=True, slots=True)
class OriginateRequest:
    call_ref: str  # our id of the new call: becomes the root channel's unique id
    extension: str  # the agent's phone: it rings first, then the number is dialled
    number: str  # what to dial (as the dial plan expects it)
    caller_id: str = ""


class CallControl(Protocol):
    async def originate(self, request: OriginateRequest) -> None:
        """Start the call; returns once the telephony system has accepted it (CallControlError if not)."""
        ...
