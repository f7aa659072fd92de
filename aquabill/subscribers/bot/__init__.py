"""The bot conversation, written once for every messenger (no messenger imports): neutral events in
(`BotEvent`), replies out (`Reply` with rows of buttons), the state of each chat kept in PostgreSQL
(`bot_chats`), repeated deliveries answered once (`bot_updates`). The adapters live in `channels/telegram`
and `channels/max`; the runtime that opens the tenant's transaction around `handle` in `channels/bots`."""

from aquabill.subscribers.bot.conversation import handle
from aquabill.subscribers.bot.types import (
    CHANNELS,
    BotEnv,
    BotEvent,
    Button,
    Contact,
    Document,
    Outcome,
    PhotoRef,
    Reply,
    check_payload,
)

__all__ = ["CHANNELS", "BotEnv", "BotEvent", "Button", "Contact", "Document", "Outcome", "PhotoRef", "Reply",
           "check_payload", "handle"]
