"""Discharge points the sewage-from-water rule cannot bill, as the demo builds them
(`aquabill/demo/organisations.py`, `_plan_sites`): a stormwater contract's «Ливневый выпуск» (Ø 200/300 mm, no
meter) is no sewage outlet — the contract is billed by area × precipitation × runoff only; a sewage-only contract's
«Выпуск № 1» (Ø 32–100 mm, no meter, no supply point on its site) is billed by its pipe's throughput capacity
(Decree 776, p. 16 formula; p. 24 for wastewater — see calc/rules.py for what was verified); without a diameter
it stays a problem. November 2026, exact volumes and kopecks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from sqlalchemy import text

from aquabill.legal_entities.calc.explain import explain
from aquabill.legal_entities.calc.run import run_month
from tests.integration.legal_entities.calc.conftest import add_meter, add_point, lines, make_contract, reading

NOV = date(2026, 11, 1)


def brief(rows: list[dict]) -> list[tuple]:
    return [(r["service"], r["method"], r["date_from"].day, r["date_to"].day, r["volume"], r["price"], r["amount"])
            for r in rows]


async def test_stormwater_contract_outlet_is_not_sewage(tx):
    async with tx() as conn:
        cid = await make_contract(conn, kind="stormwater", area="1000", coefficient="0.5")
        await add_point(conn, cid, "discharge", diameter=300, name="Ливневый выпуск")
        await conn.execute(text("INSERT INTO stormwater_precipitation(month, mm) VALUES ('2026-11-01', 42.4) "
                                "ON CONFLICT (month) DO NOTHING"))
        result = await run_month(conn, NOV, contract_id=cid)
        rows = await lines(conn, cid)
    # 1 000 m² × 42.4 mm / 1000 × 0.5 = 21.2 m³ × 30.00 ₽; the outlet gets no line and raises no problem
    assert brief(rows) == [("stormwater", "stormwater", 1, 30, D("21.200"), D("30.0000"), D("636.00"))]
    assert (result["problems"], result["lines"], result["amount"]) == ([], 1, D("636.00"))


async def test_sewage_only_outlet_without_meter_and_water_by_capacity(tx):
    async with tx() as conn:
        cid = await make_contract(conn, kind="sewage")
        await add_point(conn, cid, "discharge", diameter=32, name="Выпуск № 1")
        result = await run_month(conn, NOV, contract_id=cid)
        rows = await lines(conn, cid)
    # π × 0.032² / 4 × 1.2 m/s × 86 400 s = 83.384 m³ a day × 30 days × 40.00 ₽
    assert brief(rows) == [("sewage", "capacity", 1, 30, D("2501.520"), D("40.0000"), D("100060.80"))]
    assert result["problems"] == []
    assert rows[0]["details"]["reason"] == "no_water"
    assert explain("capacity", rows[0]["details"]) == (
        "По пропускной способности трубы Ø 32 мм (выпуск без прибора учёта сточных вод, водопроводного ввода на "
        "объекте нет): π × d² / 4 × 1,2 м/с × 24 ч = 83,384 м³/сут × 30 дн. "
        "(пост. Правительства РФ № 776, пп. 16, 24).")


async def test_outlet_by_capacity_until_its_meter_is_installed(tx):
    async with tx() as conn:
        cid = await make_contract(conn, kind="sewage")
        meter = await add_meter(conn, await add_point(conn, cid, "discharge", diameter=32, metered=True),
                                date(2026, 11, 16), initial="10")
        await reading(conn, meter, date(2026, 11, 30), "25.5")
        await run_month(conn, NOV, contract_id=cid)
        rows = await lines(conn, cid)
    # 1–15 November without the meter: 83.384 m³ × 15 days; 16–30 by the meter: 25.5 − 10
    assert brief(rows) == [("sewage", "capacity", 1, 15, D("1250.760"), D("40.0000"), D("50030.40")),
                           ("sewage", "meter", 16, 30, D("15.500"), D("40.0000"), D("620.00"))]


async def test_outlet_without_meter_water_and_diameter_is_a_problem(tx):
    async with tx() as conn:
        cid = await make_contract(conn, kind="sewage")
        await add_point(conn, cid, "discharge", diameter=None, name="Выпуск № 1")
        result = await run_month(conn, NOV, contract_id=cid)
        rows = await lines(conn, cid)
    assert rows == [] and result["lines"] == 0
    assert [p["message"] for p in result["problems"]] == [
        "Точка «Выпуск № 1»: на объекте нет водопроводного ввода, а у выпуска нет прибора учёта и не указан диаметр "
        "трубы — объём стоков не определить"]


async def test_outlet_with_water_on_its_site_stays_sewage_from_water(tx):
    """The capacity rule is only for a site without water: with a supply point the outlet takes the water's
    volume (the demo's combined contracts), whatever its diameter."""
    async with tx() as conn:
        cid = await make_contract(conn, kind="combined")
        water = await add_meter(conn, await add_point(conn, cid, metered=True), date(2026, 1, 1))
        await reading(conn, water, date(2026, 10, 31), "1100")
        await reading(conn, water, date(2026, 11, 30), "1234.5")
        await add_point(conn, cid, "discharge", diameter=100)
        result = await run_month(conn, NOV, contract_id=cid)
        rows = await lines(conn, cid)
    assert brief(rows) == [("cold_water", "meter", 1, 30, D("134.500"), D("55.5000"), D("7464.75")),
                           ("sewage", "sewage", 1, 30, D("134.500"), D("40.0000"), D("5380.00"))]
    assert result["problems"] == []
