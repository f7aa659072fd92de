"""How the web app is served: uvicorn's options, one place for `aquabill serve`, `aquabill dev` and the
fan-out benchmark.

WebSocket per-message compression is off unless AQUABILL_WS_DEFLATE=1: the console's frames are small
JSON texts sent to many sockets, and compressing each frame once per socket (a zlib stream per
connection) costs more CPU on both ends than it saves in bytes.
"""

from __future__ import annotations

import os
from typing import Any


def uvicorn_options() -> dict[str, Any]:
    return {"ws": "websockets-sansio", "ws_per_message_deflate": os.environ.get("AQUABILL_WS_DEFLATE") == "1"}


def uvicorn_cli_args() -> list[str]:
    """The same options as uvicorn command-line arguments (for processes started by the benchmark)."""
    opts = uvicorn_options()
    return ["--ws", opts["ws"], "--ws-per-message-deflate", str(opts["ws_per_message_deflate"]).lower()]
