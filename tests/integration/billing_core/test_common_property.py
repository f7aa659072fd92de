"""Cold water for common property (ОДН, Decree 354), each rule with a worked example computed by hand here.

Common data (besides test_month_run's: cold water 40.00 ₽/m³, norm 5 m³ per person): the house (improvement
`full`) has 150 m² of common area, the common_cold norm is 0.05 m³/m² a month (cap 7.5 m³), the common_cold
tariff 38.50 ₽/m³. Premises: ЛС1 41 m², ЛС2 42 m², ЛС3 43 m² (total 126 m²).
April 2024 individual cold water: ЛС1 meter 100 → 112 (12 m³), ЛС2 1 person by norm (5 m³, stored before
the coefficient 1.5), ЛС3 2 persons by norm (10 m³): Σ = 27 m³.
Share of an account = V × area / 126; volume = round(…, 3), amount = round(V × area × 38.50 / 126, 2).
"""

from datetime import date
from decimal import Decimal as D

from sqlalchemy import text

from aquabill.billing_core.periods import Period
from aquabill.billing_core.run.compute import Scope
from aquabill.billing_core.run.service import run_billing
from tests.integration.billing_core.test_month_run import (
    base_data,
    close,
    kop,
    lit,
    meter,
    readings,
    resident,
)

APRIL = date(2024, 4, 1)
AREAS = {1: D(41), 2: D(42), 3: D(43)}
PRICE = D("38.50")


async def odn_data(conn, *, norm="0.05", common_area="150"):
    await base_data(conn)
    await conn.execute(text("INSERT INTO tariffs(service_id, price, valid_from) "
                            "SELECT id, 38.50, DATE '2020-01-01' FROM services WHERE code = 'common_cold'"))
    await conn.execute(text("INSERT INTO norms(service_id, improvement, volume, valid_from) "
                            "SELECT id, 'full', CAST(:n AS numeric), DATE '2020-01-01' FROM services "
                            "WHERE code = 'common_cold'"), {"n": D(norm)})
    await conn.execute(text("UPDATE houses SET common_area_m2 = CAST(:a AS numeric) WHERE id = 1"),
                       {"a": D(common_area)})


async def individual_april(conn):
    """ЛС1 12 m³ by its meter, ЛС2 5 m³ and ЛС3 10 m³ by norm: Σ 27 m³."""
    m = await meter(conn, 1, date(2023, 1, 1))
    await readings(conn, m, (date(2024, 3, 31), "100"), (date(2024, 4, 30), "112"))
    await resident(conn, 2, date(2020, 1, 1))
    await resident(conn, 3, date(2020, 1, 1))
    await resident(conn, 3, date(2020, 1, 1), name="Второй")


async def building_meter(conn, installed_on, *pairs, initial="0"):
    """A building cold-water meter on house 1 with accepted readings (stored as they are: the house's daily
    consumption is far above an apartment's plausibility limit)."""
    meter_id = (await conn.execute(text(
        "INSERT INTO meters(kind, house_id, service_id, serial, digits, installed_on, initial_reading) "
        "SELECT 'building', 1, id, 'ОДПУ-1', 7, :d, :i FROM services WHERE code = 'cold_water' RETURNING id"),
        {"d": installed_on, "i": D(initial)})).scalar_one()
    for read_on, value in pairs:
        await conn.execute(text("INSERT INTO readings(meter_id, read_on, value, status) "
                                "VALUES (:m, :d, CAST(:v AS numeric), 'accepted')"),
                           {"m": meter_id, "d": read_on, "v": D(value)})
    return meter_id


async def building_32_m3(conn):
    """Readings 1000 on 25.03, 1031 on 24.04, 1043 on 04.05: 31 m³ / 30 days × 24 April days = 24.8 and
    12 m³ / 10 days × 6 April days = 7.2, so 32.0 m³ in April."""
    await building_meter(conn, date(2023, 1, 1), (date(2024, 3, 25), "1000"), (date(2024, 4, 24), "1031"),
                         (date(2024, 5, 4), "1043"))


async def common(conn, period=APRIL):
    rows = await conn.execute(text(
        "SELECT c.account_id, c.volume, c.tariff, c.coefficient, c.amount, c.days FROM charges c "
        "JOIN services s ON s.id = c.service_id WHERE s.code = 'common_cold' AND c.method = 'common' "
        "AND c.period = :p AND c.corrects_period IS NULL ORDER BY c.account_id"), {"p": period})
    return {r.account_id: tuple(r)[1:] for r in rows}


def expected(v_odn: D, areas=AREAS, days=30):
    total = sum(areas.values())
    return {acc: (lit(v_odn * area / total), D("38.5000"), D("1.000"), kop(v_odn * area * PRICE / total), days)
            for acc, area in areas.items()}


async def test_building_meter_minus_individual_is_spread_by_area(tx):
    """B = 32.0 (prorated between readings not on month ends), Σ individual 27 → V = 5 m³ (cap 7.5)."""
    async with tx() as conn:
        await odn_data(conn)
        await individual_april(conn)
        await building_32_m3(conn)
        result = await run_billing(conn, Period(2024, 4))
        rows = await common(conn)
    assert rows == expected(D(5))
    # by hand: 5 × 41 / 126 = 1.62698… → 1.627 m³, × 38.50 = 62.638… → 62.64 ₽; 42: 1.667 / 64.17; 43: 1.706 / 65.69
    assert {a: (r[0], r[3]) for a, r in rows.items()} == {
        1: (D("1.627"), D("62.64")), 2: (D("1.667"), D("64.17")), 3: (D("1.706"), D("65.69"))}
    assert result.charges == 3 * 2 + 3 and not result.missing


async def test_replaced_building_meter_hands_over_on_its_removal_day(tx):
    """Old meter 1000 on 31.03 → 1015 at removal on 15.04 (1–15 April), new meter installed 15.04 at 0 → 17 on
    30.04 (16–30 April): B = 15 + 17 = 32 m³, V = 32 − 27 = 5 m³ as with one meter."""
    async with tx() as conn:
        await odn_data(conn)
        await individual_april(conn)
        old = await building_meter(conn, date(2023, 1, 1), (date(2024, 3, 31), "1000"), (date(2024, 4, 15), "1015"))
        await conn.execute(text("UPDATE meters SET removed_on = DATE '2024-04-15', serial = 'ОДПУ-0' WHERE id = :m"),
                           {"m": old})
        await building_meter(conn, date(2024, 4, 15), (date(2024, 4, 30), "17"))
        await run_billing(conn, Period(2024, 4))
        rows = await common(conn)
    assert rows == expected(D(5))


async def test_cap_by_norm_times_common_area(tx):
    """Norm 0.03 m³/m² × 150 m² = 4.5 m³ < 5 m³: the house pays at most 4.5 (setting on by default);
    ЛС1: 4.5 × 41 × 38.50 / 126 = 56.375 exactly → 56.38 (half up). Without the cap: 5 m³."""
    async with tx() as conn:
        await odn_data(conn, norm="0.03")
        await individual_april(conn)
        await building_32_m3(conn)
        await run_billing(conn, Period(2024, 4))
        capped = await common(conn)
        await conn.execute(text("UPDATE billing_settings SET value = 'false' WHERE key = 'common_property_cap'"))
        await run_billing(conn, Period(2024, 4))
        uncapped = await common(conn)
    assert capped == expected(D("4.5"))
    assert capped[1][0] == D("1.464") and capped[1][3] == D("56.38")
    assert uncapped == expected(D(5))


async def test_negative_common_volume_gives_no_rows(tx):
    """B = 520 − 500 = 20 m³ < Σ individual 27 m³: V = max(20 − 27, 0) = 0 — no 'common' rows at all,
    nothing reported missing, the individual charges unchanged."""
    async with tx() as conn:
        await odn_data(conn)
        await individual_april(conn)
        await building_meter(conn, date(2023, 1, 1), (date(2024, 3, 31), "500"), (date(2024, 4, 30), "520"))
        result = await run_billing(conn, Period(2024, 4))
        rows = await common(conn)
        total = (await conn.execute(text("SELECT count(*) FROM charges WHERE period = :p"), {"p": APRIL})).scalar()
    assert rows == {} and not result.missing and total == 6


async def test_without_building_meter_by_norm(tx):
    """No building meter: V = 0.05 × 150 = 7.5 m³ whatever the individual volumes.
    41: 2.44047… → 2.440 m³, 93.958… → 93.96 ₽; 42: 2.500 / 96.25; 43: 2.55952… → 2.560, 98.541… → 98.54."""
    async with tx() as conn:
        await odn_data(conn)
        await individual_april(conn)
        await run_billing(conn, Period(2024, 4))
        rows = await common(conn)
    assert rows == expected(D("7.5"))
    assert {a: (r[0], r[3]) for a, r in rows.items()} == {
        1: (D("2.440"), D("93.96")), 2: (D("2.500"), D("96.25")), 3: (D("2.560"), D("98.54"))}


async def test_no_norm_no_meter_means_no_common_property(tx):
    """Neither a building meter nor a common area: the house has no ОДН, nothing is charged or reported."""
    async with tx() as conn:
        await odn_data(conn)
        await conn.execute(text("UPDATE houses SET common_area_m2 = NULL"))
        await individual_april(conn)
        result = await run_billing(conn, Period(2024, 4))
        rows = await common(conn)
    assert rows == {} and not result.missing


async def test_building_readings_not_covering_the_month_fall_back_to_norm(tx):
    """The building meter's last reading is on 20.04: 21–30 April are not metered, so the month falls back
    to the norm (7.5 m³), as if there were no building meter."""
    async with tx() as conn:
        await odn_data(conn)
        await individual_april(conn)
        await building_meter(conn, date(2023, 1, 1), (date(2024, 3, 31), "1000"), (date(2024, 4, 20), "1030"))
        await run_billing(conn, Period(2024, 4))
        rows = await common(conn)
    assert rows == expected(D("7.5"))


async def test_account_closed_during_the_month_gets_no_share(tx):
    """ЛС3 closed on 20.04: its 20 days of norm water still count in Σ individual, but only accounts active on
    30.04 share V, over their own area: 41 + 42 = 83 m². By norm: 7.5 × 41 / 83 = 3.70481… → 3.705 m³,
    × 38.50 = 142.635… → 142.64 ₽; 7.5 × 42 / 83 = 3.79518… → 3.795 m³, 146.114… → 146.11 ₽."""
    async with tx() as conn:
        await odn_data(conn)
        await individual_april(conn)
        await conn.execute(text("UPDATE accounts SET closed_on = DATE '2024-04-20', status = 'closed' WHERE id = 3"))
        await run_billing(conn, Period(2024, 4))
        rows = await common(conn)
    assert rows == expected(D("7.5"), {1: D(41), 2: D(42)})
    assert (rows[1][0], rows[1][3], rows[2][0], rows[2][3]) == (D("3.705"), D("142.64"), D("3.795"), D("146.11"))


async def test_account_scoped_run_gives_the_tenant_share_and_reruns_are_idempotent(tx):
    async with tx() as conn:
        await odn_data(conn)
        await individual_april(conn)
        await building_32_m3(conn)
        first = await run_billing(conn, Period(2024, 4))
        tenant = await common(conn)
        again = await run_billing(conn, Period(2024, 4))
        assert await common(conn) == tenant and (again.charges, again.amount) == (first.charges, first.amount)
        for acc in (1, 2, 3):  # the others' individual volumes come from their posted charges
            one = await run_billing(conn, Period(2024, 4), Scope("account", acc))
            assert one.charges == 3
            assert await common(conn) == tenant
        await run_billing(conn, Period(2024, 4), Scope("house", 1))
        assert await common(conn) == tenant
        count = (await conn.execute(text("SELECT count(*) FROM charges WHERE method = 'common'"))).scalar()
    assert tenant == expected(D(5)) and count == 3


async def test_closed_period_recalculation_includes_common_property(tx):
    """April charged with V = 5 m³ and closed. A second person registered at ЛС2 from 01.04 makes Σ
    individual 32 = B, so V = 0: the re-run of April posts +5 m³ of cold water and sewage for ЛС2 and takes
    every account's ОДН back. An account-scoped re-run of ЛС1 afterwards sees ЛС2's corrected volume
    (charged 5 + recalculated 5) and keeps the same correction."""
    async with tx() as conn:
        await odn_data(conn)
        await individual_april(conn)
        await building_32_m3(conn)
        await run_billing(conn, Period(2024, 4))
        await close(conn, APRIL)
        await conn.execute(text("INSERT INTO periods(period) VALUES (DATE '2024-05-01')"))
        await resident(conn, 2, date(2024, 4, 1), name="Второй")
        result = await run_billing(conn, Period(2024, 4))
        q = text("SELECT c.account_id, s.code, c.volume, c.amount FROM charges c JOIN services s ON s.id = c.service_id "
                 "WHERE c.period = DATE '2024-05-01' AND c.corrects_period = :p AND c.method = 'recalculation' "
                 "ORDER BY 1, s.sort")
        recalc = [tuple(r) for r in await conn.execute(q, {"p": APRIL})]
        await run_billing(conn, Period(2024, 4), Scope("account", 1))
        recalc_again = [tuple(r) for r in await conn.execute(q, {"p": APRIL})]
    old = expected(D(5))
    assert result.recalculated == {"2024-04": 5}
    assert recalc == [
        (1, "common_cold", -old[1][0], -old[1][3]),
        (2, "cold_water", D("5.000"), D("300.00")),  # 5 m³ × 40 × 1.5
        (2, "sewage", D("5.000"), D("150.00")),
        (2, "common_cold", -old[2][0], -old[2][3]),
        (3, "common_cold", -old[3][0], -old[3][3]),
    ]
    assert recalc[0][3] == D("-62.64")
    assert recalc_again == recalc


async def test_missing_common_tariff_is_reported(tx):
    async with tx() as conn:
        await odn_data(conn)
        await conn.execute(text("DELETE FROM tariffs WHERE service_id = (SELECT id FROM services "
                                "WHERE code = 'common_cold')"))
        await individual_april(conn)
        result = await run_billing(conn, Period(2024, 4))
        rows = await common(conn)
    assert rows == {}
    assert {(m["number"], m["service"], m["problem"]) for m in result.missing} == {
        ("ЛС1", "common_cold", "no_tariff"), ("ЛС2", "common_cold", "no_tariff"), ("ЛС3", "common_cold", "no_tariff")}
