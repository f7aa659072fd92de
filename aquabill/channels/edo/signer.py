"""The signature under a document sent through EDO: `Signer.sign(content) -> bytes`, a detached CMS (PKCS #7)
signature in DER, which Diadoc takes as `SignedContent.Signature`.

`DevelopmentSigner` signs with an RSA key and a self-signed certificate made when it starts. It is NOT an
electronic signature in the sense of law: no operator accepts it as one, and a document signed with it has no
legal force. It exists so that the whole path (sign → send → statuses) runs on a developer's machine against the
local fake. A production signer (see the README, "EDO") signs with a qualified electronic signature (Federal
Law 63-FZ of 06.04.2011, art. 5 p. 4) — GOST R 34.10-2012 keys in CryptoPro CSP or a cloud signature service
(Diadoc's own `CloudSign`/`DssSign` included), the certificate of the organisation's head, or of an employee
acting under a machine-readable power of attorney (МЧД: the amendments of Federal Law 476-FZ of 27.12.2019 to
63-FZ, first due 01.01.2022, with employees signing by their own certificate plus an МЧД from 01.09.2023). Verified:
476-FZ is the amending law (eg-online.ru, profiz.ru); not verified against the text: the article number (17.2)
and the amending act that moved the date to 01.09.2023."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID


class Signer(Protocol):
    def sign(self, content: bytes) -> bytes:
        """A detached CMS signature of `content`, DER-encoded."""
        ...


class DevelopmentSigner:
    """Self-signed, for development and tests only — NOT a legally valid signature (see the module)."""

    legally_valid = False

    def __init__(self, organisation: str = "Aquabill TEST signature - NOT legally valid") -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, organisation[:64])])
        now = dt.datetime.now(dt.UTC)
        self.certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                            .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
                            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365))
                            .sign(self._key, hashes.SHA256()))

    def sign(self, content: bytes) -> bytes:
        return (pkcs7.PKCS7SignatureBuilder().set_data(content)
                .add_signer(self.certificate, self._key, hashes.SHA256())
                .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature]))


_lock = threading.Lock()
_development: DevelopmentSigner | None = None


def development_signer() -> DevelopmentSigner:
    """One per process (making an RSA key takes a moment)."""
    global _development
    with _lock:
        if _development is None:
            _development = DevelopmentSigner()
        return _development
