"""Bills for a contract's intermediate payments (legal_entities/issue/intermediate.py).

legal_documents.part   0: the month's own document (every row so far); 1, 2 …: a bill (kind 'bill' only) for the
                       contract's n-th intermediate payment of the month `period` (its number in the payment terms
                       of the contract version in force on the month's first day)
legal_documents_once   now per (contract, month, kind, part): one issued month's bill and one issued bill per
                       intermediate payment; the UPD/act keep part 0, so they stay one per contract and month

No jsonb or other column of `legal_documents` could carry the part: the unique index that makes issuing idempotent
has to include it. Downgrading cancels nothing by itself: it refuses while issued intermediate bills exist (the
old index could not hold them) — cancel them first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "t0035"
down_revision = "t0034"

_ONCE = ("CREATE UNIQUE INDEX legal_documents_once ON legal_documents(contract_id, period, kind{part}) "
         "WHERE status = 'issued' AND kind IN ('bill', 'upd', 'act')")


def upgrade() -> None:
    op.add_column("legal_documents", sa.Column("part", sa.SmallInteger, nullable=False, server_default="0"))
    op.create_check_constraint("legal_documents_part", "legal_documents", "part >= 0 AND (part = 0 OR kind = 'bill')")
    op.execute("DROP INDEX legal_documents_once")
    op.execute(_ONCE.format(part=", part"))


def downgrade() -> None:
    op.execute("""DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM legal_documents WHERE part > 0 AND status = 'issued') THEN
            RAISE EXCEPTION 'issued intermediate bills exist: cancel them before downgrading t0035';
        END IF; END $$""")
    op.execute("DROP INDEX legal_documents_once")
    op.execute(_ONCE.format(part=""))
    op.drop_constraint("legal_documents_part", "legal_documents", type_="check")
    op.drop_column("legal_documents", "part")
