"""An IMAP4rev1 server on loopback, enough for imaplib: greeting, CAPABILITY, LOGIN, SELECT/EXAMINE,
UID SEARCH, UID FETCH (BODY[] / BODY.PEEK[] / RFC822 as literals), NOOP, LOGOUT, with tagged responses.

Messages live in `folders[name]` as (uid, raw bytes); `uid_validity` is reported on SELECT. The server
records every command it got (`commands`) so tests can see what the client asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field

_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\([^)]*\))|(\S+)')


def _args(text: str) -> list[str]:
    out = []
    for quoted, group, atom in _TOKEN.findall(text):
        if quoted or (not group and not atom):
            out.append(re.sub(r"\\(.)", r"\1", quoted))
        else:
            out.append(group or atom)
    return out


def _uid_set(spec: str, max_uid: int) -> set[int]:
    """`1,3:5,7:*` → the UIDs it names (`*` is the largest UID; `n:*` with n above it still names it)."""
    uids: set[int] = set()
    for part in spec.split(","):
        if ":" in part:
            a, b = part.split(":", 1)
            lo = max_uid if a == "*" else int(a)
            hi = max_uid if b == "*" else int(b)
            lo, hi = min(lo, hi), max(lo, hi)
            uids.update(range(lo, hi + 1))
        else:
            uids.add(max_uid if part == "*" else int(part))
    return uids


@dataclass
class ImapSimulator:
    user: str = "appeals@vodokanal.test"
    password: str = "imap-secret"
    uid_validity: int = 1700000001
    folders: dict[str, list[tuple[int, bytes]]] = field(default_factory=lambda: {"INBOX": []})
    commands: list[str] = field(default_factory=list)
    port: int = 0
    _server: asyncio.base_events.Server | None = None

    def add(self, raw: bytes, folder: str = "INBOX") -> int:
        box = self.folders.setdefault(folder, [])
        uid = (box[-1][0] if box else 0) + 1
        box.append((uid, raw))
        return uid

    async def start(self) -> ImapSimulator:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def send(line: str | bytes) -> None:
            writer.write((line.encode() if isinstance(line, str) else line) + b"\r\n")

        authenticated, selected = False, None
        send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Водоканал IMAP simulator ready".encode())
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                text = line.decode("utf-8", errors="replace").rstrip("\r\n")
                self.commands.append(text)
                tag, _, rest = text.partition(" ")
                command, _, args_text = rest.partition(" ")
                command = command.upper()
                if command == "UID":
                    sub, _, args_text = args_text.partition(" ")
                    command = "UID " + sub.upper()
                args = _args(args_text)
                if command == "CAPABILITY":
                    send("* CAPABILITY IMAP4rev1 AUTH=PLAIN")
                    send(f"{tag} OK CAPABILITY completed")
                elif command == "NOOP":
                    send(f"{tag} OK NOOP completed")
                elif command == "LOGOUT":
                    send("* BYE logging out")
                    send(f"{tag} OK LOGOUT completed")
                    await writer.drain()
                    break
                elif command == "LOGIN":
                    if len(args) == 2 and args[0] == self.user and args[1] == self.password:
                        authenticated = True
                        send(f"{tag} OK [CAPABILITY IMAP4rev1] LOGIN completed")
                    else:
                        send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials")
                elif not authenticated:
                    send(f"{tag} BAD not authenticated")
                elif command in ("SELECT", "EXAMINE"):
                    name = args[0] if args else ""
                    if name not in self.folders:
                        send(f"{tag} NO [NONEXISTENT] no such mailbox")
                        continue
                    selected = name
                    box = self.folders[name]
                    send(r"* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)")
                    send(f"* {len(box)} EXISTS")
                    send("* 0 RECENT")
                    send(f"* OK [UIDVALIDITY {self.uid_validity}] UIDs valid")
                    send(f"* OK [UIDNEXT {(box[-1][0] if box else 0) + 1}] Predicted next UID")
                    mode = "READ-ONLY" if command == "EXAMINE" else "READ-WRITE"
                    send(f"{tag} OK [{mode}] {command} completed")
                elif selected is None:
                    send(f"{tag} BAD no mailbox selected")
                elif command == "UID SEARCH":
                    box = self.folders[selected]
                    spec = args[args.index("UID") + 1] if "UID" in [a.upper() for a in args] else "1:*"
                    wanted = _uid_set(spec, box[-1][0] if box else 0) if box else set()
                    found = [str(uid) for uid, _ in box if uid in wanted]
                    send("* SEARCH" + "".join(" " + u for u in found))
                    send(f"{tag} OK SEARCH completed")
                elif command == "UID FETCH":
                    box = self.folders[selected]
                    wanted = _uid_set(args[0], box[-1][0] if box else 0) if box else set()
                    item = "RFC822" if "RFC822" in args_text.upper() and "BODY" not in args_text.upper() else "BODY[]"
                    for seq, (uid, raw) in enumerate(box, start=1):
                        if uid in wanted:
                            writer.write(f"* {seq} FETCH (UID {uid} {item} {{{len(raw)}}}\r\n".encode() + raw + b")\r\n")
                    send(f"{tag} OK FETCH completed")
                else:
                    send(f"{tag} BAD unknown command {command}")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
