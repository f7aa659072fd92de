"""Settings, read from the environment when the app, worker or CLI starts (never at import time)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path


class Secret(str):
    """A string that never shows itself in reprs or logs."""

    def __repr__(self) -> str:
        return "Secret('**********')"


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    redis_url: str
    secret_key: Secret = field(repr=False)
    domain: str = "localhost"
    host: str = "127.0.0.1"
    port: int = 8000
    var_dir: Path = Path("var")
    redis_prefix: str = "aquabill"
    session_ttl_minutes: int = 12 * 60
    lockout_attempts: int = 5
    lockout_minutes: int = 15
    migrate_jobs: int = 2
    db_pool_size: int = 10
    cookie_secure: bool = False
    timezone: str = "Europe/Moscow"  # how pages show times (stored in UTC)
    telephony: bool = True  # this process supervises tenants' AMI connections (see platform/telephony)
    telephony_scan_seconds: float = 5.0  # how often leases are renewed and new connections picked up

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Settings:
        env = dict(os.environ if env is None else env)
        settings = cls(
            database_url=env.get("DATABASE_URL", ""),
            redis_url=env.get("REDIS_URL", ""),
            secret_key=Secret(env.get("AQUABILL_SECRET_KEY", "dev-only-secret-change-me")),
            domain=env.get("AQUABILL_DOMAIN", "localhost"),
            host=env.get("AQUABILL_HOST", "127.0.0.1"),
            port=_int(env, "AQUABILL_PORT", 8000),
            var_dir=Path(env.get("AQUABILL_VAR_DIR", "var")),
            redis_prefix=env.get("AQUABILL_REDIS_PREFIX", "aquabill"),
            session_ttl_minutes=_int(env, "AQUABILL_SESSION_TTL_MINUTES", 12 * 60),
            lockout_attempts=_int(env, "AQUABILL_LOCKOUT_ATTEMPTS", 5),
            lockout_minutes=_int(env, "AQUABILL_LOCKOUT_MINUTES", 15),
            migrate_jobs=_int(env, "AQUABILL_MIGRATE_JOBS", 2),
            db_pool_size=_int(env, "AQUABILL_DB_POOL_SIZE", 10),
            cookie_secure=env.get("AQUABILL_COOKIE_SECURE", "0") in ("1", "true", "yes"),
            timezone=env.get("AQUABILL_TIMEZONE", "Europe/Moscow"),
            telephony=env.get("AQUABILL_TELEPHONY", "1") not in ("0", "false", "no"),
            telephony_scan_seconds=float(env.get("AQUABILL_TELEPHONY_SCAN_SECONDS") or 5.0),
        )
        return replace(settings, **overrides) if overrides else settings

    def require_urls(self) -> None:
        missing = [n for n, v in (("DATABASE_URL", self.database_url), ("REDIS_URL", self.redis_url)) if not v]
        if missing:
            raise RuntimeError(
                "Не заданы " + ", ".join(missing) + ": укажите их или запустите `aquabill dev`, "
                "который поднимет локальные PostgreSQL и Redis."
            )
