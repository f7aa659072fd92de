"""The process-wide resources shared by the app, the worker and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from arq.connections import ArqRedis

from aquabill.platform.config import Settings
from aquabill.platform.keys import Keys
from aquabill.tenants.databases import EngineRegistry


@dataclass
class Core:
    settings: Settings
    engines: EngineRegistry
    redis: ArqRedis
    keys: Keys

    @classmethod
    def open(cls, settings: Settings) -> Core:
        settings.require_urls()
        return cls(
            settings=settings,
            engines=EngineRegistry(settings.database_url, settings.db_pool_size),
            redis=ArqRedis.from_url(settings.redis_url),
            keys=Keys(settings.redis_prefix),
        )

    async def close(self) -> None:
        await self.engines.dispose()
        await self.redis.aclose()
