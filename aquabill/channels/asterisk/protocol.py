"""The AMI wire format (pure): messages are `Key: Value` lines ended by CRLF, a blank line ends a message;
a connection starts with one banner line (`Asterisk Call Manager/5.0.1`).

A message keeps every header in order (`Variable:` may repeat); `msg["Key"]` is the first value, keys are
case-insensitive (Asterisk itself accepts `action:` as well as `Action:`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

ENCODING = "utf-8"
EOL = b"\r\n"
BANNER_PREFIX = "Asterisk Call Manager/"
MAX_MESSAGE_BYTES = 1 << 20  # a peer that sends a message bigger than this is broken


class ProtocolError(ValueError):
    pass


class Message(Mapping[str, str]):
    """One AMI message (action, response or event) as ordered headers."""

    __slots__ = ("headers", "_index")

    def __init__(self, headers: Iterable[tuple[str, str]]) -> None:
        self.headers: list[tuple[str, str]] = list(headers)
        self._index: dict[str, str] = {}
        for key, value in self.headers:
            self._index.setdefault(key.lower(), value)

    def __getitem__(self, key: str) -> str:
        return self._index[key.lower()]

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for key, _ in self.headers:
            if key.lower() not in seen:
                seen.add(key.lower())
                yield key

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._index

    def all(self, key: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == key.lower()]

    @property
    def event(self) -> str | None:
        return self.get("Event")

    @property
    def response(self) -> str | None:
        return self.get("Response")

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    def __repr__(self) -> str:
        shown = [(k, "********" if k.lower() == "secret" else v) for k, v in self.headers]
        return f"Message({shown!r})"


def encode(fields: Mapping[str, str | int | Iterable[str]] | Iterable[tuple[str, str]]) -> bytes:
    """Headers → bytes of one message. A list/tuple value repeats the header (`Variable`)."""
    pairs: list[tuple[str, str]] = []
    items = fields.items() if isinstance(fields, Mapping) else fields
    for key, value in items:
        values = value if isinstance(value, list | tuple) else [value]
        for v in values:
            pairs.append((str(key), str(v)))
    out = bytearray()
    for key, value in pairs:
        if not key or any(c in key for c in ":\r\n") or any(c in value for c in "\r\n"):
            raise ProtocolError(f"header {key!r} cannot be sent: line breaks or colon in the name")
        out += f"{key}: {value}".encode(ENCODING) + EOL
    return bytes(out + EOL)


def action(name: str, action_id: str | None = None, **fields: str | int | Iterable[str]) -> bytes:
    head: dict[str, str | int | Iterable[str]] = {"Action": name}
    if action_id is not None:
        head["ActionID"] = action_id
    return encode({**head, **fields})


def parse_banner(line: bytes) -> str:
    """`Asterisk Call Manager/5.0.1\\r\\n` → `5.0.1`."""
    text = line.decode(ENCODING, "replace").strip()
    if not text.startswith(BANNER_PREFIX):
        raise ProtocolError(f"not an Asterisk manager: {text[:80]!r}")
    return text[len(BANNER_PREFIX):]


def decode_block(block: bytes) -> Message:
    """The lines of one message (without the blank line) → Message. Lines without `: ` keep an empty
    value (Asterisk sends `AccountCode: ` with a trailing space, some old versions `Key:`)."""
    headers = []
    for raw in block.split(b"\n"):
        line = raw.rstrip(b"\r").decode(ENCODING, "replace")
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep:
            headers.append((line.strip(), ""))
            continue
        headers.append((key.strip(), value[1:] if value.startswith(" ") else value))
    return Message(headers)


class Decoder:
    """Incremental decoder: feed bytes as they arrive, get whole messages. Accepts CRLF or bare LF."""

    def __init__(self, *, expect_banner: bool = True) -> None:
        self._buf = bytearray()
        self.banner: str | None = None
        self._expect_banner = expect_banner

    def feed(self, data: bytes) -> list[Message]:
        self._buf += data
        out: list[Message] = []
        if self._expect_banner and self.banner is None:
            nl = self._buf.find(b"\n")
            if nl < 0:
                return out
            self.banner = parse_banner(bytes(self._buf[: nl + 1]))
            del self._buf[: nl + 1]
        while True:
            end, size = self._message_end()
            if end < 0:
                if len(self._buf) > MAX_MESSAGE_BYTES:
                    raise ProtocolError("AMI message too long")
                return out
            block = bytes(self._buf[:end])
            del self._buf[: end + size]
            if block.strip():
                out.append(decode_block(block))

    def _message_end(self) -> tuple[int, int]:
        crlf = self._buf.find(b"\r\n\r\n")
        lf = self._buf.find(b"\n\n")
        candidates = [(i, n) for i, n in ((crlf, 4), (lf, 2)) if i >= 0]
        if not candidates:
            return -1, 0
        return min(candidates)
