"""Cloud fiscalization of online payments (#15): the tenant's cloud fiscalization service and the receipts asked
of it.

cloud_fiscal_settings   one row: on/off, the service (ATOL Online), its API address, login, password (sealed with
                        the app's secret key, platform/secret_box.py; never audited — `password_changed_at`
                        records that it changed), the group of registers (group_code), what the receipt says of
                        the organisation: INN (tag 1018), the sender's e-mail (1117), the settlement place (1187),
                        the tax system (1055, the service's `sno` names).
cloud_fiscal_requests   one receipt asked of the service for a payment and operation (sale = «приход» for a
                        credited online payment, refund = «возврат прихода» for its negative payment). The row is
                        written in the transaction that credits the payment; its UUID is the `external_id` the
                        service deduplicates by (within `group_code`, fixed at the first send), so a resend after a
                        lost answer makes no second receipt. status new (not sent, or the answer was lost) → wait
                        (the service's `provider_uuid` known: its result is polled) → done (the fiscal proof in
                        `fiscal`, and `payment_fiscal` with source 'cloud') | fail (refused or not registered,
                        `error` in Russian). `next_try_at` is when a runner may take it next (a runner leases it by
                        moving it ahead), `attempts` how many times it was taken. Not audited: a log of its own
                        (like `jobs`), rewritten on every poll; the fiscal proof it produces (`payment_fiscal`) is.

Revision ID: t0031
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

revision = "t0031"
down_revision = "t0030"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
MONEY = sa.Numeric(14, 2)
# references to payments are checked per statement, like every other reference to payments (t0015, t0017)
PAYMENT_KEYS = [("cloud_fiscal_requests", "payment_id", "payments")]


def upgrade() -> None:
    op.create_table(
        "cloud_fiscal_settings",
        sa.Column("id", sa.Integer, primary_key=True, server_default="1"),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("provider", sa.String(16), nullable=False, server_default="atol_online"),
        sa.Column("api_url", sa.Text, nullable=False, server_default=""),
        sa.Column("login", sa.String(100), nullable=False, server_default=""),
        sa.Column("password", sa.Text, nullable=False, server_default=""),  # sealed
        sa.Column("password_changed_at", TS),
        sa.Column("group_code", sa.String(64), nullable=False, server_default=""),
        sa.Column("inn", sa.String(12), nullable=False, server_default=""),
        sa.Column("email", sa.String(64), nullable=False, server_default=""),
        sa.Column("payment_address", sa.String(256), nullable=False, server_default=""),
        sa.Column("sno", sa.String(24), nullable=False, server_default="osn"),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("id = 1", name="cloud_fiscal_settings_one"),
        sa.CheckConstraint("provider IN ('atol_online')", name="cloud_fiscal_settings_provider"),
        sa.CheckConstraint("sno IN ('osn', 'usn_income', 'usn_income_outcome', 'esn', 'patent')",
                           name="cloud_fiscal_settings_sno"),
        sa.CheckConstraint("inn = '' OR inn ~ '^([0-9]{10}|[0-9]{12})$'", name="cloud_fiscal_settings_inn"),
    )
    audit_table("cloud_fiscal_settings", hidden=("password",))

    op.create_table(
        "cloud_fiscal_requests",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),  # the external_id
        sa.Column("payment_id", sa.BigInteger, sa.ForeignKey("payments.id"), nullable=False),
        sa.Column("online_payment_id", UUID(as_uuid=True), sa.ForeignKey("online_payments.id")),
        sa.Column("operation", sa.String(8), nullable=False),
        sa.Column("status", sa.String(8), nullable=False, server_default="new"),
        sa.Column("group_code", sa.String(64)),
        sa.Column("provider_uuid", sa.String(64)),
        sa.Column("receipt", JSONB, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_try_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("fiscal", JSONB),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("done_at", TS),
        sa.CheckConstraint("operation IN ('sale', 'refund')", name="cloud_fiscal_requests_operation"),
        sa.CheckConstraint("status IN ('new', 'wait', 'done', 'fail')", name="cloud_fiscal_requests_status"),
        sa.CheckConstraint("amount > 0", name="cloud_fiscal_requests_amount"),
        sa.CheckConstraint("(status = 'done') = (done_at IS NOT NULL)", name="cloud_fiscal_requests_done"),
        sa.CheckConstraint("(status = 'wait') <= (provider_uuid IS NOT NULL)", name="cloud_fiscal_requests_wait"),
        sa.UniqueConstraint("payment_id", "operation", name="cloud_fiscal_requests_once"),
    )
    op.execute("CREATE INDEX cloud_fiscal_requests_due ON cloud_fiscal_requests(next_try_at) "
               "WHERE status IN ('new', 'wait')")
    op.create_index("cloud_fiscal_requests_created", "cloud_fiscal_requests", ["created_at"])
    op.create_index("cloud_fiscal_requests_online", "cloud_fiscal_requests", ["online_payment_id"])
    for child, column, parent in PAYMENT_KEYS:
        statement_foreign_key(child, column, parent)
        statement_truncate_guard(child, column, parent)


def downgrade() -> None:
    s = quote_schema(tenant_schema())
    for child, column, parent in PAYMENT_KEYS:  # the parent's triggers (the child's go with its table)
        for suffix in ("lock", "guard", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS {child}_{column}_fkey_{suffix} ON {s}.{parent}")
    op.drop_table("cloud_fiscal_requests")
    op.drop_table("cloud_fiscal_settings")
