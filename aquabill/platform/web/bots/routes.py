"""Messenger bots: webhook routes per tenant (Telegram, MAX) and the staff settings API."""

ROUTES: list = []
