"""Charge rows written by people are audited with their user (t0018); the billing run's own rows are not
(its posting statements set `aquabill.charges_audit` = 'run'; the rows carry their run_id).

Registry of the `billing_tenant` fixture: accounts 1–3 on premises of 41, 42 and 43 m², one resident each
here, cold water 40 ₽/m³ and sewage 30 ₽/m³ by norm.
"""

from datetime import date
from decimal import Decimal as D

from sqlalchemy import text

from aquabill.billing_core.adjustments import (
    OneOff,
    cancel_agreement,
    create_agreement,
    create_one_off,
    storno,
)
from aquabill.billing_core.periods import Period
from aquabill.billing_core.run.service import run_billing
from tests.integration.billing_core.api_helpers import Api
from tests.integration.billing_core.test_adjustments import cold, set_periods
from tests.integration.billing_core.test_month_run import base_data, resident

CLERK, OPERATOR = 41, 42  # the acting users (aquabill.user_id of the transaction)


async def charge_entries(conn) -> list[tuple]:
    """(action, method, amount, user) of the audit entries of charges, in order."""
    rows = await conn.execute(text(
        "SELECT action, coalesce(new_row, old_row)->>'method', coalesce(new_row, old_row)->>'amount', user_id "
        "FROM audit_log WHERE table_name = 'charges' ORDER BY id"))
    return [tuple(r) for r in rows]


async def test_rows_written_by_people_are_audited_and_the_runs_rows_are_not(tx):
    async with tx(CLERK) as conn:
        await base_data(conn)
        for account in (1, 2, 3):
            await resident(conn, account, date(2020, 1, 1))
        await set_periods(conn, p2024_03="open")
        first = await run_billing(conn, Period(2024, 3))
        again = await run_billing(conn, Period(2024, 3))  # a re-run deletes and inserts its rows
        assert first.charges == again.charges == 6
        assert await charge_entries(conn) == []
        made = await create_one_off(conn, OneOff(Period(2024, 3), await cold(conn), "area", house_id=1,
                                                 total=D("1000.00")))
    async with tx(OPERATOR) as conn:
        one_row = (await conn.execute(text(
            "SELECT min(id) FROM charges WHERE source = 'one_off' AND source_id = :d"), {"d": made["id"]})).scalar_one()
        await storno(conn, charge_id=one_row, note="Ошибка")
        agreement = await create_agreement(conn, account_id=2, number="Р-1", signed_on=date(2024, 3, 5),
                                           debt=D("300.00"), months=2, first_period=Period(2024, 4))
        await cancel_agreement(conn, agreement["id"], cancelled_on=date(2024, 3, 20))
        await run_billing(conn, Period(2024, 3))  # the run's rows again: still nothing logged for them
        entries = await charge_entries(conn)
        logged = (await conn.execute(text(
            "SELECT count(*) FROM audit_log WHERE table_name = 'charges' AND (new_row->>'run_id') IS NOT NULL"
        ))).scalar_one()
    assert entries == [
        ("insert", "one_off", "325.40", CLERK), ("insert", "one_off", "333.33", CLERK),
        ("insert", "one_off", "341.27", CLERK),
        ("insert", "storno", "-325.40", OPERATOR),
        ("insert", "installment", "-300.00", OPERATOR), ("insert", "installment", "300.00", OPERATOR)]
    assert logged == 0


async def test_an_entry_shows_the_row_and_its_user_over_the_api(client, billing_tenant, tx):
    async with tx() as conn:
        await set_periods(conn, p2024_02="closed", p2024_03="open")
        original = (await conn.execute(text(
            "INSERT INTO charges(account_id, service_id, period, method, volume, tariff, amount) "
            "SELECT 1, id, DATE '2024-02-01', 'norm', 5, 40, 200 FROM services WHERE code = 'cold_water' "
            "RETURNING id"))).scalar_one()
    api = Api(client, billing_tenant.headers)
    me = (await api.ok("get", "/api/auth/me"))["user_id"]
    done = await api.ok("post", "/api/billing/storno", {"charge_id": original, "note": "Перерасчёт по акту"})
    row_id = done["rows"][0]["id"]
    history = (await api.ok("get", f"/api/audit/charges/{row_id}"))["items"]
    assert [(e["action"], e["user_id"], e["new"]["amount"], e["new"]["source_id"]) for e in history] == [
        ("insert", me, -200.0, original)]
