"""The dev server's SMTP peer: letters to subscribers (confirmation links, reset links, receipts) are
accepted over real SMTP on loopback, kept as .eml files under `var/mail/` and listed on the console, so the
portal's registration works end to end on a machine without a mail server. Production sets
`AQUABILL_SMTP_URL` to a real relay instead."""

from __future__ import annotations

import re
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller

from aquabill.devserver.services import free_port

LINK = re.compile(r"https?://\S+")


class _Keep:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        raw = envelope.original_content or envelope.content
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        path = self.folder / f"{stamp}.eml"
        path.write_bytes(raw)
        msg = message_from_bytes(raw, policy=policy.default)
        body = msg.get_body(preferencelist=("plain", "html"))
        text = body.get_content() if body is not None else ""
        links = " ".join(LINK.findall(text)[:2])
        print(f"Письмо для {', '.join(envelope.rcpt_tos)}: «{msg['subject']}» → {path}"
              + (f"\n  ссылка: {links}" if links else ""), flush=True)
        return "250 OK"


class MailSink:
    """An SMTP server on 127.0.0.1 keeping what it receives as files."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._controller = Controller(_Keep(self.folder), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
