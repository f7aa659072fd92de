"""416-FZ penalty categories: three, as art. 13 and 14 parts 6.2–6.4 set them (legal_entities/penalties.py).

Until now the managing organisations, HOAs and housing cooperatives shared one category with one (wrong) scale.
Part 6.3 gives HOAs and housing cooperatives their own scale ('hoa'); part 6.4 is the managing organisations'
('management_company'); part 6.2 everyone else ('other'). An existing counterparty of the shared category whose
name shows an HOA or a housing cooperative («ТСЖ», «ЖСК», «товарищество собственников», «кооператив») becomes
'hoa'; the staff can change the category on the counterparty's card. Stored penalties keep their category (a
closed month is not recalculated; an open one is, by the next accrual).
"""

from __future__ import annotations

from alembic import op

revision = "t0034"
down_revision = "t0033"

HOA_NAME = ("(name ~* '(^|[^[:alpha:]])(ТСЖ|ЖСК|ТСН)([^[:alpha:]]|$)' "
            "OR name ~* 'товариществ[[:alpha:]]* собственник' OR name ~* 'кооператив')")


def _allow(categories: str) -> None:
    """The two tables' category checks, allowing `categories` (an SQL list)."""
    for table, column, name in (("counterparties", "penalty_category", "counterparties_penalty_category"),
                                ("contract_penalties", "category", "contract_penalties_category")):
        op.drop_constraint(name, table, type_="check")
        op.create_check_constraint(name, table, f"{column} IN ({categories})")


def upgrade() -> None:
    _allow("'management_company', 'hoa', 'other'")
    op.execute(f"UPDATE counterparties SET penalty_category = 'hoa' "
               f"WHERE penalty_category = 'management_company' AND {HOA_NAME}")


def downgrade() -> None:
    op.execute("UPDATE counterparties SET penalty_category = 'management_company' WHERE penalty_category = 'hoa'")
    op.execute("UPDATE contract_penalties SET category = 'management_company' WHERE category = 'hoa'")
    _allow("'management_company', 'other'")
