"""Reserved for #13 work (charge_explain); no change yet.

Revision ID: t0025
"""

revision = "t0025"
down_revision = "t0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
