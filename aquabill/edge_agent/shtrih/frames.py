"""Shtrih-M wire format: pure encode/decode of frames, numbers, money, text and FFD TLVs (no I/O).

Facts from `../shared/reference/fiscal-registers/NOTES-shtrih.md` §1 (pyshtrih `protocol.py`/`misc.py`,
the vendor's OPOS `PrinterProtocol1.pas`):
- host → device: `STX, LEN, CMD (1 byte, or 2 bytes FF nn), DATA…, LRC`; LEN counts CMD+DATA (≤ 255);
  LRC = XOR of LEN and CMD+DATA;
- device → host: `STX, LEN, CMD, ERR, DATA…, LRC`; an error answer may stop after ERR (`STX 02 CMD ERR LRC`);
- integers little-endian; money = kopecks in 5 bytes; quantity ×10⁶ in 6 bytes; text cp1251;
- TLV (FFD tags): tag uint16 LE, length uint16 LE, value; strings in CP866.

Money is never rounded here: an amount with more than 2 decimal places (or a quantity with more than 6)
is refused with ProtocolError. Rounding, if any, belongs to whoever builds the receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from aquabill.edge_agent.shtrih.errors import ProtocolError

STX = 0x02
ENQ = 0x05
ACK = 0x06
NAK = 0x15
FILLER = 0xFF

MAX_BODY = 255  # LEN is one byte: CMD+DATA
NO_VALUE_5 = b"\xff" * 5  # FF46h: "the device computes this sum"

TEXT_ENCODING = "cp1251"
TLV_ENCODING = "cp866"


# --- frames ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A device answer: command code, error byte (0 = success) and the data after the error byte."""

    command: int
    error: int
    data: bytes


def lrc(data: bytes) -> int:
    """XOR of all bytes (call it on LEN + CMD + DATA, i.e. the frame without STX and LRC)."""
    value = 0
    for byte in data:
        value ^= byte
    return value


def command_bytes(command: int) -> bytes:
    """1-byte codes as is; 0xFFnn as two bytes `FF nn` (big-endian)."""
    if not 0 <= command <= 0xFFFF or (command > 0xFF and command >> 8 != 0xFF):
        raise ProtocolError(f"Недопустимый код команды {command:#x}")
    return command.to_bytes(2 if command > 0xFF else 1, "big")


def frame(body: bytes) -> bytes:
    """Wrap CMD+DATA (or CMD+ERR+DATA) into `STX LEN body LRC`."""
    if not body or len(body) > MAX_BODY:
        raise ProtocolError(f"Команда слишком длинная для протокола ККТ: {len(body)} байт (не более 255)")
    head = bytes([len(body)]) + body
    return bytes([STX]) + head + bytes([lrc(head)])


def encode_command(command: int, data: bytes = b"") -> bytes:
    """A complete host → device frame."""
    return frame(command_bytes(command) + data)


def encode_answer(command: int, error: int, data: bytes = b"") -> bytes:
    """A complete device → host frame (used by the simulator)."""
    return frame(command_bytes(command) + bytes([error]) + data)


def split_command(body: bytes) -> tuple[int, bytes]:
    """CMD+DATA of a host frame → (command, data)."""
    if not body:
        raise ProtocolError("Пустой кадр")
    if body[0] == 0xFF:
        if len(body) < 2:
            raise ProtocolError("Кадр обрезан: нет второго байта кода команды")
        return 0xFF00 | body[1], body[2:]
    return body[0], body[1:]


def decode_answer(body: bytes) -> Answer:
    """CMD+ERR+DATA of a device frame → Answer (error-only answers have no data)."""
    command, rest = split_command(body)
    if not rest:
        raise ProtocolError(f"Ответ на команду {command:#x} без байта ошибки")
    return Answer(command, rest[0], bytes(rest[1:]))


def check_frame(raw: bytes) -> bytes:
    """A whole received frame `STX LEN body LRC` → body; ProtocolError on a bad STX, length or LRC."""
    if len(raw) < 4 or raw[0] != STX:
        raise ProtocolError("Кадр не начинается с STX")
    if raw[1] != len(raw) - 3:
        raise ProtocolError("Длина кадра не совпадает с полем LEN")
    if lrc(raw[1:-1]) != raw[-1]:
        raise ProtocolError("Неверная контрольная сумма (LRC)")
    return bytes(raw[2:-1])


# --- numbers, money, text --------------------------------------------------------------------------


def le(value: int, size: int) -> bytes:
    """Unsigned little-endian integer of `size` bytes."""
    if value < 0 or value >= 1 << (8 * size):
        raise ProtocolError(f"Число {value} не помещается в {size} байт")
    return value.to_bytes(size, "little")


def from_le(data: bytes, offset: int = 0, size: int | None = None) -> int:
    chunk = data[offset:] if size is None else data[offset:offset + size]
    if size is not None and len(chunk) != size:
        raise ProtocolError("Ответ ККТ короче ожидаемого")
    return int.from_bytes(chunk, "little")


def password(value: int) -> bytes:
    return le(value, 4)


def to_kopecks(amount: Decimal) -> int:
    """Exact kopecks of a non-negative amount; more than 2 decimal places is refused, never rounded."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ProtocolError(f"Сумма должна быть числом Decimal: {amount!r}")
    kopecks = amount * 100
    if kopecks != kopecks.to_integral_value():
        raise ProtocolError(f"Сумма {amount} содержит доли копейки")
    if kopecks < 0:
        raise ProtocolError(f"Сумма {amount} отрицательная")
    return int(kopecks)


def money(amount: Decimal) -> bytes:
    """5-byte kopecks."""
    return le(to_kopecks(amount), 5)


def money_from(data: bytes, offset: int = 0) -> Decimal:
    """5-byte kopecks → Decimal with exactly 2 places."""
    return Decimal(from_le(data, offset, 5)).scaleb(-2)


def quantity(value: Decimal) -> bytes:
    """6-byte quantity ×10⁶ (FF46h)."""
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise ProtocolError(f"Количество должно быть положительным числом: {value!r}")
    scaled = value * 1_000_000
    if scaled != scaled.to_integral_value():
        raise ProtocolError(f"Количество {value}: не более 6 знаков после запятой")
    return le(int(scaled), 6)


def quantity_from(data: bytes, offset: int = 0) -> Decimal:
    return Decimal(from_le(data, offset, 6)) / 1_000_000


def text(value: str, max_len: int, *, pad: bool = False) -> bytes:
    """cp1251 text (characters outside cp1251 become '?'), at most max_len bytes, optionally 0-padded."""
    raw = value.encode(TEXT_ENCODING, errors="replace")
    if len(raw) > max_len:
        raise ProtocolError(f"Текст длиннее {max_len} символов: «{value[:40]}…»")
    return raw.ljust(max_len, b"\x00") if pad else raw


def text_from(data: bytes) -> str:
    return bytes(data).split(b"\x00", 1)[0].decode(TEXT_ENCODING, errors="replace").strip()


def dt(value: datetime) -> bytes:
    """5 bytes YY MM DD hh mm (the register's local clock, minutes)."""
    return bytes([value.year - 2000, value.month, value.day, value.hour, value.minute])


def dt_from(data: bytes, offset: int = 0) -> datetime:
    chunk = data[offset:offset + 5]
    if len(chunk) != 5:
        raise ProtocolError("Ответ ККТ короче ожидаемого (дата и время)")
    try:
        return datetime(2000 + chunk[0], chunk[1], chunk[2], chunk[3], chunk[4])
    except ValueError as exc:
        raise ProtocolError(f"ККТ вернула неверную дату: {chunk.hex(' ')}") from exc


# --- TLV (FFD tags) --------------------------------------------------------------------------------


def tlv(tag: int, value: bytes) -> bytes:
    return le(tag, 2) + le(len(value), 2) + value


def tlv_string(tag: int, value: str, max_len: int, *, fixed: bool = False) -> bytes:
    """String tag in CP866; `fixed` pads with spaces to max_len (INN fields are "String 12 fixed":
    a 10-digit INN gets two trailing spaces — FFD convention, (verify) on a device)."""
    raw = value.encode(TLV_ENCODING, errors="replace")
    if len(raw) > max_len:
        raise ProtocolError(f"Реквизит {tag}: не более {max_len} символов («{value[:40]}»)")
    return tlv(tag, raw.ljust(max_len, b" ") if fixed else raw)


def tlv_byte(tag: int, value: int) -> bytes:
    return tlv(tag, le(value, 1))


def vln(value: int) -> bytes:
    """Unsigned LE integer in as few bytes as needed (at least one)."""
    if value < 0:
        raise ProtocolError(f"VLN не может быть отрицательным: {value}")
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "little")


def tlv_vln(tag: int, value: int) -> bytes:
    return tlv(tag, vln(value))


def tlv_fvln(tag: int, value: Decimal) -> bytes:
    """First byte = number of decimal places, then the unscaled integer LE."""
    sign, digits, exponent = value.normalize().as_tuple()
    if sign or not isinstance(exponent, int):
        raise ProtocolError(f"FVLN: недопустимое значение {value}")
    places = max(0, -exponent)
    unscaled = int(value.scaleb(places))
    return tlv(tag, bytes([places]) + vln(unscaled))


def tlv_stlv(tag: int, *children: bytes) -> bytes:
    return tlv(tag, b"".join(children))


def decode_tlvs(data: bytes) -> list[tuple[int, bytes]]:
    """A concatenation of TLVs → [(tag, value)]; ProtocolError when truncated."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data):
        if pos + 4 > len(data):
            raise ProtocolError("TLV обрезан: нет заголовка")
        tag, size = from_le(data, pos, 2), from_le(data, pos + 2, 2)
        pos += 4
        if pos + size > len(data):
            raise ProtocolError(f"TLV {tag} обрезан")
        out.append((tag, bytes(data[pos:pos + size])))
        pos += size
    return out
