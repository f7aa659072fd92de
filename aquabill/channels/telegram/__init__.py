"""Telegram: the tenants' bots on python-telegram-bot (webhook per tenant, inline keyboards, getFile for meter
photos, paced sending with 429 retries), their set-up and a long-polling development mode."""
