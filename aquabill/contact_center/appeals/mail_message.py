"""An incoming e-mail as the appeals domain sees it (the mail channel parses raw messages into it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Attachment:
    file_name: str
    content_type: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True, slots=True)
class MailMessage:
    message_id: str  # the Message-ID header, or "sha256:<digest of the raw bytes>" when there is none
    from_addr: str
    from_name: str
    to_addr: str
    subject: str
    sent_at: datetime | None
    body_text: str
    attachments: tuple[Attachment, ...] = field(default=())
