"""The receipt's payment QR as a 1-bit matrix, drawn on a PDF page as an image mask: no image encoding, one
bit a module, painted sharp (no interpolation) at any resolution.

The bytes are those of the receipt page (`platform/web/billing/receipt_view.py`): the GOST R 56042 string in
the encoding its header names (`encode_payment_string`), byte mode, error correction level M. The matrix comes
from libzint (C, zint-bindings), measured on 300 receipt strings of ~500 bytes (version 18, 85 modules):
segno, which draws the page's SVG, ~25 ms a symbol (its mask choice is pure Python); zxing-cpp 1.8 ms;
libzint 1.3 ms, 0.65 ms in its fast mode (plain byte mode, no segment optimisation: the same symbol sizes
here). Drawn as vector rectangles (~1,500 a symbol) the QR took another 4–6 ms of Python per page to lay out;
as an image mask ~0.05 ms.
"""

from __future__ import annotations

from dataclasses import dataclass

import zint

from aquabill.billing_core.payments.qr import encode_payment_string

ROW_BYTES = 144  # libzint's encoded_data: 200 rows of 144 bytes, a module a bit, least significant bit first
_REVERSED = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))  # → most significant bit first, as PDF wants


class QrTooLong(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class QrSymbol:
    size: int  # modules a side (no quiet zone)
    bits: bytes  # rows top to bottom, 1 bit a module (1 = dark), each row padded to whole bytes


def payment_qr(payment_string: str) -> QrSymbol:
    """The QR symbol of a receipt's payment string (level M, the bytes in the header's encoding)."""
    symbol = zint.Symbol()
    symbol.symbology = zint.Symbology.QRCODE
    symbol.option_1 = 2  # error correction level M
    symbol.input_mode = zint.InputMode.DATA | zint.InputMode.FAST  # the bytes as they are, no ECI
    try:
        symbol.encode(encode_payment_string(payment_string))
    except RuntimeError as exc:  # more than a version 40 symbol holds
        raise QrTooLong(f"Строка QR-кода оплаты слишком длинная: {exc}") from exc
    size = symbol.width
    used = (size + 7) // 8
    data = bytes(memoryview(symbol.encoded_data))
    rows = b"".join(data[r * ROW_BYTES:r * ROW_BYTES + used] for r in range(symbol.rows))
    return QrSymbol(size, rows.translate(_REVERSED))
