"""Billing pages and APIs: registry and card, reference data, runs, imports, adjustments, penalties, receipts, month close."""
