"""The account card is read with one statement and says byte for byte what the sections' own functions
say (the card before it became one statement): account, parameters, residents, absences, meters with their
latest reading, readings, charges by month and the penalty balance, on an account where every section has
rows, with the limits of the request, and on an account with nothing."""

from datetime import date

from litestar.serialization import encode_json
from sqlalchemy import event, text

from aquabill.billing_core.metering.meters import list_meters
from aquabill.billing_core.metering.reading_entry import list_readings
from aquabill.billing_core.penalties.run import run_penalties
from aquabill.billing_core.penalties.store import account_penalties
from aquabill.billing_core.periods import Period
from aquabill.billing_core.registry import card
from aquabill.billing_core.registry.absences import add_absence, list_absences
from aquabill.billing_core.registry.account_parameters import current_values, parameter_history
from aquabill.billing_core.registry.queries import account_card
from aquabill.billing_core.registry.residents import add_resident, list_residents
from tests.integration.billing_core.api_helpers import Api, service_id
from tests.integration.penalties.test_penalty_run import charge, flat_6


async def reference_card(conn, account_id: int, *, readings: int = 20, charge_months: int = 12) -> dict | None:
    """The card assembled from each section's own function, one statement (or two) each."""
    account = await account_card(conn, account_id)
    if account is None:
        return None
    params = await parameter_history(conn, account_id)
    meters, _ = await list_meters(conn, account_id=account_id, limit=500)
    recent, total = await list_readings(conn, account_id=account_id, limit=readings)
    charges = await conn.execute(text(card._CHARGES), {"a": account_id, "n": charge_months})
    return {
        "account": account,
        "parameters": {"current": current_values(params, date.today()), "history": params},
        "residents": await list_residents(conn, account_id),
        "absences": await list_absences(conn, account_id),
        "meters": meters,
        "readings": {"items": recent, "total": total},
        "charges": card.group_charges(charges),
        "penalties": await account_penalties(conn, account_id),
    }


async def fill_account_1(api: Api, tx) -> None:
    """Every section of account 1 gets rows; account 2 gets a meter, so the card must keep to its account."""
    for kind, value, start in (("residents", 2, "2018-01-01"), ("residents", 3, "2019-02-01"),
                               ("tariff_group", "population", "2018-01-01")):
        await api.ok("post", "/api/accounts/1/parameters", {"kind": kind, "value": value, "valid_from": start})
    async with tx() as conn:
        await add_resident(conn, 1, full_name="Петров Пётр", registered_from=date(2018, 1, 1))
        await add_resident(conn, 1, full_name="Сидорова Анна", kind="temporary", registered_from=date(2018, 3, 1),
                           registered_to=date(2018, 6, 30))
        await add_absence(conn, 1, date_from=date(2018, 7, 1), date_to=date(2018, 7, 20), persons=2, reason="Санаторий")
        await add_absence(conn, 1, date_from=date(2018, 9, 3), date_to=date(2018, 9, 3))
        await flat_6(conn)
        for month in range(1, 13):
            await charge(conn, 1, date(2018, month, 1), f"{1000 + month}.25")
        await charge(conn, 1, date(2018, 12, 1), "-40.10", corrects=date(2018, 11, 1), method="recalculation")
        await charge(conn, 1, date(2018, 12, 1), "95.5", service="sewage", method="meter")
        await run_penalties(conn, Period(2019, 3))
    cold = await service_id(api, "cold_water")
    old = await api.ok("post", "/api/meters", {"service_id": cold, "serial": "ХВ-1", "account_id": 1,
                                               "installed_on": "2018-01-01", "initial_reading": "0.5"})
    await api.ok("post", "/api/meters", {"service_id": cold, "serial": "ХВ-9", "account_id": 2,
                                         "installed_on": "2018-01-01"})
    for day, value in (("2018-02-01", "3.25"), ("2018-03-01", "900"), ("2018-03-02", "-1"), ("2018-04-01", "9")):
        await api.ok("post", f"/api/meters/{old['id']}/readings", {"read_on": day, "value": value})
    act = await api.ok("post", f"/api/meters/{old['id']}/replace", {
        "removed_on": "2018-05-15", "final_reading": "12.125", "serial": "ХВ-2", "verified_until": "2019-01-01"})
    await api.ok("post", f"/api/meters/{act['new']['id']}/readings", {"read_on": "2018-06-01", "value": "2"})
    paid = await api.ok("post", "/api/payments", {"account_id": 1, "amount": "500.00", "penalty": "10.00",
                                                  "paid_on": "2019-04-05"})
    assert paid["penalty"] == "10.00"


async def test_the_card_is_one_statement_and_says_what_its_sections_say(client, billing_tenant, tx, core):
    api = Api(client, billing_tenant.headers)
    await fill_account_1(api, tx)
    statements: list[str] = []
    engine = await core.engines.engine(billing_tenant.tenant.db_key)

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    async with tx() as conn:
        await card.full_card(conn, 1)  # the first card of a process also reads the sections' column names
        expected = await reference_card(conn, 1)
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            found = await card.full_card(conn, 1)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
        assert len(statements) == 1
        assert all(found[section] for section in ("residents", "absences", "meters", "charges"))
        assert (len(found["parameters"]["history"]), found["readings"]["total"]) == (3, 6)
        assert found["penalties"]["paid"] == "10.00" and found["penalties"]["periods"]
        assert encode_json(found) == encode_json(expected)

        narrow = await card.full_card(conn, 1, readings=2, charge_months=1)
        assert len(narrow["readings"]["items"]) == 2 and len(narrow["charges"]) == 1
        assert encode_json(narrow) == encode_json(await reference_card(conn, 1, readings=2, charge_months=1))
        assert encode_json(await card.full_card(conn, 3)) == encode_json(await reference_card(conn, 3))
        assert await card.full_card(conn, 999999) is None

    r = await api.get("/api/accounts/1/card")
    assert r.status_code == 200 and r.content == encode_json(expected)
