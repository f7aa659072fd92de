"""The cash desk (#15): cash points and their on-site edge agents, the agents' command queue, cashier shifts,
cash receipts fiscalized by the register, the fiscal proof on payments, cash orders, third-party services.

cash_points         a place where a cashier takes money (an office window): its name and the settlement address
                    printed on receipts (tags 1009/1187), the tax system (tag 1055 bitmask: 1 ОСН, 2 УСН доход,
                    4 УСН доход−расход, 32 ПСН), the VAT of the utility's own services ('none' or a rate: the
                    receipt takes the rate dated by the day of settlement, cash/vat.py), the cash balance limit
edge_agents         the on-site agent of a cash point: `key_hash` is SHA-256 of its long-lived device key (the
                    key itself is shown once at enrollment), status pending → active → revoked; `cursor` is the
                    highest command id the agent has journaled (it resumes from there); what it last reported
                    of its devices (`device` jsonb: register model, serial, FN number, port), when it was seen
edge_enrollments    one-time enrollment codes an admin issues for an agent: SHA-256 of the code, expiry, use
edge_commands       the per-agent command queue (at-least-once delivery): `id` orders it; `key` is the
                    idempotency key the agent and the register see (a receipt's key is its cash receipt's key);
                    status queued → sent (lease until `leased_until`) → acked (journaled by the agent) → done |
                    failed; the result or the error as the agent reported it
cash_shifts         a cashier's shift at a cash point: opening → open → closing → closed (the register's shift
                    number, the open and close fiscal documents in `opened_doc` / `closed_doc` jsonb); one
                    shift not closed per cash point
cash_receipts       one sale or refund at the cash desk: `key` (UUID) is the idempotency key end to end; the
                    account, the lines (jsonb: what the receipt sells, with its FFD tags), tender cash | card,
                    the money given and the change, the billing payment it made (cash: at once; card: once the
                    terminal approved), the card approval, and the register's proof (FN number, FD number,
                    fiscal sign, time); status pending → printing → done | failed | cancelled
payment_fiscal      the fiscal proof of a payment (the receipt that fiscalized it, by the register on site or by
                    a cloud fiscalization service): FN number, FD number, fiscal sign, when; one per payment
                    and operation (sale / refund)
cash_orders         cash orders (приходный / расходный кассовый ордер, Bank of Russia Directive 3210-U): a number
                    per year and kind, the day, the amount, the basis, the shift
cash_services       third-party services the cash desk takes money for as a payment agent (tag 1222 = 4), with
                    the supplier's name, INN and phone (1224/1226) and the commission taken from the payer
role 'cashier'      «Кассир»: the cash desk (cash: view, edit) and looking up accounts (accounts: view)

Revision ID: t0030
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

revision = "t0030"
down_revision = "t0029"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
MONEY = sa.Numeric(14, 2)
VAT = "'none', '0', '10', '20', '22', '10/110', '20/120', '22/122'"
# references to payments are checked per statement, like every other reference to payments (t0015, t0017)
PAYMENT_KEYS = [("cash_receipts", "payment_id", "payments"), ("payment_fiscal", "payment_id", "payments")]


def upgrade() -> None:
    op.create_table(
        "cash_points",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False, server_default=""),
        sa.Column("place", sa.Text, nullable=False, server_default=""),
        sa.Column("tax_system", sa.SmallInteger, nullable=False, server_default="1"),
        sa.Column("vat", sa.String(8), nullable=False, server_default="none"),
        sa.Column("cash_limit", MONEY, nullable=False, server_default="0"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("tax_system IN (1, 2, 4, 8, 16, 32)", name="cash_points_tax_system"),
        sa.CheckConstraint(f"vat IN ({VAT})", name="cash_points_vat"),
        sa.CheckConstraint("cash_limit >= 0", name="cash_points_cash_limit"),
        sa.UniqueConstraint("name", name="cash_points_name"),
    )
    op.create_table(
        "edge_agents",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("cash_point_id", sa.Integer, sa.ForeignKey("cash_points.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("status", sa.String(8), nullable=False, server_default="pending"),
        sa.Column("key_hash", sa.String(64), unique=True),
        sa.Column("cursor", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("device", JSONB, nullable=False, server_default="{}"),
        sa.Column("version", sa.Text, nullable=False, server_default=""),
        sa.Column("last_seen_at", TS),
        sa.Column("last_address", sa.Text, nullable=False, server_default=""),
        sa.Column("enrolled_at", TS),
        sa.Column("revoked_at", TS),
        sa.Column("revoked_by", sa.Integer),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Integer),
        sa.CheckConstraint("status IN ('pending', 'active', 'revoked')", name="edge_agents_status"),
        sa.CheckConstraint("(status = 'active') <= (key_hash IS NOT NULL)", name="edge_agents_key"),
    )
    op.create_index("edge_agents_point", "edge_agents", ["cash_point_id"])
    op.create_table(
        "edge_enrollments",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("edge_agents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Integer),
    )
    op.create_table(
        "edge_commands",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("edge_agents.id"), nullable=False),
        sa.Column("key", UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("payload", JSONB, nullable=False, server_default="{}"),
        sa.Column("status", sa.String(8), nullable=False, server_default="queued"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("leased_until", TS),
        sa.Column("acked_at", TS),
        sa.Column("done_at", TS),
        sa.Column("result", JSONB),
        sa.Column("error", sa.Text),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Integer),
        sa.CheckConstraint("kind IN ('status', 'open_shift', 'x_report', 'close_shift', 'receipt', 'duplicate', "
                           "'find_document', 'cash_in', 'cash_out')", name="edge_commands_kind"),
        sa.CheckConstraint("status IN ('queued', 'sent', 'acked', 'done', 'failed')", name="edge_commands_status"),
        sa.CheckConstraint("(status IN ('done', 'failed')) = (done_at IS NOT NULL)", name="edge_commands_done"),
    )
    op.execute("CREATE INDEX edge_commands_pending ON edge_commands(agent_id, id) "
               "WHERE status IN ('queued', 'sent', 'acked')")
    op.create_table(
        "cash_shifts",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("cash_point_id", sa.Integer, sa.ForeignKey("cash_points.id"), nullable=False),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("edge_agents.id"), nullable=False),
        sa.Column("cashier_id", sa.Integer, nullable=False),
        sa.Column("cashier_name", sa.Text, nullable=False),
        sa.Column("status", sa.String(8), nullable=False, server_default="opening"),
        sa.Column("shift_number", sa.Integer),
        sa.Column("opened_at", TS),
        sa.Column("closed_at", TS),
        sa.Column("opened_doc", JSONB),
        sa.Column("closed_doc", JSONB),
        sa.Column("error", sa.Text),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("status IN ('opening', 'open', 'closing', 'closed', 'failed')", name="cash_shifts_status"),
    )
    op.execute("CREATE UNIQUE INDEX cash_shifts_one_open ON cash_shifts(cash_point_id) "
               "WHERE status IN ('opening', 'open', 'closing')")
    op.create_table(
        "cash_services",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("supplier_name", sa.Text, nullable=False),
        sa.Column("supplier_inn", sa.String(12), nullable=False),
        sa.Column("supplier_phone", sa.String(19), nullable=False, server_default=""),
        sa.Column("commission_percent", sa.Numeric(5, 2), nullable=False, server_default="0"),
        sa.Column("commission_min", MONEY, nullable=False, server_default="0"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.CheckConstraint("commission_percent >= 0 AND commission_percent < 100", name="cash_services_commission"),
        sa.CheckConstraint("supplier_inn ~ '^([0-9]{10}|[0-9]{12})$'", name="cash_services_inn"),
    )
    op.create_table(
        "cash_receipts",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("key", UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("shift_id", sa.Integer, sa.ForeignKey("cash_shifts.id"), nullable=False),
        sa.Column("operation", sa.String(8), nullable=False),
        sa.Column("status", sa.String(10), nullable=False, server_default="pending"),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id")),
        sa.Column("cash_service_id", sa.Integer, sa.ForeignKey("cash_services.id")),
        sa.Column("payment_id", sa.BigInteger, sa.ForeignKey("payments.id")),
        sa.Column("refund_of", sa.BigInteger, sa.ForeignKey("cash_receipts.id")),
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("commission", MONEY, nullable=False, server_default="0"),
        sa.Column("tender", sa.String(4), nullable=False),
        sa.Column("given", MONEY),
        sa.Column("change", MONEY, nullable=False, server_default="0"),
        sa.Column("buyer_contact", sa.Text, nullable=False, server_default=""),
        sa.Column("card", JSONB),
        sa.Column("command_id", sa.BigInteger, sa.ForeignKey("edge_commands.id")),
        sa.Column("fn_number", sa.String(16)),
        sa.Column("fd_number", sa.BigInteger),
        sa.Column("fiscal_sign", sa.BigInteger),
        sa.Column("fiscal_at", TS),
        sa.Column("error", sa.Text),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Integer),
        sa.CheckConstraint("operation IN ('sale', 'refund')", name="cash_receipts_operation"),
        sa.CheckConstraint("status IN ('pending', 'printing', 'done', 'failed', 'cancelled')",
                           name="cash_receipts_status"),
        sa.CheckConstraint("tender IN ('cash', 'card')", name="cash_receipts_tender"),
        sa.CheckConstraint("total > 0 AND commission >= 0 AND change >= 0", name="cash_receipts_sums"),
        sa.CheckConstraint("(status = 'done') <= (fiscal_sign IS NOT NULL)", name="cash_receipts_fiscal"),
        sa.CheckConstraint("(operation = 'refund') = (refund_of IS NOT NULL)", name="cash_receipts_refund"),
    )
    op.create_index("cash_receipts_shift", "cash_receipts", ["shift_id", "id"])
    op.create_index("cash_receipts_account", "cash_receipts", ["account_id", "created_at"])
    op.execute("CREATE UNIQUE INDEX cash_receipts_one_refund ON cash_receipts(refund_of) "
               "WHERE refund_of IS NOT NULL AND status <> 'failed' AND status <> 'cancelled'")
    op.create_table(
        "payment_fiscal",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("payment_id", sa.BigInteger, sa.ForeignKey("payments.id"), nullable=False),
        sa.Column("operation", sa.String(8), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("cash_receipt_id", sa.BigInteger, sa.ForeignKey("cash_receipts.id")),
        sa.Column("fn_number", sa.String(16), nullable=False),
        sa.Column("fd_number", sa.BigInteger, nullable=False),
        sa.Column("fiscal_sign", sa.BigInteger, nullable=False),
        sa.Column("fiscal_at", TS, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("operation IN ('sale', 'refund')", name="payment_fiscal_operation"),
        sa.CheckConstraint("source IN ('register', 'cloud')", name="payment_fiscal_source"),
        sa.UniqueConstraint("payment_id", "operation", name="payment_fiscal_once"),
    )
    # one fiscal receipt may pay several payments (ticked lines: one payment each): the document is not unique here
    op.create_index("payment_fiscal_document", "payment_fiscal", ["fn_number", "fd_number"])
    op.create_table(
        "cash_orders",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("kind", sa.String(4), nullable=False),
        sa.Column("year", sa.SmallInteger, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("ordered_on", sa.Date, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("person", sa.Text, nullable=False, server_default=""),
        sa.Column("basis", sa.Text, nullable=False),
        sa.Column("cash_point_id", sa.Integer, sa.ForeignKey("cash_points.id"), nullable=False),
        sa.Column("shift_id", sa.Integer, sa.ForeignKey("cash_shifts.id")),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Integer),
        sa.CheckConstraint("kind IN ('in', 'out')", name="cash_orders_kind"),
        sa.CheckConstraint("amount > 0", name="cash_orders_amount"),
        sa.UniqueConstraint("kind", "year", "number", name="cash_orders_number"),
    )
    op.create_index("cash_orders_day", "cash_orders", ["cash_point_id", "ordered_on"])

    for table in ("cash_points", "cash_services", "cash_shifts", "cash_receipts", "cash_orders", "payment_fiscal"):
        audit_table(table)
    # heartbeats and device reports rewrite these: the audit keeps who enrolled, renamed or revoked, not the pings
    audit_table("edge_agents", hidden=("key_hash", "last_seen_at", "last_address", "cursor", "device", "version"))
    audit_table("edge_enrollments", hidden=("code_hash",))
    for child, column, parent in PAYMENT_KEYS:
        statement_foreign_key(child, column, parent)
        statement_truncate_guard(child, column, parent)

    op.execute("INSERT INTO roles(code, name) VALUES ('cashier', 'Кассир') ON CONFLICT (code) DO NOTHING")
    op.execute("INSERT INTO role_permissions(role_id, resource, action) "
               "SELECT id, r, a FROM roles, (VALUES ('cash', 'view'), ('cash', 'edit'), ('accounts', 'view')) v(r, a) "
               "WHERE code = 'cashier'")


def downgrade() -> None:
    s = quote_schema(tenant_schema())
    for child, column, parent in PAYMENT_KEYS:
        for suffix in ("lock", "guard", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS {child}_{column}_fkey_{suffix} ON {s}.{parent}")
    op.execute("DELETE FROM roles WHERE code = 'cashier'")
    for table in ("cash_orders", "payment_fiscal", "cash_receipts", "cash_services", "cash_shifts",
                  "edge_commands", "edge_enrollments", "edge_agents", "cash_points"):
        op.drop_table(table)
