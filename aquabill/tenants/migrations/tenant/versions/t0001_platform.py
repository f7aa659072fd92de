"""Tenant platform tables: staff users, roles and permissions, audit log, job registry.

Revision ID: t0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from aquabill.tenants.migrations.helpers import audit_table, create_audit_functions

revision = "t0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

ROLES = [
    ("admin", "Администратор", [("*", "admin")]),
    ("operator", "Оператор", [("accounts", "view"), ("accounts", "edit"), ("registry", "view"),
                              ("registry", "edit"), ("jobs", "view"), ("audit", "view")]),
    ("viewer", "Наблюдатель", [("*", "view")]),
]


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", TS, server_default=sa.text("clock_timestamp()"), nullable=False),
        sa.Column("table_name", sa.Text, nullable=False),
        sa.Column("row_id", sa.Text, nullable=True),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("old_row", JSONB),
        sa.Column("new_row", JSONB),
        sa.Column("user_id", sa.Integer),
        sa.Column("txid", sa.BigInteger, server_default=sa.text("txid_current()"), nullable=False),
    )
    op.create_index("audit_log_object", "audit_log", ["table_name", "row_id", "id"])
    create_audit_functions()

    op.create_table(
        "users",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("login", sa.String(64), nullable=False),
        sa.Column("full_name", sa.Text, nullable=False, server_default=""),
        sa.Column("email", sa.Text),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("failed_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", TS),
        sa.Column("last_login_at", TS),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
    )
    op.create_index("users_login", "users", [sa.text("lower(login)")], unique=True)
    op.create_table(
        "roles",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
    )
    op.create_table(
        "role_permissions",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("role_id", sa.Integer, sa.ForeignKey("roles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("resource", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.UniqueConstraint("role_id", "resource", "action"),
        sa.CheckConstraint("action IN ('view', 'edit', 'report', 'admin')", name="role_permissions_action"),
    )
    op.create_table(
        "user_roles",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("role_id", sa.Integer, sa.ForeignKey("roles.id", ondelete="CASCADE"), nullable=False),
        sa.UniqueConstraint("user_id", "role_id"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False, server_default="queued"),
        sa.Column("progress", sa.Numeric(5, 2), nullable=False, server_default="0"),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("params", JSONB, nullable=False, server_default="{}"),
        sa.Column("result", JSONB),
        sa.Column("error", sa.Text),
        sa.Column("created_by", sa.Integer),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("started_at", TS),
        sa.Column("finished_at", TS),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="jobs_status"),
    )
    op.create_index("jobs_created", "jobs", ["created_at"])

    for table in ("roles", "role_permissions", "user_roles"):
        audit_table(table)
    audit_table("users", hidden=("password_hash",))

    for code, name, perms in ROLES:
        op.execute(sa.text("INSERT INTO roles(code, name) VALUES (:c, :n)").bindparams(c=code, n=name))
        for resource, action in perms:
            op.execute(sa.text(
                "INSERT INTO role_permissions(role_id, resource, action) "
                "SELECT id, :r, :a FROM roles WHERE code = :c"
            ).bindparams(r=resource, a=action, c=code))


def downgrade() -> None:
    for table in ("jobs", "user_roles", "role_permissions", "roles", "users", "audit_log"):
        op.drop_table(table)
    for fn in ("audit_insert", "audit_update", "audit_delete"):
        op.execute(f"DROP FUNCTION {fn}()")
