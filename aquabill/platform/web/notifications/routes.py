"""Notification center routes (API and pages), registered by the app factory."""

from __future__ import annotations

from aquabill.platform.web.notifications import api, pages

ROUTES = [*api.ROUTES, *pages.ROUTES]
