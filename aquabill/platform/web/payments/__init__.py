"""Payments pages and APIs: payments, bank files, unidentified payments, balances."""
