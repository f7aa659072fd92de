"""Payment links: `/pay/{token}` lets whoever holds the link pay one account of one tenant without signing in
(the bots send it: `f"{settings.base_url}/pay/{token}"`).

The token is `<payload>.<signature>`, both base64url without padding: the payload `<tenant slug>:<account id>`,
the signature the first 16 bytes of HMAC-SHA256 of the payload under a key derived from the service's secret
key for this one purpose. So a link cannot be made for another account or another tenant, and a changed
token is refused as a whole. A link does not expire: it only lets someone pay (the page shows the account's
number and the sum due, nothing about the holder).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

from aquabill.base.errors import Invalid

_CONTEXT = b"aquabill:pay-link:v1:"
_SLUG = re.compile(r"^[a-z][a-z0-9-]{1,39}$")  # tenants.naming.SLUG_RE
BAD_LINK = "Ссылка на оплату недействительна: возьмите новую в личном кабинете или у бота"
MAX_TOKEN = 200


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: bytes) -> bytes:
    key = hashlib.sha256(_CONTEXT + secret.encode()).digest()
    return hmac.new(key, payload, hashlib.sha256).digest()[:16]


def pay_token(secret: str, tenant_slug: str, account_id: int) -> str:
    """The signed, URL-safe token of a payment link for `account_id` of the tenant `tenant_slug`."""
    if not _SLUG.match(tenant_slug) or not 0 < account_id < 2**31:
        raise ValueError(f"no payment link for {tenant_slug!r} / {account_id!r}")
    payload = f"{tenant_slug}:{account_id}".encode()
    return f"{_b64(payload)}.{_b64(_signature(secret, payload))}"


def read_pay_token(secret: str, token: str) -> tuple[str, int]:
    """(tenant slug, account id) of a token made by `pay_token`; `Invalid` for anything else."""
    try:
        if len(token) > MAX_TOKEN or token.count(".") != 1:
            raise ValueError("shape")
        payload_text, signature_text = token.split(".")
        payload, signature = _unb64(payload_text), _unb64(signature_text)
        if not hmac.compare_digest(signature, _signature(secret, payload)):
            raise ValueError("signature")
        slug, _, number = payload.decode("ascii").partition(":")
        if not _SLUG.match(slug) or not number.isdigit() or not 0 < int(number) < 2**31:
            raise ValueError("payload")
        return slug, int(number)
    except (ValueError, binascii.Error, UnicodeError):
        raise Invalid(BAD_LINK, field="token") from None
