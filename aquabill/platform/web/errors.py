"""The uniform error body: {"error": {"code", "message" (Russian), "fields": [...]}}."""

from __future__ import annotations

import logging

import asyncpg
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from aquabill.base.errors import DomainError
from aquabill.tenants.naming import InvalidName

log = logging.getLogger(__name__)

_MESSAGES = {
    400: "Неверный запрос",
    401: "Требуется вход в систему",
    403: "Недостаточно прав",
    404: "Не найдено",
    405: "Метод не поддерживается",
    409: "Конфликт данных",
    413: "Слишком большой запрос",
    422: "Данные не прошли проверку",
    429: "Слишком много запросов",
}
_CODES = {400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "validation_error",
          429: "rate_limited"}


# A process over its capacity (web/shedding.py) or a request that waited too long for a database
# connection (the pool's timeout, tenants/databases.py): 503, come back in a second.
OVERLOADED = ("overloaded", "Сервер перегружен, повторите запрос через несколько секунд")
RETRY_AFTER_SECONDS = 1


def error_body(code: str, message: str, fields: list | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or []}}


def _is_page(request: Request) -> bool:
    path = request.url.path
    return not (path.startswith("/api") or path.startswith("/health") or path.startswith("/schema"))


def _json(status: int, body: dict) -> Response:
    return Response(content=body, status_code=status, media_type=MediaType.JSON)


def _validation_fields(exc: ValidationException) -> list[dict]:
    fields = []
    for item in exc.extra or []:
        if isinstance(item, dict):
            fields.append({"field": item.get("key") or item.get("source") or "",
                           "message": str(item.get("message", ""))})
    return fields


def _is_data_error(exc: Exception) -> bool:
    """asyncpg's DataError (SQLSTATE class 22, e.g. "value out of int32 range") wrapped by SQLAlchemy."""
    if not isinstance(exc, DBAPIError):
        return False
    for cause in (exc.orig, getattr(exc.orig, "__cause__", None)):
        if isinstance(cause, asyncpg.exceptions.DataError) or str(getattr(cause, "sqlstate", "") or "").startswith("22"):
            return True
    return False


def handle_exception(request: Request, exc: Exception) -> Response:
    if isinstance(exc, DomainError):
        return _json(exc.status_code, error_body(exc.code, exc.message, exc.fields))
    if isinstance(exc, PoolTimeout):  # no database connection freed within the pool's timeout
        return Response(content=error_body(*OVERLOADED), status_code=503, media_type=MediaType.JSON,
                        headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    if _is_data_error(exc):  # a value PostgreSQL cannot take (out of range, malformed): the input's fault
        return _json(422, error_body("validation_error", "Недопустимое значение параметра"))
    if isinstance(exc, InvalidName):
        return _json(422, error_body("validation_error", str(exc)))
    if isinstance(exc, ValidationException):
        return _json(400, error_body("validation_error", "Неверные данные запроса", _validation_fields(exc)))
    if isinstance(exc, NotAuthorizedException) and _is_page(request):
        return Redirect(path="/login?next=" + request.url.path)
    if isinstance(exc, HTTPException):
        status = exc.status_code
        detail = exc.detail if isinstance(exc, NotAuthorizedException | PermissionDeniedException) else None
        if isinstance(exc, NotFoundException) and exc.detail and exc.detail != "Not Found":
            detail = exc.detail if any("а" <= ch <= "я" for ch in exc.detail.lower()) else None
        message = detail if detail and detail not in ("Unauthorized", "Forbidden") else _MESSAGES.get(status, exc.detail)
        return _json(status, error_body(_CODES.get(status, "error"), message))
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _json(HTTP_500_INTERNAL_SERVER_ERROR,
                 error_body("internal_error", "Внутренняя ошибка сервера. Обратитесь в поддержку."))


EXCEPTION_HANDLERS = {Exception: handle_exception}
