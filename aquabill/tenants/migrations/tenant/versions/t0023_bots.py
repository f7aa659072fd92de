"""Reserved for #13 work (bots); no change yet.

Revision ID: t0023
"""

revision = "t0023"
down_revision = "t0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
