"""Core tables of the address registry and accounts (DDL: tenants/migrations/tenant/t0002)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import UUID

metadata = MetaData()

settlements = Table(
    "settlements", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name", Text, nullable=False),
    Column("fias_guid", UUID(as_uuid=True)),
)

streets = Table(
    "streets", metadata,
    Column("id", Integer, primary_key=True),
    Column("settlement_id", Integer, ForeignKey("settlements.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("name", Text, nullable=False),
)

houses = Table(
    "houses", metadata,
    Column("id", Integer, primary_key=True),
    Column("street_id", Integer, ForeignKey("streets.id"), nullable=False),
    Column("number", String(32), nullable=False),
    Column("built_year", Integer),
    Column("floors", Integer),
    Column("improvement", String(32)),
    Column("fias_guid", UUID(as_uuid=True)),
)

premises = Table(
    "premises", metadata,
    Column("id", Integer, primary_key=True),
    Column("house_id", Integer, ForeignKey("houses.id"), nullable=False),
    Column("number", String(32), nullable=False),
    Column("area_m2", Numeric(10, 2)),
    Column("is_communal", Boolean, nullable=False),
)

accounts = Table(
    "accounts", metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(32), nullable=False),
    Column("premise_id", Integer, ForeignKey("premises.id"), nullable=False),
    Column("holder", Text, nullable=False),
    Column("phone", String(20)),
    Column("email", Text),
    Column("telegram_chat_id", BigInteger),
    Column("status", String(16), nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("closed_on", Date),
)
