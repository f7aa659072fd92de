"""Online payment through an acquirer (ЮKassa): the tenant's shop, payment attempts, refunds.

acquiring_settings: one row: the acquirer, the shop id and its secret key (sealed with the app's secret key,
                    platform/secret_box.py; never audited — `secret_changed_at` records that it changed), whether
                    the 54-FZ receipt data go with the payment, the VAT rate of the receipt lines (a neutral
                    rate name, mapped to the acquirer's code by its adapter; per service in `vat_by_service`),
                    the tax system code (only when the register has several), enabled.
online_payments:    one payment attempt. The row is written BEFORE the acquirer is called: its UUID is the
                    Idempotence-Key and goes into the payment's metadata with the tenant and the account.
                    status: new (the acquirer has not answered yet, or the answer was lost) → pending (waiting
                    for the payer) → succeeded (credited: `payment_id` set in the same transaction) |
                    canceled (`cancel_reason` in Russian) | failed (the acquirer refused to create it) |
                    mismatch (the acquirer's payment does not match the attempt: amount, currency or our
                    metadata — not credited, staff look at it).
                    One payment per attempt (`payment_id` unique) and one attempt per acquirer's payment
                    (`provider_payment_id` unique); the payment itself carries the acquirer's payment id as
                    its operation id (agent 'yookassa'), unique per agent (payments_operation, t0005).
online_refunds:     a staff refund of an attempt (partial allowed); written before the acquirer is called (its
                    UUID is the Idempotence-Key); when the acquirer confirms it, a negative payment of the
                    same agent (`storno_of` = the refunded payment, operation id = the acquirer's refund id)
                    records the money returned. At most one unfinished refund per attempt.
payment_agents:     the agent 'yookassa' for the acquirer's payments.

Revision ID: t0024
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from aquabill.tenants.migrations.helpers import (
    audit_table,
    statement_foreign_key,
    statement_truncate_guard,
    tenant_schema,
)
from aquabill.tenants.naming import quote_schema

revision = "t0024"
down_revision = "t0023"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
MONEY = sa.Numeric(14, 2)
VAT = "'none', '0', '5', '7', '10', '20', '22', '5/105', '7/107', '10/110', '20/120', '22/122'"
# the payments references are checked per statement, like every other reference to payments (t0015, t0017)
PAYMENT_KEYS = [("online_payments", "payment_id", "payments"), ("online_refunds", "payment_id", "payments")]


def upgrade() -> None:
    op.create_table(
        "acquiring_settings",
        sa.Column("id", sa.Integer, primary_key=True, server_default="1"),
        sa.Column("provider", sa.String(16), nullable=False, server_default="yookassa"),
        sa.Column("shop_id", sa.String(32), nullable=False, server_default=""),
        sa.Column("secret", sa.Text, nullable=False, server_default=""),  # sealed
        sa.Column("secret_changed_at", TS),
        sa.Column("send_receipt", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("vat", sa.String(8), nullable=False, server_default="none"),
        sa.Column("vat_by_service", JSONB, nullable=False, server_default="{}"),  # service code → vat
        sa.Column("tax_system", sa.SmallInteger),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("id = 1", name="acquiring_settings_one"),
        sa.CheckConstraint("provider IN ('yookassa')", name="acquiring_settings_provider"),
        sa.CheckConstraint(f"vat IN ({VAT})", name="acquiring_settings_vat"),
        sa.CheckConstraint("tax_system BETWEEN 1 AND 6", name="acquiring_settings_tax_system"),
    )
    audit_table("acquiring_settings", hidden=("secret",))

    op.create_table(
        "online_payments",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id")),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("receipt", JSONB, nullable=False),  # items (one per service) and the buyer's contact
        sa.Column("contact", sa.String(254), nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default="new"),
        sa.Column("provider", sa.String(16), nullable=False, server_default="yookassa"),
        sa.Column("provider_payment_id", sa.String(64), unique=True),
        sa.Column("confirmation_url", sa.Text),
        sa.Column("return_url", sa.Text, nullable=False),
        sa.Column("cancel_party", sa.String(32), nullable=False, server_default=""),
        sa.Column("cancel_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("problem", sa.Text, nullable=False, server_default=""),
        sa.Column("payment_id", sa.BigInteger, sa.ForeignKey("payments.id"), unique=True),
        sa.Column("refunded", MONEY, nullable=False, server_default="0"),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("paid_at", TS),  # the acquirer's capture time
        sa.Column("credited_at", TS),
        sa.Column("credited_via", sa.String(12)),
        sa.Column("credited_by", sa.Integer),  # the staff user who checked it, when via 'staff'
        sa.Column("notified_at", TS),  # the last notification about it
        sa.Column("checked_at", TS),  # the last time it was read back from the acquirer
        sa.CheckConstraint("channel IN ('portal', 'telegram', 'max', 'link')", name="online_payments_channel"),
        sa.CheckConstraint("status IN ('new', 'pending', 'succeeded', 'canceled', 'failed', 'mismatch')",
                           name="online_payments_status"),
        sa.CheckConstraint("amount > 0", name="online_payments_amount"),
        sa.CheckConstraint("refunded >= 0 AND refunded <= amount", name="online_payments_refunded"),
        sa.CheckConstraint("(status = 'succeeded') = (payment_id IS NOT NULL)", name="online_payments_credited"),
        sa.CheckConstraint("credited_via IN ('notification', 'return', 'staff')", name="online_payments_via"),
    )
    op.create_index("online_payments_account", "online_payments", ["account_id", "created_at"])
    op.create_index("online_payments_created", "online_payments", ["created_at"])
    audit_table("online_payments")

    op.create_table(
        "online_refunds",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("online_payment_id", UUID(as_uuid=True), sa.ForeignKey("online_payments.id"), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(12), nullable=False, server_default="new"),
        sa.Column("provider_refund_id", sa.String(64), unique=True),
        sa.Column("payment_id", sa.BigInteger, sa.ForeignKey("payments.id"), unique=True),
        sa.Column("cancel_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Integer),
        sa.Column("recorded_at", TS),
        sa.CheckConstraint("amount > 0", name="online_refunds_amount"),
        sa.CheckConstraint("status IN ('new', 'pending', 'succeeded', 'canceled')", name="online_refunds_status"),
        sa.CheckConstraint("(status = 'succeeded') = (payment_id IS NOT NULL)", name="online_refunds_recorded"),
    )
    op.execute("CREATE UNIQUE INDEX online_refunds_unfinished ON online_refunds(online_payment_id) "
               "WHERE status IN ('new', 'pending')")
    audit_table("online_refunds")

    for child, column, parent in PAYMENT_KEYS:
        statement_foreign_key(child, column, parent)
        statement_truncate_guard(child, column, parent)

    op.execute("INSERT INTO payment_agents(code, name, kind, file_format) "
               "VALUES ('yookassa', 'ЮKassa (онлайн-оплата)', 'acquiring', 'none') ON CONFLICT (code) DO NOTHING")


def downgrade() -> None:
    s = quote_schema(tenant_schema())
    for child, column, parent in PAYMENT_KEYS:  # the parent's triggers (the child's go with its table)
        for suffix in ("lock", "guard", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS {child}_{column}_fkey_{suffix} ON {s}.{parent}")
    op.drop_table("online_refunds")
    op.drop_table("online_payments")
    op.drop_table("acquiring_settings")
    op.execute("DELETE FROM payment_agents WHERE code = 'yookassa' "
               "AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.agent_id = payment_agents.id)")
