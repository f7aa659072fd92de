"""The agent against its real peers: a WebSocket server written here that speaks the server side of the
protocol, and the Shtrih-M simulator on a pty (in this process, so the test sees its fiscal memory).

(a) in-process agent: hello/welcome, command → ack → result → result_ack, a result resent after a
    reconnect, a repeated command answered from the journal, pings, close 4401 stops the agent.
(b) the agent as a process, SIGKILLed while the register is printing the receipt (FF45h print delay),
    restarted: exactly one receipt on the register and one result on the server.
(c) `aquabill-edge check` against the same peers and the card terminal simulator.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from aquabill.edge_agent import cli
from aquabill.edge_agent.client import EXIT_REVOKED, Agent
from aquabill.edge_agent.executor import Executor
from aquabill.edge_agent.journal import Journal
from aquabill.edge_agent.shtrih.driver import ShtrihRegister
from aquabill.edge_agent.shtrih.simulator import Simulator
from aquabill.edge_agent.terminal import TcpTerminal, TerminalSimulator

ROOT = Path(__file__).resolve().parents[3]
KEY = "ek1.demo.7.test-secret"
CASHIER = {"name": "Иванова А. П.", "inn": ""}
WAIT = 60  # s: upper bound for any single expected frame (never asserted)


def receipt_command(id: int, key: str, amount: str = "812.40", cash: str = "1000.00") -> dict:
    return {"type": "command", "id": id, "key": f"cmd-{id}", "kind": "receipt", "payload": {
        "key": key, "operation": 1, "tax_system": 1, "cashier": CASHIER, "buyer_contact": "",
        "items": [{"name": "Холодное водоснабжение, 11.2026, л/с 00100127", "price": amount, "quantity": "1",
                   "amount": amount, "vat": 11, "subject": 4, "method": 4, "measure": 0, "agent": None}],
        "payments": {"cash": cash, "electronic": "0.00"}, "card": None}}


class FakeServer:
    """The server side of the agent protocol: 4401 for a wrong/revoked key, hello → welcome, then frames."""

    def __init__(self, key: str, heartbeat: int = 1) -> None:
        self.key, self.heartbeat = key, heartbeat
        self.revoked = False
        self.hellos: asyncio.Queue = asyncio.Queue()
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.results: list[dict] = []  # every result frame ever received
        self.pings = 0
        self.pinged = asyncio.Event()
        self.refused = 0
        self.ws = None

    async def handler(self, ws) -> None:
        if ws.request.headers.get("Authorization") != f"Bearer {self.key}" or self.revoked:
            self.refused += 1
            await ws.close(4401, "Ключ устройства отозван или неизвестен")
            return
        try:
            hello = json.loads(await ws.recv())
        except ConnectionClosed:  # `aquabill-edge check` only probes the key
            return
        await ws.send(json.dumps({"type": "welcome", "agent_id": 7, "heartbeat": self.heartbeat}))
        self.ws = ws
        await self.hellos.put(hello)
        try:
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] == "ping":
                    self.pings += 1
                    self.pinged.set()
                    await ws.send(json.dumps({"type": "pong"}))
                    continue
                if frame["type"] == "result":
                    self.results.append(frame)
                await self.inbox.put(frame)
        except ConnectionClosed:
            pass

    async def __aenter__(self) -> "FakeServer":
        self.server = await serve(self.handler, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        self.url = f"ws://127.0.0.1:{port}/edge/ws"
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def hello(self) -> dict:
        return await asyncio.wait_for(self.hellos.get(), WAIT)

    async def next(self) -> dict:
        return await asyncio.wait_for(self.inbox.get(), WAIT)

    async def send(self, frame: dict) -> None:
        await self.ws.send(json.dumps(frame, ensure_ascii=False))


def receipts(sim: Simulator) -> list[dict]:
    return [d for d in sim.documents() if d["type"] == 3]


@pytest.fixture
def sim(tmp_path):
    s = Simulator(tmp_path / "register.json", link=tmp_path / "ttyFR", print_delay=0.05).start()
    yield s
    s.stop()


async def test_the_agent_speaks_the_protocol_with_the_server_and_the_register(tmp_path, sim):
    journal = Journal(tmp_path / "journal.sqlite3")
    executor = Executor(journal, lambda: ShtrihRegister(sim.link_path))
    async with FakeServer(KEY) as server:
        agent = Agent(server.url, KEY, journal, executor, backoff_initial=0.05, backoff_max=0.2)
        task = asyncio.create_task(agent.run())
        try:
            hello = await server.hello()
            assert (hello["type"], hello["cursor"], hello["version"]) == ("hello", 0, "0.1.0")
            assert hello["device"]["register"]["model"] == "ШТРИХ-ЛАЙТ-02Ф (симулятор)"
            assert (hello["device"]["register"]["shift_open"], hello["device"]["terminal"]) == (False, None)

            await server.send({"type": "command", "id": 1, "key": "cmd-1", "kind": "open_shift",
                               "payload": {"cashier": CASHIER}})
            assert await server.next() == {"type": "ack", "id": 1}
            opened = await server.next()
            assert (opened["type"], opened["id"], opened["ok"], opened["result"]["shift_number"],
                    opened["result"]["fd_number"]) == ("result", 1, True, 1, 1)
            await server.send({"type": "result_ack", "id": 1})

            await server.send(receipt_command(2, "receipt-A"))
            assert await server.next() == {"type": "ack", "id": 2}  # journaled before anything is printed
            printed = await server.next()
            doc = receipts(sim)[0]
            assert printed == {"type": "result", "id": 2, "ok": True, "result": {
                "fn_number": sim.device.state["fn_number"], "fd_number": doc["fd"], "fiscal_sign": doc["fp"],
                "fiscal_at": printed["result"]["fiscal_at"], "shift_number": 1, "change": "187.60", "card": None,
                "recovered": False}}

            # no result_ack: the connection drops; the result is resent first thing after the reconnect
            await server.ws.close(1012, "restart")
            again = await server.hello()
            assert again["cursor"] == 2
            assert await server.next() == printed
            await server.send({"type": "result_ack", "id": 2})

            # the server resends the same command (e.g. its lease ran out): acked, answered from the journal
            await server.send(receipt_command(2, "receipt-A"))
            assert await server.next() == {"type": "ack", "id": 2}
            assert await server.next() == printed
            assert len(receipts(sim)) == 1

            await asyncio.wait_for(server.pinged.wait(), WAIT)  # heartbeat 1 s

            server.revoked = True
            await server.ws.close(4401, "Ключ устройства отозван или неизвестен")
            assert await asyncio.wait_for(task, WAIT) == EXIT_REVOKED
            assert server.refused == 0 and server.hellos.empty()  # it did not try again
            assert [e.id for e in journal.undelivered()] == []
        finally:
            agent.stop()
            if not task.done():
                await asyncio.wait_for(task, WAIT)
            journal.close()


async def test_a_wrong_key_stops_the_agent_at_the_first_connection(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite3")
    async with FakeServer(KEY) as server:
        agent = Agent(server.url, "ek1.demo.7.wrong", journal, Executor(journal, None))
        try:
            assert await asyncio.wait_for(agent.run(), WAIT) == EXIT_REVOKED
        finally:
            journal.close()
    assert server.refused == 1


async def test_a_card_receipt_charges_the_terminal_then_prints(tmp_path, sim):
    terminal = TerminalSimulator(tmp_path / "terminal.json").start()
    journal = Journal(tmp_path / "journal.sqlite3")
    executor = Executor(journal, lambda: ShtrihRegister(sim.link_path), TcpTerminal(*terminal.address, timeout=10))
    async with FakeServer(KEY) as server:
        agent = Agent(server.url, KEY, journal, executor, backoff_initial=0.05)
        task = asyncio.create_task(agent.run())
        try:
            await server.hello()
            await server.send({"type": "command", "id": 1, "key": "cmd-1", "kind": "open_shift",
                               "payload": {"cashier": CASHIER}})
            for _ in range(2):
                await server.next()
            paid = receipt_command(2, "receipt-card", cash="0.00")
            paid["payload"]["payments"] = {"cash": "0.00", "electronic": "812.40"}
            paid["payload"]["card"] = {"amount": "812.40", "operation": "pay"}
            declined = receipt_command(3, "receipt-declined", amount="100.99", cash="0.00")
            declined["payload"]["payments"] = {"cash": "0.00", "electronic": "100.99"}
            declined["payload"]["card"] = {"amount": "100.99", "operation": "pay"}
            await server.send(paid)
            await server.send(declined)
            frames = [await server.next() for _ in range(4)]
        finally:
            agent.stop()
            await asyncio.wait_for(task, WAIT)
            journal.close()
            terminal.stop()
    results = {f["id"]: f for f in frames if f["type"] == "result"}
    doc = receipts(sim)[0]
    assert (results[2]["ok"], results[2]["result"]["card"], results[2]["result"]["change"]) == (
        True, {"rrn": "000000000001", "auth_code": terminal.approvals()[0]["auth_code"], "card_mask": "**** 4242",
               "terminal_id": "SIM00001"}, "0.00")
    assert (doc["payments"], len(receipts(sim))) == ({"cash": 0, "electronic": 81240}, 1)
    assert results[3] == {"type": "result", "id": 3, "ok": False, "error": {
        "code": "card_declined", "message": "Операция отклонена банком (недостаточно средств)", "retryable": False}}


def _agent_process(config: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "aquabill.edge_agent.cli", "run", "--config", str(config)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(log, "ab"))  # noqa: SIM115


async def test_killed_while_printing_then_restarted_one_receipt_one_result(tmp_path):
    sim = Simulator(tmp_path / "register.json", link=tmp_path / "ttyFR", print_delay=3.0).start()
    config, log = tmp_path / "agent.toml", tmp_path / "agent.log"
    agent = None
    try:
        async with FakeServer(KEY, heartbeat=15) as server:
            config.write_text(
                f'[server]\nurl = "{server.base}"\nws_url = "/edge/ws"\ntenant = "demo"\nagent_id = 7\n'
                f'key = "{KEY}"\n[register]\nport = "{sim.link_path}"\n[terminal]\nkind = "none"\n'
                f'[agent]\ndata_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
            agent = _agent_process(config, log)
            assert (await server.hello())["cursor"] == 0
            await server.send({"type": "command", "id": 1, "key": "cmd-1", "kind": "open_shift",
                               "payload": {"cashier": CASHIER}})
            assert await server.next() == {"type": "ack", "id": 1}
            assert (await server.next())["ok"] is True
            await server.send({"type": "result_ack", "id": 1})

            await server.send(receipt_command(2, "receipt-K"))
            assert await server.next() == {"type": "ack", "id": 2}
            deadline = time.monotonic() + WAIT
            while not receipts(sim):  # FF45h fiscalized; the register is now "printing" for 3 s
                assert time.monotonic() < deadline, log.read_text()
                await asyncio.sleep(0.01)
            os.kill(agent.pid, signal.SIGKILL)
            agent.wait(WAIT)

            agent = _agent_process(config, log)
            assert (await server.hello())["cursor"] == 2
            result = await server.next()
            doc = receipts(sim)[0]
            assert (result["type"], result["id"], result["ok"], result["result"]["fd_number"],
                    result["result"]["fiscal_sign"], result["result"]["recovered"]) == (
                "result", 2, True, doc["fd"], doc["fp"], True)
            await server.send({"type": "result_ack", "id": 2})

            agent.send_signal(signal.SIGTERM)
            assert agent.wait(WAIT) == 0, log.read_text()
            agent = None
            assert [(r["id"], r["ok"]) for r in server.results] == [(1, True), (2, True)]
            assert [(d["fd"], d["amount"]) for d in receipts(sim)] == [(doc["fd"], 81240)]
    finally:
        if agent is not None and agent.poll() is None:
            agent.kill()
            agent.wait(WAIT)
        sim.stop()


def _write_config(path: Path, server: FakeServer, key: str, port: str, data: Path, terminal=None) -> None:
    term = f'kind = "tcp"\nhost = "{terminal[0]}"\nport = {terminal[1]}\n' if terminal else 'kind = "none"\n'
    path.write_text(f'[server]\nurl = "{server.base}"\nws_url = "/edge/ws"\ntenant = "demo"\nagent_id = 7\n'
                    f'key = "{key}"\n[register]\nport = "{port}"\n[terminal]\n{term}'
                    f'[agent]\ndata_dir = "{data}"\n', encoding="utf-8")


async def test_check_reports_each_device_and_the_server(tmp_path, sim, capsys):
    terminal = TerminalSimulator(tmp_path / "terminal.json").start()
    config = tmp_path / "agent.toml"
    try:
        async with FakeServer(KEY) as server:
            _write_config(config, server, KEY, sim.link_path, tmp_path / "data", terminal.address)
            good = await asyncio.to_thread(cli.main, ["check", "--config", str(config)])
            good_out = capsys.readouterr().out.splitlines()
            _write_config(config, server, "ek1.demo.7.revoked", str(tmp_path / "nope"), tmp_path / "data")
            bad = await asyncio.to_thread(cli.main, ["check", "--config", str(config)])
            bad_out = capsys.readouterr().out.splitlines()
    finally:
        terminal.stop()
    fn = sim.device.state["fn_number"]
    assert (good, good_out) == (0, [
        f"Конфигурация {config}: OK (организация demo, агент № 7)",
        f"Журнал {tmp_path / 'data' / 'journal.sqlite3'}: OK (последняя команда № 0, не доставлено результатов: 0)",
        f"Порт {sim.link_path}: OK (115200 бод)",
        f"ККТ: OK (ШТРИХ-ЛАЙТ-02Ф (симулятор), зав. № 12345678, ФН {fn}, режим 4 «Смена закрыта», смена № 0 "
        "закрыта, последний ФД 0)",
        "Платёжный терминал: OK (Aquabill terminal simulator, терминал SIM00001)",
        f"Сервер {server.url}: OK (ключ принят)",
    ])
    assert bad == 1
    assert bad_out[2].startswith(f"Порт {tmp_path / 'nope'}: ОШИБКА: ")
    assert bad_out[-1] == (f"Сервер {server.url}: ОШИБКА: ключ устройства отозван или неизвестен "
                           "(Ключ устройства отозван или неизвестен): подключите агент заново")
