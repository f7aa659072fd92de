"""The Shtrih-M simulator as a peer: garbled frames both ways, restarts that keep the fiscal memory (in
process and as `python -m …simulator` killed with SIGKILL), a host killed while the receipt prints, and the
benchmark's short-status baseline."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import pytest
import serial

from aquabill.edge_agent.shtrih import Item, ReceiptSpec, ShtrihRegister
from aquabill.edge_agent.shtrih.simulator import Simulator, bare_command_rate

ROOT = Path(__file__).resolve().parents[3]
WATER = Item(name="Холодное водоснабжение, 11.2026, л/с 00100127", price=Decimal("812.40"), quantity=Decimal("1"),
             amount=Decimal("812.40"), vat=11, subject=4, method=4, measure=0)
SALE = ReceiptSpec(operation=1, items=(WATER,), cash=Decimal("1000.00"), electronic=Decimal("0.00"), tax_system=1,
                   cashier_name="Иванова А. П.")


def wait_for(predicate, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached")


@pytest.fixture
def sim(tmp_path):
    simulator = Simulator(tmp_path / "register.json", link=tmp_path / "ttyFR", print_delay=0.05).start()
    yield simulator
    simulator.stop()


class CorruptFirstFrame(serial.Serial):
    """Real pyserial whose first command frame leaves with a wrong LRC (a line fault host → device)."""

    corrupted = False

    def write(self, data):
        if not self.corrupted and data[:1] == b"\x02":
            type(self).corrupted = True
            data = data[:-1] + bytes([data[-1] ^ 0x5A])
        return super().write(data)


def test_a_garbled_answer_is_nakked_and_sent_again(sim):
    sim.corrupt_next_answers(1)
    with ShtrihRegister(sim.link_path) as register:
        assert register.status().mode == 4
    assert (sim.stats["nak"], sim.stats["frames"]) == (1, 1)


def test_a_garbled_command_is_nakked_and_resent(sim):
    factory = lambda port, baud: CorruptFirstFrame(port, baud, timeout=1, exclusive=True)  # noqa: E731
    with ShtrihRegister(sim.link_path, serial_factory=factory) as register:
        assert register.status().mode == 4
    assert (sim.stats["bad_frames"], sim.stats["frames"]) == (1, 1)


def test_a_restarted_simulator_keeps_its_documents(tmp_path, sim):
    with ShtrihRegister(sim.link_path) as register:
        register.open_shift("Иванова А. П.")
        done = register.sale(SALE)
    sim.stop()
    again = Simulator(tmp_path / "register.json", link=tmp_path / "ttyFR").start()
    try:
        with ShtrihRegister(again.link_path) as register:
            found = register.find_document(done.fd_number)
            assert (found.fiscal_sign, found.amount, register.fn_status().last_fd, register.status().mode) == (
                done.fiscal_sign, Decimal("812.40"), 2, 2)
    finally:
        again.stop()


def _start_cli(tmp_path: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "aquabill.edge_agent.shtrih.simulator", "--link", str(tmp_path / "ttyFR"),
         "--state", str(tmp_path / "register.json"), "--print-delay", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: (tmp_path / "ttyFR").exists() or process.poll() is not None)
    assert process.poll() is None, process.stderr.read()
    return process


def test_the_cli_simulator_killed_and_restarted_continues(tmp_path):
    first = _start_cli(tmp_path)
    try:
        with ShtrihRegister(str(tmp_path / "ttyFR")) as register:
            opened = register.open_shift("Иванова А. П.")
    finally:
        first.kill()
        first.wait(10)
    second = _start_cli(tmp_path)  # the stale symlink of the killed one is replaced
    try:
        with ShtrihRegister(str(tmp_path / "ttyFR")) as register:
            assert (register.fn_status().last_fd, register.shift_params()) == (opened.fd_number, (True, 1, 0))
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(10) == 0
    assert not os.path.lexists(tmp_path / "ttyFR")


HOST = textwrap.dedent("""
    import sys
    from decimal import Decimal
    from aquabill.edge_agent.shtrih import Item, ReceiptSpec, ShtrihRegister
    item = Item("ХВС", Decimal("812.40"), Decimal("1"), Decimal("812.40"), 11, 4, 4, 0)
    with ShtrihRegister(sys.argv[1]) as register:
        register.sale(ReceiptSpec(1, (item,), Decimal("1000.00"), Decimal("0.00"), 1))
""")


def test_a_host_killed_while_the_receipt_prints_finds_it_afterwards(tmp_path):
    simulator = Simulator(tmp_path / "register.json", link=tmp_path / "ttyFR", print_delay=3.0).start()
    try:
        with ShtrihRegister(simulator.link_path) as register:
            register.open_shift("Иванова А. П.")
        host = subprocess.Popen([sys.executable, "-c", HOST, simulator.link_path], cwd=ROOT)
        doc = wait_for(lambda: next((d for d in simulator.documents() if d["type"] == 3), None))
        host.kill()  # inside FF45h's printing: fiscalised, the answer not yet sent
        host.wait(10)
        with ShtrihRegister(simulator.link_path) as register:
            assert register.status().mode == 2  # the pending FF45h answer was drained on the ENQ
            last = register.fn_status().last_fd
            found = register.find_document(last)
        assert (last, found.doc_type, found.operation, found.amount, found.fiscal_sign) == (
            doc["fd"], 3, 1, Decimal("812.40"), doc["fp"])
    finally:
        simulator.stop()


def test_bare_command_rate(sim):
    assert bare_command_rate(sim.link_path, n=20) > 0
