"""Address registry (settlement → street → house → premise) and personal accounts.

Revision ID: t0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from aquabill.tenants.migrations.helpers import audit_table

revision = "t0002"
down_revision = "t0001"
branch_labels = None
depends_on = None

TABLES = ("settlements", "streets", "houses", "premises", "accounts")


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, sa.Identity(), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "settlements",
        _id(),
        sa.Column("kind", sa.String(16), nullable=False, server_default="г."),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("fias_guid", UUID(as_uuid=True)),
        sa.UniqueConstraint("kind", "name"),
    )
    op.create_table(
        "streets",
        _id(),
        sa.Column("settlement_id", sa.Integer, sa.ForeignKey("settlements.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False, server_default="ул."),
        sa.Column("name", sa.Text, nullable=False),
        sa.UniqueConstraint("settlement_id", "kind", "name"),
    )
    op.create_table(
        "houses",
        _id(),
        sa.Column("street_id", sa.Integer, sa.ForeignKey("streets.id"), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("built_year", sa.Integer),
        sa.Column("floors", sa.Integer),
        sa.Column("improvement", sa.String(32)),
        sa.Column("fias_guid", UUID(as_uuid=True)),
        sa.UniqueConstraint("street_id", "number"),
    )
    op.create_table(
        "premises",
        _id(),
        sa.Column("house_id", sa.Integer, sa.ForeignKey("houses.id"), nullable=False),
        sa.Column("number", sa.String(32), nullable=False, server_default=""),
        sa.Column("area_m2", sa.Numeric(10, 2)),
        sa.Column("is_communal", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("house_id", "number"),
    )
    op.create_table(
        "accounts",
        _id(),
        sa.Column("number", sa.String(32), nullable=False, unique=True),
        sa.Column("premise_id", sa.Integer, sa.ForeignKey("premises.id"), nullable=False),
        sa.Column("holder", sa.Text, nullable=False, server_default=""),
        sa.Column("phone", sa.String(20)),
        sa.Column("email", sa.Text),
        sa.Column("telegram_chat_id", sa.BigInteger),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("closed_on", sa.Date),
        sa.CheckConstraint("status IN ('open', 'closed')", name="accounts_status"),
    )
    op.create_index("accounts_premise", "accounts", ["premise_id"])
    op.create_index("accounts_holder", "accounts", [sa.text("lower(holder)")])
    op.create_index("accounts_phone", "accounts", ["phone"])
    for table in TABLES:
        audit_table(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
