"""The month's calculation of legal entities (November 2026 unless said otherwise): exact volumes and kopecks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from sqlalchemy import text

from aquabill.legal_entities.calc.explain import explain
from aquabill.legal_entities.calc.run import run_month
from tests.integration.legal_entities.calc.conftest import (
    add_meter,
    add_point,
    lines,
    make_contract,
    reading,
)

NOV = date(2026, 11, 1)


def brief(rows: list[dict]) -> list[tuple]:
    return [(r["service"], r["method"], r["date_from"].day, r["date_to"].day, r["volume"], r["price"], r["amount"])
            for r in rows]


async def test_meter_readings_on_the_months_edges(tx):
    async with tx() as conn:
        cid = await make_contract(conn, kind="cold_water")
        m = await add_meter(conn, await add_point(conn, cid, metered=True), date(2026, 1, 1), initial="0")
        await reading(conn, m, date(2026, 10, 31), "1100")
        await reading(conn, m, date(2026, 11, 30), "1234.5")
        result = await run_month(conn, NOV, contract_id=cid)
        rows = await lines(conn, cid)
    assert brief(rows) == [("cold_water", "meter", 1, 30, D("134.500"), D("55.5000"), D("7464.75"))]
    assert result["amount"] == D("7464.75") and result["lines"] == 1 and result["contracts"] == 1
    assert explain(rows[0]["method"], rows[0]["details"]).startswith(
        f"По прибору учёта № {rows[0]['details']['serial']}: 1\u00a0234,5 − 1\u00a0100,0 = 134,5 м³")


async def test_meter_readings_inside_the_month_are_prorated_by_days(tx):
    async with tx() as conn:
        cid = await make_contract(conn, kind="cold_water")
        m = await add_meter(conn, await add_point(conn, cid, metered=True), date(2026, 1, 1))
        await reading(conn, m, date(2026, 10, 20), "100")
        await reading(conn, m, date(2026, 11, 10), "142")  # 21 days, 10 of them in November: 20 m³
        await reading(conn, m, date(2026, 12, 5), "192")  # 25 days, 20 of them in November: 40 m³
        await run_month(conn, NOV, contract_id=cid)
        rows = await lines(conn, cid)
    assert brief(rows) == [("cold_water", "meter", 1, 10, D("20.000"), D("55.5000"), D("1110.00")),
                           ("cold_water", "meter", 11, 30, D("40.000"), D("55.5000"), D("2220.00"))]


async def test_unmetered_point_by_throughput_capacity(tx):
    async with tx() as conn:
        cid = await make_contract(conn, kind="cold_water")
        await add_point(conn, cid, diameter=25)
        await run_month(conn, NOV, contract_id=cid)
        rows = await lines(conn, cid)
    # π × 0.025² / 4 × 1.2 m/s × 86 400 s = 50.894 m³ a day × 30 days
    assert brief(rows) == [("cold_water", "capacity", 1, 30, D("1526.820"), D("55.5000"), D("84738.51"))]
    assert "пропускной способности трубы Ø 25 мм" in explain("capacity", rows[0]["details"])


async def test_failed_meter_by_average_then_capacity(tx):
    async with tx() as conn:
        cid = await make_contract(conn, kind="cold_water")
        m = await add_meter(conn, await add_point(conn, cid, metered=True, diameter=20), date(2026, 1, 1),
                            failed_on=date(2026, 11, 11))
        await reading(conn, m, date(2026, 6, 30), "362")  # 181 days × 2 m³
        await reading(conn, m, date(2026, 10, 31), "608")  # 123 days × 2 m³
        await run_month(conn, NOV, contract_id=cid)
        nov = await lines(conn, cid)
        await run_month(conn, date(2027, 1, 1), contract_id=cid)
        jan = await lines(conn, cid, date(2027, 1, 1))
    # November: no reading after 31.10 for 10 days (average), faulty from 11.11 (average, 60 days at most)
    assert brief(nov) == [("cold_water", "average", 1, 10, D("20.000"), D("55.5000"), D("1110.00")),
                          ("cold_water", "average", 11, 30, D("40.000"), D("55.5000"), D("2220.00"))]
    assert nov[0]["details"]["reason"] == "no_readings" and nov[1]["details"]["reason"] == "failed"
    assert nov[1]["details"]["avg_daily"] == 2.0 and nov[1]["details"]["basis_days"] == 304
    # January: the 60 days end on 09.01; from 10.01 the capacity of Ø 20 mm (32.572 m³ a day × 22 days)
    assert brief(jan) == [("cold_water", "average", 1, 9, D("18.000"), D("55.5000"), D("999.00")),
                          ("cold_water", "capacity", 10, 31, D("716.584"), D("55.5000"), D("39770.41"))]
    assert "Среднесуточный объём" in explain("average", nov[1]["details"])


async def test_sewage_from_the_sites_water_with_a_share(tx):
    async with tx() as conn:
        cid = await make_contract(conn, kind="combined")
        m = await add_meter(conn, await add_point(conn, cid, metered=True), date(2026, 1, 1))
        await add_point(conn, cid, "discharge", share="0.9")
        await reading(conn, m, date(2026, 10, 31), "1100")
        await reading(conn, m, date(2026, 11, 30), "1234.5")
        await run_month(conn, NOV, contract_id=cid)
        rows = await lines(conn, cid)
    assert brief(rows) == [("cold_water", "meter", 1, 30, D("134.500"), D("55.5000"), D("7464.75")),
                           ("sewage", "sewage", 1, 30, D("121.050"), D("40.0000"), D("4842.00"))]
    assert "134,5 × 0,9 = 121,05 м³" in explain("sewage", rows[1]["details"])


async def test_sub_subscriber_is_deducted_never_below_zero(tx):
    async with tx() as conn:
        main = await make_contract(conn, kind="cold_water")
        sub = await make_contract(conn, kind="cold_water")
        mp = await add_point(conn, main, metered=True)
        sp = await add_point(conn, sub, metered=True, name="Ввод арендатора")
        m1, m2 = await add_meter(conn, mp, date(2026, 1, 1)), await add_meter(conn, sp, date(2026, 1, 1))
        for meter, value in ((m1, "134.5"), (m2, "30")):
            await reading(conn, meter, date(2026, 10, 31), "0")
            await reading(conn, meter, date(2026, 11, 30), value)
        await conn.execute(text(
            "INSERT INTO contract_point_subs(point_id, sub_point_id, valid_from) VALUES (:p, :s, '2026-01-01')"),
            {"p": mp, "s": sp})
        await run_month(conn, NOV, contract_id=main)
        rows = await lines(conn, main)
        await run_month(conn, NOV, contract_id=sub)
        sub_rows = await lines(conn, sub)
        # the sub-subscriber's volume grows larger than the main point's: the deduction stops at zero
        await conn.execute(text("UPDATE readings SET value = 150 WHERE meter_id = :m AND read_on = '2026-11-30'"),
                           {"m": m2})
        await run_month(conn, NOV, contract_id=main)
        capped = await lines(conn, main)
    assert brief(rows) == [("cold_water", "meter", 1, 30, D("134.500"), D("55.5000"), D("7464.75")),
                           ("cold_water", "sub_deduction", 1, 30, D("-30.000"), D("55.5000"), D("-1665.00"))]
    assert "Ввод арендатора" in explain("sub_deduction", rows[1]["details"])
    assert brief(sub_rows) == [("cold_water", "meter", 1, 30, D("30.000"), D("55.5000"), D("1665.00"))]
    assert brief(capped)[1] == ("cold_water", "sub_deduction", 1, 30, D("-134.500"), D("55.5000"), D("-7464.75"))
    assert capped[1]["details"]["capped"] is True


async def test_stormwater_and_a_missing_precipitation_month(tx):
    async with tx() as conn:
        cid = await make_contract(conn, kind="stormwater", area="1000", coefficient="0.5")
        await conn.execute(text("INSERT INTO stormwater_precipitation(month, mm) VALUES ('2026-11-01', 42.4)"))
        await run_month(conn, NOV, contract_id=cid)
        rows = await lines(conn, cid)
        result = await run_month(conn, date(2026, 10, 1), contract_id=cid)  # no precipitation for October
        october = await lines(conn, cid, date(2026, 10, 1))
    # 1 000 m² × 42.4 mm / 1000 × 0.5
    assert brief(rows) == [("stormwater", "stormwater", 1, 30, D("21.200"), D("30.0000"), D("636.00"))]
    assert october == [] and result["lines"] == 0
    assert [p["message"] for p in result["problems"]] == [
        "Нет данных об осадках за 10.2026: поверхностные сточные воды не рассчитаны"]


async def test_tariff_changes_split_the_month(tx):
    async with tx() as conn:
        cid = await make_contract(conn, kind="cold_water")
        m = await add_meter(conn, await add_point(conn, cid, metered=True, group="budget"), date(2026, 1, 1))
        await reading(conn, m, date(2026, 6, 15), "1000")
        await reading(conn, m, date(2026, 7, 15), "1300")  # 10 m³ a day
        await reading(conn, m, date(2026, 8, 14), "1600")  # 10 m³ a day
        await run_month(conn, date(2026, 7, 1), contract_id=cid)
        rows = await lines(conn, cid)
    # the 'budget' tariff changes on 10.07: 40.00 → 44.00
    assert brief(rows) == [("cold_water", "meter", 1, 9, D("90.000"), D("40.0000"), D("3600.00")),
                           ("cold_water", "meter", 10, 15, D("60.000"), D("44.0000"), D("2640.00")),
                           ("cold_water", "meter", 16, 31, D("160.000"), D("44.0000"), D("7040.00"))]


async def test_interval_across_the_first_of_july_takes_each_months_tariff(tx):
    async with tx() as conn:
        cid = await make_contract(conn, kind="cold_water")
        m = await add_meter(conn, await add_point(conn, cid, metered=True), date(2026, 1, 1))
        await reading(conn, m, date(2026, 5, 31), "0")
        await reading(conn, m, date(2026, 7, 20), "500")  # 50 days × 10 m³: 30 in June, 20 in July
        await reading(conn, m, date(2026, 7, 31), "610")
        await run_month(conn, date(2026, 6, 1), contract_id=cid)
        await run_month(conn, date(2026, 7, 1), contract_id=cid)
        rows = await lines(conn, cid)
    assert [(r["period"].month, *t) for r, t in zip(rows, brief(rows), strict=True)] == [
        (6, "cold_water", "meter", 1, 30, D("300.000"), D("50.0000"), D("15000.00")),
        (7, "cold_water", "meter", 1, 20, D("200.000"), D("55.5000"), D("11100.00")),
        (7, "cold_water", "meter", 21, 31, D("110.000"), D("55.5000"), D("6105.00"))]


async def test_terminated_contract_is_billed_up_to_its_end(tx):
    async with tx() as conn:
        cid = await make_contract(conn, kind="cold_water", status="draft")
        await add_point(conn, cid, diameter=15)
        draft = await run_month(conn, NOV, contract_id=cid)
        await conn.execute(text("UPDATE contracts SET status = 'terminated', valid_to = '2026-11-15' WHERE id = :id"),
                           {"id": cid})
        await run_month(conn, NOV, contract_id=cid)
        rows = await lines(conn, cid)
    assert draft["contracts"] == 0 and draft["lines"] == 0
    # Ø 15 mm: 18.322 m³ a day × 15 days
    assert brief(rows) == [("cold_water", "capacity", 1, 15, D("274.830"), D("55.5000"), D("15253.07"))]


async def test_discharge_point_with_its_own_meter(tx):
    async with tx() as conn:
        cid = await make_contract(conn, kind="combined")
        water = await add_meter(conn, await add_point(conn, cid, metered=True), date(2026, 1, 1))
        sewer = await add_meter(conn, await add_point(conn, cid, "discharge", metered=True, share="0.5"),
                                date(2026, 1, 1))
        for meter, start, end in ((water, "1100", "1234.5"), (sewer, "500", "580.25")):
            await reading(conn, meter, date(2026, 10, 31), start)
            await reading(conn, meter, date(2026, 11, 30), end)
        await run_month(conn, NOV, contract_id=cid)
        rows = await lines(conn, cid)
    # the discharge point's own meter wins over the share of the water
    assert brief(rows) == [("cold_water", "meter", 1, 30, D("134.500"), D("55.5000"), D("7464.75")),
                           ("sewage", "meter", 1, 30, D("80.250"), D("40.0000"), D("3210.00"))]
