"""Paperless receipts by e-mail (`/receipts/delivery`): a month's figures, the start of its mailing (a
notification campaign of kind 'receipts', notifications/receipt_mail.py), its live progress and per-recipient
statuses; the same over the API (`/api/receipts/delivery`)."""
