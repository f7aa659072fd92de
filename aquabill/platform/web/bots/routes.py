"""Messenger bots: webhook routes per tenant (Telegram, MAX) and the staff settings API and page."""

from aquabill.platform.web.bots import pages, settings_api, webhooks

ROUTES: list = [*webhooks.ROUTES, *settings_api.ROUTES, *pages.ROUTES]
