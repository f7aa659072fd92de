"""Secrets stored in tenant tables (passwords of mailboxes, telephony, partners): Fernet (AES-128-CBC +
HMAC-SHA256) with a key derived from the app's secret key (`AQUABILL_SECRET_KEY`).

`SecretBox(settings.secret_key).seal("password")` → a text token for the database;
`.open(token)` → the password. A token sealed under another secret key does not open (ValueError).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

_CONTEXT = b"aquabill:secret-box:v1:"


class SecretBox:
    def __init__(self, secret_key: str) -> None:
        key = hashlib.sha256(_CONTEXT + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode("ascii")

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError, ValueError) as exc:
            raise ValueError("секрет не расшифровывается: ключ приложения сменился или запись повреждена") from exc

    def __repr__(self) -> str:
        return "SecretBox(**********)"
