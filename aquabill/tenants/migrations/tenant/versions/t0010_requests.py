"""Requests and works: SLA routes, requests, assignments, works, acts (filled by the contact-center work).

Revision ID: t0010
"""

revision = "t0010"
down_revision = "t0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
