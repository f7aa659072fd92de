"""The Shtrih-M exchange over a serial port: ENQ/ACK/NAK, resends, per-command timeouts, safe repeats.

One `Link.execute(command, data)` call, as the vendor driver does it (NOTES-shtrih.md §1 "Exchange";
OPOS `PrinterProtocol1.pas` `Send`/`ReadAnswer`/`SendCommand`):
1. ENQ handshake: NAK → the device is idle; ACK → it still holds (or is preparing) an answer to an earlier
   command: read that frame, ACK it, ENQ again; STX → the same answer already on its way; no reply three
   times → no connection.
2. Write the frame; NAK → resend (at most 3 sends).
3. Wait for the answer with the command's own timeout (§5), skipping 0xFF fillers; check the LRC: good →
   ACK; bad → NAK and ask again with ENQ (at most 3 times). No answer in time → ENQ as well: ACK means
   the device still holds (or prepares) the answer and sends it, so it is read without repeating anything.
A lost answer (no ACK to the frame, timeout, garbled beyond repair) repeats the whole exchange only for the
commands the vendor marks safe to repeat (§5 `CanRepeatCommand`); for the others (sale, close receipt,
cancel, cash in/out, open shift, FF45h, FF46h …) it raises LinkError: the outcome is unknown, the caller
reads the register's state (10h mode, FF01h last FD, FF0Ah) and decides.

The port is any pyserial-like object: `read(n)`, `write(b)`, a writable `timeout` and
`reset_input_buffer()`.
"""

from __future__ import annotations

import time
from typing import Protocol

from aquabill.edge_agent.shtrih import frames
from aquabill.edge_agent.shtrih.errors import LinkError, ProtocolError

ENQ_ATTEMPTS = 3  # PP1 MaxENQCount
SEND_ATTEMPTS = 3  # PP1 MaxCmdCount
REASK_ATTEMPTS = 3
SAFE_REPEATS = 3
CONTROL_TIMEOUT = 1.0  # s, waiting for ACK/NAK to our ENQ or frame
BYTE_TIMEOUT = 1.0  # s, for the rest of a frame once STX arrived
PENDING_TIMEOUT = 100.0  # s, an answer the device said (ACK to ENQ) it is still preparing: ≥ E0h's timeout


class SerialLike(Protocol):
    timeout: float | None

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes, /) -> int | None: ...

    def reset_input_buffer(self) -> None: ...


# Per-command answer timeouts, seconds — OPOS FPD `GetCommandTimeout` l.603–800 (NOTES-shtrih.md §5).
_TIMEOUTS: dict[int, float] = {0x16: 60.0, 0x25: 10.0, 0x40: 30.0, 0x41: 30.0, 0x50: 10.0, 0x51: 10.0,
                               0x85: 30.0, 0x8C: 30.0, 0x8D: 10.0, 0xB0: 10.0, 0xE0: 100.0, 0xFC: 30.0}
DEFAULT_TIMEOUT = 30.0


def command_timeout(command: int) -> float:
    if command in _TIMEOUTS:
        return _TIMEOUTS[command]
    if 0x10 <= command <= 0x1F:
        return 3.0
    if 0x80 <= command <= 0x8B:
        return 10.0
    return DEFAULT_TIMEOUT  # every FFxx FN command, and anything else


# Safe to repeat after a lost answer — OPOS FPD `CanRepeatCommand` l.1290–1450 (NOTES-shtrih.md §5):
# reads, the reports 40h/41h, open receipt 8Dh, 89h, duplicate 8Ch, FF0C and FF41–FF43. FF40h (shift
# parameters) is a read like FF39–FF3F. Everything else (80h–88h, 50h/51h, E0h, FF45h, FF46h, FF4Dh …) not.
_SAFE = frozenset({0x10, 0x11, 0x15, 0x1A, 0x1B, 0x1F, 0xFC, 0x40, 0x41, 0x89, 0x8C, 0x8D, 0xFF0C, 0xFF40,
                   0xFF41, 0xFF42, 0xFF43, *range(0xFF01, 0xFF0B), *range(0xFF39, 0xFF40)})


def is_safe(command: int) -> bool:
    return command in _SAFE


class _Lost(Exception):
    """The answer to this exchange did not arrive intact."""


class _Garbled(_Lost):
    """A whole frame arrived but its LRC (or layout) is wrong: NAK it and ask again."""


class Link:
    """Exchange of one command at a time with a Shtrih-M device on `port` (not thread-safe)."""

    def __init__(self, port: SerialLike, *, control_timeout: float = CONTROL_TIMEOUT,
                 byte_timeout: float = BYTE_TIMEOUT) -> None:
        self.port = port
        self.control_timeout = control_timeout
        self.byte_timeout = byte_timeout

    def execute(self, command: int, data: bytes = b"", *, timeout: float | None = None) -> frames.Answer:
        """Send one command and return its answer (the error byte is NOT interpreted here)."""
        raw = frames.encode_command(command, data)  # ProtocolError before anything is sent
        wait = command_timeout(command) if timeout is None else timeout
        attempts = SAFE_REPEATS if is_safe(command) else 1
        reason = ""
        for _ in range(attempts):
            self._handshake()
            try:
                self._send(raw)
                answer = self._read_answer(wait)
            except _Lost as exc:
                reason = str(exc)
                continue
            if answer.command != command:
                reason = f"пришёл ответ на другую команду ({answer.command:#x})"
                continue
            return answer
        raise LinkError(f"Ответ ККТ на команду {command:#x} потерян ({reason}): результат неизвестен")

    # --- steps -------------------------------------------------------------------------------------

    def _handshake(self) -> None:
        """ENQ until the device says it is idle (NAK); drain answers it still holds."""
        self.port.reset_input_buffer()
        failures = drained = 0
        while True:
            self._write(bytes([frames.ENQ]))
            byte = self._read_control(self.control_timeout)
            if byte == frames.NAK:
                return
            if byte in (frames.ACK, frames.STX):
                drained += 1
                if drained > 5:
                    raise LinkError("ККТ не переходит в режим ожидания команды")
                try:
                    if byte == frames.STX:
                        self._read_frame_rest()
                    else:
                        self._read_frame(PENDING_TIMEOUT)
                except _Garbled:
                    self._write(bytes([frames.NAK]))
                    continue
                except _Lost as exc:
                    raise LinkError(f"Нет связи с ККТ: {exc}") from exc
                self._write(bytes([frames.ACK]))  # the stale answer is acknowledged and dropped
                continue
            failures += 1
            if failures >= ENQ_ATTEMPTS:
                raise LinkError("Нет связи с ККТ: нет ответа на ENQ")

    def _send(self, raw: bytes) -> None:
        for _ in range(SEND_ATTEMPTS):
            self._write(raw)
            byte = self._read_control(self.control_timeout)
            if byte == frames.ACK:
                return
            if byte != frames.NAK:
                raise _Lost("нет подтверждения приёма команды")
        raise _Lost("ККТ не приняла команду (NAK)")

    def _read_answer(self, wait: float) -> frames.Answer:
        body = self._read_frame_or_reask(wait)
        try:
            return frames.decode_answer(body)
        except ProtocolError as exc:
            raise _Lost(str(exc)) from exc

    def _read_frame_or_reask(self, wait: float) -> bytes:
        """The answer; garbled → NAK and ENQ; nothing within `wait` → ENQ too: a device that still holds
        the answer says ACK and sends it again, so a reply lost on the line costs no repeat."""
        try:
            body = self._read_frame(wait)
        except _Garbled:
            self._write(bytes([frames.NAK]))
        except _Lost:
            pass
        else:
            self._write(bytes([frames.ACK]))
            return body
        for _ in range(REASK_ATTEMPTS):
            self._write(bytes([frames.ENQ]))
            byte = self._read_control(self.control_timeout)
            if byte == frames.NAK:
                raise _Lost("ККТ не хранит ответ")
            if byte not in (frames.ACK, frames.STX):
                continue
            try:
                body = self._read_frame_rest() if byte == frames.STX else self._read_frame(wait)
            except _Garbled:
                self._write(bytes([frames.NAK]))
                continue
            self._write(bytes([frames.ACK]))
            return body
        raise _Lost("ответ не получен после повторных запросов")

    # --- bytes -------------------------------------------------------------------------------------

    def _read_frame(self, wait: float) -> bytes:
        """Wait up to `wait` s for STX (skipping anything else, e.g. 0xFF fillers), then the frame."""
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Lost("время ожидания ответа истекло")
            byte = self._read(1, min(left, 1.0))
            if byte and byte[0] == frames.STX:
                return self._read_frame_rest()

    def _read_frame_rest(self) -> bytes:
        """After STX: LEN, LEN bytes, LRC. Raises _Garbled on a checksum mismatch."""
        length = self._read_exact(1)
        rest = self._read_exact(length[0] + 1)
        raw = bytes([frames.STX]) + length + rest
        try:
            return frames.check_frame(raw)
        except ProtocolError as exc:
            raise _Garbled(str(exc)) from exc

    def _read_exact(self, size: int) -> bytes:
        deadline = time.monotonic() + self.byte_timeout + size * 0.005  # 0.005 s ≈ a byte at 2400 baud
        out = b""
        while len(out) < size:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Lost("кадр ответа обрезан")
            out += self._read(size - len(out), left)
        return out

    def _read_control(self, wait: float) -> int | None:
        """One control byte (ACK/NAK/STX), skipping 0xFF fillers (PP1 `ReadControlChar`); None on timeout."""
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            byte = self._read(1, left)
            if byte and byte[0] in (frames.ACK, frames.NAK, frames.STX):
                return byte[0]

    def _read(self, size: int, wait: float) -> bytes:
        try:
            self.port.timeout = wait
            return self.port.read(size)
        except OSError as exc:  # pyserial's SerialException is an OSError
            raise LinkError(f"Ошибка чтения из порта ККТ: {exc}") from exc

    def _write(self, data: bytes) -> None:
        try:
            self.port.write(data)
        except OSError as exc:  # pyserial's SerialException is an OSError
            raise LinkError(f"Ошибка записи в порт ККТ: {exc}") from exc
