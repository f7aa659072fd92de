"""The bots of one process: the directory of tenants' bots, the conversation runner and both channels'
adapters, created on first use and closed with the app."""

from __future__ import annotations

from aquabill.channels.bots.service import BotDirectory, Conversations
from aquabill.channels.max.bots import MaxBots
from aquabill.channels.telegram.bots import TelegramBots
from aquabill.platform.state import Core


class BotsHub:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.directory = BotDirectory(core)
        self.conversations = Conversations(core)
        self.telegram = TelegramBots(core.settings, self.conversations)
        self.max = MaxBots(core.settings, self.conversations)

    async def close(self) -> None:
        await self.telegram.close()
        await self.max.close()
        await self.conversations.close()
