"""Core tables of the platform part of every tenant schema (DDL: tenants/migrations/tenant)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData()  # no schema: tenant tables resolve through the transaction's search_path
TS = DateTime(timezone=True)

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("login", String(64), nullable=False),
    Column("full_name", Text, nullable=False),
    Column("email", Text),
    Column("password_hash", Text, nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("failed_attempts", Integer, nullable=False),
    Column("locked_until", TS),
    Column("last_login_at", TS),
    Column("created_at", TS),
)

roles = Table(
    "roles", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False),
    Column("name", Text, nullable=False),
)

role_permissions = Table(
    "role_permissions", metadata,
    Column("id", Integer, primary_key=True),
    Column("role_id", Integer, ForeignKey("roles.id"), nullable=False),
    Column("resource", String(32), nullable=False),
    Column("action", String(16), nullable=False),
)

user_roles = Table(
    "user_roles", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("role_id", Integer, ForeignKey("roles.id"), nullable=False),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("at", TS),
    Column("table_name", Text),
    Column("row_id", Text),
    Column("action", Text),
    Column("old_row", JSONB),
    Column("new_row", JSONB),
    Column("user_id", Integer),
    Column("txid", BigInteger),
    Column("row_hash", LargeBinary),  # sha256 of a payment as inserted (logged by reference, t0018)
    Column("subscriber_id", Integer),  # the subscriber who did it, on the portal or in a bot (t0021)
)

jobs = Table(
    "jobs", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("progress", Numeric(5, 2), nullable=False),
    Column("message", Text, nullable=False),
    Column("params", JSONB, nullable=False),
    Column("result", JSONB),
    Column("error", Text),
    Column("created_by", Integer),
    Column("created_at", TS),
    Column("started_at", TS),
    Column("finished_at", TS),
    Column("heartbeat_at", TS),  # refreshed while a worker runs the job (t0017); the sweeper reads it
)
