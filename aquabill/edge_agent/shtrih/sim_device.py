"""The fiscal state machine of the Shtrih-M simulator: commands in, error byte + answer data out (no I/O
but its JSON state file).

It keeps what a register keeps: mode (4 shift closed, 2 open, 3 open > 24 h, 8 receipt open), the FN
number, the FD counter, fiscal signs (a deterministic hash of the document's data), the shift and receipt
counters, the documents (type, FD, FP, time, operation, amount, shift, items and tags) and the cash drawer.
It refuses what a register refuses (wrong mode 0x73, bad password 0x4F, payment below the total 0x45,
zero total 0x8E, shift over 24 h 0x4E, no paper 0x6B, …) with the codes of `errors.py`. The state is
written atomically (temp file + os.replace) after every change, so a killed simulator continues; the fiscal
documents go to an append-only JSON-lines file beside it (`<state>.documents.jsonl`, each line written and
fsynced as the document is made), so the per-command save stays small however many documents there are.
Layouts are those `commands.py` builds and parses (NOTES-shtrih.md §2).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from aquabill.edge_agent.shtrih import frames
from aquabill.edge_agent.shtrih.commands import OPERATIONS, TAX_BYTES
from aquabill.edge_agent.shtrih.errors import ProtocolError

DEFAULT_FN = "9999078900012345"
MODEL = "ШТРИХ-ЛАЙТ-02Ф (симулятор)"
PRINTING = frozenset({0xE0, 0x40, 0x41, 0xFF45, 0x8C, 0x50, 0x51})  # these take `print_delay`
NEEDS_PAPER = PRINTING | {0x8D}
ADMIN_ONLY = frozenset({0x40, 0x41, 0xFF41, 0xFF42, 0xFF43, 0xFF0B})
SHIFT_HOURS = 24


@dataclass(frozen=True)
class Reply:
    error: int
    data: bytes = b""
    printing: bool = False


class _Refuse(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _new_state(fn_number: str) -> dict[str, Any]:
    return {"version": 1, "fn_number": fn_number, "serial": 12345678, "inn": 7700000000, "fd": 0,
            "shift": {"open": False, "number": 0, "opened_at": None, "receipts": 0},
            "pending": None, "pending_tags": [], "receipt": None, "cash": 0, "doc_number": 0}


class SimDevice:
    """The register's memory and rules. Not thread-safe: the transport serialises calls."""

    def __init__(self, state_path: str | os.PathLike[str], *, fn_number: str = DEFAULT_FN,
                 clock: Callable[[], datetime] = datetime.now) -> None:
        self.path = Path(state_path)
        self.docs_path = self.path.with_name(self.path.name + ".documents.jsonl")
        self.clock = clock
        self.paper = True
        self.docs: list[dict[str, Any]] = []
        if self.path.exists():
            self.state = json.loads(self.path.read_text(encoding="utf-8"))
            if self.docs_path.exists():
                self.docs = [json.loads(line) for line in self.docs_path.read_text(encoding="utf-8").splitlines()
                             if line.strip()]
            for doc in self.state.pop("documents", []):  # an older state file kept them inline
                self._append(doc)
            if self.docs and self.docs[-1]["fd"] > self.state["fd"]:  # killed between the document and the state
                self.state["fd"] = self.docs[-1]["fd"]
                self.state.update(receipt=None, pending=None, pending_tags=[])
            self._save()
        else:
            self.state = _new_state(fn_number)
            self.docs_path.unlink(missing_ok=True)
            self._save()

    def _append(self, doc: dict[str, Any]) -> None:
        with open(self.docs_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(doc, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.docs.append(doc)

    # --- persistence and views ----------------------------------------------------------------------

    def _save(self) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(self.state, handle, ensure_ascii=False, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def documents(self) -> list[dict[str, Any]]:
        return json.loads(json.dumps(self.docs))

    def mode(self) -> int:
        if self.state["receipt"] is not None:
            return 8 | (self.state["receipt"]["type"] << 4)
        shift = self.state["shift"]
        if not shift["open"]:
            return 4
        opened = datetime.fromisoformat(shift["opened_at"])
        return 3 if self.clock() - opened > timedelta(hours=SHIFT_HOURS) else 2

    def age_shift(self, hours: float) -> None:
        """Test hook: move the shift's opening time back by `hours`."""
        shift = self.state["shift"]
        if shift["opened_at"]:
            shift["opened_at"] = (datetime.fromisoformat(shift["opened_at"]) - timedelta(hours=hours)).isoformat()
            self._save()

    # --- dispatch -----------------------------------------------------------------------------------

    def execute(self, command: int, data: bytes) -> Reply:
        handler = _HANDLERS.get(command)
        if handler is None:
            return Reply(0x37)
        try:
            if command == 0xFC:
                return Reply(0, handler(self, 0, data))
            if len(data) < 4:
                raise _Refuse(0x33)
            operator = frames.from_le(data, 0, 4)
            if not 1 <= operator <= 30 or (command in ADMIN_ONLY and operator < 29):
                raise _Refuse(0x4F)
            if command in NEEDS_PAPER and not self.paper:
                raise _Refuse(0x6B)
            return Reply(0, handler(self, operator, data[4:]), command in PRINTING)
        except _Refuse as refusal:
            return Reply(refusal.code)
        except ProtocolError:
            return Reply(0x33)

    def _need_mode(self, *allowed: int) -> int:
        mode = self.mode() & 0x0F
        if mode in allowed:
            return mode
        if mode == 8:
            raise _Refuse(0x4A)
        if mode == 3 and 2 in allowed:
            raise _Refuse(0x4E)
        if mode == 4 and 2 in allowed:
            raise _Refuse(0x3D)
        raise _Refuse(0x73)

    def _need_receipt(self) -> dict[str, Any]:
        if self.state["receipt"] is None:
            raise _Refuse(0x73)  # e.g. 88h with no receipt open (observed, NOTES-shtrih.md "Corrections")
        return self.state["receipt"]

    # --- documents ----------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.clock().replace(second=0, microsecond=0)

    def _fiscalise(self, doc_type: int, **fields: Any) -> dict[str, Any]:
        self.state["fd"] += 1
        at = self._now()
        doc = {"type": doc_type, "fd": self.state["fd"], "at": at.isoformat(), "ofd": True,
               "shift": self.state["shift"]["number"], **fields}
        digest = hashlib.sha256(
            f"{self.state['fn_number']}|{doc['fd']}|{doc_type}|{doc['at']}|{fields.get('operation')}|"
            f"{fields.get('amount')}|{doc['shift']}".encode()).digest()
        doc["fp"] = int.from_bytes(digest[:4], "big")
        self._append(doc)
        return doc

    def _open_shift(self) -> dict[str, Any]:
        self._need_mode(4)
        shift = self.state["shift"]
        shift.update(open=True, number=shift["number"] + 1, opened_at=self._now().isoformat(), receipts=0)
        doc = self._fiscalise(2, tags=self.state["pending_tags"])
        self.state.update(pending=None, pending_tags=[])
        self._save()
        return doc

    def _close_shift(self) -> dict[str, Any]:
        self._need_mode(2, 3)
        doc = self._fiscalise(5, tags=self.state["pending_tags"])
        self.state["shift"].update(open=False, opened_at=None)
        self.state.update(pending=None, pending_tags=[])
        self._save()
        return doc

    @staticmethod
    def _shift_doc(doc: dict[str, Any]) -> bytes:
        return frames.le(doc["shift"], 2) + frames.le(doc["fd"], 4) + frames.le(doc["fp"], 4)


def _status(dev: SimDevice, operator: int, data: bytes) -> bytes:
    receipt = dev.state["receipt"]
    ops = len(receipt["items"]) if receipt else 0
    return (bytes([operator]) + b"\x00\x00" + bytes([dev.mode(), 0 if dev.paper else 1, ops & 0xFF,
                                                      0x9C, 0xAF, 0, 0, ops >> 8]) + b"\x00" * 3)


def _full_status(dev: SimDevice, operator: int, data: bytes) -> bytes:
    now = dev.clock()
    head = (bytes([operator, 3, 2]) + frames.le(1, 2) + bytes([1, 1, 26, 1]) + frames.le(dev.state["doc_number"], 2)
            + b"\x00\x00" + bytes([dev.mode(), 0 if dev.paper else 1, 1, 3, 2]) + frames.le(1, 2)
            + bytes([1, 1, 26, now.day, now.month, now.year - 2000, now.hour, now.minute, now.second, 0]))
    last_closed = dev.state["shift"]["number"] - (1 if dev.state["shift"]["open"] else 0)
    return (head + frames.le(dev.state["serial"], 4) + frames.le(last_closed, 2) + frames.le(2000, 2)
            + bytes([1, 29]) + frames.le(dev.state["inn"], 6))


def _device_type(dev: SimDevice, operator: int, data: bytes) -> bytes:
    return bytes([0, 0, 1, 0, 0x88, 0]) + MODEL.encode(frames.TEXT_ENCODING)


def _fn_status(dev: SimDevice, operator: int, data: bytes) -> bytes:
    doc = 0x04 if dev.state["receipt"] else 0
    return (bytes([0x03, doc, 0, 1 if dev.state["shift"]["open"] else 0, 0]) + frames.dt(dev.clock())
            + dev.state["fn_number"].encode("ascii").ljust(16, b"\x00")[:16] + frames.le(dev.state["fd"], 4))


def _shift_params(dev: SimDevice, operator: int, data: bytes) -> bytes:
    shift = dev.state["shift"]
    return bytes([1 if shift["open"] else 0]) + frames.le(shift["number"], 2) + frames.le(shift["receipts"], 2)


def _find(dev: SimDevice, operator: int, data: bytes) -> bytes:
    number = frames.from_le(data, 0, 4)
    doc = next((d for d in reversed(dev.docs) if d["fd"] == number), None)
    if doc is None:
        raise _Refuse(0x08)  # FN: no requested data
    head = (bytes([doc["type"], 1 if doc["ofd"] else 0]) + frames.dt(datetime.fromisoformat(doc["at"]))
            + frames.le(doc["fd"], 4) + frames.le(doc["fp"], 4))
    if doc["type"] == 3:
        return head + bytes([doc["operation"]]) + frames.le(doc["amount"], 5)
    return head + frames.le(doc["shift"], 2)


def _begin(kind: str) -> Callable[[SimDevice, int, bytes], bytes]:
    def handler(dev: SimDevice, operator: int, data: bytes) -> bytes:
        dev._need_mode(4) if kind == "open" else dev._need_mode(2, 3)
        dev.state.update(pending=kind, pending_tags=[])
        dev._save()
        return b""
    return handler


def _tlv(dev: SimDevice, operator: int, data: bytes) -> bytes:
    frames.decode_tlvs(data)  # well-formed, else 0x33
    if dev.state["receipt"] is not None:
        dev.state["receipt"]["tags"].append(data.hex())
    elif dev.state["pending"]:
        dev.state["pending_tags"].append(data.hex())
    else:
        raise _Refuse(0x02)  # FN: wrong state (no document being formed)
    dev._save()
    return b""


def _item_tlv(dev: SimDevice, operator: int, data: bytes) -> bytes:
    receipt = dev._need_receipt()
    if not receipt["items"]:
        raise _Refuse(0x02)
    frames.decode_tlvs(data)
    receipt["items"][-1]["tags"].append(data.hex())
    dev._save()
    return b""


def _open_shift(dev: SimDevice, operator: int, data: bytes) -> bytes:
    dev._open_shift()
    return bytes([operator])


def _open_shift_fn(dev: SimDevice, operator: int, data: bytes) -> bytes:
    return dev._shift_doc(dev._open_shift())


def _z_report(dev: SimDevice, operator: int, data: bytes) -> bytes:
    dev._close_shift()
    return bytes([operator])


def _close_shift_fn(dev: SimDevice, operator: int, data: bytes) -> bytes:
    return dev._shift_doc(dev._close_shift())


def _x_report(dev: SimDevice, operator: int, data: bytes) -> bytes:
    dev._need_mode(2, 3, 4)
    return bytes([operator])


def _open_receipt(dev: SimDevice, operator: int, data: bytes) -> bytes:
    if len(data) < 1 or data[0] not in OPERATIONS:
        raise _Refuse(0x33)
    if dev.state["receipt"] is not None:
        raise _Refuse(0x73)  # observed on a device: 8Dh with a receipt already open
    dev._need_mode(2)
    dev.state["receipt"] = {"type": data[0], "items": [], "tags": []}
    dev._save()
    return bytes([operator])


def _item(dev: SimDevice, operator: int, data: bytes) -> bytes:
    receipt = dev._need_receipt()
    if len(data) < 27:
        raise _Refuse(0x33)
    operation, qty = data[0], frames.quantity_from(data, 1)
    price, total = frames.from_le(data, 7, 5), frames.from_le(data, 12, 5)
    tax, method, subject = data[22], data[24], data[25]
    if OPERATIONS.get(receipt["type"]) != operation:
        raise _Refuse(0x5E)  # the operation does not match the receipt's type
    if qty <= 0 or tax not in TAX_BYTES.values() or not 1 <= method <= 7 or not 1 <= subject <= 33:
        raise _Refuse(0x33)
    exact = (Decimal(price) * qty).quantize(Decimal(1), ROUND_HALF_UP)
    if data[12:17] == frames.NO_VALUE_5:
        total = int(exact)
    elif abs(total - exact) > 1:
        raise _Refuse(0x33)
    name = data[26:].decode(frames.TEXT_ENCODING, errors="replace")
    if len(data) - 26 > 128:
        raise _Refuse(0x33)
    receipt["items"].append({"name": name, "price": price, "quantity": str(qty), "amount": total, "tax": tax,
                             "method": method, "subject": subject, "tags": []})
    dev._save()
    return b""


def _close_receipt(dev: SimDevice, operator: int, data: bytes) -> bytes:
    receipt = dev._need_receipt()
    if len(data) < 112:
        raise _Refuse(0x33)
    sums = [frames.from_le(data, 5 * i, 5) for i in range(16)]
    tax_system = data[111]
    total = sum(item["amount"] for item in receipt["items"])
    cash, non_cash = sums[0], sum(sums[1:])
    if total == 0:
        raise _Refuse(0x8E)
    if non_cash > total:
        raise _Refuse(0x4D)
    if cash + non_cash < total:
        raise _Refuse(0x45)
    if tax_system not in (1, 2, 4, 8, 16, 32):
        raise _Refuse(0x33)
    change = cash + non_cash - total
    operation = OPERATIONS[receipt["type"]]
    drawer = cash - change if operation in (1, 4) else -(cash - change)
    if dev.state["cash"] + drawer < 0:
        raise _Refuse(0x46)
    dev.state["cash"] += drawer
    dev.state["shift"]["receipts"] += 1
    doc = dev._fiscalise(3, operation=operation, amount=total, change=change, tax_system=tax_system,
                         payments={"cash": cash, "electronic": non_cash}, items=receipt["items"],
                         tags=receipt["tags"])
    dev.state["receipt"] = None
    dev._save()
    return (frames.le(change, 5) + frames.le(doc["fd"], 4) + frames.le(doc["fp"], 4)
            + frames.dt(datetime.fromisoformat(doc["at"])))


def _cancel(dev: SimDevice, operator: int, data: bytes) -> bytes:
    dev._need_receipt()
    dev.state["receipt"] = None
    dev._save()
    return bytes([operator])


def _duplicate(dev: SimDevice, operator: int, data: bytes) -> bytes:
    dev._need_mode(2, 3, 4)
    if not dev.docs:
        raise _Refuse(0x56)
    return bytes([operator])


def _cash_move(sign: int) -> Callable[[SimDevice, int, bytes], bytes]:
    def handler(dev: SimDevice, operator: int, data: bytes) -> bytes:
        amount = frames.from_le(data, 0, 5)
        if amount == 0:
            raise _Refuse(0x33)
        dev._need_mode(2)
        if dev.state["cash"] + sign * amount < 0:
            raise _Refuse(0x46)
        dev.state["cash"] += sign * amount
        dev.state["doc_number"] += 1
        dev._save()
        return bytes([operator]) + frames.le(dev.state["doc_number"], 2)
    return handler


def _continue(dev: SimDevice, operator: int, data: bytes) -> bytes:
    return bytes([operator])


_HANDLERS: dict[int, Callable[[SimDevice, int, bytes], bytes]] = {
    0x10: _status, 0x11: _full_status, 0xFC: _device_type, 0xFF01: _fn_status, 0xFF40: _shift_params,
    0xFF0A: _find, 0xFF41: _begin("open"), 0xFF42: _begin("close"), 0xFF0C: _tlv, 0xFF4D: _item_tlv,
    0xE0: _open_shift, 0xFF0B: _open_shift_fn, 0x41: _z_report, 0xFF43: _close_shift_fn, 0x40: _x_report,
    0x8D: _open_receipt, 0xFF46: _item, 0xFF45: _close_receipt, 0x88: _cancel, 0x8C: _duplicate,
    0x50: _cash_move(+1), 0x51: _cash_move(-1), 0xB0: _continue,
}
