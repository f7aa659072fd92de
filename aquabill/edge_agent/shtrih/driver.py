"""ShtrihRegister: the fiscal operations of a Shtrih-M register over a serial port (synchronous).

The sequences follow `../shared/reference/fiscal-registers/NOTES-shtrih.md` §2:
- receipt: 10h mode check → 8Dh → per item FF46h (+ FF4Dh per-item tags) → FF0Ch 1008/1021/1203 → FF45h;
  a device error while the receipt is being built cancels it (88h) and is raised; a lost answer to an
  unsafe command (8Dh… FF46h, FF45h) raises LinkError without touching the receipt — the caller recovers
  via `fn_status().last_fd` + `find_document`;
- open shift: FF41h → FF0Ch 1021/1203 → E0h (prints the report), then FF01h + FF0Ah (type 2) for the FD №,
  fiscal sign, time and shift № — the notes give E0h as the opening command (OPOS `OpenFiscalDay`); FF0Bh
  is the FN-only alternative and is not used;
- close shift: FF42h → FF0Ch 1021/1203 → 41h Z report, then FF01h + FF0Ah (type 5) the same way (FF43h
  is the FN-only alternative, not used);
- after a printing command: poll 10h until mode ≠ 12 and submode 0; submode 3 → B0h (continue printing).

Passwords: FN commands and reports with the administrator's (30), receipt operations (8Dh, FF46h, FF45h,
88h, E0h, 50h/51h, 8Ch) with the operator's (1) — OPOS FPD l.7326, 7416, 7704, 8732, 9425.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from aquabill.edge_agent.shtrih import commands as cmd
from aquabill.edge_agent.shtrih import frames
from aquabill.edge_agent.shtrih.commands import (
    DeviceInfo,
    FiscalDoc,
    FnStatus,
    FoundDocument,
    Item,
    ReceiptDone,
    ReceiptSpec,
    RegisterStatus,
)
from aquabill.edge_agent.shtrih.errors import (
    LinkError,
    PaperOutError,
    ProtocolError,
    ReceiptOpenError,
    RegisterError,
    ShiftClosedError,
    ShiftExpiredError,
    ShiftOpenError,
    register_error,
)
from aquabill.edge_agent.shtrih.link import Link

__all__ = ["DeviceInfo", "FiscalDoc", "FnStatus", "FoundDocument", "Item", "ReceiptDone", "ReceiptSpec",
           "RegisterStatus", "ShtrihRegister"]

PRINT_WAIT = 60.0  # s, at most, for the printer to finish after a printing command
PRINT_POLL = 0.1  # s between 10h polls while printing


class ShtrihRegister:
    """One Shtrih-M register on a serial port; use as a context manager or open()/close()."""

    def __init__(self, port: str, baudrate: int = 115200, *, admin_password: int = 30,
                 operator_password: int = 1, serial_factory: Callable[..., Any] | None = None) -> None:
        self.port = port
        self.baudrate = baudrate
        self.admin_password = admin_password
        self.operator_password = operator_password
        self._factory = serial_factory
        self._serial: Any = None
        self._link: Link | None = None

    # --- connection ---------------------------------------------------------------------------------

    def open(self) -> None:
        if self._serial is not None:
            return
        try:
            if self._factory is not None:
                self._serial = self._factory(self.port, self.baudrate)
            else:
                import serial  # pyserial, the edge extra

                self._serial = serial.Serial(self.port, self.baudrate, timeout=1, write_timeout=5,
                                             exclusive=True)
        except (OSError, ValueError) as exc:
            raise LinkError(f"Не удалось открыть порт ККТ {self.port}: {exc}") from exc
        self._link = Link(self._serial)

    def close(self) -> None:
        serial, self._serial, self._link = self._serial, None, None
        if serial is not None:
            try:
                serial.close()
            except OSError:
                pass

    def __enter__(self) -> ShtrihRegister:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, command: int, data: bytes = b"") -> bytes:
        """Execute one command; a non-zero error byte becomes the matching RegisterError."""
        if self._link is None:
            self.open()
        assert self._link is not None
        answer = self._link.execute(command, data)
        if answer.error:
            raise register_error(answer.error, command)
        return answer.data

    def _admin(self, command: int, data: bytes = b"") -> bytes:
        return self._call(command, frames.password(self.admin_password) + data)

    def _operator(self, command: int, data: bytes = b"") -> bytes:
        return self._call(command, frames.password(self.operator_password) + data)

    @staticmethod
    def _parsed(parse: Callable[..., Any], *data: bytes) -> Any:
        """An answer we cannot parse after the command ran: its result is unknown to us → LinkError."""
        try:
            return parse(*data)
        except ProtocolError as exc:
            raise LinkError(f"Непонятный ответ ККТ: {exc}") from exc

    # --- reads --------------------------------------------------------------------------------------

    def status(self) -> RegisterStatus:
        return self._parsed(cmd.parse_status, self._admin(0x10))

    def fn_status(self) -> FnStatus:
        return self._parsed(cmd.parse_fn_status, self._admin(0xFF01))

    def device_info(self) -> DeviceInfo:
        return self._parsed(cmd.parse_device_info, self._call(0xFC), self._admin(0x11))

    def shift_params(self) -> tuple[bool, int, int]:
        """FF40h: (shift open, shift №, receipt № in the shift)."""
        data = self._admin(0xFF40)
        if len(data) < 5:
            raise LinkError("Непонятный ответ ККТ на запрос параметров смены")
        return data[0] == 1, frames.from_le(data, 1, 2), frames.from_le(data, 3, 2)

    def find_document(self, fd_number: int) -> FoundDocument:
        """FF0Ah; DocumentNotFoundError (a RegisterError, FN code 0x08) when there is no such FD."""
        return self._parsed(cmd.parse_found, self._admin(0xFF0A, frames.le(fd_number, 4)))

    # --- shift --------------------------------------------------------------------------------------

    def open_shift(self, cashier_name: str, cashier_inn: str = "") -> FiscalDoc:
        tags = cmd.cashier_tlvs(cashier_name, cashier_inn)
        state = self._ready()
        if state.receipt_open:
            raise ReceiptOpenError(0x4A, 0xE0)
        if state.shift_open:
            raise ShiftOpenError(0x3C, 0xE0, "Смена уже открыта")
        self._admin(0xFF41)
        for chunk in tags:
            self._admin(0xFF0C, chunk)
        self._operator(0xE0)
        self._wait_printing()
        return self._last_report(2)

    def close_shift(self, cashier_name: str, cashier_inn: str = "") -> FiscalDoc:
        tags = cmd.cashier_tlvs(cashier_name, cashier_inn)
        state = self._ready()
        if state.receipt_open:
            raise ReceiptOpenError(0x4A, 0x41)
        if not state.shift_open:
            raise ShiftClosedError(0x3D, 0x41, "Смена уже закрыта")
        self._admin(0xFF42)
        for chunk in tags:
            self._admin(0xFF0C, chunk)
        self._admin(0x41)
        self._wait_printing()
        return self._last_report(5)

    def x_report(self) -> None:
        self._ready()
        self._admin(0x40)
        self._wait_printing()

    def _last_report(self, doc_type: int) -> FiscalDoc:
        found = self.find_document(self.fn_status().last_fd)
        if found.doc_type != doc_type or found.shift_number is None:
            raise LinkError(f"Последний документ ФН не отчёт о смене (тип {found.doc_type})")
        return FiscalDoc(found.fd_number, found.fiscal_sign, found.at, found.shift_number)

    # --- receipt ------------------------------------------------------------------------------------

    def sale(self, spec: ReceiptSpec) -> ReceiptDone:
        """Print one fiscal receipt. Errors: ProtocolError (bad spec, nothing sent), ShiftClosedError /
        ShiftExpiredError / ReceiptOpenError (nothing sent but 10h), RegisterError (device refused; the
        receipt was cancelled), LinkError (outcome UNKNOWN: recover via fn_status + find_document)."""
        cmd.validate(spec)
        state = self._ready()
        if state.receipt_open:
            raise ReceiptOpenError(0x4A, 0x8D, "На ККТ открыт незакрытый чек")
        if state.shift_expired:
            raise ShiftExpiredError(0x4E, 0x8D)
        if not state.shift_open:
            raise ShiftClosedError(0x3D, 0x8D, "Смена закрыта — откройте смену")
        self._operator(0x8D, bytes([cmd.RECEIPT_TYPES[spec.operation]]))
        try:
            for item in spec.items:
                self._operator(0xFF46, cmd.item_data(spec.operation, item))
                for chunk in cmd.item_tlvs(item):
                    self._admin(0xFF4D, chunk)
            for chunk in cmd.receipt_tlvs(spec):
                self._admin(0xFF0C, chunk)
            data = self._operator(0xFF45, cmd.close_data(spec.cash, spec.electronic, spec.tax_system))
        except RegisterError:
            self._cancel_quietly()
            raise
        change, fd_number, fiscal_sign, at = self._parsed(cmd.parse_close, data)
        if at is None:  # older firmware: 16-byte reply without the date-time
            at = self.find_document(fd_number).at
        try:
            self._wait_printing()
        except (LinkError, RegisterError):
            pass  # the receipt is fiscalised; a printer problem shows on the next command
        return ReceiptDone(fd_number=fd_number, fiscal_sign=fiscal_sign, at=at, change=change)

    def cancel_receipt(self) -> None:
        self._operator(0x88)
        self._wait_printing()

    def _cancel_quietly(self) -> None:
        try:
            self._operator(0x88)
        except (RegisterError, LinkError):
            pass

    # --- other documents ----------------------------------------------------------------------------

    def print_duplicate(self) -> None:
        self._operator(0x8C)
        self._wait_printing()

    def cash_in(self, amount: Decimal) -> None:
        self._operator(0x50, frames.money(amount))
        self._wait_printing()

    def cash_out(self, amount: Decimal) -> None:
        self._operator(0x51, frames.money(amount))
        self._wait_printing()

    def continue_print(self) -> None:
        self._admin(0xB0)

    # --- printer state ------------------------------------------------------------------------------

    def _ready(self) -> RegisterStatus:
        """10h before a document: continue an interrupted printout (submode 3), refuse without paper."""
        state = self.status()
        if state.submode == 3:
            self.continue_print()
            state = self._wait_printing()
        if state.submode in (1, 2):
            raise PaperOutError(0x6B, 0x10)
        return state

    def _wait_printing(self) -> RegisterStatus:
        """Poll 10h until mode ≠ 12 and submode 0 (pyshtrih `wait_printing`); B0h on submode 3; stop
        waiting without paper (submode 1/2) or after PRINT_WAIT seconds."""
        deadline = time.monotonic() + PRINT_WAIT
        while True:
            state = self.status()
            if state.mode != 12 and state.submode in (0, 1, 2):
                return state
            if state.submode == 3:
                self.continue_print()
            if time.monotonic() > deadline:
                return state
            time.sleep(PRINT_POLL)
