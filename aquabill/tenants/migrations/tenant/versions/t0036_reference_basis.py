"""Every tariff and norm cites its source (billing_core/reference/dated.py, the page «Справочники»).

tariffs.basis   the regulator's act that set the price, e.g. «Приказ Комитета по тарифам … от 28.11.2025 № 123-вк»;
                the legal entities' groups (other, budget …) live in the same table and get it too
norms.basis     the act that set the norm (a regional government's decree, as a rule)

Both `text NOT NULL DEFAULT ''` as `coefficients.basis` (t0003): rows made before stay valid with an empty basis,
the page shows them as «не указано». The audit triggers log the whole row, so a changed basis is in the history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "t0036"
down_revision = "t0035"

TABLES = ("tariffs", "norms")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("basis", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "basis")
