"""Telephony: the tenant's Asterisk Manager Interface connection and the call journal.

ami_connections: at most one row (id = 1): where the tenant's Asterisk is; secret_encrypted is the AMI
password sealed with the app's secret key (platform/secret_box.py): never audited, never returned.

calls.status:
  in_progress — ringing or talking
  answered    — an agent was connected
  missed      — ended unanswered (queue timeout, no agent, no answer, busy)
  abandoned   — the caller hung up while waiting (in the queue or while an agent's phone rang)
calls.direction: inbound (the caller rang us) | outbound (click-to-call / call-back by Originate).
calls.linkedid: Asterisk's Linkedid of the call (unique); uniqueid: its root channel's Uniqueid.
calls.caller_normalised: the caller's number as +7XXXXXXXXXX (NULL when not a Russian number).
calls.callback_of: the missed call this outbound call returns.

accounts are indexed on the normalised phone (same expression as billing_core/registry/phones.PHONE_SQL).

Revision ID: t0008
"""

import sqlalchemy as sa
from alembic import op

from aquabill.tenants.migrations.helpers import audit_table

revision = "t0008"
down_revision = "t0007"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
PHONE_SQL = r"('+7' || substring(regexp_replace(phone, '\D', '', 'g') from '^[78]?(\d{10})$'))"


def upgrade() -> None:
    op.create_table(
        "ami_connections",
        sa.Column("id", sa.Integer, primary_key=True, server_default="1"),
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("port", sa.Integer, nullable=False, server_default="5038"),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("secret_encrypted", sa.Text, nullable=False, server_default=""),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.false()),
        # dial plan for click-to-call: the agent's phone is `<technology>/<extension>`, the number is
        # dialled in `originate_context`
        sa.Column("technology", sa.String(16), nullable=False, server_default="PJSIP"),
        sa.Column("originate_context", sa.Text, nullable=False, server_default="from-internal"),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_by", sa.Integer),
        sa.CheckConstraint("id = 1", name="ami_connections_single"),
        sa.CheckConstraint("port BETWEEN 1 AND 65535", name="ami_connections_port"),
    )
    op.create_table(
        "calls",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("linkedid", sa.String(150), nullable=False, unique=True),
        sa.Column("uniqueid", sa.String(150), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("caller", sa.Text),
        sa.Column("caller_normalised", sa.String(16)),
        sa.Column("called", sa.Text),
        sa.Column("queue", sa.Text),
        sa.Column("agent_extension", sa.String(40)),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("answered_at", TS),
        sa.Column("ended_at", TS),
        sa.Column("duration_s", sa.Integer),
        sa.Column("wait_s", sa.Integer),
        sa.Column("status", sa.String(12), nullable=False, server_default="in_progress"),
        sa.Column("hangup_cause", sa.Text),
        sa.Column("recording", sa.Text),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id")),
        sa.Column("callback_of", sa.BigInteger, sa.ForeignKey("calls.id")),
        sa.Column("created_by", sa.Integer),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("status IN ('answered', 'missed', 'abandoned', 'in_progress')", name="calls_status"),
        sa.CheckConstraint("direction IN ('inbound', 'outbound')", name="calls_direction"),
    )
    op.create_index("calls_started", "calls", ["started_at"])
    op.create_index("calls_status_started", "calls", ["status", "started_at"])
    op.create_index("calls_agent_started", "calls", ["agent_extension", "started_at"])
    op.create_index("calls_caller", "calls", ["caller_normalised"])
    op.create_index("calls_account", "calls", ["account_id"])
    op.create_index("calls_callback_of", "calls", ["callback_of"])
    op.execute(f"CREATE INDEX accounts_phone_normalised ON accounts ({PHONE_SQL})")
    audit_table("ami_connections", hidden=("secret_encrypted",))
    audit_table("calls")
    op.execute("INSERT INTO role_permissions(role_id, resource, action) "
               "SELECT id, 'calls', a FROM roles, unnest(ARRAY['view', 'edit']) a WHERE code = 'operator'")


def downgrade() -> None:
    op.execute("DELETE FROM role_permissions WHERE resource = 'calls'")
    op.execute("DROP INDEX accounts_phone_normalised")
    op.drop_table("calls")
    op.drop_table("ami_connections")
