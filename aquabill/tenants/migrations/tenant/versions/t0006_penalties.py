"""Penalties: the set-based penalty run and its rows (filled by the penalties work).

Revision ID: t0006
"""

revision = "t0006"
down_revision = "t0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
