from datetime import date
from decimal import Decimal as D

from sqlalchemy import text

from aquabill.billing_core.metering.readings import NewReading, record_readings
from aquabill.billing_core.parameters import ParameterValue, history, set_parameters


async def test_parameter_history_is_kept_and_idempotent(tx):
    async with tx() as conn:
        r = await set_parameters(conn, [
            ParameterValue(1, "residents", date(2024, 1, 1), D(2)),
            ParameterValue(1, "residents", date(2024, 3, 15), D(3)),
            ParameterValue(1, "tariff_group", date(2024, 1, 1), value_text="population"),
        ])
        assert r == {"inserted": 3, "corrected": 0, "unchanged": 0}
        again = await set_parameters(conn, [ParameterValue(1, "residents", date(2024, 3, 15), D(3))])
        assert again == {"inserted": 0, "corrected": 0, "unchanged": 1}
        # a value inserted between the two closes the earlier one and is closed by the later one
        await set_parameters(conn, [ParameterValue(1, "residents", date(2024, 2, 1), D(1))])
        rows = [(h["valid_from"], h["valid_to"], h["value_num"]) for h in await history(conn, 1)
                if h["kind"] == "residents"]
    assert rows == [(date(2024, 1, 1), date(2024, 1, 31), D(2)), (date(2024, 2, 1), date(2024, 3, 14), D(1)),
                    (date(2024, 3, 15), None, D(3))]


async def test_readings_are_validated_and_kept(tx):
    async with tx() as conn:
        meter_id = (await conn.execute(text(
            "INSERT INTO meters(account_id, service_id, serial, digits, installed_on, initial_reading) "
            "SELECT 1, id, 'ХВ-001', 5, DATE '2024-01-10', 10 FROM services WHERE code = 'cold_water' "
            "RETURNING id"))).scalar_one()
        out = await record_readings(conn, [
            NewReading(meter_id, date(2024, 3, 25), D("21.5")),
            NewReading(meter_id, date(2024, 2, 25), D("15")),
            NewReading(meter_id, date(2024, 4, 25), D("3")),  # decrease, not a plausible rollover
            NewReading(999999, date(2024, 4, 25), D("3")),
        ], source="import")
        assert [(o.read_on, o.status, o.consumption) for o in out] == [
            (date(2024, 2, 25), "accepted", D("5")), (date(2024, 3, 25), "accepted", D("6.5")),
            (date(2024, 4, 25), "rejected", None), (date(2024, 4, 25), "rejected", None)]
        assert "меньше предыдущего" in out[2].reason and out[3].reason == "Счётчик не найден"
        again = await record_readings(conn, [NewReading(meter_id, date(2024, 3, 25), D("21.5"))], source="import")
        assert again[0].status == "duplicate"
        stored = (await conn.execute(text("SELECT status, count(*) FROM readings GROUP BY 1 ORDER BY 1"))).all()
    assert stored == [("accepted", 2), ("rejected", 1)]
