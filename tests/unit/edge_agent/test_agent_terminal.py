"""The card terminal simulator and its client: idempotent by ref, declines, refunds, state across restarts."""

import json
import socket
from decimal import Decimal as D

import pytest

from aquabill.edge_agent.terminal import CardDeclined, TcpTerminal, TerminalError, TerminalSimulator


@pytest.fixture
def sim(tmp_path):
    s = TerminalSimulator(tmp_path / "terminal.json").start()
    yield s
    s.stop()


def client(sim) -> TcpTerminal:
    host, port = sim.address
    return TcpTerminal(host, port, timeout=5)


def test_a_repeated_ref_returns_the_first_approval_and_charges_once(sim):
    first = client(sim).pay(D("812.40"), "receipt-1")
    again = client(sim).pay(D("812.40"), "receipt-1")
    assert again == first
    assert [(a["ref"], a["amount"]) for a in sim.approvals()] == [("receipt-1", "812.40")]


def test_approval_fields(sim):
    a = client(sim).pay(D("100.00"), "r-2")
    assert (a.operation, a.amount, a.rrn, a.card_mask, a.terminal_id, len(a.auth_code)) == (
        "pay", D("100.00"), "000000000001", "**** 4242", "SIM00001", 6)


def test_kopecks_99_are_declined_and_not_remembered(sim):
    with pytest.raises(CardDeclined) as e:
        client(sim).pay(D("100.99"), "r-3")
    assert "отклонена" in e.value.message
    with pytest.raises(CardDeclined):
        client(sim).pay(D("100.99"), "r-3")
    assert sim.approvals() == []


def test_find_by_ref(sim):
    assert client(sim).find("r-4") is None
    paid = client(sim).pay(D("5.00"), "r-4")
    assert client(sim).find("r-4") == paid


def test_refund_needs_the_original_payment_and_is_limited_by_it(sim):
    paid = client(sim).pay(D("50.00"), "r-5")
    with pytest.raises(CardDeclined):
        client(sim).refund(D("10.00"), "r-6", "999999999999")
    refund = client(sim).refund(D("50.00"), "r-6", paid.rrn)
    assert (refund.operation, refund.amount) == ("refund", D("50.00"))
    with pytest.raises(CardDeclined):
        client(sim).refund(D("0.01"), "r-7", paid.rrn)


def test_state_survives_a_restart(tmp_path):
    s = TerminalSimulator(tmp_path / "terminal.json").start()
    first = client(s).pay(D("1.00"), "r-8")
    s.stop()
    s = TerminalSimulator(tmp_path / "terminal.json").start()
    try:
        assert client(s).pay(D("1.00"), "r-8") == first
        assert client(s).pay(D("2.00"), "r-9").rrn == "000000000002"
    finally:
        s.stop()


def test_the_wire_is_json_lines(sim):
    with socket.create_connection(sim.address, timeout=5) as sock:
        f = sock.makefile("rwb")
        f.write(b'{"op": "info"}\n{"op": "pay", "ref": "w", "amount": "abc"}\n')
        f.flush()
        answers = [json.loads(f.readline()), json.loads(f.readline())]
    assert answers == [{"ok": True, "model": "Aquabill terminal simulator", "terminal_id": "SIM00001"},
                       {"ok": False, "error": "bad_request", "message": "Неверная сумма: 'abc'"}]


def test_an_unreachable_terminal_is_a_terminal_error(sim):
    host, port = sim.address
    sim.stop()
    with pytest.raises(TerminalError):
        TcpTerminal(host, port, timeout=2).pay(D("1.00"), "r-10")
