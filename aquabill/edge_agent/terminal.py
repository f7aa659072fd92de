"""The POS card terminal: our interface to it, a TCP simulator and a client for the simulator's protocol.

No public protocol of the bank terminals on site is available to us, so the agent talks to a terminal
through the `CardTerminal` protocol below; a real terminal needs an adapter (e.g. over the bank's
software) implementing it. Every operation carries a `ref` — the receipt key — and MUST be idempotent by
it: a repeated `ref` returns the first approval and never charges twice. That is what makes a crash
between the charge and the receipt safe.

Simulator wire protocol ("JSON lines" over TCP; UTF-8, one JSON object per line ending in "\\n"; the
client may send several requests on one connection; each request gets exactly one answer line):

    → {"op": "pay", "ref": "<1..64 chars>", "amount": "812.40"}
    ← {"ok": true, "op": "pay", "ref": …, "amount": "812.40", "rrn": "000000000001", "auth_code": "4F2A9C",
       "card_mask": "**** 4242", "terminal_id": "SIM00001"}
    → {"op": "refund", "ref": …, "amount": "812.40", "original_rrn": "000000000001"}
    ← the same shape with "op": "refund"
    → {"op": "find", "ref": …}
    ← {"ok": true, "found": true, …the approval…} | {"ok": true, "found": false}
    → {"op": "info"}
    ← {"ok": true, "model": "Aquabill terminal simulator", "terminal_id": "SIM00001"}
    failures:
    ← {"ok": false, "error": "declined", "message": "<Russian text for the cashier>"}
    ← {"ok": false, "error": "bad_request", "message": "…"}

Rules: amounts are decimal strings with at most 2 fraction digits, > 0. A repeated `ref` returns the
stored approval (whatever amount it is sent with); a `ref` used for another operation is a bad request.
TEST HOOK: an amount whose kopecks are 99 (e.g. "100.99") is declined — and a decline is not stored, so
the same ref is declined again. A refund needs a known `original_rrn` of a payment and an amount not over
the payment's remainder. Approvals are kept in a JSON state file, rewritten atomically after each change,
so a restarted simulator still answers repeated refs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import socket
import socketserver
import threading
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

SIM_MODEL = "Aquabill terminal simulator"


class CardDeclined(Exception):
    """The bank (or the cardholder) declined the operation; `message` is for the cashier, in Russian."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TerminalError(Exception):
    """The terminal did not answer or answered garbage: the outcome is unknown (retry with the same ref)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Approval:
    operation: str  # "pay" | "refund"
    ref: str
    amount: Decimal
    rrn: str
    auth_code: str
    card_mask: str
    terminal_id: str

    def as_dict(self) -> dict:
        return {"op": self.operation, "ref": self.ref, "amount": str(self.amount), "rrn": self.rrn,
                "auth_code": self.auth_code, "card_mask": self.card_mask, "terminal_id": self.terminal_id}

    def receipt_card(self) -> dict:
        """The `card` object of a receipt command's result."""
        return {"rrn": self.rrn, "auth_code": self.auth_code, "card_mask": self.card_mask,
                "terminal_id": self.terminal_id}

    @classmethod
    def from_dict(cls, d: dict) -> Approval:
        return cls(operation=str(d["op"]), ref=str(d["ref"]), amount=Decimal(str(d["amount"])),
                   rrn=str(d["rrn"]), auth_code=str(d["auth_code"]), card_mask=str(d["card_mask"]),
                   terminal_id=str(d["terminal_id"]))


@dataclass(frozen=True)
class TerminalInfo:
    model: str
    terminal_id: str


class CardTerminal(Protocol):
    def pay(self, amount: Decimal, ref: str) -> Approval: ...

    def refund(self, amount: Decimal, ref: str, original_rrn: str) -> Approval: ...

    def find(self, ref: str) -> Approval | None: ...

    def info(self) -> TerminalInfo: ...


# --- the client of the simulator's protocol ---


class TcpTerminal:
    """`CardTerminal` over the JSON-lines protocol above (one short connection per request)."""

    def __init__(self, host: str, port: int, timeout: float = 120.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout

    def _call(self, request: dict) -> dict:
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
                sock.sendall(json.dumps(request, ensure_ascii=False).encode() + b"\n")
                with sock.makefile("rb") as f:
                    line = f.readline()
        except OSError as e:
            raise TerminalError(f"Терминал {self.host}:{self.port} не отвечает: {e.strerror or e}") from e
        try:
            answer = json.loads(line)
        except ValueError as e:
            raise TerminalError("Терминал прислал непонятный ответ") from e
        if not isinstance(answer, dict):
            raise TerminalError("Терминал прислал непонятный ответ")
        if not answer.get("ok"):
            message = str(answer.get("message") or "Операция отклонена")
            if answer.get("error") == "declined":
                raise CardDeclined(message)
            raise TerminalError(message)
        return answer

    def pay(self, amount: Decimal, ref: str) -> Approval:
        return Approval.from_dict(self._call({"op": "pay", "ref": ref, "amount": str(amount)}))

    def refund(self, amount: Decimal, ref: str, original_rrn: str) -> Approval:
        return Approval.from_dict(
            self._call({"op": "refund", "ref": ref, "amount": str(amount), "original_rrn": original_rrn})
        )

    def find(self, ref: str) -> Approval | None:
        answer = self._call({"op": "find", "ref": ref})
        return Approval.from_dict(answer) if answer.get("found") else None

    def info(self) -> TerminalInfo:
        answer = self._call({"op": "info"})
        return TerminalInfo(model=str(answer.get("model", "")), terminal_id=str(answer.get("terminal_id", "")))


# --- the simulator ---


class _BadRequest(Exception):
    pass


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation as e:
        raise _BadRequest(f"Неверная сумма: {value!r}") from e
    if not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2:
        raise _BadRequest(f"Неверная сумма: {value!r}")
    return amount


class TerminalSimulator:
    """A card terminal on a TCP port, answering the protocol above; state kept in a JSON file."""

    def __init__(self, state_path: str | Path, host: str = "127.0.0.1", port: int = 0,
                 terminal_id: str = "SIM00001", delay: float = 0.0) -> None:
        self.state_path = Path(state_path)
        self.terminal_id = terminal_id
        self.delay = delay
        self._lock = threading.Lock()
        self._state = self._load()
        sim = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for line in self.rfile:
                    if not line.strip():
                        continue
                    answer = sim.answer(line)
                    self.wfile.write(json.dumps(answer, ensure_ascii=False).encode() + b"\n")
                    self.wfile.flush()

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self._server = Server((host, port), Handler)
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return host, port

    def start(self) -> TerminalSimulator:
        self._thread = threading.Thread(target=self._server.serve_forever, name="terminal-sim", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(5)

    def approvals(self) -> list[dict]:
        with self._lock:
            return [dict(a) for a in self._state["approvals"].values()]

    def _load(self) -> dict:
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            state = {}
        state.setdefault("counter", 0)
        state.setdefault("approvals", {})
        return state

    def _save(self) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self._state, f, ensure_ascii=False, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.state_path)

    def answer(self, line: bytes) -> dict:
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise _BadRequest("Запрос должен быть объектом JSON")
            if self.delay and request.get("op") in ("pay", "refund"):
                time.sleep(self.delay)
            with self._lock:
                return self._operate(request)
        except _BadRequest as e:
            return {"ok": False, "error": "bad_request", "message": str(e)}
        except ValueError:
            return {"ok": False, "error": "bad_request", "message": "Запрос не разбирается как JSON"}

    def _operate(self, request: dict) -> dict:
        op = request.get("op")
        if op == "info":
            return {"ok": True, "model": SIM_MODEL, "terminal_id": self.terminal_id}
        ref = request.get("ref")
        if not isinstance(ref, str) or not 1 <= len(ref) <= 64:
            raise _BadRequest("Нужна ссылка операции ref (1–64 символа)")
        stored = self._state["approvals"].get(ref)
        if op == "find":
            return {"ok": True, "found": True, **stored} if stored else {"ok": True, "found": False}
        if op not in ("pay", "refund"):
            raise _BadRequest(f"Неизвестная операция {op!r}")
        if stored:
            if stored["op"] != op:
                raise _BadRequest("Ссылка уже использована для другой операции")
            return {"ok": True, **stored}  # idempotent: the first approval, never a second charge
        amount = _amount(request.get("amount"))
        if amount % 1 == Decimal("0.99"):  # test hook: kopecks 99 → declined (not stored)
            return {"ok": False, "error": "declined", "message": "Операция отклонена банком (недостаточно средств)"}
        if op == "refund":
            original = next((a for a in self._state["approvals"].values()
                             if a["op"] == "pay" and a["rrn"] == request.get("original_rrn")), None)
            if original is None:
                return {"ok": False, "error": "declined", "message": "Исходная оплата для возврата не найдена"}
            refunded = sum((Decimal(a["amount"]) for a in self._state["approvals"].values()
                            if a["op"] == "refund" and a.get("original_rrn") == original["rrn"]), Decimal(0))
            if refunded + amount > Decimal(original["amount"]):
                return {"ok": False, "error": "declined", "message": "Сумма возврата больше суммы оплаты"}
        self._state["counter"] += 1
        approval = {
            "op": op, "ref": ref, "amount": str(amount), "rrn": f"{self._state['counter']:012d}",
            "auth_code": hashlib.sha256(ref.encode()).hexdigest()[:6].upper(),
            "card_mask": "**** 4242", "terminal_id": self.terminal_id,
        }
        if op == "refund":
            approval["original_rrn"] = str(request["original_rrn"])
        self._state["approvals"][ref] = approval
        self._save()
        return {"ok": True, **approval}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Симулятор платёжного терминала (протокол JSON-строк по TCP).")
    parser.add_argument("--state", required=True, help="файл состояния (JSON)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7800)
    parser.add_argument("--delay", type=float, default=0.0, help="задержка операции, с")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    sim = TerminalSimulator(args.state, args.host, args.port, delay=args.delay)
    log.info("terminal simulator on %s:%s, state %s", *sim.address, args.state)
    try:
        sim.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
