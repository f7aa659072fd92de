"""A call as the contact center records it (the telephony channel folds its events into one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CallRecord:
    linkedid: str
    uniqueid: str
    direction: str  # inbound | outbound
    caller: str | None
    called: str | None
    started_at: datetime
    queue: str | None = None
    agent_extension: str | None = None
    queued_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    status: str = "in_progress"  # in_progress | answered | missed | abandoned
    recording: str | None = None
    hangup_cause: str | None = None

    @property
    def duration_s(self) -> int | None:
        """Whole call, from the first ring to the hang-up."""
        return None if self.ended_at is None else max(0, round((self.ended_at - self.started_at).total_seconds()))

    @property
    def talk_s(self) -> int | None:
        if self.ended_at is None or self.answered_at is None:
            return None
        return max(0, round((self.ended_at - self.answered_at).total_seconds()))

    @property
    def wait_s(self) -> int | None:
        """How long the caller waited: until an agent answered, or until the hang-up when nobody did."""
        until = self.answered_at or self.ended_at
        return None if until is None else max(0, round((until - self.started_at).total_seconds()))
