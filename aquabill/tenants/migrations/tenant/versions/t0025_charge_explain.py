"""Every charge explains itself: the month run keeps the inputs of each computed charge row.

charges (all nullable; written by the run's own INSERT … SELECT, NULL on older rows and on rows people write):
  seg_from      the first day of the row's day segment, when the row comes from one segment (the others
                are in `inputs`); its last day is seg_from + days − 1
  meter_id      the individual meter whose readings or average were used (also on norm rows of an account
                that has a meter: silent for too long, or failed / verification lapsed)
  read_from, value_from, read_to, value_to
                method 'meter': the reading interval (previous reading — or the installation with its initial
                reading — and the reading that closes it) whose daily rate was charged
  last_read_on  methods 'average' / 'norm' with a meter: the last accepted reading the run knew
  broken_from   the meter counted no more from this day (failure, or the day after its verification lapsed)
  avg_volume, avg_months
                method 'average': the average monthly volume and the number of full months it is taken from
  norm, persons, absent
                method 'norm': the norm per person per month, the persons counted, those temporarily away
                (subtracted when there is no meter)
  area          rows of 'common': the account's area in the spread by area
  inputs        jsonb: {"segments": [{from, to, days, volume, …the columns above…}]} when the row merges several
                day segments; on recalculation rows {"reason": "late_readings" | "closed_period", "lines": [the
                recomputed rows of the corrected month with their inputs]}

common_property_volumes: the house-level figures of the common-property cold water of each run (one row per
house × run × month computed): the building meter's volume, the sum of the individual volumes, the norm, the
common area, the volume spread and the area it is spread over. Written by the run, not audited (as its
charge rows).

Revision ID: t0025
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "t0025"
down_revision = "t0024"
branch_labels = None
depends_on = None

COLUMNS = [
    ("seg_from", sa.Date), ("meter_id", sa.Integer), ("read_from", sa.Date), ("value_from", sa.Numeric(14, 3)),
    ("read_to", sa.Date), ("value_to", sa.Numeric(14, 3)), ("last_read_on", sa.Date), ("broken_from", sa.Date),
    ("avg_volume", sa.Numeric), ("avg_months", sa.SmallInteger), ("norm", sa.Numeric(10, 4)),
    ("persons", sa.Numeric), ("absent", sa.Numeric), ("area", sa.Numeric), ("inputs", JSONB),
]


def upgrade() -> None:
    for name, kind in COLUMNS:  # nullable, no default: a catalogue change only, whatever the table's size
        op.add_column("charges", sa.Column(name, kind))
    op.create_table(
        "common_property_volumes",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("house_id", sa.Integer, nullable=False),
        sa.Column("service_id", sa.Integer, nullable=False),
        sa.Column("building_volume", sa.Numeric),  # NULL: no working building meter for the whole month
        sa.Column("individual_volume", sa.Numeric),
        sa.Column("norm", sa.Numeric(10, 4)),
        sa.Column("common_area", sa.Numeric(10, 2)),
        sa.Column("capped", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("volume", sa.Numeric, nullable=False),
        sa.Column("total_area", sa.Numeric),
    )
    op.create_index("common_property_volumes_run", "common_property_volumes", ["run_id", "house_id", "period"])


def downgrade() -> None:
    op.drop_table("common_property_volumes")
    for name, _kind in reversed(COLUMNS):
        op.drop_column("charges", name)
