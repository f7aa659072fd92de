"""The Shtrih-M exchange (ENQ/ACK/NAK, resends, re-asks, safe repeats) against a byte-level fake device.

`WirePeer` is a local fake of the register on the wire: it reacts to the bytes the host writes exactly as
the protocol says (NAK to ENQ when idle, ACK + the held answer when one is pending, ACK/NAK to a frame),
with switches for line faults. The timeout and safe-repeat tables are checked against NOTES-shtrih.md §5."""

from __future__ import annotations

import time

import pytest

from aquabill.edge_agent.shtrih import frames
from aquabill.edge_agent.shtrih.errors import LinkError
from aquabill.edge_agent.shtrih.link import Link, command_timeout, is_safe

STATUS = frames.encode_command(0x10, frames.password(30))
STATUS_ANSWER = frames.encode_answer(0x10, 0, bytes([30, 0, 0, 2, 0]) + bytes(9))


class WirePeer:
    """A fake register on the byte level (pyserial-like: read/write/timeout/reset_input_buffer)."""

    def __init__(self, *, nak_frames=0, garble=0, lose=0, forget=0, filler=False, stale=None, silent=False):
        self.timeout = 1.0
        self.nak_frames, self.garble, self.lose, self.forget = nak_frames, garble, lose, forget
        self.filler, self.silent = filler, silent
        self.pending = stale  # an answer to an earlier command, not yet ACKed by the host
        self.rx = bytearray()  # bytes on their way to the host
        self.buffer = bytearray()
        self.frames: list[int] = []  # commands received intact
        self.controls: list[int] = []  # ENQ/ACK/NAK received

    def _send(self, data: bytes) -> None:
        self.rx += (b"\xff\xff" if self.filler else b"") + data

    def _answer(self, command: int) -> bytes:
        return STATUS_ANSWER if command == 0x10 else frames.encode_answer(command, 0, b"\x01")

    def write(self, data: bytes) -> int:
        if self.silent:
            return len(data)
        self.buffer += data
        while self.buffer:
            byte = self.buffer[0]
            if byte == frames.STX:
                if len(self.buffer) < 2 or len(self.buffer) < self.buffer[1] + 3:
                    break
                raw = bytes(self.buffer[:self.buffer[1] + 3])
                del self.buffer[:len(raw)]
                self._frame(raw)
                continue
            del self.buffer[0]
            self.controls.append(byte)
            if byte == frames.ENQ:
                self._send(bytes([frames.ACK]) + self.pending if self.pending else bytes([frames.NAK]))
            elif byte == frames.ACK:
                self.pending = None
        return len(data)

    def _frame(self, raw: bytes) -> None:
        if self.nak_frames:
            self.nak_frames -= 1
            self._send(bytes([frames.NAK]))
            return
        command, _ = frames.split_command(frames.check_frame(raw))
        self.frames.append(command)
        self._send(bytes([frames.ACK]))
        answer = self._answer(command)
        if self.forget:  # e.g. the device restarted: it has no answer at all
            self.forget -= 1
            return
        self.pending = answer
        if self.lose:  # lost on the line: the device still holds it
            self.lose -= 1
        elif self.garble:
            self.garble -= 1
            self._send(answer[:-1] + bytes([answer[-1] ^ 0x01]))
        else:
            self._send(answer)

    def read(self, size: int = 1) -> bytes:
        if not self.rx:
            time.sleep(min(self.timeout or 0, 0.005))
            return b""
        out = bytes(self.rx[:size])
        del self.rx[:size]
        return out

    def reset_input_buffer(self) -> None:
        self.rx.clear()


def link(peer: WirePeer) -> Link:
    return Link(peer, control_timeout=0.05, byte_timeout=0.05)


def test_plain_exchange_is_enq_frame_ack():
    peer = WirePeer()
    answer = link(peer).execute(0x10, frames.password(30), timeout=0.1)
    assert answer == frames.Answer(0x10, 0, bytes([30, 0, 0, 2, 0]) + bytes(9))
    assert (peer.controls, peer.frames, peer.pending) == ([frames.ENQ, frames.ACK], [0x10], None)


def test_filler_bytes_are_skipped():
    peer = WirePeer(filler=True)
    assert link(peer).execute(0x10, frames.password(30), timeout=0.1).error == 0


def test_nak_to_a_frame_resends_it():
    peer = WirePeer(nak_frames=2)
    assert link(peer).execute(0xFF45, b"\x01\x00\x00\x00", timeout=0.1).data == b"\x01"
    assert peer.frames == [0xFF45]


def test_three_naks_mean_the_frame_never_got_through():
    peer = WirePeer(nak_frames=3)
    with pytest.raises(LinkError, match="результат неизвестен"):
        link(peer).execute(0xFF45, b"\x01\x00\x00\x00", timeout=0.1)


def test_garbled_answer_is_nakked_and_asked_again():
    peer = WirePeer(garble=1)
    assert link(peer).execute(0xFF46, b"\x01\x00\x00\x00", timeout=0.1).data == b"\x01"
    assert (peer.controls, peer.frames) == ([frames.ENQ, frames.NAK, frames.ENQ, frames.ACK], [0xFF46])


def test_answer_lost_on_the_line_is_asked_again_not_repeated():
    peer = WirePeer(lose=1)
    assert link(peer).execute(0xFF45, b"\x01\x00\x00\x00", timeout=0.1).data == b"\x01"
    assert peer.frames == [0xFF45]


def test_unsafe_command_without_an_answer_is_not_repeated():
    peer = WirePeer(forget=1)
    with pytest.raises(LinkError, match="результат неизвестен"):
        link(peer).execute(0xFF45, b"\x01\x00\x00\x00", timeout=0.1)
    assert peer.frames == [0xFF45]


def test_safe_command_without_an_answer_is_repeated():
    peer = WirePeer(forget=1)
    assert link(peer).execute(0x10, frames.password(30), timeout=0.1).error == 0
    assert peer.frames == [0x10, 0x10]


def test_stale_answer_is_drained_before_the_command():
    stale = frames.encode_answer(0xFF45, 0, b"\x00" * 18)
    peer = WirePeer(stale=stale)
    assert link(peer).execute(0x10, frames.password(30), timeout=0.1).command == 0x10
    assert peer.controls == [frames.ENQ, frames.ACK, frames.ENQ, frames.ACK]


def test_silence_is_no_connection():
    with pytest.raises(LinkError, match="Нет связи с ККТ"):
        link(WirePeer(silent=True)).execute(0x10, frames.password(30), timeout=0.1)


@pytest.mark.parametrize(
    ("command", "seconds"),
    [(0x10, 3.0), (0x11, 3.0), (0xE0, 100.0), (0x41, 30.0), (0x40, 30.0), (0x85, 30.0), (0x8D, 10.0),
     (0x80, 10.0), (0x50, 10.0), (0xB0, 10.0), (0x8C, 30.0), (0xFF45, 30.0), (0xFF01, 30.0), (0xFC, 30.0)],
)
def test_per_command_timeouts(command, seconds):
    assert command_timeout(command) == seconds


@pytest.mark.parametrize(
    ("command", "safe"),
    [(0x10, True), (0x11, True), (0xFC, True), (0xFF01, True), (0xFF0A, True), (0xFF0C, True), (0xFF40, True),
     (0xFF41, True), (0xFF43, True), (0x40, True), (0x41, True), (0x8D, True), (0x8C, True), (0x89, True),
     (0xFF45, False), (0xFF46, False), (0xFF4D, False), (0x80, False), (0x85, False), (0x88, False),
     (0x50, False), (0x51, False), (0xE0, False)],
)
def test_safe_to_repeat_table(command, safe):
    assert is_safe(command) is safe
