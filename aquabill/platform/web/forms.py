"""Server-rendered forms: one way to attempt a form's action and one parser per kind of value.

`attempt` runs the action in a savepoint: a refusal (`DomainError`) rolls back everything the attempt wrote
and is kept for the page to show (status 200), the request's transaction goes on. The parsers read what
people type into a form and refuse with `Invalid(message, field=name)`; an empty value is None unless it
is `required`. A page's GET filters use `or_none`: a value that does not parse is ignored there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from litestar.enums import RequestEncodingType
from litestar.params import Body

from aquabill.base.errors import DomainError, Invalid
from aquabill.billing_core.periods import Period
from aquabill.platform.web.billing import runs
from aquabill.platform.web.context import TenantScope

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)  # how page forms arrive

T = TypeVar("T")
MAX_ID = 2_147_483_647  # PostgreSQL integer
AMOUNT_REFUSAL = "Сумма: ожидается число, например 1500,00"


@dataclass
class Attempt:
    """What became of an `attempt`: `error` is the refusal that rolled it back, None when it went through."""

    error: Exception | None = None

    @property
    def refused(self) -> bool:
        return self.error is not None

    @property
    def message(self) -> str:
        """The refusal's text for the page ("" when the attempt went through)."""
        if self.error is None:
            return ""
        return getattr(self.error, "message", None) or str(self.error)


@asynccontextmanager
async def attempt(ctx: TenantScope, *, also: tuple[type[Exception], ...] = ()) -> AsyncIterator[Attempt]:
    """Run the block in a savepoint; a `DomainError` (or one of `also`) rolls the block back and is kept
    in the yielded `Attempt` instead of propagating. Use: `async with attempt(ctx) as tried: ...`, then
    `if tried.refused: return <the page with tried.message>`."""
    tried = Attempt()
    try:
        async with ctx.conn.begin_nested():
            yield tried
    except (DomainError, *also) as exc:
        tried.error = exc


def or_none(parse: Callable[[str, str], T | None], raw: str, field: str) -> T | None:
    """A filter's value: one that does not parse is ignored (None) rather than refused."""
    try:
        return parse(raw, field)
    except Invalid:
        return None


def parse_text(value: Any, limit: int = 4000) -> str:
    """A text field, trimmed and cut to `limit` characters; a missing (or file) value is ""."""
    return value.strip()[:limit] if isinstance(value, str) else ""


def parse_id(raw: str, field: str, message: str | None = None, *, required: bool = False) -> int | None:
    """A row's number (a PostgreSQL integer, 1..2147483647)."""
    raw = raw.strip()
    if not raw and not required:
        return None
    if raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_ID)) and 0 < int(raw) <= MAX_ID:
        return int(raw)
    raise Invalid(message or f"Ожидается номер: {raw}", field=field)


def parse_ids(raw: list[str] | str, field: str) -> list[int]:
    """A multiple choice of rows (a form sends one value as a string, several as a list); what is not a
    row's number is skipped."""
    found = (or_none(parse_id, x, field) for x in ([raw] if isinstance(raw, str) else raw))
    return [x for x in found if x is not None]


def _dotted(raw: str) -> date:
    return date(int(raw[6:10]), int(raw[3:5]), int(raw[0:2]))


def parse_date(raw: str, field: str, message: str | None = None, *, required: bool = False,
               dotted: bool = False) -> date | None:
    """A date `ГГГГ-ММ-ДД` (as a date input sends it), also `ДД.ММ.ГГГГ` when `dotted`."""
    raw = raw.strip()
    if not raw and not required:
        return None
    for parse in (date.fromisoformat, _dotted) if dotted else (date.fromisoformat,):
        try:
            return parse(raw)
        except ValueError:
            continue
    raise Invalid(message or f"Неверная дата: {raw[:20]}", field=field)


def parse_moment(raw: str, field: str) -> datetime | None:
    """A datetime-local field (or a date): naive, the caller puts it in the organisation's time zone."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError as exc:
        raise Invalid(f"Неверная дата: {raw}", field=field) from exc


def parse_period(raw: str, field: str = "period", message: str | None = None, *,
                 required: bool = False) -> Period | None:
    """A month `ГГГГ-ММ` (`billing.runs.parse_period`); `message` replaces its refusal."""
    if not raw.strip() and not required:
        return None
    try:
        return runs.parse_period(raw)
    except Invalid as exc:
        raise Invalid(message or exc.message, field=field) from exc


def try_period(raw: str) -> tuple[Period | None, str]:
    """A month typed into a form or a filter: (the month, "") or (None, why it was refused)."""
    try:
        return runs.parse_period(raw), ""
    except DomainError as exc:
        return None, exc.message


def parse_amount(raw: str, field: str = "amount") -> Decimal | None:
    """A sum of money as people type it: `1 500,00`, `1500.5` (spaces, also non-breaking, are dropped)."""
    raw = raw.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace(",", ".")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise Invalid(AMOUNT_REFUSAL, field=field) from exc
    if not value.is_finite():
        raise Invalid(AMOUNT_REFUSAL, field=field)
    return value
