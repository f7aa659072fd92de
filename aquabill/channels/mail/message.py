"""Reading an RFC 822 / MIME message (pure): headers decoded (RFC 2047 encoded words, any charset), the
text body (text/plain preferred, else text/html stripped of tags) and the attachments with their bytes."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from aquabill.contact_center.appeals.mail_message import Attachment, MailMessage

_TAGS = re.compile(r"<[^>]+>")
_BLANKS = re.compile(r"\n\s*\n\s*\n+")
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except (ValueError, IndexError, AttributeError):  # a header too broken for the parser's policy
        value = msg.get_all(name, failobj=[""])[0] if hasattr(msg, "get_all") else ""
    return " ".join(str(value or "").split())


def _text_of(part: EmailMessage) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError, KeyError):  # unknown or lying charset
        payload = part.get_payload(decode=True) or b""
        for charset in (part.get_content_charset(), "utf-8", "cp1251", "koi8-r"):
            if not charset:
                continue
            try:
                return payload.decode(charset)
            except (LookupError, UnicodeError):
                continue
        return payload.decode("utf-8", errors="replace")


def html_to_text(markup: str) -> str:
    markup = _SCRIPT.sub("", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>", "\n", markup)
    return _BLANKS.sub("\n\n", html.unescape(_TAGS.sub("", markup))).strip()


def _body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = _text_of(part)
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    return text.replace("\r\n", "\n").strip()


def _attachments(msg: EmailMessage) -> tuple[Attachment, ...]:
    found = []
    for n, part in enumerate(msg.iter_attachments() if msg.is_multipart() else (), start=1):
        if part.is_multipart():
            continue
        content = part.get_payload(decode=True) or b""
        name = part.get_filename() or f"attachment-{n}"
        found.append(Attachment(file_name=" ".join(str(name).split()), content_type=part.get_content_type(),
                                content=content))
    return tuple(found)


def _date(msg: EmailMessage) -> datetime | None:
    raw = _header(msg, "Date")
    if not raw:
        return None
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_message(raw: bytes) -> MailMessage:
    """Read one message as received; never raises on a malformed one (what can be read is kept)."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    from_name, from_addr = parseaddr(_header(msg, "From"))
    to = ", ".join(addr for _, addr in getaddresses([_header(msg, "To")]) if addr)
    message_id = _header(msg, "Message-ID") or "sha256:" + hashlib.sha256(raw).hexdigest()
    return MailMessage(message_id=message_id[:500], from_addr=from_addr.lower(), from_name=from_name,
                       to_addr=to, subject=_header(msg, "Subject"), sent_at=_date(msg), body_text=_body(msg),
                       attachments=_attachments(msg))


_ACCOUNT_AFTER_WORD = re.compile(
    r"(?:лицев\w*\s+сч[её]т\w*|л\s*/\s*с|лс|сч[её]т)\s*(?:№|n|no\.?|#)?\s*[:.]?\s*([0-9A-Za-zА-Яа-я-]{3,32})",
    re.I)
_DIGITS = re.compile(r"(?<![\d.,])\d{6,12}(?![\d.,])")


def account_number_candidates(*texts: str) -> list[str]:
    """Strings in a message that may be a personal account number: first those written after «лицевой
    счёт», «л/с», «ЛС», «счёт №», then standalone runs of 6–12 digits; in order, without repeats."""
    found: list[str] = []
    for text in texts:
        for m in _ACCOUNT_AFTER_WORD.finditer(text or ""):
            found.append(m.group(1).strip("-"))
    for text in texts:
        found.extend(_DIGITS.findall(text or ""))
    return list(dict.fromkeys(c for c in found if c))
