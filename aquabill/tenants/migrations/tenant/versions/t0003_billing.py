"""Billing of individuals: parameters with history, residents and absences, services, tariffs, norms,
increasing coefficients, meters and readings, periods, billing runs and charges.

Revision ID: t0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from aquabill.tenants.migrations.helpers import audit_table

revision = "t0003"
down_revision = "t0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
MONEY = sa.Numeric(14, 2)
VOLUME = sa.Numeric(14, 3)
PRICE = sa.Numeric(12, 4)

AUDITED = ("parameter_kinds", "account_parameters", "residents", "absences", "services", "account_services",
           "tariffs", "norms",
           "coefficients", "meter_types", "meters", "readings", "periods", "billing_runs", "billing_settings")

PARAMETER_KINDS = [
    ("residents", "Проживающие (если отличается от зарегистрированных)", "number"),
    ("owners", "Собственники", "number"),
    ("area", "Площадь помещения, м²", "number"),
    ("improvement", "Степень благоустройства", "text"),
    ("tariff_group", "Тарифная группа", "text"),
    ("meter_possible", "Техническая возможность установки ИПУ (1 — есть, 0 — нет)", "number"),
]

# Federal increasing coefficient for consumption by norm where an individual meter could be installed
# (Decree 354 of 06.05.2011, para. 42 and formulas 4/4(1)); 1.5 since 01.01.2017 (Decree 603 of
# 29.06.2016). Cold water 3 from 06.12.2025: Government Decree No. 1871 of 25.11.2025 as reported in
# shared/reference/water-354/NOTES.md (decree text not verified here; tenants may override).
FEDERAL_COEFFICIENTS = [
    ("cold_water", "1.5", "2017-01-01", "ПП РФ № 603 от 29.06.2016 (п. 42 Правил № 354)"),
    ("cold_water", "3", "2025-12-06", "ПП РФ № 1871 от 25.11.2025"),
    ("hot_water", "1.5", "2017-01-01", "ПП РФ № 603 от 29.06.2016 (п. 42 Правил № 354)"),
]

SERVICES = [
    ("cold_water", "Холодное водоснабжение", "cold_water", 10, True),
    ("hot_water", "Горячее водоснабжение (компонент на холодную воду)", "hot_water", 20, False),
    ("sewage", "Водоотведение", "sewage", 30, True),
    ("common_cold", "Холодная вода на содержание общего имущества", "common_cold", 40, False),
]


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, sa.Identity(), primary_key=True)


def _acc() -> sa.Column:
    return sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "billing_settings",
        _id(),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("value", JSONB, nullable=False),
    )
    op.execute("""INSERT INTO billing_settings(key, value) VALUES
        ('sewage_by_norm', 'false'), ('average_months', '6'), ('average_min_months', '3'),
        ('average_max_periods', '3'), ('absence_min_days', '5'), ('max_daily_m3', '2.5'),
        ('common_property_cap', 'true')""")
    op.create_table(
        "parameter_kinds",
        _id(),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("value_type", sa.String(8), nullable=False),
        sa.Column("builtin", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint("value_type IN ('number', 'text')", name="parameter_kinds_type"),
    )
    for code, name, vtype in PARAMETER_KINDS:
        op.execute(sa.text("INSERT INTO parameter_kinds(code, name, value_type, builtin) VALUES (:c, :n, :t, true)")
                   .bindparams(c=code, n=name, t=vtype))
    op.create_table(
        "account_parameters",
        _id(),
        _acc(),
        sa.Column("kind", sa.String(32), sa.ForeignKey("parameter_kinds.code"), nullable=False),
        sa.Column("value_num", sa.Numeric(14, 4)),
        sa.Column("value_text", sa.Text),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date),  # inclusive; NULL = open. Set when a newer value starts.
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("account_id", "kind", "valid_from"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="account_parameters_range"),
    )
    op.create_table(
        "residents",
        _id(),
        _acc(),
        sa.Column("full_name", sa.Text, nullable=False),
        sa.Column("birth_date", sa.Date),
        sa.Column("kind", sa.String(12), nullable=False, server_default="permanent"),
        sa.Column("registered_from", sa.Date, nullable=False),
        sa.Column("registered_to", sa.Date),
        sa.CheckConstraint("kind IN ('permanent', 'temporary')", name="residents_kind"),
        sa.CheckConstraint("registered_to IS NULL OR registered_to >= registered_from", name="residents_range"),
    )
    op.create_index("residents_account", "residents", ["account_id"])
    op.create_table(
        "absences",
        _id(),
        _acc(),
        sa.Column("persons", sa.Integer, nullable=False, server_default="1"),
        sa.Column("date_from", sa.Date, nullable=False),  # first full day away
        sa.Column("date_to", sa.Date, nullable=False),  # last full day away
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.CheckConstraint("date_to >= date_from AND persons > 0", name="absences_range"),
    )
    op.create_index("absences_account", "absences", ["account_id"])
    op.create_table(
        "services",
        _id(),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("unit", sa.String(8), nullable=False, server_default="м³"),
        sa.Column("sort", sa.Integer, nullable=False, server_default="100"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        # connected to every account unless the account's own connection history says otherwise
        sa.Column("default_connected", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint("kind IN ('cold_water', 'hot_water', 'sewage', 'common_cold', 'other')",
                           name="services_kind"),
    )
    for code, name, kind, sort, default in SERVICES:
        op.execute(sa.text("INSERT INTO services(code, name, kind, sort, default_connected) "
                           "VALUES (:c, :n, :k, :s, :d)").bindparams(c=code, n=name, k=kind, s=sort, d=default))
    op.create_table(
        "account_services",
        _id(),
        _acc(),
        sa.Column("service_id", sa.Integer, sa.ForeignKey("services.id"), nullable=False),
        sa.Column("connected_from", sa.Date, nullable=False),
        sa.Column("connected_to", sa.Date),
        sa.UniqueConstraint("account_id", "service_id", "connected_from"),
        sa.CheckConstraint("connected_to IS NULL OR connected_to >= connected_from", name="account_services_range"),
    )
    op.add_column("houses", sa.Column("common_area_m2", sa.Numeric(10, 2)))
    op.create_table(
        "tariffs",
        _id(),
        sa.Column("service_id", sa.Integer, sa.ForeignKey("services.id"), nullable=False),
        sa.Column("tariff_group", sa.String(32), nullable=False, server_default="population"),
        sa.Column("price", PRICE, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.UniqueConstraint("service_id", "tariff_group", "valid_from"),
        sa.CheckConstraint("price >= 0", name="tariffs_price"),
    )
    op.create_table(
        "norms",
        _id(),
        sa.Column("service_id", sa.Integer, sa.ForeignKey("services.id"), nullable=False),
        sa.Column("improvement", sa.String(32), nullable=False),
        sa.Column("volume", sa.Numeric(10, 4), nullable=False),  # m³ per person per month (per m² for common)
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.UniqueConstraint("service_id", "improvement", "valid_from"),
        sa.CheckConstraint("volume >= 0", name="norms_volume"),
    )
    op.create_table(
        "coefficients",
        _id(),
        sa.Column("service_kind", sa.String(16), nullable=False),
        sa.Column("value", sa.Numeric(6, 3), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("basis", sa.Text, nullable=False, server_default=""),
        sa.UniqueConstraint("service_kind", "valid_from", "source"),
        sa.CheckConstraint("source IN ('federal', 'tenant')", name="coefficients_source"),
        sa.CheckConstraint("value >= 1", name="coefficients_value"),
    )
    for kind, value, valid_from, basis in FEDERAL_COEFFICIENTS:
        op.execute(sa.text("INSERT INTO coefficients(service_kind, value, valid_from, source, basis) "
                           "VALUES (:k, CAST(:v AS numeric), CAST(:d AS date), 'federal', :b)")
                   .bindparams(k=kind, v=value, d=valid_from, b=basis))
    op.create_table(
        "meter_types",
        _id(),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("digits", sa.Integer, nullable=False),
        sa.Column("fraction_digits", sa.Integer, nullable=False, server_default="3"),
        sa.Column("verification_years", sa.Integer, nullable=False, server_default="6"),
    )
    op.create_table(
        "meters",
        _id(),
        sa.Column("kind", sa.String(12), nullable=False, server_default="individual"),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id")),
        sa.Column("house_id", sa.Integer, sa.ForeignKey("houses.id")),
        sa.Column("service_id", sa.Integer, sa.ForeignKey("services.id"), nullable=False),
        sa.Column("type_id", sa.Integer, sa.ForeignKey("meter_types.id")),
        sa.Column("serial", sa.String(64), nullable=False),
        sa.Column("digits", sa.Integer, nullable=False),
        sa.Column("fraction_digits", sa.Integer, nullable=False, server_default="3"),
        sa.Column("reversible", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("installed_on", sa.Date, nullable=False),
        sa.Column("initial_reading", VOLUME, nullable=False, server_default="0"),
        sa.Column("verified_until", sa.Date),
        sa.Column("failed_on", sa.Date),
        sa.Column("removed_on", sa.Date),
        sa.Column("seal_number", sa.String(64)),
        sa.Column("sealed_on", sa.Date),
        sa.Column("replaces_id", sa.Integer, sa.ForeignKey("meters.id")),
        sa.UniqueConstraint("serial", "service_id", "installed_on"),
        sa.CheckConstraint("kind IN ('individual', 'communal', 'building')", name="meters_kind"),
        sa.CheckConstraint("(kind = 'building') = (house_id IS NOT NULL AND account_id IS NULL)",
                           name="meters_owner"),
        sa.CheckConstraint("digits BETWEEN 1 AND 12 AND fraction_digits BETWEEN 0 AND 4", name="meters_digits"),
        sa.CheckConstraint("removed_on IS NULL OR removed_on >= installed_on", name="meters_life"),
    )
    op.create_index("meters_account", "meters", ["account_id"])
    op.create_index("meters_serial", "meters", ["serial"])
    op.create_table(
        "readings",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("meter_id", sa.Integer, sa.ForeignKey("meters.id"), nullable=False),
        sa.Column("read_on", sa.Date, nullable=False),
        sa.Column("value", VOLUME, nullable=False),
        sa.Column("source", sa.String(16), nullable=False, server_default="operator"),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("consumption", VOLUME),
        sa.Column("rollover", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Integer),
        sa.CheckConstraint("source IN ('operator', 'import', 'portal', 'bot', 'controller', 'bank')",
                           name="readings_source"),
        sa.CheckConstraint("status IN ('accepted', 'flagged', 'rejected')", name="readings_status"),
    )
    op.create_index("readings_meter_date", "readings", ["meter_id", "read_on"])
    op.execute("CREATE UNIQUE INDEX readings_one_accepted ON readings(meter_id, read_on) "
               "WHERE status = 'accepted'")
    op.create_table(
        "periods",
        _id(),
        sa.Column("period", sa.Date, nullable=False, unique=True),  # first day of the month
        sa.Column("status", sa.String(8), nullable=False, server_default="open"),
        sa.Column("closed_at", TS),
        sa.CheckConstraint("status IN ('open', 'closed')", name="periods_status"),
        sa.CheckConstraint("extract(day FROM period) = 1", name="periods_first_day"),
    )
    op.create_table(
        "billing_runs",
        _id(),
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("scope_id", sa.Integer),
        sa.Column("status", sa.String(12), nullable=False, server_default="running"),
        sa.Column("job_id", sa.Uuid),
        sa.Column("stats", JSONB, nullable=False, server_default="{}"),
        sa.Column("started_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("finished_at", TS),
        sa.CheckConstraint("scope IN ('tenant', 'house', 'account')", name="billing_runs_scope"),
        sa.CheckConstraint("status IN ('running', 'done', 'failed')", name="billing_runs_status"),
    )
    # Charges are produced in bulk by runs: each row names its run (itself audited), rows of closed
    # periods are never updated, corrections are new rows. No row-level audit triggers, and no foreign
    # keys: rows are only ever written by the run's SQL, which selects the ids from their tables, and
    # per-row FK checks would double the cost of posting a million rows.
    op.create_table(
        "charges",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("service_id", sa.Integer, nullable=False),
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("volume", VOLUME, nullable=False, server_default="0"),
        sa.Column("tariff", PRICE, nullable=False, server_default="0"),
        sa.Column("coefficient", sa.Numeric(6, 3), nullable=False, server_default="1"),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("days", sa.Integer, nullable=False, server_default="0"),
        sa.Column("corrects_period", sa.Date),
        sa.Column("run_id", sa.Integer),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.CheckConstraint("method IN ('meter', 'norm', 'average', 'substitute', 'common', 'one_off', "
                           "'recalculation', 'storno', 'installment')", name="charges_method"),
    )
    op.create_index("charges_period_account", "charges", ["period", "account_id"])
    op.create_index("charges_account_period", "charges", ["account_id", "period"])
    for table in AUDITED:
        audit_table(table)


def downgrade() -> None:
    op.drop_column("houses", "common_area_m2")
    for table in ("charges", "billing_runs", "periods", "readings", "meters", "meter_types", "coefficients",
                  "norms", "tariffs", "account_services", "services", "absences", "residents", "account_parameters",
                  "parameter_kinds", "billing_settings"):
        op.drop_table(table)
