"""Control schema: databases, tenants, platform admins, sessions.

Revision ID: c0001
"""

import sqlalchemy as sa
from alembic import op

revision = "c0001"
down_revision = None
branch_labels = None
depends_on = None

S = "control"


def upgrade() -> None:
    op.create_table(
        "databases",
        sa.Column("key", sa.String(31), primary_key=True),
        sa.Column("url", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        schema=S,
    )
    op.execute("INSERT INTO control.databases(key, url) VALUES ('main', NULL)")
    op.create_table(
        "tenants",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String(40), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("schema_name", sa.String(63), nullable=False, unique=True),
        sa.Column("db_key", sa.String(31), sa.ForeignKey("control.databases.key"), nullable=False),
        sa.Column("revision", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("status IN ('provisioning', 'active', 'suspended', 'failed')", name="tenants_status"),
        schema=S,
    )
    op.create_table(
        "platform_admins",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("login", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        schema=S,
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.LargeBinary, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("control.tenants.id", ondelete="CASCADE")),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('staff', 'platform')", name="sessions_kind"),
        schema=S,
    )
    op.create_index("sessions_expires", "sessions", ["expires_at"], schema=S)


def downgrade() -> None:
    for t in ("sessions", "platform_admins", "tenants", "databases"):
        op.drop_table(t, schema=S)
