"""Guards for concurrent writers: billing runs post once, stuck jobs are told, statement-level foreign keys fail safe.

- charges: a computed row (method meter, norm, average, substitute, common; no `corrects_period`) is unique per
  period × account × service × method × tariff × coefficient — the grain at which the run rounds and posts
  (`billing_core/run/compute.py`: one `run_charge` row per account × service × method × tariff × coefficient),
  and a recalculation row per period × corrected period × account × service (`posting.post_differences`
  groups by account × service). So two runs that slipped past the run's advisory locks
  (`billing_core/run/guard.py`) cannot both post: the second fails on the index. Stornos, one-off charges
  and instalments (their own `source` keys) are outside both indexes. A tenant whose charges already hold
  such a duplicate fails this migration with PostgreSQL's "could not create unique index … is duplicated"
  naming the key: reverse the extra rows by storno (closed periods) or re-run the open period, then migrate.
- jobs.heartbeat_at: refreshed by the worker while a job runs, so the sweeper (`platform/jobs/sweeper.py`)
  can tell a job whose worker died; a partial index finds the unfinished jobs.
- statement-level foreign keys (t0015): the trigger functions refuse a writer that is not READ COMMITTED,
  and TRUNCATE of a parent is refused while a child row references it (`helpers.statement_truncate_guard`).

Revision ID: t0017
"""

import sqlalchemy as sa
from alembic import op

from aquabill.tenants.migrations.helpers import (
    create_statement_fk_functions,
    statement_truncate_guard,
    tenant_schema,
)
from aquabill.tenants.naming import quote_schema

revision = "t0017"
down_revision = "t0016"
branch_labels = None
depends_on = None

# the methods the month run produces (billing_core/run/posting.py COMPUTED, as of this revision)
COMPUTED = "('meter', 'norm', 'average', 'substitute', 'common')"
# the statement-level foreign keys t0015 made (child, column, parent)
FOREIGN_KEYS = [("payments", "agent_id", "payment_agents"), ("payments", "file_id", "payment_files"),
                ("payments", "account_id", "accounts"), ("payments", "service_id", "services"),
                ("payments", "storno_of", "payments"), ("payment_allocations", "payment_id", "payments")]


def upgrade() -> None:
    s = quote_schema(tenant_schema())
    op.execute(f"CREATE UNIQUE INDEX charges_computed_once ON {s}.charges "
               f"(period, account_id, service_id, method, tariff, coefficient) "
               f"WHERE corrects_period IS NULL AND method IN {COMPUTED}")
    op.execute(f"CREATE UNIQUE INDEX charges_recalculation_once ON {s}.charges "
               f"(period, corrects_period, account_id, service_id) WHERE method = 'recalculation'")
    op.add_column("jobs", sa.Column("heartbeat_at", sa.DateTime(timezone=True)))
    op.execute(f"CREATE INDEX jobs_unfinished ON {s}.jobs(created_at) WHERE status IN ('queued', 'running')")
    create_statement_fk_functions(fail_safe=True)
    for child, column, parent in FOREIGN_KEYS:
        statement_truncate_guard(child, column, parent)


def downgrade() -> None:
    s = quote_schema(tenant_schema())
    for child, column, parent in reversed(FOREIGN_KEYS):
        op.execute(f"DROP TRIGGER {child}_{column}_fkey_truncate ON {s}.{parent}")
    op.execute(f"DROP FUNCTION {s}.fk_truncate_guard()")
    create_statement_fk_functions()  # as t0015 made them
    op.execute(f"DROP INDEX {s}.jobs_unfinished")
    op.drop_column("jobs", "heartbeat_at")
    op.execute(f"DROP INDEX {s}.charges_recalculation_once")
    op.execute(f"DROP INDEX {s}.charges_computed_once")
