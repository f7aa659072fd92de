"""The set-based penalty run against the pure calculator (calc.py), to the kopeck.

Worked examples (hand-computed; the unit tests' debts, with the run's calculation date = the first day of
the month after the period) and a seeded random history of a few hundred accounts compared account ×
month of origin with `calculate_penalty` under every setting.
"""

import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import text

from aquabill.base.errors import Conflict, PeriodClosed
from aquabill.billing_core.payments.allocation import allocate_all
from aquabill.billing_core.penalties import (
    Moratorium,
    Payment,
    PenaltyRules,
    PenaltyScope,
    RateDate,
    calculate_penalty,
)
from aquabill.billing_core.penalties.calc import due_date
from aquabill.billing_core.penalties.detail import penalty_breakdown
from aquabill.billing_core.penalties.run import run_penalties
from aquabill.billing_core.penalties.store import add_deferral, load_key_rates, load_rules, storno_penalties
from aquabill.billing_core.periods import Period
from tests.integration.billing_core.api_helpers import close_period
from tests.integration.penalties.conftest import ACCOUNTS


async def setting(conn, key: str, value: str) -> None:
    await conn.execute(text("UPDATE billing_settings SET value = CAST(:v AS jsonb) WHERE key = :k"),
                       {"k": key, "v": value})


async def flat_6(conn) -> None:
    """Key rate 6 % for ever, no federal rules (the unit tests' FLAT_6 and NO_RULES)."""
    await conn.execute(text("DELETE FROM key_rates"))
    await conn.execute(text("INSERT INTO key_rates(valid_from, rate) VALUES (DATE '1900-01-01', 6)"))
    await conn.execute(text("UPDATE penalty_rules SET active = false"))


async def charge(conn, account: int, month: date, amount: str, *, service: str = "cold_water",
                 corrects: date | None = None, method: str = "norm") -> None:
    await conn.execute(text(
        "INSERT INTO charges(account_id, service_id, period, method, amount, corrects_period) "
        "SELECT :a, id, :p, :m, :x, :c FROM services WHERE code = :s"),
        {"a": account, "p": month, "m": method, "x": D(amount), "c": corrects, "s": service})


async def pay(conn, account: int, paid_on: date, amount: str) -> None:
    await conn.execute(text(
        "INSERT INTO payments(agent_id, source, paid_on, amount, account_id, status) "
        "SELECT id, 'manual', :d, :x, :a, 'identified' FROM payment_agents WHERE code = 'manual'"),
        {"d": paid_on, "x": D(amount), "a": account})


async def penalties(conn, account: int | None = None) -> dict[int, D]:
    """Σ accrual rows per account (a run posts one row per account × period)."""
    rows = await conn.execute(text(
        "SELECT account_id, sum(amount) FROM penalty_charges WHERE kind = 'accrual' "
        "AND (CAST(:a AS integer) IS NULL OR account_id = :a) GROUP BY 1"), {"a": account})
    return {a: x for a, x in rows if x != 0}


async def by_period(conn, account: int) -> list[tuple[str, str]]:
    rows = await conn.execute(text(
        "SELECT to_char(period, 'YYYY-MM'), sum(amount) FROM penalty_charges WHERE account_id = :a "
        "GROUP BY 1 ORDER BY 1"), {"a": account})
    return [(p, str(x)) for p, x in rows]


# ---- worked examples ----------------------------------------------------------------------------------

async def test_day_30_31_and_90_91_and_monthly_accrual(tx):
    # Debt 3000 for 2018-12, due 10.01.2019, flat 6 %: day 31 = 10.02.2019, day 91 = 11.04.2019.
    # 2019-01 (last day 31.01 = day 21): nothing. 2019-02 (last day 28.02 = day 49): days 31–49 = 19:
    # 3000 × 6 × 19 / 30000 = 11.40. 2019-03 (day 80): 50 days = 30.00 → +18.60. 2019-04 (day 110):
    # days 31–90 = 36.00 + days 91–110 = 20 at 1/130: 3000 × 6 × 20 / 13000 = 27.692… → 63.69 → +33.69.
    async with tx() as conn:
        await flat_6(conn)
        await charge(conn, 1, date(2018, 12, 1), "3000.00")
        for month in ("2019-01", "2019-02", "2019-03", "2019-04"):
            await run_penalties(conn, Period.parse(month))
        assert await by_period(conn, 1) == [("2019-02", "11.40"), ("2019-03", "18.60"), ("2019-04", "33.69")]
        # the same with the calculator (calc date 01.05.2019)
        total = calculate_penalty(D(3000), date(2019, 1, 10), [], date(2019, 5, 1), rules=PenaltyRules(),
                                  key_rates=await load_key_rates(conn)).total
        assert total == D("63.69")
        # a re-run of an open month replaces its rows: the same figures
        await run_penalties(conn, Period.parse("2019-04"))
        assert await by_period(conn, 1) == [("2019-02", "11.40"), ("2019-03", "18.60"), ("2019-04", "33.69")]


@pytest.mark.parametrize("scope,expected", [("all_debts", "7.60"), ("paid_debts_only", "1.60")])
async def test_partial_payment(tx, scope, expected):
    # 1000 due 10.01.2019, 400 paid on 01.03.2019 (day 50), run of 2019-03 (last day 31.03 = day 80):
    # paid part 400 × 6 × 20 / 30000 = 1.60; rest 600 × 6 × 50 (10.02…31.03) / 30000 = 6.00 → 7.60.
    async with tx() as conn:
        await flat_6(conn)
        await setting(conn, "penalty_debt_scope", f'"{scope}"')
        await charge(conn, 1, date(2018, 12, 1), "1000.00")
        await pay(conn, 1, date(2019, 3, 1), "400.00")
        await allocate_all(conn)
        await run_penalties(conn, Period.parse("2019-03"))
        assert await penalties(conn) == {1: D(expected)}


@pytest.mark.parametrize("mode,expected", [("payment_day", "40.45"), ("calculation_day", "40.12"),
                                           ("each_day", "41.35")])
async def test_key_rate_change_in_the_middle_of_the_delay(tx, mode, expected):
    # Real key rates: 10000 for May 2019, due 10.06.2019, day 31 = 11.07.2019; the rate goes 7.50 → 7.25 on
    # 29.07.2019; 4000 paid on 20.07.2019; run of 2019-07 (calculation date 01.08.2019, last day 31.07).
    # payment_day: 4000 × 7.50 × 10 / 30000 = 10.00; 6000 × 7.25 (rate of 01.08) × 21 / 30000 = 30.45 → 40.45
    # calculation_day: 4000 × 7.25 × 10 / 30000 = 9.666…; + 30.45 → 40.116… → 40.12
    # each_day: 10.00 + 6000 × 7.50 × 18 / 30000 = 27.00 + 6000 × 7.25 × 3 / 30000 = 4.35 → 41.35
    async with tx() as conn:
        await setting(conn, "penalty_rate_date", f'"{mode}"')
        await charge(conn, 1, date(2019, 5, 1), "10000.00")
        await pay(conn, 1, date(2019, 7, 20), "4000.00")
        await allocate_all(conn)
        await run_penalties(conn, Period.parse("2019-07"))
        assert await penalties(conn) == {1: D(expected)}


async def test_moratorium_crossing(tx):
    # 1000 for January 2020, due 10.02.2020, rate of the calculation date; federal rules (Decree 424:
    # 06.04–31.12.2020). Run of 2020-12 (calc date 01.01.2021, rate 4.25): 12.03…05.04.2020 = 25 days:
    # 1000 × 4.25 × 25 / 30000 = 3.541… → 3.54. Run of 2021-01: + 31 days at 1/130: 1000 × 4.25 × 31 / 13000
    # = 10.134…; 13.676… → 13.68 → row 10.14.
    async with tx() as conn:
        await setting(conn, "penalty_rate_date", '"calculation_day"')
        await charge(conn, 1, date(2020, 1, 1), "1000.00")
        await run_penalties(conn, Period.parse("2020-12"))
    await close_period(tx, "2020-12")
    async with tx() as conn:
        await run_penalties(conn, Period.parse("2021-01"))
        assert await by_period(conn, 1) == [("2020-12", "3.54"), ("2021-01", "10.14")]
        with pytest.raises(PeriodClosed, match="2020-12 закрыт"):
            await run_penalties(conn, Period.parse("2020-12"))


async def test_storno_deferral_and_history_change(tx):
    async with tx() as conn:
        await flat_6(conn)
        await charge(conn, 1, date(2018, 12, 1), "3000.00")
        await run_penalties(conn, Period.parse("2019-02"))  # 11.40
    await close_period(tx, "2019-02")
    async with tx(1) as conn:
        await run_penalties(conn, Period.parse("2019-03"))  # +18.60
        done = await storno_penalties(conn, account_id=1, reason="Решение руководителя", created_by=1)
        assert (done["rows"], done["amount"], done["period"]) == (2, "-30.00", "2019-03")
        # a re-run keeps the reversed accrual and does not charge it again
        await run_penalties(conn, Period.parse("2019-03"))
        assert await by_period(conn, 1) == [("2019-02", "11.40"), ("2019-03", "-11.40")]
        # a deferral of house 1 over March: days 01.03…31.03 accrue nothing; a payment dated back (history
        # changed: paid on day 41, 11 days → 6.60) would give −23.40, but the storno forgave all 30.00 already:
        # the net penalty stays 0, no row
        await add_deferral(conn, scope="houses", house_ids=[1], date_from=date(2019, 3, 1),
                           date_to=date(2019, 3, 31), reason="Постановление № 1", created_by=1)
        await pay(conn, 1, date(2019, 2, 20), "3000.00")
        await allocate_all(conn)
        await run_penalties(conn, Period.parse("2019-03"))
        rows = (await conn.execute(text(
            "SELECT to_char(period, 'YYYY-MM'), kind, amount FROM penalty_charges ORDER BY period, kind, amount"))).all()
        assert [(p, k, str(x)) for p, k, x in rows] == [
            ("2019-02", "accrual", "11.40"), ("2019-03", "accrual", "18.60"), ("2019-03", "storno", "-18.60"),
            ("2019-03", "storno", "-11.40")]
        with pytest.raises(Conflict):
            await storno_penalties(conn, account_id=1, reason="ещё раз")
        audit = (await conn.execute(text(
            "SELECT count(*) FROM audit_log WHERE table_name = 'penalty_stornos' AND user_id = 1"))).scalar_one()
        assert audit == 1


# ---- random histories against the calculator ---------------------------------------------------------

MONTHS = [date(2021 + (m - 1) // 12, (m - 1) % 12 + 1, 1) for m in range(10, 10 + 24)]  # 2021-10 … 2023-09
PERIOD = Period(2023, 10)


async def random_history(conn, seed: int) -> None:
    rnd = random.Random(seed)
    charges, pays = [], []
    for account in range(1, ACCOUNTS + 1):
        for month in MONTHS:
            if rnd.random() < 0.15:
                continue
            for service in ("cold_water", "sewage")[: rnd.choice((1, 2))]:
                charges.append((account, month, service, D(rnd.randint(1000, 400000)) / 100, None, "norm"))
            if rnd.random() < 0.05:  # a correction of the month posted later (may make a service negative)
                later = min(month + timedelta(days=rnd.randint(31, 200)), date(2023, 10, 1)).replace(day=1)
                charges.append((account, later, "sewage", -D(rnd.randint(100, 300000)) / 100, month, "recalculation"))
            due = due_date(month, 10)
            for _ in range(rnd.choice((0, 1, 1, 2, 3))):
                paid_on = due + timedelta(days=rnd.randint(-25, 400))
                pays.append((account, paid_on, D(rnd.randint(100, 300000)) / 100))
    await conn.execute(text(
        "INSERT INTO charges(account_id, service_id, period, method, amount, corrects_period) "
        "SELECT a, s.id, p, m, x, c FROM unnest(CAST(:a AS integer[]), CAST(:p AS date[]), CAST(:s AS text[]), "
        "CAST(:x AS numeric[]), CAST(:c AS date[]), CAST(:m AS text[])) AS t(a, p, code, x, c, m) "
        "JOIN services s ON s.code = t.code"),
        {"a": [c[0] for c in charges], "p": [c[1] for c in charges], "s": [c[2] for c in charges],
         "x": [c[3] for c in charges], "c": [c[4] for c in charges], "m": [c[5] for c in charges]})
    await conn.execute(text(
        "INSERT INTO payments(agent_id, source, paid_on, amount, account_id, status) "
        "SELECT (SELECT id FROM payment_agents WHERE code = 'manual'), 'manual', d, x, a, 'identified' "
        "FROM unnest(CAST(:a AS integer[]), CAST(:d AS date[]), CAST(:x AS numeric[])) AS t(a, d, x)"),
        {"a": [p[0] for p in pays], "d": [p[1] for p in pays], "x": [p[2] for p in pays]})
    await allocate_all(conn)


async def expected_by_month(conn, period: Period, deferred: dict[int, tuple[Moratorium, ...]]) -> dict:
    """calculate_penalty per account × month of origin, from the same tables, as of period's end."""
    cfg = dict((await conn.execute(text("SELECT key, value FROM billing_settings"))).all())
    rules, rates = await load_rules(conn), await load_key_rates(conn)
    calc_date = period.next().first_day
    debts = dict(((a, m), x) for a, m, x in await conn.execute(text(
        "SELECT account_id, coalesce(corrects_period, period), sum(amount) FROM charges WHERE period <= :p "
        "GROUP BY 1, 2 HAVING sum(amount) > 0"), {"p": period.first_day}))
    pays = defaultdict(list)
    for a, m, d, x in await conn.execute(text(
            "SELECT pa.account_id, pa.month_of_origin, p.paid_on, pa.amount FROM payment_allocations pa "
            "JOIN payments p ON p.id = pa.payment_id WHERE pa.kind = 'charge'")):
        pays[(a, m)].append(Payment(d, x))
    out = {}
    for (a, m), amount in debts.items():
        extra = deferred.get(a, ())
        own = PenaltyRules(rules.moratoria + extra, rules.rate_rules)
        total = calculate_penalty(amount, due_date(m, cfg["payment_due_day"]), pays[(a, m)], calc_date,
                                  rate_date=RateDate(cfg["penalty_rate_date"]),
                                  scope=PenaltyScope(cfg["penalty_debt_scope"]), rules=own, key_rates=rates).total
        if total:
            out[(a, m)] = total
    return out


async def expected_totals(conn, period: Period, deferred: dict[int, tuple[Moratorium, ...]]) -> dict[int, D]:
    """Per account: Σ over its months of origin of the calculator's total (each rounded to the kopeck)."""
    out: dict[int, D] = defaultdict(D)
    for (a, _m), total in (await expected_by_month(conn, period, deferred)).items():
        out[a] += total
    return {a: x for a, x in out.items() if x}


@pytest.mark.parametrize("seed", [1, 2])
async def test_random_histories_agree_with_the_calculator(tx, seed):
    async with tx() as conn:
        await random_history(conn, seed)
        # house 2 (every fifth premise): deferred over the summer of 2023 by a tenant decision
        await add_deferral(conn, scope="improvement", improvement="partial", date_from=date(2023, 6, 1),
                           date_to=date(2023, 8, 15), reason="Решение № 7")
        await add_deferral(conn, scope="all", date_from=date(2023, 8, 10), date_to=date(2023, 8, 20),
                           reason="Решение № 8")
        both = (Moratorium(date(2023, 6, 1), date(2023, 8, 15), "7"), Moratorium(date(2023, 8, 10),
                                                                                  date(2023, 8, 20), "8"))
        deferred = {a: both if a % 5 == 0 else both[1:] for a in range(1, ACCOUNTS + 1)}
        compared = 0
        for mode in ("payment_day", "calculation_day", "each_day"):
            for scope in ("all_debts", "paid_debts_only"):
                await setting(conn, "penalty_rate_date", f'"{mode}"')
                await setting(conn, "penalty_debt_scope", f'"{scope}"')
                result = await run_penalties(conn, PERIOD)
                by_month = await expected_by_month(conn, PERIOD, deferred)
                expected = await expected_totals(conn, PERIOD, deferred)
                got = await penalties(conn)
                assert got == expected, (mode, scope, sorted(set(got.items()) ^ set(expected.items()))[:6])
                assert result.rows == len(expected)
                compared += len(by_month)
                # the on-demand breakdown of an account: the calculator's figures month by month
                for account in (1, 5, 77):
                    shown = await penalty_breakdown(conn, account, PERIOD)
                    months = {(account, date.fromisoformat(x["month_of_origin"] + "-01")): D(x["penalty"])
                              for x in shown["months"] if D(x["penalty"])}
                    assert months == {k: v for k, v in by_month.items() if k[0] == account}, (mode, scope, account)
                    assert D(shown["total"]) == expected.get(account, D(0))
        assert compared > 6 * ACCOUNTS * 5
        # the law's due day (the 15th from March 2026 does not matter before it; 10th by default)
        await setting(conn, "payment_due_day", "null")
        await run_penalties(conn, PERIOD)
        assert await penalties(conn) == await expected_totals(conn, PERIOD, deferred)


async def test_monthly_accruals_sum_to_the_calculator(tx):
    async with tx() as conn:
        await random_history(conn, 3)
        for month in ("2023-07", "2023-08", "2023-09"):
            await run_penalties(conn, Period.parse(month))
    await close_period(tx, "2023-07")
    await close_period(tx, "2023-08")
    async with tx() as conn:
        await pay(conn, 3, date(2023, 1, 5), "500.00")  # history changes after the months closed
        await allocate_all(conn)
        await run_penalties(conn, Period.parse("2023-09"))
        assert await penalties(conn) == await expected_totals(conn, Period.parse("2023-09"), {})
        closed = (await conn.execute(text(
            "SELECT count(*) FROM penalty_charges WHERE period < DATE '2023-09-01'"))).scalar_one()
        assert closed > 0
