"""Tenant slugs and schema names: generated and validated strictly, always quoted."""

from __future__ import annotations

import re

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
SCHEMA_RE = re.compile(r"^t_[a-z0-9_]{1,60}$")
DB_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
RESERVED_SLUGS = frozenset({"www", "api", "admin", "control", "platform", "static", "health", "public"})


class InvalidName(ValueError):
    pass


def validate_slug(slug: str) -> str:
    if not SLUG_RE.match(slug or "") or slug in RESERVED_SLUGS or "--" in slug or slug.endswith("-"):
        raise InvalidName(
            "Код организации: 2–40 символов, латинские строчные буквы, цифры и дефис, начинается с буквы"
        )
    return slug


def schema_for(slug: str) -> str:
    return validate_schema("t_" + validate_slug(slug).replace("-", "_"))


def validate_schema(schema: str) -> str:
    if not SCHEMA_RE.match(schema or ""):
        raise InvalidName(f"Недопустимое имя схемы: {schema!r}")
    return schema


def quote_schema(schema: str) -> str:
    return '"' + validate_schema(schema) + '"'


def validate_db_key(key: str) -> str:
    if not DB_KEY_RE.match(key or ""):
        raise InvalidName("Ключ базы данных: латинские строчные буквы, цифры и подчёркивание")
    return key
