"""Settings, read from the environment when the app, worker or CLI starts (never at import time)."""

from __future__ import annotations

import os
import re
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


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


def _work_mem(raw: str) -> str:
    """A PostgreSQL memory size such as 256MB (it is put into SET LOCAL work_mem, so nothing else passes)."""
    if not re.fullmatch(r"\d{1,7}\s?(kB|MB|GB)", raw.strip()):
        raise ValueError(f"AQUABILL_RUN_WORK_MEM must look like 256MB, got {raw!r}")
    return raw.strip()


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
    ws_recheck_seconds: float = 15.0  # how soon an open socket notices a logout or a suspended tenant
    ws_coalesce_ms: float = 50.0  # a tenant's events within this window go to its sockets as one frame
    ws_deflate: bool = False  # offer WebSocket per-message compression
    run_work_mem: str = "256MB"  # work_mem of billing and penalty runs and of large payment files
    run_timing: bool = False  # print each statement's time of a billing run (diagnostics)
    web_workers: int = 0  # worker processes of `aquabill serve`; 0: one per CPU core
    web_max_in_flight: int = 4  # requests one process works on at once (more wait, then get 503)
    web_queue_ms: float = 200.0  # how long a request over that limit may wait for a slot before it gets 503

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
            telephony_scan_seconds=_float(env, "AQUABILL_TELEPHONY_SCAN_SECONDS", 5.0),
            ws_recheck_seconds=_float(env, "AQUABILL_WS_RECHECK_SECONDS", 15.0),
            ws_coalesce_ms=_float(env, "AQUABILL_WS_COALESCE_MS", 50.0),
            ws_deflate=env.get("AQUABILL_WS_DEFLATE", "0") in ("1", "true", "yes"),
            run_work_mem=_work_mem(env.get("AQUABILL_RUN_WORK_MEM") or "256MB"),
            run_timing=env.get("AQUABILL_RUN_TIMING", "0") in ("1", "true", "yes"),
            web_workers=_int(env, "AQUABILL_WEB_WORKERS", 0),
            web_max_in_flight=_int(env, "AQUABILL_WEB_MAX_IN_FLIGHT", 4),
            web_queue_ms=_float(env, "AQUABILL_WEB_QUEUE_MS", 200.0),
        )
        return replace(settings, **overrides) if overrides else settings

    def require_urls(self) -> None:
        missing = [n for n, v in (("DATABASE_URL", self.database_url), ("REDIS_URL", self.redis_url)) if not v]
        if missing:
            raise RuntimeError(
                "Не заданы " + ", ".join(missing) + ": укажите их или запустите `aquabill dev`, "
                "который поднимет локальные PostgreSQL и Redis."
            )


def apply_run_tuning(settings: Settings) -> None:
    """Hand the runs' tuning to the billing domain (which reads no environment itself)."""
    from aquabill.billing_core.run import tuning

    tuning.configure(work_mem=settings.run_work_mem, timing=settings.run_timing)
