"""A small tenant for the portal's tests: three accounts (ЛС1…ЛС3, tests/integration/billing_core), one cold
water meter on each (5 digits, 3 decimals, installed 10.01.2024 at 10 m³), and on account 1 two months of
charges and a payment:

    2024-02  cold water 10 m³ × 50.00 = 500.00, sewage 10 m³ × 30.00 = 300.00
    2024-03  cold water 10.4 m³ × 50.00 = 520.00, sewage 310.00
    10.03.2024  payment 600.00 — allocated oldest month first: February's cold water 500, sewage 100

so account 1 owes 1 030.00: sewage 200.00 (February) + 310.00 (March), cold water 520.00 (March)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from aquabill.billing_core.payments.allocation import allocate_all
from tests.integration.billing_core.conftest import small_registry

METER_SERIALS = {1: "ХВ-101", 2: "ХВ-201", 3: "ХВ-301"}
DEBT = Decimal("1030.00")


async def _charge(conn, account: int, month: date, service: str, amount: str, volume: str, tariff: str) -> None:
    await conn.execute(text(
        "INSERT INTO charges(account_id, service_id, period, method, volume, tariff, amount) "
        "SELECT :a, id, :p, 'norm', :v, :t, :x FROM services WHERE code = :s"),
        {"a": account, "p": month, "s": service, "x": Decimal(amount), "v": Decimal(volume), "t": Decimal(tariff)})


async def portal_registry(conn, tenant=None) -> None:
    await small_registry(conn, tenant, 3)
    for account, serial in METER_SERIALS.items():
        await conn.execute(text(
            "INSERT INTO meters(account_id, service_id, serial, digits, fraction_digits, installed_on, "
            "initial_reading) SELECT :a, id, :s, 5, 3, DATE '2024-01-10', 10 FROM services WHERE code = 'cold_water'"),
            {"a": account, "s": serial})
    await _charge(conn, 1, date(2024, 2, 1), "cold_water", "500.00", "10", "50")
    await _charge(conn, 1, date(2024, 2, 1), "sewage", "300.00", "10", "30")
    await _charge(conn, 1, date(2024, 3, 1), "cold_water", "520.00", "10.4", "50")
    await _charge(conn, 1, date(2024, 3, 1), "sewage", "310.00", "10.4", "29.8077")
    await conn.execute(text(
        "INSERT INTO payments(agent_id, source, paid_on, amount, account_id, status) "
        "SELECT id, 'manual', DATE '2024-03-10', 600.00, 1, 'identified' FROM payment_agents WHERE code = 'manual'"))
    await allocate_all(conn)


@pytest.fixture
async def portal_tenant(make_tenant):
    return await make_tenant(seed=portal_registry)


async def meter_id(conn, account: int) -> int:
    return (await conn.execute(text("SELECT id FROM meters WHERE serial = :s"),
                               {"s": METER_SERIALS[account]})).scalar_one()


async def set_reading_days(conn, first: int, last: int) -> None:
    await conn.execute(text("UPDATE billing_settings SET value = CAST(:v AS jsonb) WHERE key = 'portal_reading_days'"),
                       {"v": f"[{first}, {last}]"})
