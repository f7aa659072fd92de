"""A Shtrih-M register simulator on a pseudo-terminal, speaking the protocol byte for byte.

    python -m aquabill.edge_agent.shtrih.simulator --link /path/ttyFR --state /path/state.json \
        [--baud 115200] [--print-delay 0.3]

creates a pty pair (raw mode), points a symlink at `--link` to the slave and answers on the master like a
device: ENQ → NAK when idle, ACK while it is still preparing an answer, ACK + the answer again while an
answer is pending (not yet ACKed by the host); every frame is ACKed or NAKed (bad LRC); an answer is sent
once and kept until the host ACKs it. Line speed is emulated (10 bits per byte at `baud`), and printing
commands (FF45h, E0h, 40h, 41h, 8Ch, 50h/51h) take `print_delay` seconds AFTER the state was changed and
saved — as a register fiscalises first and prints second — so a test can kill the host mid-receipt.

In-process: `Simulator(state_path, link=None, baud=…, print_delay=…)`, `start()` / `stop()` (a thread),
`.link_path`, `documents()`, and fault hooks for tests (`corrupt_next_answers`, `set_paper`,
`set_online`, `age_shift`). The fiscal rules live in `sim_device.py`.
`bare_command_rate(link_path)` measures short-status (10h) commands per second through the driver.
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import sys
import threading
import time
import tty
from collections import Counter
from pathlib import Path
from typing import Any

from aquabill.edge_agent.shtrih import frames
from aquabill.edge_agent.shtrih.errors import ProtocolError
from aquabill.edge_agent.shtrih.sim_device import DEFAULT_FN, SimDevice

STALL = 1.0  # s: a frame not completed within this is dropped (the device's byte timeout)


class Simulator:
    """The register on a pty, served by a background thread."""

    def __init__(self, state_path: str | os.PathLike[str], *, link: str | os.PathLike[str] | None = None,
                 baud: int = 115200, print_delay: float = 0.3, fn_number: str = DEFAULT_FN) -> None:
        self.device = SimDevice(state_path, fn_number=fn_number)
        self.baud = baud
        self.print_delay = print_delay
        self._link = Path(link) if link else None
        self._master = self._slave = -1
        self._slave_name = ""
        self._thread: threading.Thread | None = None
        self._worker: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # device state, pending answer, busy flag
        self._write_lock = threading.Lock()
        self._pending: bytes | None = None
        self._busy = False
        self._online = True
        self._corrupt = 0
        self.stats: Counter[str] = Counter()  # frames, bad_frames, enq, nak (received from the host)

    # --- lifecycle ----------------------------------------------------------------------------------

    @property
    def link_path(self) -> str:
        return str(self._link) if self._link else self._slave_name

    def start(self) -> Simulator:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self._slave_name = os.ttyname(self._slave)
        if self._link:
            if self._link.is_symlink():
                self._link.unlink()  # left by a killed simulator
            self._link.symlink_to(self._slave_name)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._serve, name="shtrih-simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        for thread in (self._thread, self._worker):
            if thread is not None:
                thread.join(timeout=5 + self.print_delay)
        self._thread = self._worker = None
        if self._link and self._link.is_symlink() and os.readlink(self._link) == self._slave_name:
            self._link.unlink()
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- views and fault hooks (tests) --------------------------------------------------------------

    def documents(self) -> list[dict[str, Any]]:
        with self._lock:
            return self.device.documents()

    def mode(self) -> int:
        with self._lock:
            return self.device.mode()

    def cash(self) -> int:
        """The cash drawer, kopecks."""
        with self._lock:
            return int(self.device.state["cash"])

    def corrupt_next_answers(self, count: int = 1) -> None:
        """The next `count` answers go out with a wrong LRC (their re-sends on ENQ are intact)."""
        with self._lock:
            self._corrupt = count

    def set_paper(self, present: bool) -> None:
        with self._lock:
            self.device.paper = present

    def set_online(self, online: bool) -> None:
        """Offline = powered off: input is ignored and nothing is answered."""
        with self._lock:
            self._online = online
            if not online:
                self._pending = None

    def age_shift(self, hours: float) -> None:
        with self._lock:
            self.device.age_shift(hours)

    # --- the line -----------------------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        with self._write_lock:
            time.sleep(len(data) * 10 / self.baud)
            try:
                os.write(self._master, data)
            except OSError:
                pass

    def _serve(self) -> None:
        buffer = bytearray()
        started = 0.0
        while not self._stopping.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.1)
            if buffer and time.monotonic() - started > STALL:
                buffer.clear()  # an incomplete frame times out, as on the device
            if not ready:
                continue
            try:
                chunk = os.read(self._master, 4096)
            except OSError:
                time.sleep(0.05)
                continue
            with self._lock:
                online = self._online
            if not online:
                continue
            if not buffer:
                started = time.monotonic()
            buffer += chunk
            self._consume(buffer)

    def _consume(self, buffer: bytearray) -> None:
        while buffer:
            byte = buffer[0]
            if byte == frames.STX:
                if len(buffer) < 2 or len(buffer) < buffer[1] + 3:
                    return  # wait for the rest of the frame
                size = buffer[1] + 3
                raw = bytes(buffer[:size])
                del buffer[:size]
                self._on_frame(raw)
                continue
            del buffer[0]
            if byte == frames.ENQ:
                self.stats["enq"] += 1
                self._on_enq()
            elif byte == frames.ACK:
                with self._lock:
                    self._pending = None
            elif byte == frames.NAK:
                self.stats["nak"] += 1  # the host will ask again with ENQ
            # anything else is line noise

    def _on_enq(self) -> None:
        with self._lock:
            busy, pending = self._busy, self._pending
        if busy:
            self._write(bytes([frames.ACK]))  # preparing the answer: it follows when ready
        elif pending is not None:
            self._write(bytes([frames.ACK]) + pending)
        else:
            self._write(bytes([frames.NAK]))

    def _on_frame(self, raw: bytes) -> None:
        time.sleep(len(raw) * 10 / self.baud)
        try:
            body = frames.check_frame(raw)
            command, data = frames.split_command(body)
        except ProtocolError:
            self.stats["bad_frames"] += 1
            self._write(bytes([frames.NAK]))
            return
        self.stats["frames"] += 1
        with self._lock:
            if self._busy:
                refuse = True
            else:
                refuse, self._busy, self._pending = False, True, None
        if refuse:
            self._write(bytes([frames.NAK]))
            return
        self._write(bytes([frames.ACK]))
        self._worker = threading.Thread(target=self._run_command, args=(command, data), daemon=True)
        self._worker.start()

    def _run_command(self, command: int, data: bytes) -> None:
        with self._lock:
            reply = self.device.execute(command, data)  # state saved before printing starts
        if reply.printing and self.print_delay:
            self._stopping.wait(self.print_delay)
        answer = frames.encode_answer(command, reply.error, reply.data)
        with self._lock:
            self._busy = False
            if not self._online:
                return
            self._pending = answer
            corrupt = self._corrupt > 0
            self._corrupt -= 1 if corrupt else 0
        self._write(answer[:-1] + bytes([answer[-1] ^ 0x5A]) if corrupt else answer)


def bare_command_rate(link_path: str, n: int = 200, baudrate: int = 115200) -> float:
    """Short-status (10h) commands per second through ShtrihRegister: the benchmark's baseline."""
    from aquabill.edge_agent.shtrih.driver import ShtrihRegister

    with ShtrihRegister(link_path, baudrate) as register:
        register.status()
        started = time.perf_counter()
        for _ in range(n):
            register.status()
        return n / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aquabill.edge_agent.shtrih.simulator",
                                     description="Симулятор ККТ «Штрих-М» на псевдотерминале")
    parser.add_argument("--link", required=True, help="путь символьной ссылки на порт (например /tmp/ttyFR)")
    parser.add_argument("--state", required=True, help="JSON-файл фискального состояния")
    parser.add_argument("--baud", type=int, default=115200)
    parser.add_argument("--print-delay", type=float, default=0.3, help="секунд печати документа")
    parser.add_argument("--fn-number", default=DEFAULT_FN)
    args = parser.parse_args(argv)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    simulator = Simulator(args.state, link=args.link, baud=args.baud, print_delay=args.print_delay,
                          fn_number=args.fn_number).start()
    print(f"Симулятор ККТ «Штрих-М»: порт {simulator.link_path} → {simulator._slave_name}, "
          f"ФН {simulator.device.state['fn_number']}, состояние {args.state}", flush=True)
    try:
        while not done.wait(0.5):
            pass
    finally:
        simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
