"""Reserved for #13 work (subscriber_audit); no change yet.

Revision ID: t0021
"""

revision = "t0021"
down_revision = "t0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
