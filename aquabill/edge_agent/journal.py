"""The agent's durable local journal of commands (SQLite, WAL, `synchronous=FULL`).

Every command the server sends is written and committed here BEFORE the agent acks it, with its life:

    received → card_started → card_done → fiscal_started → done | failed

(`card_*` only for a receipt paid by card; `fiscal_started` is written, with the FN's last fiscal document
number `fiscal_from`, right before anything that may create a fiscal document or move money — the marker
the executor recovers from after a crash or a lost reply.) A finished command keeps its result or error
and whether the server confirmed receiving it (`result_acked`); undelivered results are resent after
every reconnect. The highest journaled id is the `hello` cursor.

`op_key` is the key exactly-once applies to: a receipt's `payload.key` (the server retries a failed print
as a new command carrying the same receipt key), the command's own key otherwise. `fiscal_open` is 1 while
an attempt's fiscal outcome is unknown (the register stopped answering after `fiscal_started`).

One connection shared by the asyncio thread and the executor's worker thread, serialised by a lock; every
method commits before it returns.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

STATES = ("received", "card_started", "card_done", "fiscal_started", "done", "failed")
FINISHED = ("done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS commands (
    id            INTEGER PRIMARY KEY,          -- edge_commands.id on the server
    key           TEXT NOT NULL,                -- edge_commands.key
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,                -- JSON
    op_key        TEXT NOT NULL,                -- receipt: payload.key; else the command key
    state         TEXT NOT NULL DEFAULT 'received',
    card          TEXT,                         -- JSON approval of the card terminal
    fiscal_from   INTEGER,                      -- FN last FD number before printing
    fiscal_open   INTEGER NOT NULL DEFAULT 0,   -- 1: fiscal outcome of the attempt not yet known
    ok            INTEGER,                      -- 1 result, 0 error, NULL not finished
    body          TEXT,                         -- JSON result (ok) or error
    fd_number     INTEGER,                      -- the fiscal document this command produced, if any
    result_acked  INTEGER NOT NULL DEFAULT 0,
    received_at   TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS commands_op_key ON commands (op_key);
CREATE INDEX IF NOT EXISTS commands_fd_number ON commands (fd_number);
CREATE INDEX IF NOT EXISTS commands_unfinished ON commands (state) WHERE state NOT IN ('done', 'failed');
"""


@dataclass(frozen=True)
class Entry:
    id: int
    key: str
    kind: str
    payload: dict
    op_key: str
    state: str
    card: dict | None
    fiscal_from: int | None
    fiscal_open: bool
    ok: bool | None
    body: dict | None
    result_acked: bool

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def result_frame(self) -> dict:
        """The `result` frame for the server (only for a finished command)."""
        if self.ok:
            return {"type": "result", "id": self.id, "ok": True, "result": self.body}
        return {"type": "result", "id": self.id, "ok": False, "error": self.body}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def op_key_of(key: str, kind: str, payload: dict) -> str:
    if kind == "receipt" and isinstance(payload, dict):
        receipt_key = payload.get("key")
        if isinstance(receipt_key, str) and receipt_key:
            return "receipt:" + receipt_key
    return "command:" + key


def _entry(row: sqlite3.Row) -> Entry:
    return Entry(
        id=row["id"], key=row["key"], kind=row["kind"], payload=json.loads(row["payload"]),
        op_key=row["op_key"], state=row["state"],
        card=json.loads(row["card"]) if row["card"] else None,
        fiscal_from=row["fiscal_from"], fiscal_open=bool(row["fiscal_open"]),
        ok=None if row["ok"] is None else bool(row["ok"]),
        body=json.loads(row["body"]) if row["body"] else None,
        result_acked=bool(row["result_acked"]),
    )


class Journal:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _write(self, sql: str, params: tuple = ()) -> int:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cur = self._db.execute(sql, params)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return cur.rowcount

    def _rows(self, sql: str, params: tuple = ()) -> list[Entry]:
        with self._lock:
            return [_entry(r) for r in self._db.execute(sql, params).fetchall()]

    # --- receiving ---

    def record(self, id: int, key: str, kind: str, payload: dict) -> tuple[Entry, bool]:
        """Journal a command (committed on return). A repeated id returns the journaled entry: (entry, False)."""
        now = _now()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT * FROM commands WHERE id = ?", (id,)).fetchone()
                if row is None:
                    self._db.execute(
                        "INSERT INTO commands (id, key, kind, payload, op_key, received_at, updated_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (id, key, kind, json.dumps(payload, ensure_ascii=False),
                         op_key_of(key, kind, payload), now, now),
                    )
                    row = self._db.execute("SELECT * FROM commands WHERE id = ?", (id,)).fetchone()
                    created = True
                else:
                    created = False
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return _entry(row), created

    def cursor(self) -> int:
        """The highest journaled command id (0 when none): the `hello` cursor."""
        with self._lock:
            return self._db.execute("SELECT coalesce(max(id), 0) FROM commands").fetchone()[0]

    def get(self, id: int) -> Entry | None:
        rows = self._rows("SELECT * FROM commands WHERE id = ?", (id,))
        return rows[0] if rows else None

    def pending(self) -> list[Entry]:
        """Commands not finished yet, in id order (the executor runs them one at a time)."""
        return self._rows("SELECT * FROM commands WHERE state NOT IN ('done', 'failed') ORDER BY id")

    def undelivered(self) -> list[Entry]:
        """Finished commands whose result the server has not confirmed, in id order."""
        return self._rows(
            "SELECT * FROM commands WHERE state IN ('done', 'failed') AND result_acked = 0 ORDER BY id"
        )

    # --- executing ---

    def set_state(self, id: int, state: str, **changes) -> None:
        """Move a command to `state`, optionally setting card (dict), fiscal_from (int), fiscal_open (bool)."""
        if state not in STATES or state in FINISHED:
            raise ValueError(f"not an intermediate state: {state}")
        sets, params = ["state = ?", "updated_at = ?"], [state, _now()]
        for name, value in changes.items():
            if name == "card":
                value = json.dumps(value, ensure_ascii=False) if value is not None else None
            elif name == "fiscal_open":
                value = int(bool(value))
            elif name != "fiscal_from":
                raise ValueError(f"unknown column {name}")
            sets.append(f"{name} = ?")
            params.append(value)
        self._write(f"UPDATE commands SET {', '.join(sets)} WHERE id = ?", (*params, id))

    def finish(self, id: int, ok: bool, body: dict, *, fiscal_open: bool = False) -> Entry:
        """Store the result (ok) or error and finish the command: done | failed."""
        fd = body.get("fd_number") if ok else None
        fd = fd if isinstance(fd, int) and not isinstance(fd, bool) else None
        self._write(
            "UPDATE commands SET state = ?, ok = ?, body = ?, fd_number = coalesce(?, fd_number),"
            " fiscal_open = ?, updated_at = ? WHERE id = ?",
            ("done" if ok else "failed", int(ok), json.dumps(body, ensure_ascii=False), fd, int(fiscal_open),
             _now(), id),
        )
        entry = self.get(id)
        assert entry is not None
        return entry

    def mark_delivered(self, id: int) -> bool:
        """The server confirmed the result (result_ack). False when there is no such finished command."""
        return self._write(
            "UPDATE commands SET result_acked = 1, updated_at = ? WHERE id = ? AND state IN ('done', 'failed')",
            (_now(), id),
        ) > 0

    # --- recovery ---

    def earlier(self, op_key: str, before_id: int) -> list[Entry]:
        """Earlier commands with the same exactly-once key, oldest first."""
        return self._rows("SELECT * FROM commands WHERE op_key = ? AND id < ? ORDER BY id", (op_key, before_id))

    def card_approval(self, op_key: str) -> dict | None:
        """The card approval journaled by any attempt with this key (charge once per receipt)."""
        with self._lock:
            row = self._db.execute(
                "SELECT card FROM commands WHERE op_key = ? AND card IS NOT NULL ORDER BY id LIMIT 1", (op_key,)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def open_fiscal_from(self, op_key: str) -> int | None:
        """The lowest `fiscal_from` of this key's attempts whose fiscal outcome is still unknown."""
        with self._lock:
            row = self._db.execute(
                "SELECT min(fiscal_from) FROM commands WHERE op_key = ? AND fiscal_open = 1", (op_key,)
            ).fetchone()
        return row[0]

    def resolve_fiscal(self, op_key: str) -> None:
        """The fiscal outcome of every attempt with this key is now known."""
        self._write("UPDATE commands SET fiscal_open = 0 WHERE op_key = ? AND fiscal_open = 1", (op_key,))

    def fd_claimed(self, fd_number: int) -> bool:
        """Whether a finished command already owns this fiscal document (recovery must not take it)."""
        with self._lock:
            return self._db.execute(
                "SELECT 1 FROM commands WHERE fd_number = ? LIMIT 1", (fd_number,)
            ).fetchone() is not None
