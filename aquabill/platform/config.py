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


def _networks(env: dict[str, str]) -> dict[str, tuple[str, ...]]:
    raw = env.get("AQUABILL_ACQUIRING_NETWORKS", "").strip()
    return {"acquiring_networks": tuple(n.strip() for n in raw.split(",") if n.strip())} if raw else {}


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
    # bot updates one process runs at once, each in its transaction (more wait): a few keep the CPU busy, and
    # every further connection would prepare each tenant's statements again (channels/bots/service.py)
    bot_concurrency: int = 3
    # subscribers' doors (#13): the portal, mail and SMS to subscribers, the bots, online payment
    portal_tenant: str = ""  # the tenant whose portal a host without a tenant subdomain shows (dev: demo)
    public_url: str = ""  # how subscribers reach us (links in mail, payment return); default http://host:port
    smtp_url: str = ""  # outgoing mail: smtp://[user:password@]host:port[?starttls=1]; empty: mail is not sent
    mail_from: str = "noreply@aquabill.local"
    sms_url: str = ""  # the SMS gateway (channels/sms): https://gateway/api?key=...; empty: SMS is not sent
    telegram_api_url: str = "https://api.telegram.org"  # the Bot API (tests: a local fake)
    max_api_url: str = "https://platform-api2.max.ru"  # the MAX Bot API (tests: a local fake)
    yookassa_api_url: str = "https://api.yookassa.ru/v3"  # the acquirer's API (tests: a local fake)
    atol_api_url: str = "https://online.atol.ru/possystem/v5"  # cloud fiscalization (ATOL Online; dev: a local fake)
    diadoc_api_url: str = "https://diadoc-api.kontur.ru"  # EDO operator (Kontur.Diadoc; dev: a local fake)
    # where the acquirer's notifications may come from (YooKassa's published networks); tests: 127.0.0.0/8
    acquiring_networks: tuple[str, ...] = (
        "77.75.153.0/25", "77.75.156.11/32", "77.75.156.35/32", "77.75.154.128/25", "185.71.76.0/27",
        "185.71.77.0/27", "2a02:5180::/32")

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
            bot_concurrency=max(1, _int(env, "AQUABILL_BOT_CONCURRENCY", 3)),
            portal_tenant=env.get("AQUABILL_PORTAL_TENANT", ""),
            public_url=env.get("AQUABILL_PUBLIC_URL", "").rstrip("/"),
            smtp_url=env.get("AQUABILL_SMTP_URL", ""),
            mail_from=env.get("AQUABILL_MAIL_FROM", "noreply@aquabill.local"),
            sms_url=env.get("AQUABILL_SMS_URL", ""),
            telegram_api_url=env.get("AQUABILL_TELEGRAM_API_URL", "https://api.telegram.org").rstrip("/"),
            max_api_url=env.get("AQUABILL_MAX_API_URL", "https://platform-api2.max.ru").rstrip("/"),
            yookassa_api_url=env.get("AQUABILL_YOOKASSA_API_URL", "https://api.yookassa.ru/v3").rstrip("/"),
            atol_api_url=env.get("AQUABILL_ATOL_API_URL", "https://online.atol.ru/possystem/v5").rstrip("/"),
            diadoc_api_url=env.get("AQUABILL_DIADOC_API_URL", "https://diadoc-api.kontur.ru").rstrip("/"),
            **_networks(env),
        )
        return replace(settings, **overrides) if overrides else settings

    @property
    def base_url(self) -> str:
        """The address subscribers use to reach the service (links in letters, payment return)."""
        return self.public_url or f"http://{self.host}:{self.port}"

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
