"""Telephony: AMI connections per tenant and call records (filled by the contact-center telephony work).

Revision ID: t0008
"""

revision = "t0008"
down_revision = "t0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
