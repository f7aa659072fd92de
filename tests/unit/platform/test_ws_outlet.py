"""SocketOutlet: frames go out at once when the socket has room, in order and once each; a socket that
must wait gets what came meanwhile as one frame; a socket too far behind is closed (1013); a socket whose
send fails mid-stream is closed (1011) and its outlet detached from the hub; a reset always goes out."""

from __future__ import annotations

import asyncio
import json

from aquabill.platform.realtime import Frame
from aquabill.platform.web.live import outlet as ws_outlet
from aquabill.platform.web.live.outlet import SocketOutlet


def ev(seq: int) -> tuple[int, str]:
    return seq, json.dumps({"seq": seq, "type": "t"})


class Peer:
    """A socket's send side: records texts; while `gate` is clear, a send waits as on a full buffer."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed: tuple[int, str] | None = None
        self.gate = asyncio.Event()
        self.gate.set()
        self.waits = 0
        self.broken = False  # from now on a send fails (after waiting, if it has to wait)
        self.detached = 0

    async def send_text(self, text: str) -> None:
        if not self.gate.is_set():
            self.waits += 1
            await self.gate.wait()
        if self.broken:
            raise ConnectionResetError("transport broke")
        self.sent.append(text)

    def detach(self) -> None:
        self.detached += 1

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)

    def seqs(self) -> list[int]:
        out = []
        for text in self.sent:
            body = json.loads(text)
            out += [e["seq"] for e in (body if isinstance(body, list) else [body])]
        return out


async def test_sends_at_once_without_a_task() -> None:
    peer = Peer()
    outlet = SocketOutlet(peer.send_text, peer.close)
    outlet.release(0)
    outlet.offer(Frame([ev(1)]))
    outlet.offer(Frame([ev(2), ev(3)]))
    # nothing awaited: the sends completed inside offer()
    assert peer.seqs() == [1, 2, 3] and len(peer.sent) == 2 and outlet.last == 3


async def test_held_until_release_and_replayed_events_skipped() -> None:
    peer = Peer()
    outlet = SocketOutlet(peer.send_text, peer.close)
    outlet.offer(Frame([ev(5), ev(6)]))  # arrived while the replay (… 5) was being sent
    outlet.offer(Frame([ev(7)]))
    assert peer.sent == []
    outlet.release(5)
    assert peer.seqs() == [6, 7] and len(peer.sent) == 1  # one frame, 5 not twice
    outlet.offer(Frame([ev(7)]))  # a duplicate is never sent
    outlet.offer(Frame([ev(8)]))
    assert peer.seqs() == [6, 7, 8]


async def test_a_waiting_socket_gets_the_rest_as_one_frame_in_order() -> None:
    peer = Peer()
    outlet = SocketOutlet(peer.send_text, peer.close)
    outlet.release(0)
    peer.gate.clear()
    outlet.offer(Frame([ev(1)]))  # must wait: a task finishes it
    outlet.offer(Frame([ev(2)]))
    outlet.offer(Frame([ev(3), ev(4)]))
    await asyncio.sleep(0)
    assert peer.sent == [] and peer.waits == 1
    peer.gate.set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert peer.seqs() == [1, 2, 3, 4] and len(peer.sent) == 2
    outlet.offer(Frame([ev(5)]))  # room again: at once
    assert peer.seqs()[-1] == 5 and len(peer.sent) == 3


async def test_too_slow_socket_is_closed(monkeypatch) -> None:
    monkeypatch.setattr(ws_outlet, "BACKLOG_MAX", 3)
    peer = Peer()
    outlet = SocketOutlet(peer.send_text, peer.close)
    outlet.release(0)
    peer.gate.clear()
    for seq in range(1, 7):
        outlet.offer(Frame([ev(seq)]))
    for _ in range(3):
        await asyncio.sleep(0)
    assert peer.closed == (1013, "too slow, reconnect") and outlet.closed
    outlet.offer(Frame([ev(9)]))  # ignored after closing
    assert peer.sent == []


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_send_failing_at_once_closes_the_socket_and_detaches() -> None:
    peer = Peer()
    outlet = SocketOutlet(peer.send_text, peer.close, peer.detach)
    outlet.release(0)
    outlet.offer(Frame([ev(1)]))
    peer.broken = True
    outlet.offer(Frame([ev(2)]))  # fails inside offer(), mid-stream
    await settle()
    assert peer.closed == (1011, "send failed, reconnect") and peer.detached == 1 and outlet.closed
    peer.broken = False
    outlet.offer(Frame([ev(3)]))  # nothing more on this socket: its client resumes with ?since=1
    await settle()
    assert peer.seqs() == [1] and peer.detached == 1


async def test_a_send_failing_after_waiting_closes_the_socket_and_detaches() -> None:
    peer = Peer()
    outlet = SocketOutlet(peer.send_text, peer.close, peer.detach)
    outlet.release(0)
    outlet.offer(Frame([ev(1)]))
    peer.gate.clear()
    outlet.offer(Frame([ev(2)]))  # waits for the buffer: a task finishes it
    outlet.offer(Frame([ev(3)]))
    peer.broken = True
    peer.gate.set()  # the waiting send now fails
    await settle()
    assert peer.closed == (1011, "send failed, reconnect") and peer.detached == 1 and outlet.closed
    assert peer.seqs() == [1]


async def test_a_reset_goes_out_and_numbering_continues_after_it() -> None:
    peer = Peer()
    outlet = SocketOutlet(peer.send_text, peer.close)
    outlet.release(40)  # the client had events up to 40 …
    outlet.offer(Frame.reset_to(3))  # … and Redis restarted without them: its counter is at 3
    outlet.offer(Frame([ev(4)]))
    assert [json.loads(t) for t in peer.sent] == [{"type": "reset", "seq": 3}, {"seq": 4, "type": "t"}]
    held = SocketOutlet((other := Peer()).send_text, other.close)  # the same, waiting behind a replay
    held.offer(Frame([ev(41)]))
    held.offer(Frame.reset_to(3))
    held.offer(Frame([ev(3)]))  # at or below the reset: covered by the reload
    held.offer(Frame([ev(4)]))
    held.release(40)
    assert json.loads(other.sent[0]) == [{"seq": 41, "type": "t"}, {"type": "reset", "seq": 3},
                                         {"seq": 4, "type": "t"}]
