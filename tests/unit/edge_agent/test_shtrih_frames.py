"""Shtrih-M wire format: frames, numbers, money, text and TLVs, byte for byte.

The worked frames are those of `../shared/reference/fiscal-registers/NOTES-shtrih.md` §1 and the error
answers of its "Corrections" (a real ШТРИХ-ЛАЙТ-02Ф session and fr_drv_ng#236)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from aquabill.edge_agent.shtrih import frames
from aquabill.edge_agent.shtrih.errors import ProtocolError


def test_short_status_frame_with_admin_password():
    assert frames.encode_command(0x10, frames.password(30)) == bytes.fromhex("02 05 10 1E 00 00 00 0B")


def test_find_document_frame():
    raw = frames.encode_command(0xFF0A, frames.password(30) + frames.le(1234, 4))
    assert raw == bytes.fromhex("02 0A FF 0A 1E 00 00 00 D2 04 00 00 37")


def test_tlv_1008_frame():
    raw = frames.encode_command(0xFF0C, frames.password(30) + frames.tlv_string(1008, "+79001234567", 64))
    assert raw == bytes.fromhex("02 16 FF 0C 1E 00 00 00 F0 03 0C 00 2B 37 39 30 30 31 32 33 34 35 36 37 11")


@pytest.mark.parametrize(
    ("raw", "answer"),
    [
        ("02 02 88 73 F9", frames.Answer(0x88, 0x73, b"")),  # 88h with no receipt open (fr_drv_ng#236)
        ("02 03 FF 45 4D F4", frames.Answer(0xFF45, 0x4D, b"")),  # FF45h refused, error-only answer
        ("02 03 E0 00 01 E2", frames.Answer(0xE0, 0x00, b"\x01")),  # E0h success, operator 1
    ],
)
def test_device_answers_decode(raw, answer):
    assert frames.decode_answer(frames.check_frame(bytes.fromhex(raw))) == answer


def test_answer_encoding_is_the_inverse():
    raw = frames.encode_answer(0xFF01, 0, b"\x03\x00")
    assert frames.decode_answer(frames.check_frame(raw)) == frames.Answer(0xFF01, 0, b"\x03\x00")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("02 05 10 1E 00 00 00 0C", "LRC"),
        ("02 06 10 1E 00 00 00 0B", "LEN"),
        ("05 05 10 1E 00 00 00 0B", "STX"),
    ],
)
def test_broken_frames_are_refused(raw, reason):
    with pytest.raises(ProtocolError):
        frames.check_frame(bytes.fromhex(raw))


def test_body_longer_than_255_bytes_is_refused():
    with pytest.raises(ProtocolError, match="255"):
        frames.encode_command(0xFF0C, b"\x00" * 254)


@pytest.mark.parametrize("command", [0x1234, -1, 0x10000])
def test_bad_command_codes(command):
    with pytest.raises(ProtocolError):
        frames.command_bytes(command)


@pytest.mark.parametrize(
    ("amount", "raw"),
    [
        (Decimal("812.40"), "58 3D 01 00 00"),
        (Decimal("0.01"), "01 00 00 00 00"),
        (Decimal("1000"), "A0 86 01 00 00"),
        (Decimal("999999.99"), "FF E0 F5 05 00"),
    ],
)
def test_money_is_5_byte_kopecks(amount, raw):
    assert frames.money(amount) == bytes.fromhex(raw)
    assert frames.money_from(bytes.fromhex(raw)) == amount


def test_money_from_keeps_two_places():
    assert str(frames.money_from(bytes.fromhex("48 49 00 00 00"))) == "187.60"


@pytest.mark.parametrize("amount", [Decimal("0.001"), Decimal("-1.00"), Decimal("NaN"), 5])
def test_money_is_never_rounded(amount):
    with pytest.raises(ProtocolError):
        frames.money(amount)


@pytest.mark.parametrize(
    ("value", "raw"),
    [
        (Decimal("1"), "40 42 0F 00 00 00"),
        (Decimal("12.345"), "A8 5E BC 00 00 00"),
        (Decimal("0.000001"), "01 00 00 00 00 00"),
    ],
)
def test_quantity_is_6_bytes_times_a_million(value, raw):
    assert frames.quantity(value) == bytes.fromhex(raw)
    assert frames.quantity_from(bytes.fromhex(raw)) == value


@pytest.mark.parametrize("value", [Decimal("0"), Decimal("0.0000001"), Decimal("-1")])
def test_bad_quantities(value):
    with pytest.raises(ProtocolError):
        frames.quantity(value)


def test_text_is_cp1251_and_bounded():
    assert frames.text("Вода", 10) == bytes.fromhex("C2 EE E4 E0")
    assert frames.text("Вода", 6, pad=True) == bytes.fromhex("C2 EE E4 E0 00 00")
    assert frames.text_from(bytes.fromhex("C2 EE E4 E0 00 00")) == "Вода"
    with pytest.raises(ProtocolError, match="длиннее 3"):
        frames.text("Вода", 3)


def test_datetime_is_yy_mm_dd_hh_mm():
    moment = datetime(2026, 1, 15, 9, 5)
    assert frames.dt(moment) == bytes([26, 1, 15, 9, 5])
    assert frames.dt_from(bytes([26, 1, 15, 9, 5])) == moment


def test_bad_datetime_is_a_protocol_error():
    with pytest.raises(ProtocolError):
        frames.dt_from(bytes([26, 13, 40, 9, 5]))


@pytest.mark.parametrize(
    ("encoded", "raw"),
    [
        (frames.tlv_byte(1222, 4), "C6 04 01 00 04"),
        (frames.tlv_string(1021, "Иванова", 64), "FD 03 07 00 88 A2 A0 AD AE A2 A0"),  # CP866
        (frames.tlv_string(1226, "7701234567", 12, fixed=True), "CA 04 0C 00 37 37 30 31 32 33 34 35 36 37 20 20"),
        (frames.tlv_vln(1020, 0), "FC 03 01 00 00"),
        (frames.tlv_vln(1020, 81240), "FC 03 03 00 58 3D 01"),
        (frames.tlv_fvln(1023, Decimal("1.5")), "FF 03 02 00 01 0F"),
        (frames.tlv_fvln(1023, Decimal("100")), "FF 03 02 00 00 64"),
        (frames.tlv_stlv(1224, frames.tlv_string(1171, "+7", 19), frames.tlv_string(1225, "ВК", 256)),
         "C8 04 0C 00 93 04 02 00 2B 37 C9 04 02 00 82 8A"),
    ],
)
def test_tlv_encoders(encoded, raw):
    assert encoded == bytes.fromhex(raw)


def test_tlv_decoding_round_trip_and_truncation():
    data = frames.tlv_byte(1222, 4) + frames.tlv_string(1226, "7701234567", 12, fixed=True)
    assert frames.decode_tlvs(data) == [(1222, b"\x04"), (1226, b"7701234567  ")]
    with pytest.raises(ProtocolError, match="обрезан"):
        frames.decode_tlvs(data[:-1])


def test_tlv_string_too_long():
    with pytest.raises(ProtocolError, match="1203"):
        frames.tlv_string(1203, "1234567890123", 12, fixed=True)
