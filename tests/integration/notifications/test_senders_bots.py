"""The Telegram and MAX notice senders against the local fakes of both Bot APIs: the text arrives in the chat;
a user who blocked the bot (Telegram 403 "Forbidden: bot was blocked by the user", MAX 403 `chat.denied`)
→ failed and unreachable; 429 → retry; a token the messenger refuses → failed."""

from __future__ import annotations

import secrets

import pytest

from aquabill.channels.notify.bots import BotNoticeSender
from aquabill.devserver.fakes.max_api import FakeMax, MaxBot, MaxCall
from aquabill.devserver.fakes.telegram_api import FakeTelegram
from aquabill.notifications.ports import Outgoing
from tests.conftest import with_settings

NOTICE = "Водоканал: 12.03 с 9:00 до 17:00 не будет холодной воды в доме Речная, 5."


class BlockingTelegram(FakeTelegram):
    """The fake with users who blocked the bot: Telegram answers their messages 403."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: set[int] = set()

    async def _answer(self, token, method, params, files):
        chat = params.get("chat_id", "")
        if method == "sendMessage" and chat.lstrip("-").isdigit() and int(chat) in self.blocked:
            return 403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
        return await super()._answer(token, method, params, files)


class BlockingMax(FakeMax):
    """The fake with users who blocked the bot: MAX answers 403 `chat.denied` (as observed by its clients)."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: set[int] = set()

    def _answer(self, bot: MaxBot, call: MaxCall):
        if (call.method, call.path) == ("POST", "/messages") and call.user_id in self.blocked:
            return 403, {"code": "chat.denied", "message": f"Key: error.dialog.suspended, args: [{call.user_id},]."}
        return super()._answer(bot, call)


@pytest.fixture
async def telegram():
    async with BlockingTelegram() as fake:
        yield fake


@pytest.fixture
async def fake_max():
    async with BlockingMax() as fake:
        yield fake


def notice(channel: str, chat: int, text: str = NOTICE) -> Outgoing:
    return Outgoing(key=f"3:{secrets.token_hex(4)}:{channel}", channel=channel, address=str(chat), subject="",
                    text=text)


def tg_token() -> str:
    return f"{secrets.randbelow(10**9) + 10**9}:{secrets.token_urlsafe(20)}"


async def test_telegram_notice_arrives_in_the_chat(settings, telegram):
    token = tg_token()
    telegram.add_bot(token, "vodokanal_bot")
    sender = BotNoticeSender("telegram", with_settings(settings, telegram_api_url=telegram.url), token)
    try:
        result = await sender.send(notice("telegram", 5551001))
        long = await sender.send(notice("telegram", 5551001, "Ж" * 5000))
    finally:
        await sender.close()
    assert result.status == "sent" and result.external_id and not result.retry
    [first, second] = telegram.sent(token, chat_id=5551001)
    assert first.text == NOTICE and len(second.text) == 4096 and long.status == "sent"


async def test_telegram_blocked_user_fails_unreachable_and_429_is_a_retry(settings, telegram):
    token = tg_token()
    telegram.add_bot(token)
    telegram.blocked.add(5551002)
    sender = BotNoticeSender("telegram", with_settings(settings, telegram_api_url=telegram.url), token)
    try:
        blocked = await sender.send(notice("telegram", 5551002))
        telegram.throttle(token, "sendMessage", retry_after=1)
        throttled = await sender.send(notice("telegram", 5551003))
        after = await sender.send(notice("telegram", 5551003))  # waits for the pause, then goes
    finally:
        await sender.close()
    assert blocked.status == "failed" and not blocked.retry and blocked.unreachable
    assert "bot was blocked by the user" in blocked.detail
    assert throttled.status == "failed" and throttled.retry and not throttled.unreachable
    assert after.status == "sent" and [c.text for c in telegram.sent(token, chat_id=5551003)] == [NOTICE]
    assert telegram.sent(token, chat_id=5551002) == []


async def test_telegram_refused_token_fails(settings, telegram):
    sender = BotNoticeSender("telegram", with_settings(settings, telegram_api_url=telegram.url), tg_token())
    try:
        result = await sender.send(notice("telegram", 5551004))
    finally:
        await sender.close()
    assert result.status == "failed" and not result.retry and "токен" in result.detail


async def test_max_notice_arrives_blocked_fails_429_retries(settings, fake_max):
    token = secrets.token_urlsafe(24)
    fake_max.add_bot(token, "vodokanal_max")
    fake_max.blocked.add(7007002)
    sender = BotNoticeSender("max", with_settings(settings, max_api_url=fake_max.url), token)
    try:
        sent = await sender.send(notice("max", 7007001))
        blocked = await sender.send(notice("max", 7007002))
        fake_max.throttle(token, "/messages", retry_after=1)
        throttled = await sender.send(notice("max", 7007003))
    finally:
        await sender.close()
    assert sent.status == "sent" and sent.external_id and sent.external_id.startswith("mid.")
    [call] = fake_max.sent(token, user_id=7007001)
    assert call.text == NOTICE
    assert blocked.status == "failed" and blocked.unreachable and not blocked.retry and "chat.denied" in blocked.detail
    assert throttled.status == "failed" and throttled.retry
    assert fake_max.sent(token, user_id=7007002) == [] and fake_max.sent(token, user_id=7007003) == []


async def test_max_refused_token_fails(settings, fake_max):
    sender = BotNoticeSender("max", with_settings(settings, max_api_url=fake_max.url), "not-a-token")
    try:
        result = await sender.send(notice("max", 7007004))
    finally:
        await sender.close()
    assert result.status == "failed" and not result.retry and "токен" in result.detail
