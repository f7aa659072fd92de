"""Decree 354 rules, each with a worked example computed by hand here (not by the code under test).

Common data: cold water tariff 40.00 ₽/m³, sewage 30.00 ₽/m³, norms (improvement `full`) 5 m³ per
person per month for cold water and 8 for sewage; coefficient 1.5 (3 from 06.12.2025 for cold water).
Charges round to kopecks once per row: amount = round(Σ volume × tariff × coefficient, 2).
"""

from datetime import date
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

from sqlalchemy import text

from aquabill.billing_core.metering.readings import NewReading, record_readings
from aquabill.billing_core.parameters import ParameterValue, set_parameters
from aquabill.billing_core.periods import Period
from aquabill.billing_core.run.compute import Scope
from aquabill.billing_core.run.service import run_billing


def kop(x: D) -> D:
    return x.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def lit(x: D) -> D:
    return x.quantize(D("0.001"), rounding=ROUND_HALF_UP)


async def base_data(conn, cold_tariffs=(("2020-01-01", "40"),)):
    for vf, price in cold_tariffs:
        await conn.execute(text("INSERT INTO tariffs(service_id, price, valid_from) SELECT id, CAST(:p AS numeric), "
                                ":d FROM services WHERE code = 'cold_water'"), {"p": D(price), "d": date.fromisoformat(vf)})
    await conn.execute(text("INSERT INTO tariffs(service_id, price, valid_from) "
                            "SELECT id, 30, DATE '2020-01-01' FROM services WHERE code = 'sewage'"))
    await conn.execute(text("INSERT INTO norms(service_id, improvement, volume, valid_from) "
                            "SELECT id, 'full', CASE code WHEN 'cold_water' THEN 5 ELSE 8 END, DATE '2020-01-01' "
                            "FROM services WHERE code IN ('cold_water', 'sewage')"))


async def resident(conn, account_id, since, until=None, name="Житель"):
    await conn.execute(text("INSERT INTO residents(account_id, full_name, registered_from, registered_to) "
                            "VALUES (:a, :n, :f, :t)"), {"a": account_id, "n": name, "f": since, "t": until})


async def meter(conn, account_id, installed_on, initial="0", digits=5):
    return (await conn.execute(text(
        "INSERT INTO meters(account_id, service_id, serial, digits, installed_on, initial_reading) "
        "SELECT :a, id, :serial, :digits, :d, :i FROM services "
        "WHERE code = 'cold_water' RETURNING id"),
        {"a": account_id, "d": installed_on, "i": D(initial), "digits": digits, "serial": f"M{account_id}-{installed_on}"})).scalar_one()


async def readings(conn, meter_id, *pairs):
    out = await record_readings(conn, [NewReading(meter_id, d, D(v)) for d, v in pairs], source="operator")
    return out


async def charges(conn, account_id, period, corrects=False):
    q = ("SELECT s.code AS service, c.method, c.volume, c.tariff, c.coefficient, c.amount, c.corrects_period "
         "FROM charges c JOIN services s ON s.id = c.service_id WHERE c.account_id = :a AND c.period = :p "
         + ("" if corrects else "AND c.corrects_period IS NULL ")
         + "ORDER BY s.sort, c.corrects_period NULLS FIRST, c.method, c.tariff, c.coefficient")
    return [tuple(r) for r in await conn.execute(text(q), {"a": account_id, "p": period})]


async def close(conn, *periods):
    for p in periods:
        await conn.execute(text("INSERT INTO periods(period, status) VALUES (:p, 'closed') "
                                "ON CONFLICT (period) DO UPDATE SET status = 'closed'"), {"p": p})


async def test_norm_with_residents_change_on_day_15(tx):
    """No meter (installable): 1 person 1–14 April, 2 persons from the 15th; coefficient 1.5."""
    async with tx() as conn:
        await base_data(conn)
        await resident(conn, 1, date(2020, 1, 1))
        await resident(conn, 1, date(2024, 4, 15), name="Второй")
        await run_billing(conn, Period(2024, 4), Scope("account", 1))
        rows = await charges(conn, 1, date(2024, 4, 1))
    volume = D(5) * 1 * 14 / 30 + D(5) * 2 * 16 / 30  # 2.3333… + 5.3333… = 7.6666…
    assert rows == [
        ("cold_water", "norm", lit(volume), D("40.0000"), D("1.500"), kop(volume * 40 * D("1.5")), None),
        ("sewage", "norm", lit(volume), D("30.0000"), D("1.000"), kop(volume * 30), None),
    ]
    assert rows[0][5] == D("460.00") and rows[1][5] == D("230.00")


async def test_mid_month_tariff_change_with_meter(tx):
    """Readings 100 on 31.03 and 112 on 30.04: 0.4 m³/day; tariff 40 until 09.04, 44 from 10.04."""
    async with tx() as conn:
        await base_data(conn, cold_tariffs=(("2020-01-01", "40"), ("2024-04-10", "44")))
        m = await meter(conn, 1, date(2023, 1, 1))
        await readings(conn, m, (date(2024, 3, 31), "100"), (date(2024, 4, 30), "112"))
        await run_billing(conn, Period(2024, 4), Scope("account", 1))
        rows = await charges(conn, 1, date(2024, 4, 1))
    assert rows == [
        ("cold_water", "meter", D("3.600"), D("40.0000"), D("1.000"), D("144.00"), None),  # 9 days × 0.4
        ("cold_water", "meter", D("8.400"), D("44.0000"), D("1.000"), D("369.60"), None),  # 21 days × 0.4
        ("sewage", "meter", D("12.000"), D("30.0000"), D("1.000"), D("360.00"), None),
    ]


async def _six_months_of_readings(conn):
    """Installed 30.09.2023 at 100; month-end readings: 6, 7, 8, 6, 7, 8 m³ — average 7 m³/month."""
    m = await meter(conn, 1, date(2023, 9, 30), initial="100")
    await resident(conn, 1, date(2020, 1, 1))
    await readings(conn, m, (date(2023, 10, 31), "106"), (date(2023, 11, 30), "113"), (date(2023, 12, 31), "121"),
                   (date(2024, 1, 31), "127"), (date(2024, 2, 29), "134"), (date(2024, 3, 31), "142"))
    return m


async def test_three_months_of_average_then_norm(tx):
    async with tx() as conn:
        await base_data(conn)
        await _six_months_of_readings(conn)
        for month in (4, 5, 6, 7):
            await run_billing(conn, Period(2024, month), Scope("account", 1))
        april, may, june, july = [await charges(conn, 1, date(2024, m, 1)) for m in (4, 5, 6, 7)]
    for rows in (april, may, june):  # whole months by the average: 7 m³
        assert rows[0] == ("cold_water", "average", D("7.000"), D("40.0000"), D("1.000"), D("280.00"), None)
        assert rows[1] == ("sewage", "average", D("7.000"), D("30.0000"), D("1.000"), D("210.00"), None)
    # the fourth period without readings: norm × 1 person, no increasing coefficient (the meter works)
    assert july[0] == ("cold_water", "norm", D("5.000"), D("40.0000"), D("1.000"), D("200.00"), None)


async def test_late_reading_recalculates_averaged_months(tx):
    async with tx() as conn:
        await base_data(conn)
        m = await _six_months_of_readings(conn)
        for month in (4, 5, 6):
            await run_billing(conn, Period(2024, month), Scope("account", 1))
        await close(conn, date(2024, 4, 1), date(2024, 5, 1), date(2024, 6, 1))
        # the reading of 20.07 covers 01.04–20.07: 170 − 142 = 28 m³ over 111 days
        await readings(conn, m, (date(2024, 7, 20), "170"))
        result = await run_billing(conn, Period(2024, 7), Scope("account", 1))
        july = await charges(conn, 1, date(2024, 7, 1), corrects=True)
    rate = D(28) / 111
    assert result.recalculated == {"2024-04": 2, "2024-05": 2, "2024-06": 2}
    recalcs = {(r[0], r[6]): (r[2], r[5]) for r in july if r[1] == "recalculation"}
    for month, days in ((4, 30), (5, 31), (6, 30)):
        new_volume = rate * days
        assert recalcs[("cold_water", date(2024, month, 1))] == (
            lit(new_volume) - D("7.000"), kop(new_volume * 40) - D("280.00"))
        assert recalcs[("sewage", date(2024, month, 1))] == (
            lit(new_volume) - D("7.000"), kop(new_volume * 30) - D("210.00"))
    assert recalcs[("cold_water", date(2024, 4, 1))][1] == D("22.70")  # 302.70 − 280.00
    # July itself: 1–20 by the meter, 21–31 by the new average of Jan–Jun (6, 7, 8 and the new rates)
    avg = (D(6) + D(7) + D(8) + rate * 30 + rate * 31 + rate * 30) / 6
    metered, averaged = rate * 20, avg * 11 / 31
    cold = {r[1]: r for r in july if r[0] == "cold_water" and r[6] is None}
    assert cold["meter"][2:6] == (lit(metered), D("40.0000"), D("1.000"), kop(metered * 40))
    assert cold["average"][2:6] == (lit(averaged), D("40.0000"), D("1.000"), kop(averaged * 40))
    # re-running July does not post the differences twice
    async with tx() as conn:
        await run_billing(conn, Period(2024, 7), Scope("account", 1))
        again = await charges(conn, 1, date(2024, 7, 1), corrects=True)
    assert sorted(again) == sorted(july)


async def test_rollover_reading_is_charged_by_the_wrapped_volume(tx):
    async with tx() as conn:
        await base_data(conn)
        m = await meter(conn, 1, date(2023, 1, 1), initial="9900", digits=4)
        out = await readings(conn, m, (date(2024, 3, 31), "9990"), (date(2024, 4, 30), "5"))
        assert out[1].status == "accepted" and out[1].rollover
        await run_billing(conn, Period(2024, 4), Scope("account", 1))
        rows = await charges(conn, 1, date(2024, 4, 1))
    # 10 000 − 9 990 + 5 = 15 m³
    assert rows[0] == ("cold_water", "meter", D("15.000"), D("40.0000"), D("1.000"), D("600.00"), None)


async def test_rejected_reading_is_kept_but_not_billed(tx):
    async with tx() as conn:
        await base_data(conn)
        m = await _six_months_of_readings(conn)
        out = await readings(conn, m, (date(2024, 4, 30), "120"))  # below 142 and no plausible wrap
        assert out[0].status == "rejected" and "меньше предыдущего" in out[0].reason
        await run_billing(conn, Period(2024, 4), Scope("account", 1))
        rows = await charges(conn, 1, date(2024, 4, 1))
        kept = (await conn.execute(text("SELECT status, reason FROM readings WHERE value = 120"))).one()
    assert rows[0][1:3] == ("average", D("7.000"))
    assert kept.status == "rejected" and kept.reason


async def test_temporary_absence_reduces_norm_charges(tx):
    """2 persons, no meter and no technical possibility (no coefficient); one away 10–19 April (10 days);
    a 4-day absence of the other (24–27 April) is shorter than 5 days and changes nothing."""
    async with tx() as conn:
        await base_data(conn)
        await resident(conn, 1, date(2020, 1, 1))
        await resident(conn, 1, date(2020, 1, 1), name="Второй")
        await set_parameters(conn, [ParameterValue(1, "meter_possible", date(2020, 1, 1), D(0))])
        await conn.execute(text("INSERT INTO absences(account_id, date_from, date_to) VALUES "
                                "(1, DATE '2024-04-10', DATE '2024-04-19'), (1, DATE '2024-04-24', DATE '2024-04-27')"))
        await run_billing(conn, Period(2024, 4), Scope("account", 1))
        rows = await charges(conn, 1, date(2024, 4, 1))
    volume = D(5) * (2 * 9 + 1 * 10 + 2 * 11) / 30  # 8.3333…
    assert rows[0] == ("cold_water", "norm", lit(volume), D("40.0000"), D("1.000"), kop(volume * 40), None)
    assert rows[0][5] == D("333.33")


async def test_increasing_coefficient_changes_on_6_december_2025(tx):
    """1 person, no meter: 1–5 December at 1.5, 6–31 December at 3 (Decree 1871); sewage never multiplied."""
    async with tx() as conn:
        await base_data(conn)
        await resident(conn, 1, date(2020, 1, 1))
        await run_billing(conn, Period(2025, 12), Scope("account", 1))
        rows = await charges(conn, 1, date(2025, 12, 1))
    v1, v2 = D(5) * 5 / 31, D(5) * 26 / 31
    assert rows == [
        ("cold_water", "norm", lit(v1), D("40.0000"), D("1.500"), kop(v1 * 40 * D("1.5")), None),
        ("cold_water", "norm", lit(v2), D("40.0000"), D("3.000"), kop(v2 * 40 * 3), None),
        ("sewage", "norm", D("5.000"), D("30.0000"), D("1.000"), D("150.00"), None),
    ]
    assert (rows[0][5], rows[1][5]) == (D("48.39"), D("503.23"))


async def test_tenant_override_of_the_coefficient(tx):
    async with tx() as conn:
        await base_data(conn)
        await resident(conn, 1, date(2020, 1, 1))
        await conn.execute(text("INSERT INTO coefficients(service_kind, value, valid_from, source) "
                                "VALUES ('cold_water', 2, DATE '2024-01-01', 'tenant')"))
        await run_billing(conn, Period(2024, 4), Scope("account", 1))
        rows = await charges(conn, 1, date(2024, 4, 1))
    assert rows[0][2:6] == (D("5.000"), D("40.0000"), D("2.000"), D("400.00"))


async def test_owners_are_billed_when_nobody_is_registered(tx):
    async with tx() as conn:
        await base_data(conn)
        await set_parameters(conn, [ParameterValue(1, "owners", date(2020, 1, 1), D(3))])
        await set_parameters(conn, [ParameterValue(1, "meter_possible", date(2020, 1, 1), D(0))])
        await run_billing(conn, Period(2024, 4), Scope("account", 1))
        rows = await charges(conn, 1, date(2024, 4, 1))
    assert rows[0][2] == D("15.000") and rows[0][5] == D("600.00")


async def test_sewage_by_norm_setting(tx):
    async with tx() as conn:
        await base_data(conn)
        m = await meter(conn, 1, date(2023, 1, 1))
        await resident(conn, 1, date(2020, 1, 1))
        await readings(conn, m, (date(2024, 3, 31), "100"), (date(2024, 4, 30), "112"))
        await conn.execute(text("UPDATE billing_settings SET value = 'true' WHERE key = 'sewage_by_norm'"))
        await run_billing(conn, Period(2024, 4), Scope("account", 1))
        rows = await charges(conn, 1, date(2024, 4, 1))
    assert rows[1] == ("sewage", "norm", D("8.000"), D("30.0000"), D("1.000"), D("240.00"), None)


async def test_closed_period_rerun_posts_only_the_difference(tx):
    """March billed for 1 person, closed; a second resident registered retroactively from 01.03 makes
    the re-run of March post +1 person's month into the open April, referencing March."""
    async with tx() as conn:
        await base_data(conn)
        await resident(conn, 1, date(2020, 1, 1))
        await set_parameters(conn, [ParameterValue(1, "meter_possible", date(2020, 1, 1), D(0))])
        await run_billing(conn, Period(2024, 3), Scope("account", 1))
        await close(conn, date(2024, 3, 1))
        await conn.execute(text("INSERT INTO periods(period) VALUES (DATE '2024-04-01')"))
        await resident(conn, 1, date(2024, 3, 1), name="Второй")
        result = await run_billing(conn, Period(2024, 3), Scope("account", 1))
        march = await charges(conn, 1, date(2024, 3, 1))
        april = await charges(conn, 1, date(2024, 4, 1), corrects=True)
        # running the correction again changes nothing
        await run_billing(conn, Period(2024, 3), Scope("account", 1))
        april_again = await charges(conn, 1, date(2024, 4, 1), corrects=True)
    assert result.recalculated == {"2024-03": 2}
    assert [r[5] for r in march] == [D("200.00"), D("150.00")]  # untouched
    assert april == [("cold_water", "recalculation", D("5.000"), D("0.0000"), D("1.000"), D("200.00"), date(2024, 3, 1)),
                     ("sewage", "recalculation", D("5.000"), D("0.0000"), D("1.000"), D("150.00"), date(2024, 3, 1))]
    assert april_again == april


async def test_rerun_of_open_period_is_idempotent_and_scoped(tx):
    async with tx() as conn:
        await base_data(conn)
        for acc in (1, 2, 3):
            await resident(conn, acc, date(2020, 1, 1))
        first = await run_billing(conn, Period(2024, 4))
        again = await run_billing(conn, Period(2024, 4))
        one = await run_billing(conn, Period(2024, 4), Scope("account", 2))
        total = (await conn.execute(text("SELECT count(*), sum(amount) FROM charges WHERE period = '2024-04-01'"))).one()
    assert (first.accounts, first.charges) == (3, 6) and (again.accounts, again.charges) == (3, 6)
    assert (one.accounts, one.charges) == (1, 2)
    # each account: cold 5 m³ × 40 × 1.5 = 300.00, sewage 5 m³ × 30 = 150.00
    assert total == (6, D("1350.00")) and first.amount == "1350.00"


async def test_missing_tariff_is_reported(tx):
    async with tx() as conn:
        await resident(conn, 1, date(2020, 1, 1))
        result = await run_billing(conn, Period(2024, 4), Scope("account", 1))
    assert result.charges == 0
    assert {(m["number"], m["service"], m["problem"]) for m in result.missing} == {
        ("ЛС1", "cold_water", "no_tariff"), ("ЛС1", "sewage", "no_tariff")}
