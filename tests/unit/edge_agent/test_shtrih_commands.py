"""Request layouts, the VAT byte, receipt validation, answer parsers and error texts of the Shtrih driver."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from aquabill.edge_agent.shtrih import commands, frames
from aquabill.edge_agent.shtrih.commands import Item, ReceiptSpec
from aquabill.edge_agent.shtrih.errors import (
    DocumentNotFoundError,
    PaperOutError,
    ProtocolError,
    ReceiptOpenError,
    RegisterError,
    ShiftClosedError,
    ShiftExpiredError,
    error_message,
    register_error,
)

WATER = Item(name="ХВС", price=Decimal("812.40"), quantity=Decimal("1"), amount=Decimal("812.40"), vat=11,
             subject=4, method=4, measure=0)
AGENT = Item(name="Вывоз ТКО", price=Decimal("150.00"), quantity=Decimal("1"), amount=Decimal("150.00"), vat=6,
             subject=4, method=4, measure=0, agent_sign=4, supplier_name="ООО Эко", supplier_inn="7701234567",
             supplier_phones=("+74950000000",))


def spec(*items: Item, **changes) -> ReceiptSpec:
    fields = dict(operation=1, items=items or (WATER,), cash=Decimal("1000.00"), electronic=Decimal("0.00"),
                  tax_system=1)
    fields.update(changes)
    return ReceiptSpec(**fields)


@pytest.mark.parametrize(
    ("vat", "byte"),
    [(1, 0x01), (2, 0x02), (5, 0x04), (6, 0x08), (3, 0x10), (4, 0x20), (7, 0x81), (8, 0x82), (9, 0x84),
     (10, 0x88), (11, 0xCB), (12, 0xCC)],
)
def test_tax_byte_by_tag_1199(vat, byte):
    assert commands.tax_byte(vat) == byte


@pytest.mark.parametrize("vat", [0, 13, 255])
def test_unknown_vat_is_refused(vat):
    with pytest.raises(ProtocolError, match="1199"):
        commands.tax_byte(vat)


def test_item_layout_ff46():
    raw = commands.item_data(1, WATER)
    assert raw == bytes.fromhex("01 40 42 0F 00 00 00 58 3D 01 00 00 58 3D 01 00 00 FF FF FF FF FF CB 01 04 04"
                                " D5 C2 D1")


def test_agent_item_tags_ff4d():
    assert commands.item_tlvs(AGENT) == [
        bytes.fromhex("C6 04 01 00 04"),
        frames.tlv(1224, frames.tlv(1171, b"+74950000000") + frames.tlv(1225, "ООО Эко".encode("cp866"))),
        bytes.fromhex("CA 04 0C 00") + b"7701234567  ",
    ]


def test_measure_other_than_pieces_is_sent_as_2108():
    item = Item("ХВС", Decimal("45.67"), Decimal("12.345"), Decimal("563.80"), 6, 4, 4, 42)
    assert commands.item_tlvs(item) == [bytes.fromhex("3C 08 01 00 2A")]


def test_receipt_tags_ff0c():
    tags = commands.receipt_tlvs(spec(buyer_contact="a@b.ru", cashier_name="Иванова А. П.",
                                      cashier_inn="500100732259"))
    assert [frames.decode_tlvs(tag)[0][0] for tag in tags] == [1008, 1021, 1203]


def test_close_layout_ff45():
    raw = commands.close_data(Decimal("1000.00"), Decimal("100.00"), 2)
    assert len(raw) == 112
    assert raw[0:5] == frames.money(Decimal("1000.00"))
    assert raw[5:10] == frames.money(Decimal("100.00"))
    assert raw[10:80] == b"\x00" * 70
    assert raw[111] == 2


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (spec(operation=5), "1054"),
        (spec(tax_system=3), "1055"),
        (spec(cash=Decimal("1.001")), "доли копейки"),
        (spec(Item("ХВС", Decimal("10.00"), Decimal("2"), Decimal("20.02"), 6, 4, 4, 0)), "не равна"),
        (spec(Item("ХВС", Decimal("10.00"), Decimal("1"), Decimal("10.00"), 13, 4, 4, 0)), "1199"),
        (spec(Item(" ", Decimal("10.00"), Decimal("1"), Decimal("10.00"), 6, 4, 4, 0)), "пустое"),
        (spec(Item("Я" * 129, Decimal("10.00"), Decimal("1"), Decimal("10.00"), 6, 4, 4, 0)), "128"),
        (spec(Item("ХВС", Decimal("0.00"), Decimal("1"), Decimal("0.00"), 6, 4, 4, 0)), "нулевая"),
        (spec(Item("ТКО", Decimal("1.00"), Decimal("1"), Decimal("1.00"), 6, 4, 4, 0, agent_sign=4)), "поставщика"),
        (spec(Item("ТКО", Decimal("1.00"), Decimal("1"), Decimal("1.00"), 6, 4, 4, 0, agent_sign=4,
                   supplier_name="ООО", supplier_inn="123")), "10 или 12"),
        (spec(Item("ТКО", Decimal("1.00"), Decimal("1"), Decimal("1.00"), 6, 4, 4, 0, agent_sign=4,
                   supplier_name="Я" * 250, supplier_inn="7701234567")), "слишком длинный"),
    ],
)
def test_bad_receipts_are_refused_before_sending(bad, message):
    with pytest.raises(ProtocolError, match=message):
        commands.validate(bad)


def test_a_good_receipt_passes_and_totals():
    good = spec(WATER, AGENT)
    commands.validate(good)
    assert good.total == Decimal("962.40")


@pytest.mark.parametrize(
    ("mode_byte", "submode", "mode", "text", "receipt_open"),
    [
        (0x02, 0, 2, "Смена открыта", False),
        (0x04, 1, 4, "Смена закрыта (нет бумаги)", False),
        (0x28, 0, 8, "Открыт чек: возврат продажи", True),
    ],
)
def test_short_status(mode_byte, submode, mode, text, receipt_open):
    state = commands.parse_status(bytes([30, 0, 0, mode_byte, submode]) + bytes(9))
    assert (state.mode, state.submode, state.mode_text, state.receipt_open) == (mode, submode, text, receipt_open)


def test_fn_status():
    data = bytes([3, 0, 0, 1, 0, 26, 1, 15, 9, 5]) + b"9999078900012345" + frames.le(77, 4)
    fn = commands.parse_fn_status(data)
    assert (fn.fn_number, fn.last_fd, fn.shift_open, fn.at) == ("9999078900012345", 77, True,
                                                               datetime(2026, 1, 15, 9, 5))


@pytest.mark.parametrize(
    ("tail", "at"),
    [(b"", None), (bytes([26, 1, 15, 9, 5]), datetime(2026, 1, 15, 9, 5))],  # 16- and 21-byte replies
)
def test_close_reply(tail, at):
    data = frames.money(Decimal("187.60")) + frames.le(12, 4) + frames.le(3134484266, 4) + tail
    assert commands.parse_close(data) == (Decimal("187.60"), 12, 3134484266, at)


def test_found_receipt_and_shift_report():
    head = bytes([26, 1, 15, 9, 5]) + frames.le(12, 4) + frames.le(99, 4)
    receipt = commands.parse_found(bytes([3, 1]) + head + bytes([2]) + frames.money(Decimal("962.40")))
    assert (receipt.doc_type, receipt.fd_number, receipt.fiscal_sign, receipt.operation, receipt.amount,
            receipt.ofd_ticket) == (3, 12, 99, 2, Decimal("962.40"), True)
    report = commands.parse_found(bytes([5, 0]) + head + frames.le(7, 2))
    assert (report.doc_type, report.shift_number, report.amount, report.ofd_ticket) == (5, 7, None, False)


def test_device_info_inn_is_little_endian():
    full = bytes(30) + frames.le(12345678, 4) + bytes(6) + bytes.fromhex("AE A9 DB 56 01 00")
    info = commands.parse_device_info(bytes([0, 0, 1, 0, 0, 0]) + "ШТРИХ".encode("cp1251"), full)
    assert info == commands.DeviceInfo(model="ШТРИХ", serial="12345678", inn="5752203694")


@pytest.mark.parametrize(
    ("code", "command", "text"),
    [
        (0x73, 0x8D, "Команда не поддерживается в данном режиме ККТ"),
        (0x45, 0xFF45, "Сумма всех типов оплаты меньше итога чека"),
        (0x16, 0xFF45, "Продолжительность смены более 24 часов — закройте смену"),  # FN table first
        (0x16, 0xE0, "Смена не открыта"),
        (0x08, 0xFF0A, "Нет запрошенных данных в ФН"),
        (0xE9, 0x10, "Неизвестная ошибка ККТ (код 0xe9)"),
    ],
)
def test_error_texts(code, command, text):
    assert error_message(code, command) == text


@pytest.mark.parametrize(
    ("code", "command", "kind"),
    [
        (0x4E, 0x8D, ShiftExpiredError), (0x16, 0xFF46, ShiftExpiredError), (0x3D, 0x8D, ShiftClosedError),
        (0x4A, 0xE0, ReceiptOpenError), (0x6B, 0xFF45, PaperOutError), (0x08, 0xFF0A, DocumentNotFoundError),
        (0x45, 0xFF45, RegisterError),
    ],
)
def test_error_kinds(code, command, kind):
    error = register_error(code, command)
    assert type(error) is kind and (error.code, error.command) == (code, command)
