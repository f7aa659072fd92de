"""Reserved for #13 work (portal_readings); no change yet.

Revision ID: t0022
"""

revision = "t0022"
down_revision = "t0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
