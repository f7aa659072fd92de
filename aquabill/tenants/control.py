"""Tables of the shared `control` schema (SQLAlchemy Core). The DDL lives in migrations/control."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
)

CONTROL_SCHEMA = "control"
MAIN_DB = "main"

metadata = MetaData(schema=CONTROL_SCHEMA)

databases = Table(
    "databases",
    metadata,
    Column("key", String(31), primary_key=True),
    Column("url", Text, nullable=True),  # NULL: the control database itself (DATABASE_URL)
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
)

tenants = Table(
    "tenants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(40), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("schema_name", String(63), nullable=False, unique=True),
    Column("db_key", String(31), ForeignKey("control.databases.key"), nullable=False),
    Column("revision", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
)

platform_admins = Table(
    "platform_admins",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("login", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", LargeBinary, primary_key=True),
    Column("kind", String(16), nullable=False),  # staff | platform | subscriber (c0002)
    Column("tenant_id", Integer, ForeignKey("control.tenants.id", ondelete="CASCADE"), nullable=True),
    Column("user_id", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
