"""Month close: check sets, close runs and divisions (filled by the month-close work).

Revision ID: t0007
"""

revision = "t0007"
down_revision = "t0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
