"""The personal account named in a payment's purpose text (1C statements of legal entities, bank transfers)."""

from __future__ import annotations

import re

# «л/с 0000101», «л.с. 101», «ЛС№101», «лицевой счет: 101», «лиц. сч. 101», «по лицевому счёту 101»
_ACCOUNT = re.compile(
    r"(?<![а-яёa-z])(?:л\s*[./]?\s*/?\s*с\.?|лиц\.?\s*сч\.?|лицев\w*\s+сч[её]т\w*)\s*(?:№|n|#|:|-)?\s*(\d[\d-]{0,30}\d|\d)",
    re.IGNORECASE,
)


def account_in_purpose(purpose: str) -> str | None:
    """The first personal account number written after «л/с», «ЛС», «лицевой счет» etc., or None."""
    m = _ACCOUNT.search(purpose or "")
    return m[1] if m else None
