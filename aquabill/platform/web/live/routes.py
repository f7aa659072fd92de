"""The live channel's routes (API and pages), registered by the app factory."""

from __future__ import annotations

from aquabill.platform.web.live import (
    ws,
)

ROUTES = [
    *ws.ROUTES,
]
