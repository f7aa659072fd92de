"""How the web app is served: uvicorn's options, one place for `aquabill serve`, `aquabill dev` and the
benchmarks.

`aquabill serve` runs `web_workers` uvicorn worker processes (AQUABILL_WEB_WORKERS; by default one per CPU
core) sharing one listening socket: one Python process uses one core, and a request's own work (routing,
rows to JSON) is CPU. Each worker builds its app from the import string with the factory, reading the
settings from the environment at its own start-up. What several processes share lives in PostgreSQL and
Redis: sessions, the real-time hub (every process subscribes to its clients' tenants), presence, and the
AMI connections, each held by the one process that has its Redis lease (channels/asterisk/runtime).

WebSocket per-message compression is off unless AQUABILL_WS_DEFLATE=1: the console's frames are small
JSON texts sent to many sockets, and compressing each frame once per socket (a zlib stream per
connection) costs more CPU on both ends than it saves in bytes.
"""

from __future__ import annotations

import os
from typing import Any

from aquabill.platform.config import Settings

APP_FACTORY = "aquabill.platform.app:create_app"  # uvicorn needs an import string to start worker processes


def uvicorn_options(settings: Settings | None = None) -> dict[str, Any]:
    settings = settings or Settings.from_env()
    return {"ws": "websockets-sansio", "ws_per_message_deflate": settings.ws_deflate}


def web_workers(settings: Settings) -> int:
    """Worker processes of `aquabill serve`: the setting, or one per CPU core this process may run on."""
    return settings.web_workers if settings.web_workers > 0 else len(os.sched_getaffinity(0))


def uvicorn_cli_args(settings: Settings | None = None) -> list[str]:
    """The same options as uvicorn command-line arguments (for processes started by the benchmarks)."""
    opts = uvicorn_options(settings)
    return ["--ws", opts["ws"], "--ws-per-message-deflate", str(opts["ws_per_message_deflate"]).lower()]
