"""Payments: payment agents, payment files stored as received, payments (identified or not), their
allocation over charges, and the tenant's payment settings.

payments.status:
  identified    — bound to an account (account_id set)
  unidentified  — waiting in the queue for an operator (account_id NULL, reason says why)
  storno        — reversed (a reversed payment keeps its row; its allocations are removed)
  rolled_back   — its file was rolled back as a whole while the period was open

payment_allocations: one row per payment × account × service × month of origin (charges.period);
month_of_origin NULL with service_id NULL = an advance (consumed by later charges when reallocated).

Revision ID: t0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from aquabill.tenants.migrations.helpers import audit_table

revision = "t0005"
down_revision = "t0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
MONEY = sa.Numeric(14, 2)

SETTINGS = [
    # order of services when a payment covers only part of a month's debt (service codes)
    ("allocation_service_order", '["cold_water", "hot_water", "sewage", "common_cold"]'),
    ("payment_due_day", "10"),  # the day of the month after the period by which a charge is due
    ("unidentified_alert_days", "5"),
]


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, sa.Identity(), primary_key=True)


def upgrade() -> None:
    op.execute("INSERT INTO billing_settings(key, value) VALUES "
               + ", ".join(f"('{k}', '{v}')" for k, v in SETTINGS) + " ON CONFLICT (key) DO NOTHING")
    op.create_table(
        "payment_agents",
        _id(),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(12), nullable=False, server_default="bank"),
        sa.Column("inn", sa.String(12)),
        sa.Column("contract", sa.Text, nullable=False, server_default=""),
        sa.Column("commission_percent", sa.Numeric(6, 3), nullable=False, server_default="0"),
        sa.Column("file_format", sa.String(16), nullable=False, server_default="sberbank"),
        sa.Column("file_layout", JSONB, nullable=False, server_default="{}"),  # column order etc. per agent
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.CheckConstraint("kind IN ('bank', 'post', 'acquiring', 'cash_desk', 'other')", name="payment_agents_kind"),
        sa.CheckConstraint("file_format IN ('sberbank', '1c', 'none')", name="payment_agents_format"),
    )
    op.execute("INSERT INTO payment_agents(code, name, kind, file_format) VALUES "
               "('cash', 'Собственная касса', 'cash_desk', 'none'), "
               "('manual', 'Ручной ввод', 'other', 'none')")
    op.create_table(
        "payment_files",
        _id(),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("payment_agents.id"), nullable=False),
        sa.Column("file_name", sa.Text, nullable=False, server_default=""),
        sa.Column("content", sa.LargeBinary, nullable=False),  # as received
        sa.Column("checksum", sa.String(64), nullable=False),  # sha256 of content
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default="loaded"),
        sa.Column("lines", sa.Integer, nullable=False, server_default="0"),
        sa.Column("loaded", sa.Integer, nullable=False, server_default="0"),
        sa.Column("unidentified", sa.Integer, nullable=False, server_default="0"),
        sa.Column("failed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("amount", MONEY, nullable=False, server_default="0"),
        sa.Column("errors", JSONB, nullable=False, server_default="[]"),  # [{"line": n, "error": "..."}]
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Integer),
        sa.Column("rolled_back_at", TS),
        sa.UniqueConstraint("agent_id", "checksum"),
        sa.CheckConstraint("status IN ('loaded', 'rolled_back')", name="payment_files_status"),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("payment_agents.id"), nullable=False),
        sa.Column("file_id", sa.Integer, sa.ForeignKey("payment_files.id")),
        sa.Column("line_no", sa.Integer),
        sa.Column("operation_id", sa.String(64)),  # the agent's id of the operation: unique per agent
        sa.Column("source", sa.String(12), nullable=False),
        sa.Column("paid_on", sa.Date, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("commission", MONEY, nullable=False, server_default="0"),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id")),
        sa.Column("account_text", sa.Text, nullable=False, server_default=""),  # as written by the payer
        sa.Column("period", sa.Date),  # the month the payer named (first day), if any
        sa.Column("service_id", sa.Integer, sa.ForeignKey("services.id")),  # the service the payer named
        sa.Column("penalty", MONEY),  # the part the payer named for penalties
        sa.Column("payer", sa.Text, nullable=False, server_default=""),
        sa.Column("purpose", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),  # why unidentified / storno note
        sa.Column("storno_of", sa.BigInteger, sa.ForeignKey("payments.id")),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Integer),
        sa.CheckConstraint("source IN ('registry', 'bank_1c', 'manual', 'cash', 'transfer', 'portal')",
                           name="payments_source"),
        sa.CheckConstraint("status IN ('identified', 'unidentified', 'storno', 'rolled_back')",
                           name="payments_status"),
        sa.CheckConstraint("(status = 'identified') <= (account_id IS NOT NULL)", name="payments_identified"),
        sa.CheckConstraint("amount <> 0", name="payments_amount"),
    )
    op.execute("CREATE UNIQUE INDEX payments_operation ON payments(agent_id, operation_id) "
               "WHERE operation_id IS NOT NULL AND status <> 'rolled_back'")
    op.create_index("payments_account", "payments", ["account_id", "paid_on"])
    op.create_index("payments_file", "payments", ["file_id"])
    op.execute("CREATE INDEX payments_unidentified ON payments(paid_on) WHERE status = 'unidentified'")
    op.create_table(
        "payment_allocations",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("payment_id", sa.BigInteger, sa.ForeignKey("payments.id"), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("service_id", sa.Integer),  # NULL: advance
        sa.Column("month_of_origin", sa.Date),  # the charges' period covered; NULL: advance
        sa.Column("kind", sa.String(8), nullable=False, server_default="charge"),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("kind IN ('charge', 'penalty', 'advance')", name="payment_allocations_kind"),
    )
    op.create_index("payment_allocations_payment", "payment_allocations", ["payment_id"])
    op.create_index("payment_allocations_account", "payment_allocations", ["account_id", "month_of_origin"])
    # allocations are bulk rows recomputed by set-based SQL (like charges): audited through their payment
    for table in ("payment_agents", "payment_files", "payments"):
        audit_table(table, hidden=("content",) if table == "payment_files" else ())
    op.execute("INSERT INTO role_permissions(role_id, resource, action) "
               "SELECT id, 'payments', a FROM roles, unnest(ARRAY['view', 'edit']) a WHERE code = 'operator'")


def downgrade() -> None:
    op.execute("DELETE FROM role_permissions WHERE resource = 'payments'")
    for table in ("payment_allocations", "payments", "payment_files", "payment_agents"):
        op.drop_table(table)
    op.execute("DELETE FROM billing_settings WHERE key IN ("
               + ", ".join(f"'{k}'" for k, _ in SETTINGS) + ")")
