"""Outgoing pacing with an injected clock: per chat about 1 message a second after a short burst, per bot
30 a second for the lanes that count, nothing before a 429's retry_after."""

from aquabill.channels.bots.limiter import BULK, REPLY, Bucket, Pacer, Schedule
from aquabill.channels.max.client import max_schedule
from aquabill.channels.telegram.limiter import telegram_schedule


def times(schedule: Schedule, chat: str | None, n: int, lane: str = REPLY, now: float = 0.0) -> list[float]:
    return [round(schedule.reserve(chat, now, lane), 6) for _ in range(n)]


def test_a_bucket_lets_a_burst_through_then_spaces_by_the_rate():
    b = Bucket(rate=2.0, burst=3)
    sent = []
    for _ in range(5):
        at = b.allowed(0.0)
        b.take(at)
        sent.append(at)
    assert sent == [0.0, 0.0, 0.0, 0.5, 1.0]
    assert b.allowed(10.0) == 10.0  # refilled after a pause


def test_one_chat_gets_a_short_burst_then_one_message_a_second():
    s = telegram_schedule()
    assert times(s, "42", 6) == [0.0, 0.0, 0.0, 1.0, 2.0, 3.0]
    assert times(s, "43", 2) == [0.0, 0.0]  # another chat is not held up


def test_telegram_replies_to_many_chats_are_not_held_to_the_bulk_rate():
    s = telegram_schedule()
    assert max(s.reserve(str(c), 0.0, REPLY) for c in range(100)) == 0.0


def test_telegram_bulk_notices_go_at_thirty_a_second_per_bot():
    s = telegram_schedule()
    sent = [s.reserve(str(c), 0.0, BULK) for c in range(90)]
    assert sent[:30] == [0.0] * 30  # the burst
    assert round(sent[59], 6) == 1.0 and round(sent[89], 6) == 2.0
    assert all(b >= a for a, b in zip(sent, sent[1:], strict=False))


def test_max_counts_every_request_against_the_bot():
    s = max_schedule()
    sent = [s.reserve(str(c), 0.0, REPLY) for c in range(40)]
    assert sent[:10] == [0.0] * 10
    assert round(sent[39], 6) == 1.0  # 10 at once, then 30 a second
    assert round(s.reserve(None, 0.0, REPLY), 6) == round(1.0 + 1 / 30, 6)  # answers count too


def test_a_chat_slot_is_kept_when_the_bot_bucket_delays_it():
    s = Schedule(bot_rate=1.0, bot_burst=1, chat_rate=1.0, chat_burst=1, bot_lanes=(REPLY,))
    assert s.reserve("a", 0.0) == 0.0
    assert s.reserve("b", 0.0) == 1.0  # waits for the bot
    assert s.reserve("b", 0.0) == 2.0  # and b's next one is a second after its last


def test_after_a_429_nothing_goes_before_retry_after():
    s = telegram_schedule()
    s.pause(5.0)
    assert s.reserve("1", 1.0) == 5.0
    assert s.reserve(None, 2.0, "none") == 5.0
    assert s.reserve("2", 6.0) == 6.0


def test_idle_chats_are_forgotten():
    s = telegram_schedule()
    times(s, "x", 2)
    s.forget_idle(100.0)
    assert s._chats == {}


async def test_the_pacer_sleeps_until_the_slot_on_its_clock():
    now, slept = [10.0], []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        now[0] += seconds

    pacer = Pacer(Schedule(chat_rate=1.0, chat_burst=1), clock=lambda: now[0], sleep=sleep)
    await pacer.wait("c")
    await pacer.wait("c")
    await pacer.wait("d")
    assert slept == [1.0] and now[0] == 11.0
    pacer.pause_for(3.0)
    await pacer.wait("e")
    assert slept == [1.0, 3.0] and now[0] == 14.0


def test_reserve_now_takes_a_slot_only_when_free_at_once():
    s = Schedule(bot_rate=30.0, bot_burst=30, chat_rate=1.0, chat_burst=2)
    assert s.reserve_now("a", 0.0) and s.reserve_now("a", 0.0)  # the burst
    assert not s.reserve_now("a", 0.0)  # would have to wait: nothing taken
    assert s.reserve("a", 0.0) == 1.0  # so the next paced message is not pushed further back
    assert s.reserve_now("b", 0.0)  # another chat is free
    s.pause(5.0)
    assert not s.reserve_now("c", 1.0)  # after a 429 nothing goes at once
