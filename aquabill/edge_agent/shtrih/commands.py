"""The driver's records and the pure request builders / answer parsers of the Shtrih-M commands we use.

Layouts: `../shared/reference/fiscal-registers/NOTES-shtrih.md` §2 (pyshtrih handlers, the vendor's OPOS
driver, attid/pyshtrih FF45/FF46); FFD tags: `FFD-1.2-TAGS.md` (FNS order ЕД-7-20/662@ as amended).
No I/O here: `driver.py` sends what these functions build. `validate` refuses bad input with a Russian
ProtocolError before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from aquabill.edge_agent.shtrih import frames
from aquabill.edge_agent.shtrih.errors import ProtocolError


@dataclass(frozen=True)
class RegisterStatus:
    mode: int  # low nibble of the mode byte (2 open, 3 open > 24 h, 4 closed, 8 document open, …)
    submode: int
    mode_text: str
    shift_open: bool
    receipt_open: bool
    shift_expired: bool
    operator: int
    mode_status: int = 0  # high nibble: with mode 8, 0 sale / 1 buy / 2 sale return / 3 buy return


@dataclass(frozen=True)
class FnStatus:
    fn_number: str
    last_fd: int
    shift_open: bool
    phase: int
    at: datetime


@dataclass(frozen=True)
class DeviceInfo:
    model: str
    serial: str
    inn: str


@dataclass(frozen=True)
class FiscalDoc:
    fd_number: int
    fiscal_sign: int
    at: datetime  # the register's local clock, naive
    shift_number: int


@dataclass(frozen=True)
class ReceiptDone:
    fd_number: int
    fiscal_sign: int
    at: datetime
    change: Decimal


@dataclass(frozen=True)
class FoundDocument:
    doc_type: int  # 1 registration, 2 shift opened, 3 receipt, 4 БСО, 5 shift closed, 11 re-registration…
    fd_number: int
    fiscal_sign: int
    at: datetime
    operation: int | None  # receipts: tag 1054 value
    amount: Decimal | None  # receipts: the total
    shift_number: int | None  # shift reports
    ofd_ticket: bool


@dataclass(frozen=True)
class Item:
    name: str
    price: Decimal
    quantity: Decimal
    amount: Decimal
    vat: int  # tag 1199 value
    subject: int  # 1212
    method: int  # 1214
    measure: int  # 2108
    agent_sign: int | None = None  # 1222
    supplier_name: str = ""  # 1225 in 1224
    supplier_inn: str = ""  # 1226
    supplier_phones: tuple[str, ...] = ()  # 1171 in 1224


@dataclass(frozen=True)
class ReceiptSpec:
    operation: int  # 1054: 1 приход, 2 возврат прихода, 3 расход, 4 возврат расхода
    items: tuple[Item, ...]
    cash: Decimal
    electronic: Decimal
    tax_system: int  # 1055 bitmask
    buyer_contact: str = ""  # 1008
    cashier_name: str = ""  # 1021
    cashier_inn: str = ""  # 1203

    @property
    def total(self) -> Decimal:
        return sum((item.amount for item in self.items), Decimal("0.00"))


# --- texts of the status (pyshtrih `handlers/functions.py` FRMode/FRSubMode) ------------------------

MODE_TEXTS = {
    0: "Принтер в рабочем режиме", 1: "Выдача данных", 2: "Смена открыта",
    3: "Смена открыта, 24 часа истекли — закройте смену", 4: "Смена закрыта",
    5: "Блокировка по неверному паролю налогового инспектора", 6: "Ожидание подтверждения ввода даты",
    7: "Разрешение изменения положения десятичной точки", 8: "Открыт чек",
    9: "Режим разрешения технологического обнуления", 10: "Тестовый прогон",
    11: "Печать полного фискального отчёта", 12: "Печать отчёта", 13: "Работа с подкладным документом",
    14: "Печать подкладного документа", 15: "Подкладной документ сформирован",
}
RECEIPT_KINDS = {0: "продажа", 1: "покупка", 2: "возврат продажи", 3: "возврат покупки"}
SUBMODE_TEXTS = {0: "бумага есть", 1: "нет бумаги", 2: "ожидание бумаги", 3: "ожидание команды продолжения печати",
                 4: "печать отчёта", 5: "печать операции"}

# --- money and tax encodings ------------------------------------------------------------------------

# FF46h tax-rate byte by tag 1199 value: row N of table 6 → bit N−1 (NOTES-shtrih.md §3; OPOS FPD
# `GetFSTaxBits`; attid/pyshtrih commands.py l.1046–1056 for 1–10).
# 11 (НДС 22%, from 01.01.2026 — Federal Law 425-FZ of 28.11.2025 amending Tax Code art. 164 p. 3; tag 1199
# value 11 per FNS order ЕД-7-20/1050@ of 08.12.2025, in force 05.01.2026) → 0xCB: seen in a real exchange of
# the vendor's DrvFR 5.25 with a ШТРИХ-ЛАЙТ-02Ф on 15.01.2026 (VitalyKravtsov2016/logplayer @5186d4d
# test/LogPlayerTst/Bin/Data/Protocol1_big.log l.2020).
# 12 (НДС 22/122) → 0xCC: (verify) — inferred as 0xC0|row from the 0xCB above, not seen on a device.
TAX_BYTES = {1: 0x01, 2: 0x02, 5: 0x04, 6: 0x08, 3: 0x10, 4: 0x20,
             7: 0x81, 8: 0x82, 9: 0x84, 10: 0x88, 11: 0xCB, 12: 0xCC}

# 8Dh receipt type by tag 1054 (8Dh: 0 sale/приход, 1 buy/расход, 2 sale return, 3 buy return).
RECEIPT_TYPES = {1: 0, 2: 2, 3: 1, 4: 3}
OPERATIONS = {value: key for key, value in RECEIPT_TYPES.items()}

DEPARTMENT = 1  # FF46h department (0–16); one department for everything
ELECTRONIC_SLOT = 1  # FF45h sum 2 = payment type 2 counts as «электронными» (1081) — device tables (verify)
MAX_TLV = 249  # FF4Dh limit (OPOS FSWriteTLVOperation); FF0Ch also fits in a 255-byte frame with it


def tax_byte(vat: int) -> int:
    try:
        return TAX_BYTES[vat]
    except KeyError:
        raise ProtocolError(f"Неизвестная ставка НДС (тег 1199): {vat}") from None


def _inn(value: str, what: str) -> str:
    if value and not (value.isdigit() and len(value) in (10, 12)):
        raise ProtocolError(f"{what}: ИНН должен состоять из 10 или 12 цифр («{value}»)")
    return value


def validate(spec: ReceiptSpec) -> None:
    """Refuse a receipt the register would refuse or the FFD forbids, before anything is sent."""
    if spec.operation not in RECEIPT_TYPES:
        raise ProtocolError(f"Неизвестный признак расчёта (тег 1054): {spec.operation}")
    if not spec.items:
        raise ProtocolError("В чеке нет ни одной позиции")
    if spec.tax_system not in (1, 2, 4, 8, 16, 32):
        raise ProtocolError(f"Система налогообложения (тег 1055) должна быть одним битом: {spec.tax_system}")
    frames.to_kopecks(spec.cash)
    frames.to_kopecks(spec.electronic)
    _inn(spec.cashier_inn, "Кассир")
    for number, item in enumerate(spec.items, 1):
        where = f"Позиция {number}"
        if not item.name.strip():
            raise ProtocolError(f"{where}: пустое наименование")
        if len(item.name) > 128:
            raise ProtocolError(f"{where}: наименование длиннее 128 символов")
        frames.quantity(item.quantity)
        price, amount = frames.to_kopecks(item.price), frames.to_kopecks(item.amount)
        if amount == 0:
            raise ProtocolError(f"{where}: нулевая стоимость")
        # 1043 = 1079 × 1023; a difference up to 1 kopeck is allowed (FFD-1.2-TAGS.md, tags 1079/1023/1043)
        if abs(Decimal(price) * item.quantity - amount) > 1:
            raise ProtocolError(f"{where}: стоимость {item.amount} не равна цене {item.price} × {item.quantity}")
        tax_byte(item.vat)
        if not 1 <= item.subject <= 33 or not 1 <= item.method <= 7 or not 0 <= item.measure <= 255:
            raise ProtocolError(f"{where}: неверный признак предмета/способа расчёта или мера количества")
        if item.agent_sign is not None:
            if not 1 <= item.agent_sign <= 127:
                raise ProtocolError(f"{where}: неверный признак агента (тег 1222): {item.agent_sign}")
            if not item.supplier_name.strip() or not item.supplier_inn:
                raise ProtocolError(f"{where}: для агентской позиции нужны наименование и ИНН поставщика")
            _inn(item.supplier_inn, f"{where}, поставщик")
    for chunk in item_tlvs_all(spec) + receipt_tlvs(spec):
        if len(chunk) > MAX_TLV:
            raise ProtocolError(f"Реквизит {frames.from_le(chunk, 0, 2)} слишком длинный для ККТ")


# --- requests ----------------------------------------------------------------------------------------


def item_data(operation: int, item: Item) -> bytes:
    """FF46h «операция v2» after the password: the device computes the VAT amount (FF…FF)."""
    return (bytes([operation]) + frames.quantity(item.quantity)
            + frames.money(item.price) + frames.money(item.amount) + frames.NO_VALUE_5
            + bytes([tax_byte(item.vat), DEPARTMENT, item.method, item.subject])
            + frames.text(item.name, 128))


def item_tlvs(item: Item) -> list[bytes]:
    """Per-item tags for FF4Dh, one TLV per command: 2108 when not «штуки» (0 is assumed the device's
    default — (verify)), and for an agent's item 1222 + 1224 {1171…, 1225} + 1226."""
    out: list[bytes] = []
    if item.measure:
        out.append(frames.tlv_byte(2108, item.measure))
    if item.agent_sign is not None:
        out.append(frames.tlv_byte(1222, item.agent_sign))
        supplier = [frames.tlv_string(1171, phone, 19) for phone in item.supplier_phones]
        supplier.append(frames.tlv_string(1225, item.supplier_name.strip(), 256))
        out.append(frames.tlv_stlv(1224, *supplier))
        out.append(frames.tlv_string(1226, item.supplier_inn, 12, fixed=True))
    return out


def item_tlvs_all(spec: ReceiptSpec) -> list[bytes]:
    return [chunk for item in spec.items for chunk in item_tlvs(item)]


def receipt_tlvs(spec: ReceiptSpec) -> list[bytes]:
    """Receipt-level tags for FF0Ch: 1008 buyer's phone/e-mail, 1021 cashier, 1203 cashier's INN."""
    out = cashier_tlvs(spec.cashier_name, spec.cashier_inn)
    if spec.buyer_contact:
        out.insert(0, frames.tlv_string(1008, spec.buyer_contact, 64))
    return out


def cashier_tlvs(name: str, inn: str = "") -> list[bytes]:
    out = []
    if name.strip():
        out.append(frames.tlv_string(1021, name.strip(), 64))
    if inn:
        out.append(frames.tlv_string(1203, _inn(inn, "Кассир"), 12, fixed=True))
    return out


def close_data(cash: Decimal, electronic: Decimal, tax_system: int) -> bytes:
    """FF45h «закрытие чека расширенное v2» after the password: 16 sums (1 cash, 2 electronic), rounding 0, 6 tax sums 0 (the
    device computes taxes: table 1 field 14 = 0), the tax-system byte, no text."""
    sums = [Decimal(0)] * 16
    sums[0], sums[ELECTRONIC_SLOT] = cash, electronic
    return (b"".join(frames.money(value) for value in sums) + b"\x00"
            + b"\x00" * 30 + bytes([tax_system]))


# --- answers -----------------------------------------------------------------------------------------


def _need(data: bytes, size: int, what: str) -> None:
    if len(data) < size:
        raise ProtocolError(f"Ответ ККТ на «{what}» короче ожидаемого: {len(data)} байт из {size}")


def parse_status(data: bytes) -> RegisterStatus:
    """10h: operator(1) flags(2) mode(1) submode(1) …"""
    _need(data, 5, "короткий запрос состояния")
    raw_mode, submode = data[3], data[4]
    mode, status = raw_mode & 0x0F, raw_mode >> 4
    text = MODE_TEXTS.get(mode, f"Режим {mode}")
    if mode == 8:
        text = f"{text}: {RECEIPT_KINDS.get(status, str(status))}"
    if submode:
        text = f"{text} ({SUBMODE_TEXTS.get(submode, f'подрежим {submode}')})"
    return RegisterStatus(mode=mode, submode=submode, mode_text=text, shift_open=mode in (2, 3, 8),
                          receipt_open=mode == 8, shift_expired=mode == 3, operator=data[0], mode_status=status)


def parse_fn_status(data: bytes) -> FnStatus:
    """FF01h: phase(1) doc(1) doc data(1) shift open(1) warnings(1) date-time(5) FN №(16) last FD(4)."""
    _need(data, 30, "статус ФН")
    return FnStatus(fn_number=data[10:26].decode("ascii", errors="replace").strip("\x00 "),
                    last_fd=frames.from_le(data, 26, 4), shift_open=data[3] == 1, phase=data[0],
                    at=frames.dt_from(data, 5))


def parse_close(data: bytes) -> tuple[Decimal, int, int, datetime | None]:
    """FF45h: change(5) FD(4) fiscal sign(4) [date-time(5)] — the date-time is absent on older firmware."""
    _need(data, 13, "закрытие чека")
    at = frames.dt_from(data, 13) if len(data) >= 18 else None
    return frames.money_from(data, 0), frames.from_le(data, 5, 4), frames.from_le(data, 9, 4), at


def parse_found(data: bytes) -> FoundDocument:
    """FF0Ah: type(1) OFD ticket(1) date-time(5) FD(4) FP(4) + receipt: operation(1) amount(5)
    / shift reports: shift №(2)."""
    _need(data, 15, "поиск документа")
    doc_type = data[0]
    operation = amount = shift = None
    if doc_type in (3, 4) and len(data) >= 21:
        operation, amount = data[15], frames.money_from(data, 16)
    if doc_type in (2, 5) and len(data) >= 17:
        shift = frames.from_le(data, 15, 2)
    return FoundDocument(doc_type=doc_type, fd_number=frames.from_le(data, 7, 4),
                         fiscal_sign=frames.from_le(data, 11, 4), at=frames.dt_from(data, 2),
                         operation=operation, amount=amount, shift_number=shift, ofd_ticket=data[1] == 1)


def parse_device_info(type_data: bytes, full_status: bytes) -> DeviceInfo:
    """FCh: type, subtype, protocol, subprotocol, model, language, name (cp1251); 11h: serial(4) @30,
    INN(6, little-endian — NOTES-shtrih.md "Corrections") @40."""
    _need(type_data, 6, "тип устройства")
    _need(full_status, 46, "запрос состояния")
    inn = frames.from_le(full_status, 40, 6)
    return DeviceInfo(model=frames.text_from(type_data[6:]), serial=str(frames.from_le(full_status, 30, 4)),
                      inn="" if inn == (1 << 48) - 1 else str(inn))
