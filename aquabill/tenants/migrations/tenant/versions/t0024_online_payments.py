"""Reserved for #13 work (online_payments); no change yet.

Revision ID: t0024
"""

revision = "t0024"
down_revision = "t0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
