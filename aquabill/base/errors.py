"""The one family of refusals: a stable code, a Russian message for people and the fields it concerns.

Domain packages raise these (they know nothing of HTTP); the web layer (`platform/web/errors.py`) renders any
of them as the uniform JSON error body with the class's status, and the pages show the message.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None,
                 fields: list[dict] | None = None, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field  # the one input field the refusal is about, if any
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code
        self.fields = fields or ([{"field": field, "message": message}] if field else [])


class Invalid(DomainError):
    """The input breaks a rule (422)."""

    status_code = 422
    code = "validation_error"


class InvalidValue(Invalid, ValueError):
    """A value that does not parse (a period, a date, an amount): a 422 for the web layer, and still a
    ValueError for pure callers that expect one."""


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    """The data's current state does not allow it (409)."""

    status_code = 409
    code = "conflict"


class PeriodClosed(Conflict):
    """The billing period is closed: its figures are immutable."""

    code = "period_closed"


def found(value: T | None, message: str) -> T:
    """`value`, or NotFound with `message` when there is none (a lookup by id that found nothing)."""
    if value is None:
        raise NotFound(message)
    return value
