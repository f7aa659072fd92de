"""Legal entities (#16), second step: counterparties and their contracts with dated terms, sites and points.

counterparties              organisations ('org': INN of 10 digits, KPP, OGRN) and sole traders ('ip': INN of 12,
                            no KPP, OGRNIP, the person's name), addresses as text, e-mail, phone, the EDO participant
                            id, the penalty category of Federal Law 416-FZ (art. 13 p. 6.2 / 6.4, art. 14 p. 6.2 /
                            6.4: 'management_company' — managing organisations, HOAs and housing cooperatives buying
                            water for utility services; 'other' — every other subscriber), a note, active; one per
                            (INN, KPP): a second one is refused
counterparty_bank_accounts  settlement accounts: BIC, account (its control key checked by the domain), the bank's
                            name and correspondent account; at most one main account per counterparty
counterparty_contacts       people to talk to: name, position, phone, e-mail
contracts                   a contract (cold water, sewage, both in one contract, stormwater) with a counterparty:
                            number (unique whatever its case), signing day, status draft → active → terminated,
                            the days it is in force
contract_versions           its dated terms: version 1 is the contract itself, each addendum («Доп. соглашение № …
                            от …») a later version from its `valid_from`; the version in force on a day is the last
                            one starting on or before it. Payment terms as jsonb ({"due_day": 10, "intermediate":
                            [{"percent": "35.00", "day": 18}, …]}; Decree 644 p. 16: by the 10th of the next month),
                            VAT charged or not, the stormwater area (m²) and runoff coefficient
contract_objects            the sites a contract serves: name, address, optionally the registry's house
contract_points             a site's connection points: supply (water in) or discharge (sewage out), the pipe
                            diameter in mm (the throughput-capacity rule of Decree 776 needs it), the tariff group
                            (tariffs.tariff_group), whether that tariff includes VAT, metered or not, the days the
                            point is in the contract
contract_point_subs         sub-subscribers: from `valid_from` the volume of a sub-subscriber (its point in our
                            registry, or only its counterparty) is deducted from the point's volume
meters.contract_point_id    a commercial meter of a point is a row of the existing `meters` (kind 'commercial',
                            no account, no house): readings, their validation, verification and replacement keep
                            working by meter id as for individuals
role 'operator'             gets the resource "legal" (view, edit); the admin role has "*" already

Revision ID: t0032
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from aquabill.tenants.migrations.helpers import audit_table

revision = "t0032"
down_revision = "t0031"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
TABLES = ("counterparties", "counterparty_bank_accounts", "counterparty_contacts", "contracts",
          "contract_versions", "contract_objects", "contract_points", "contract_point_subs")


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, sa.Identity(), primary_key=True)


def _stamp() -> list[sa.Column]:
    return [sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
            sa.Column("created_by", sa.Integer)]


def _no_blank(column: str, table: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"btrim({column}) <> ''", name=f"{table}_{column}")


def _range(table: str) -> sa.CheckConstraint:
    return sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name=f"{table}_range")


def upgrade() -> None:
    op.create_table(
        "counterparties",
        _id(),
        sa.Column("kind", sa.String(3), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("short_name", sa.Text, nullable=False, server_default=""),
        sa.Column("inn", sa.String(12), nullable=False),
        sa.Column("kpp", sa.String(9), nullable=False, server_default=""),
        sa.Column("ogrn", sa.String(15), nullable=False, server_default=""),
        sa.Column("last_name", sa.Text, nullable=False, server_default=""),
        sa.Column("first_name", sa.Text, nullable=False, server_default=""),
        sa.Column("middle_name", sa.Text, nullable=False, server_default=""),
        sa.Column("legal_address", sa.Text, nullable=False, server_default=""),
        sa.Column("postal_address", sa.Text, nullable=False, server_default=""),
        sa.Column("email", sa.Text, nullable=False, server_default=""),
        sa.Column("phone", sa.String(32), nullable=False, server_default=""),
        sa.Column("edo_id", sa.String(46), nullable=False, server_default=""),
        sa.Column("penalty_category", sa.String(20), nullable=False, server_default="other"),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        *_stamp(),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("kind IN ('org', 'ip')", name="counterparties_kind"),
        _no_blank("name", "counterparties"),
        # the domain checks the control digits (legal_entities/requisites.py); here the shape by kind
        sa.CheckConstraint("(kind = 'org' AND inn ~ '^[0-9]{10}$' AND kpp ~ '^[0-9]{4}[0-9A-Z]{2}[0-9]{3}$' "
                           "AND ogrn ~ '^([0-9]{13})?$') OR "
                           "(kind = 'ip' AND inn ~ '^[0-9]{12}$' AND kpp = '' AND ogrn ~ '^([0-9]{15})?$' "
                           "AND btrim(last_name) <> '' AND btrim(first_name) <> '')",
                           name="counterparties_requisites"),
        sa.CheckConstraint("edo_id = '' OR length(edo_id) BETWEEN 4 AND 46", name="counterparties_edo_id"),
        sa.CheckConstraint("penalty_category IN ('management_company', 'other')",
                           name="counterparties_penalty_category"),
        sa.UniqueConstraint("inn", "kpp", name="counterparties_inn_kpp"),
    )
    op.execute("CREATE INDEX counterparties_name ON counterparties(lower(name))")

    op.create_table(
        "counterparty_bank_accounts",
        _id(),
        sa.Column("counterparty_id", sa.Integer, sa.ForeignKey("counterparties.id"), nullable=False),
        sa.Column("bic", sa.String(9), nullable=False),
        sa.Column("account", sa.String(20), nullable=False),
        sa.Column("bank_name", sa.Text, nullable=False, server_default=""),
        sa.Column("corr_account", sa.String(20), nullable=False, server_default=""),
        sa.Column("main", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        *_stamp(),
        sa.CheckConstraint("bic ~ '^[0-9]{9}$' AND account ~ '^[0-9]{20}$' AND corr_account ~ '^([0-9]{20})?$'",
                           name="counterparty_bank_accounts_digits"),
        sa.CheckConstraint("active OR NOT main", name="counterparty_bank_accounts_main_active"),
        sa.UniqueConstraint("counterparty_id", "bic", "account", name="counterparty_bank_accounts_once"),
    )
    op.execute("CREATE UNIQUE INDEX counterparty_bank_accounts_one_main ON counterparty_bank_accounts(counterparty_id) "
               "WHERE main")

    op.create_table(
        "counterparty_contacts",
        _id(),
        sa.Column("counterparty_id", sa.Integer, sa.ForeignKey("counterparties.id"), nullable=False),
        sa.Column("person", sa.Text, nullable=False),
        sa.Column("position", sa.Text, nullable=False, server_default=""),
        sa.Column("phone", sa.String(32), nullable=False, server_default=""),
        sa.Column("email", sa.Text, nullable=False, server_default=""),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        *_stamp(),
        _no_blank("person", "counterparty_contacts"),
    )
    op.create_index("counterparty_contacts_counterparty", "counterparty_contacts", ["counterparty_id"])

    op.create_table(
        "contracts",
        _id(),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("signed_on", sa.Date, nullable=False),
        sa.Column("counterparty_id", sa.Integer, sa.ForeignKey("counterparties.id"), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default="draft"),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        *_stamp(),
        _no_blank("number", "contracts"),
        sa.CheckConstraint("kind IN ('cold_water', 'sewage', 'combined', 'stormwater')", name="contracts_kind"),
        sa.CheckConstraint("status IN ('draft', 'active', 'terminated')", name="contracts_status"),
        sa.CheckConstraint("status <> 'terminated' OR valid_to IS NOT NULL", name="contracts_terminated_end"),
        _range("contracts"),
    )
    op.execute("CREATE UNIQUE INDEX contracts_number ON contracts(upper(number))")
    op.create_index("contracts_counterparty", "contracts", ["counterparty_id"])

    op.create_table(
        "contract_versions",
        _id(),
        sa.Column("contract_id", sa.Integer, sa.ForeignKey("contracts.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("basis", sa.Text, nullable=False, server_default=""),
        sa.Column("payment_terms", JSONB, nullable=False),
        sa.Column("vat_mode", sa.String(8), nullable=False, server_default="vat"),
        sa.Column("stormwater_area_m2", sa.Numeric(12, 2)),
        sa.Column("runoff_coefficient", sa.Numeric(4, 3)),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        *_stamp(),
        sa.CheckConstraint("version >= 1", name="contract_versions_version"),
        sa.CheckConstraint("jsonb_typeof(payment_terms) = 'object' AND jsonb_typeof(payment_terms->'due_day') = "
                           "'number'", name="contract_versions_payment_terms"),
        sa.CheckConstraint("vat_mode IN ('vat', 'no_vat')", name="contract_versions_vat_mode"),
        sa.CheckConstraint("(stormwater_area_m2 IS NULL) = (runoff_coefficient IS NULL) AND "
                           "(stormwater_area_m2 IS NULL OR stormwater_area_m2 > 0) AND "
                           "(runoff_coefficient IS NULL OR runoff_coefficient > 0 AND runoff_coefficient <= 1)",
                           name="contract_versions_stormwater"),
        sa.UniqueConstraint("contract_id", "version", name="contract_versions_number"),
        sa.UniqueConstraint("contract_id", "valid_from", name="contract_versions_day"),
    )

    op.create_table(
        "contract_objects",
        _id(),
        sa.Column("contract_id", sa.Integer, sa.ForeignKey("contracts.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False, server_default=""),
        sa.Column("house_id", sa.Integer, sa.ForeignKey("houses.id")),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        *_stamp(),
        _no_blank("name", "contract_objects"),
    )
    op.create_index("contract_objects_contract", "contract_objects", ["contract_id"])

    op.create_table(
        "contract_points",
        _id(),
        sa.Column("object_id", sa.Integer, sa.ForeignKey("contract_objects.id"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("diameter_mm", sa.SmallInteger),
        sa.Column("tariff_group", sa.String(32), nullable=False),
        sa.Column("vat_included", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("metered", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        *_stamp(),
        sa.CheckConstraint("kind IN ('supply', 'discharge')", name="contract_points_kind"),
        _no_blank("name", "contract_points"),
        _no_blank("tariff_group", "contract_points"),
        sa.CheckConstraint("diameter_mm IS NULL OR diameter_mm BETWEEN 1 AND 3000", name="contract_points_diameter"),
        _range("contract_points"),
    )
    op.create_index("contract_points_object", "contract_points", ["object_id"])

    op.create_table(
        "contract_point_subs",
        _id(),
        sa.Column("point_id", sa.Integer, sa.ForeignKey("contract_points.id"), nullable=False),
        sa.Column("sub_point_id", sa.Integer, sa.ForeignKey("contract_points.id")),
        sa.Column("sub_counterparty_id", sa.Integer, sa.ForeignKey("counterparties.id")),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        *_stamp(),
        sa.CheckConstraint("sub_point_id IS NOT NULL OR sub_counterparty_id IS NOT NULL",
                           name="contract_point_subs_who"),
        sa.CheckConstraint("sub_point_id IS DISTINCT FROM point_id", name="contract_point_subs_not_itself"),
        _range("contract_point_subs"),
    )
    op.create_index("contract_point_subs_point", "contract_point_subs", ["point_id"])
    op.create_index("contract_point_subs_sub_point", "contract_point_subs", ["sub_point_id"])

    # a commercial meter is a meter of a contract's point (not of an account or a house)
    op.add_column("meters", sa.Column("contract_point_id", sa.Integer, sa.ForeignKey("contract_points.id")))
    op.drop_constraint("meters_kind", "meters", type_="check")
    op.create_check_constraint("meters_kind", "meters",
                               "kind IN ('individual', 'communal', 'building', 'commercial')")
    op.create_check_constraint("meters_point", "meters",
                               "(kind = 'commercial') = (contract_point_id IS NOT NULL) AND "
                               "(contract_point_id IS NULL OR (account_id IS NULL AND house_id IS NULL))")
    op.execute("CREATE INDEX meters_contract_point ON meters(contract_point_id) WHERE contract_point_id IS NOT NULL")

    for table in TABLES:
        audit_table(table)
    op.execute("INSERT INTO role_permissions(role_id, resource, action) "
               "SELECT id, 'legal', a FROM roles, unnest(ARRAY['view', 'edit']) a WHERE code = 'operator' "
               "ON CONFLICT DO NOTHING")


def downgrade() -> None:
    op.execute("DELETE FROM role_permissions WHERE resource = 'legal'")
    op.execute("DELETE FROM readings WHERE meter_id IN (SELECT id FROM meters WHERE kind = 'commercial')")
    op.execute("UPDATE meters SET replaces_id = NULL WHERE replaces_id IN "
               "(SELECT id FROM meters WHERE kind = 'commercial')")
    op.execute("DELETE FROM meters WHERE kind = 'commercial'")
    op.drop_constraint("meters_point", "meters", type_="check")
    op.drop_constraint("meters_kind", "meters", type_="check")
    op.create_check_constraint("meters_kind", "meters", "kind IN ('individual', 'communal', 'building')")
    op.drop_index("meters_contract_point", "meters")
    op.drop_column("meters", "contract_point_id")
    for table in reversed(TABLES):
        op.drop_table(table)
