"""Sessions of subscribers (the portal): kind 'subscriber', user_id = the tenant's subscribers.id.

Revision ID: c0002
"""

from alembic import op

revision = "c0002"
down_revision = "c0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("sessions_kind", "sessions", schema="control", type_="check")
    op.create_check_constraint("sessions_kind", "sessions", "kind IN ('staff', 'platform', 'subscriber')",
                               schema="control")


def downgrade() -> None:
    op.execute("DELETE FROM control.sessions WHERE kind = 'subscriber'")
    op.drop_constraint("sessions_kind", "sessions", schema="control", type_="check")
    op.create_check_constraint("sessions_kind", "sessions", "kind IN ('staff', 'platform')", schema="control")
