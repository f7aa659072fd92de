"""Refusals of the billing domain. Messages are Russian and addressed to the user; the web layer maps the
kind to an HTTP status (invalid → 422, not_found → 404, conflict and period_closed → 409)."""

from __future__ import annotations


class BillingError(Exception):
    kind = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFoundError(BillingError):
    kind = "not_found"


class ConflictError(BillingError):
    kind = "conflict"


class PeriodClosedError(ConflictError):
    kind = "period_closed"
