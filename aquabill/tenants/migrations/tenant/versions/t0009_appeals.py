"""Appeals: appeals, incoming mail, telephonograms (filled by the contact-center work).

Revision ID: t0009
"""

revision = "t0009"
down_revision = "t0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
