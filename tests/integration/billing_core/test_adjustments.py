"""One-off charges, storno and installment agreements, with numbers worked out by hand here.

Registry of the `billing_tenant` fixture: one house (id 1), accounts 1–3 (ЛС1–ЛС3) on premises of 41, 42 and
43 m² (126 m² in all), opened 01.01.2020.
"""

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import text

from aquabill.base.errors import Conflict, DomainError, NotFound, PeriodClosed
from aquabill.billing_core.adjustments import (
    OneOff,
    cancel_agreement,
    create_agreement,
    create_one_off,
    get_agreement,
    storno,
)
from aquabill.billing_core.periods import Period
from aquabill.billing_core.run.compute import Scope
from aquabill.billing_core.run.service import run_billing
from tests.integration.billing_core.api_helpers import Api, as_role, close_period, service_id

MARCH, APRIL, MAY, JUNE = (date(2024, m, 1) for m in (3, 4, 5, 6))


async def cold(conn) -> int:
    return (await conn.execute(text("SELECT id FROM services WHERE code = 'cold_water'"))).scalar_one()


async def set_periods(conn, **status):
    """set_periods(conn, p2024_02='closed', p2024_03='open')"""
    for key, st in status.items():
        p = date.fromisoformat(key[1:].replace("_", "-") + "-01")
        await conn.execute(text("INSERT INTO periods(period, status) VALUES (:p, :s) "
                                "ON CONFLICT (period) DO UPDATE SET status = :s"), {"p": p, "s": st})


async def rows(conn, where: str, params: dict | None = None) -> list[tuple]:
    return [tuple(r) for r in await conn.execute(text(
        "SELECT account_id, to_char(period, 'YYYY-MM'), method, amount, to_char(corrects_period, 'YYYY-MM'), "
        f"source FROM charges WHERE {where} ORDER BY account_id, period, id"), params or {})]


# ---- one-off charges ---------------------------------------------------------------------------------

async def test_total_spread_by_area_is_exact_to_the_kopeck(tx):
    """1000.00 × 41/126 = 325.396…, × 42/126 = 333.333…, × 43/126 = 341.269…: cut down 325.39 + 333.33 + 341.26
    = 999.98; the 2 kopecks left go to the largest remainders (.968… and .698… kopecks: ЛС3 and ЛС1)."""
    async with tx() as conn:
        svc = await cold(conn)
        doc = OneOff(Period(2024, 3), svc, "area", house_id=1, total=D("1000.00"), note="Промывка сетей")
        preview = await create_one_off(conn, doc, dry_run=True)
        assert (await conn.execute(text("SELECT count(*) FROM charges"))).scalar_one() == 0
        assert preview["id"] is None and preview["accounts"] == 3 and preview["amount"] == D("1000.00")
        made = await create_one_off(conn, doc)
        posted = await rows(conn, "source = 'one_off' AND source_id = :d", {"d": made["id"]})
        stored = (await conn.execute(text("SELECT amount, accounts, basis, note FROM one_off_charges"))).one()
    assert [r["amount"] for r in preview["rows"]] == [D("325.40"), D("333.33"), D("341.27")]
    assert [(r["account_number"], r["weight"]) for r in made["rows"]] == [
        ("ЛС1", D("41.00")), ("ЛС2", D("42.00")), ("ЛС3", D("43.00"))]
    assert posted == [(1, "2024-03", "one_off", D("325.40"), None, "one_off"),
                      (2, "2024-03", "one_off", D("333.33"), None, "one_off"),
                      (3, "2024-03", "one_off", D("341.27"), None, "one_off")]
    assert sum(r[3] for r in posted) == D("1000.00")
    assert tuple(stored) == (D("1000.00"), 3, "area", "Промывка сетей")


async def test_negative_total_spread_and_rate_by_area(tx):
    """−100.00: exact 32.539…, 33.333…, 34.126… → 32.53 + 33.33 + 34.12 = 99.98, +1 kopeck to ЛС1 (.968) and
    ЛС3 (.698). A rate of 10.50 ₽/m²: 430.50, 441.00, 451.50."""
    async with tx() as conn:
        svc = await cold(conn)
        credit = await create_one_off(conn, OneOff(Period(2024, 3), svc, "area", total=D("-100.00")))
        by_rate = await create_one_off(conn, OneOff(Period(2024, 3), svc, "area", house_id=1, rate=D("10.5")))
    assert [r["amount"] for r in credit["rows"]] == [D("-32.54"), D("-33.33"), D("-34.13")]
    assert credit["amount"] == D("-100.00")
    assert [r["amount"] for r in by_rate["rows"]] == [D("430.50"), D("441.00"), D("451.50")]
    assert by_rate["amount"] == D("1323.00") and by_rate["total"] is None


async def test_spread_by_residents_counts_registered_else_the_parameter(tx):
    """On 31.03.2024: ЛС1 two registered (a third left on 15.03), ЛС2 nobody registered but parameter 3, ЛС3 one
    registered (its parameter 5 is ignored). Weights 2/3/1: 33.333…, 50, 16.666… → 33.33 + 50.00 + 16.66 =
    99.99, the kopeck to ЛС3 (remainder .666…)."""
    async with tx() as conn:
        svc = await cold(conn)
        for acc, frm, to in ((1, "2020-01-01", None), (1, "2021-05-01", None), (1, "2020-01-01", "2024-03-15"),
                             (3, "2022-01-01", None), (3, "2024-04-01", None)):
            await conn.execute(text("INSERT INTO residents(account_id, full_name, registered_from, registered_to) "
                                    "VALUES (:a, 'Житель', :f, :t)"),
                               {"a": acc, "f": date.fromisoformat(frm), "t": to and date.fromisoformat(to)})
        await conn.execute(text("INSERT INTO account_parameters(account_id, kind, value_num, valid_from) "
                                "VALUES (2, 'residents', 3, DATE '2023-01-01'), (3, 'residents', 5, DATE '2023-01-01')"))
        made = await create_one_off(conn, OneOff(Period(2024, 3), svc, "residents", house_id=1, total=D("100.00")))
    assert [(r["account_number"], r["weight"], r["amount"]) for r in made["rows"]] == [
        ("ЛС1", 2, D("33.33")), ("ЛС2", 3, D("50.00")), ("ЛС3", 1, D("16.67"))]
    assert made["amount"] == D("100.00")


async def test_one_account_and_refusals(tx):
    async with tx() as conn:
        svc = await cold(conn)
        await set_periods(conn, p2024_02="closed", p2024_03="open")
        made = await create_one_off(conn, OneOff(Period(2024, 3), svc, "account", account_id=2, total=D("150.00"),
                                                 note="Опломбировка"))
        assert await rows(conn, "source = 'one_off'") == [(2, "2024-03", "one_off", D("150.00"), None, "one_off")]
        note = (await conn.execute(text("SELECT note FROM charges WHERE source = 'one_off'"))).scalar_one()
        assert note == f"Разовое начисление № {made['id']}: Опломбировка"
        with pytest.raises(PeriodClosed, match="Период 2024-02 закрыт: разовое начисление за 2024-02"):
            await create_one_off(conn, OneOff(Period(2024, 2), svc, "area", house_id=1, total=D("10.00")))
        with pytest.raises(PeriodClosed):
            await create_one_off(conn, OneOff(Period(2024, 2), svc, "area", total=D("10.00")), dry_run=True)
        with pytest.raises(DomainError, match="с точностью до копейки"):
            await create_one_off(conn, OneOff(Period(2024, 3), svc, "area", total=D("10.005")))
        with pytest.raises(DomainError, match="либо сумму"):
            await create_one_off(conn, OneOff(Period(2024, 3), svc, "area", total=D("10"), rate=D("1")))
        with pytest.raises(NotFound, match="Дом не найден"):
            await create_one_off(conn, OneOff(Period(2024, 3), svc, "area", house_id=99, total=D("10")))
        with pytest.raises(NotFound, match="Лицевой счёт не найден"):
            await create_one_off(conn, OneOff(Period(2024, 3), svc, "account", account_id=99, total=D("10")))
        with pytest.raises(DomainError, match="Некому начислить"):  # nobody registered, no parameter
            await create_one_off(conn, OneOff(Period(2024, 3), svc, "residents", total=D("10")))
        assert (await conn.execute(text("SELECT count(*) FROM one_off_charges"))).scalar_one() == 1


async def test_closed_accounts_are_left_out_of_the_spread(tx):
    """ЛС3 closed on 29.02.2024: 90.00 over 41 + 42 m² → 44.457… / 45.542… → 44.45 + 45.54 = 89.99, ЛС1 +1 kopeck."""
    async with tx() as conn:
        svc = await cold(conn)
        await conn.execute(text("UPDATE accounts SET closed_on = DATE '2024-02-29' WHERE id = 3"))
        made = await create_one_off(conn, OneOff(Period(2024, 3), svc, "area", house_id=1, total=D("90.00")))
    assert [(r["account_number"], r["amount"]) for r in made["rows"]] == [("ЛС1", D("44.46")), ("ЛС2", D("45.54"))]


# ---- storno ------------------------------------------------------------------------------------------

async def _closed_february_charges(conn, svc):
    await set_periods(conn, p2024_02="closed", p2024_03="open")
    ids = (await conn.execute(text(
        "INSERT INTO charges(account_id, service_id, period, method, volume, tariff, amount, days) "
        "VALUES (1, :s, DATE '2024-02-01', 'norm', 5, 40, 200, 29), (1, :sew, DATE '2024-02-01', 'norm', 8, 30, 240, 29), "
        "(2, :s, DATE '2024-02-01', 'meter', 3.5, 40, 140, 29) RETURNING id"),
        {"s": svc, "sew": svc + 2})).scalars().all()
    return ids


async def test_storno_of_a_row_posts_a_negative_row_into_the_open_period_once(tx):
    async with tx() as conn:
        svc = await cold(conn)
        first, _, _ = await _closed_february_charges(conn, svc)
        done = await storno(conn, charge_id=first, note="Ошибочное начисление")
        assert done["count"] == 1 and done["amount"] == D("-200.00")
        row = done["rows"][0]
        assert (row["period"], row["method"], row["volume"], row["amount"], row["corrects_period"],
                row["storno_of"]) == ("2024-03", "storno", D("-5.000"), D("-200.00"), "2024-02", first)
        assert row["note"] == f"Сторно начисления № {first} за 02.2024: Ошибочное начисление"
        original = (await conn.execute(text("SELECT amount, volume, method FROM charges WHERE id = :i"),
                                       {"i": first})).one()
        assert tuple(original) == (D("200.00"), D("5.000"), "norm")
        with pytest.raises(Conflict, match=f"Начисление № {first} уже сторнировано"):
            await storno(conn, charge_id=first)
        with pytest.raises(DomainError, match="сама является сторно"):
            await storno(conn, charge_id=row["id"])
        with pytest.raises(NotFound):
            await storno(conn, charge_id=999999)
        # the bulk form takes the account's other rows of the month, skipping the one already reversed
        bulk = await storno(conn, account_id=1, period=Period(2024, 2))
        assert [r["amount"] for r in bulk["rows"]] == [D("-240.00")]
        with pytest.raises(Conflict, match="уже сторнированы"):
            await storno(conn, account_id=1, period=Period(2024, 2))
        assert await rows(conn, "method = 'storno'") == [
            (1, "2024-03", "storno", D("-200.00"), "2024-02", "storno"),
            (1, "2024-03", "storno", D("-240.00"), "2024-02", "storno")]


async def test_storno_needs_an_open_period_and_leaves_the_runs_rows_of_an_open_period_alone(tx):
    async with tx() as conn:
        svc = await cold(conn)
        await set_periods(conn, p2024_02="closed")
        charge = (await conn.execute(text(
            "INSERT INTO charges(account_id, service_id, period, method, amount) "
            "VALUES (1, :s, DATE '2024-02-01', 'norm', 100) RETURNING id"), {"s": svc})).scalar_one()
        with pytest.raises(Conflict, match="Нет открытого расчётного периода"):
            await storno(conn, charge_id=charge)
        await set_periods(conn, p2024_03="open")
        computed = (await conn.execute(text(
            "INSERT INTO charges(account_id, service_id, period, method, amount) "
            "VALUES (1, :s, DATE '2024-03-01', 'norm', 100) RETURNING id"), {"s": svc})).scalar_one()
        with pytest.raises(Conflict, match="Период 2024-03 открыт: начисления расчёта"):
            await storno(conn, charge_id=computed)
        with pytest.raises(DomainError, match="Укажите, что сторнировать"):
            await storno(conn)
        with pytest.raises(DomainError, match="Укажите период"):
            await storno(conn, account_id=1)


async def test_storno_of_a_one_off_document_in_its_open_period(tx):
    async with tx() as conn:
        svc = await cold(conn)
        await set_periods(conn, p2024_03="open")
        made = await create_one_off(conn, OneOff(Period(2024, 3), svc, "area", house_id=1, total=D("1000.00")))
        done = await storno(conn, one_off_id=made["id"])
        assert [(r["period"], r["amount"], r["corrects_period"]) for r in done["rows"]] == [
            ("2024-03", D("-325.40"), "2024-03"), ("2024-03", D("-333.33"), "2024-03"),
            ("2024-03", D("-341.27"), "2024-03")]
        # a re-run of the open period keeps both the one-off rows and their storno
        await run_billing(conn, Period(2024, 3))
        total = (await conn.execute(text(
            "SELECT count(*), sum(amount) FROM charges WHERE method IN ('one_off', 'storno')"))).one()
        assert tuple(total) == (6, D("0.00"))
        with pytest.raises(Conflict, match="уже сторнированы"):
            await storno(conn, one_off_id=made["id"])


# ---- installment agreements --------------------------------------------------------------------------

async def test_agreement_schedule_run_posting_and_cancel(tx):
    async with tx() as conn:
        await set_periods(conn, p2024_03="open")
        made = await create_agreement(conn, account_id=1, number="Р-15", signed_on=date(2024, 3, 10),
                                      debt=D("1000.00"), months=3, first_period=Period(2024, 4), note="Заявление")
        assert (made["period"], made["first_period"], made["status"], made["posted"], made["remaining"]) == (
            "2024-03", "2024-04", "active", D("0"), D("1000.00"))
        assert [(s["n"], s["period"], s["amount"], s["posted"]) for s in made["schedule"]] == [
            (1, "2024-04", D("333.33"), False), (2, "2024-05", D("333.33"), False), (3, "2024-06", D("333.34"), False)]
        assert await rows(conn, "method = 'installment'") == [
            (1, "2024-03", "installment", D("-1000.00"), None, "agreement")]

        # the run of April posts the April instalment of the accounts in its scope, once
        first = await run_billing(conn, Period(2024, 4), Scope("account", 1))
        await run_billing(conn, Period(2024, 4), Scope("account", 1))
        await run_billing(conn, Period(2024, 4), Scope("account", 2))  # another account: nothing for ЛС1
        await run_billing(conn, Period(2024, 4))
        april = await rows(conn, "method = 'installment' AND period = :p", {"p": APRIL})
        assert april == [(1, "2024-04", "installment", D("333.33"), None, "schedule")]
        run_id, note = (await conn.execute(text(
            "SELECT run_id, note FROM charges WHERE source = 'schedule'"))).one()
        assert run_id == first.run_id and note == "Рассрочка по соглашению № Р-15: платёж 1 из 3"
        await run_billing(conn, Period(2024, 5), Scope("house", 1))
        await close_periods(conn, MARCH, APRIL)

        cancelled = await cancel_agreement(conn, made["id"], cancelled_on=date(2024, 5, 20), note="Просрочка")
        assert (cancelled["status"], cancelled["cancelled_on"], cancelled["cancel_period"], cancelled["posted"]) == (
            "cancelled", date(2024, 5, 20), "2024-05", D("666.66"))
        assert [(s["period"], s["posted"]) for s in cancelled["schedule"]] == [("2024-04", True), ("2024-05", True)]
        assert [(c["period"], c["amount"]) for c in cancelled["charges"]] == [
            ("2024-03", D("-1000.00")), ("2024-05", D("333.34"))]
        with pytest.raises(Conflict, match="уже расторгнуто"):
            await cancel_agreement(conn, made["id"], cancelled_on=date(2024, 5, 21))
        await run_billing(conn, Period(2024, 6))  # the dropped June instalment is never posted
        all_rows = await rows(conn, "method = 'installment'")
    assert [(r[1], r[3], r[5]) for r in all_rows] == [
        ("2024-03", D("-1000.00"), "agreement"), ("2024-04", D("333.33"), "schedule"),
        ("2024-05", D("333.33"), "schedule"), ("2024-05", D("333.34"), "agreement")]
    assert sum(r[3] for r in all_rows) == 0


async def close_periods(conn, *periods):
    for p in periods:
        await conn.execute(text("UPDATE periods SET status = 'closed' WHERE period = :p"), {"p": p})


async def test_first_instalment_in_the_signing_month_is_posted_at_once_and_refusals(tx):
    async with tx() as conn:
        await set_periods(conn, p2024_02="closed", p2024_03="open")
        made = await create_agreement(conn, account_id=2, number="Р-1", signed_on=date(2024, 3, 1),
                                      debt=D("200.00"), months=3, first_period=Period(2024, 3))
        assert made["service"] == "cold_water"  # the first active service by default
        assert [(s["period"], s["amount"], s["posted"]) for s in made["schedule"]] == [
            ("2024-03", D("66.66"), True), ("2024-04", D("66.66"), False), ("2024-05", D("66.68"), False)]
        assert (made["posted"], made["remaining"]) == (D("66.66"), D("133.34"))
        march = await rows(conn, "account_id = 2 AND period = :p", {"p": MARCH})
        assert [(r[3], r[5]) for r in march] == [(D("-200.00"), "agreement"), (D("66.66"), "schedule")]
        await run_billing(conn, Period(2024, 3))  # a re-run of March does not post it again
        assert len(await rows(conn, "account_id = 2 AND period = :p", {"p": MARCH})) == 2
        assert (await get_agreement(conn, made["id"]))["posted"] == D("66.66")
        # instalment rows are not reversed one by one
        inst = (await conn.execute(text("SELECT id FROM charges WHERE source = 'schedule'"))).scalar_one()
        with pytest.raises(DomainError, match="расторгните соглашение"):
            await storno(conn, charge_id=inst)

        with pytest.raises(Conflict, match="Соглашение № Р-1 уже есть"):
            await create_agreement(conn, account_id=1, number="Р-1", signed_on=date(2024, 3, 1), debt=D("10"),
                                   months=1, first_period=Period(2024, 3))
        with pytest.raises(PeriodClosed, match="Период 2024-02 закрыт"):
            await create_agreement(conn, account_id=1, number="Р-2", signed_on=date(2024, 2, 20), debt=D("10"),
                                   months=2, first_period=Period(2024, 3))
        with pytest.raises(DomainError, match="не может быть раньше"):
            await create_agreement(conn, account_id=1, number="Р-3", signed_on=date(2024, 3, 20), debt=D("10"),
                                   months=2, first_period=Period(2024, 2))
        with pytest.raises(DomainError, match="меньше копейки"):
            await create_agreement(conn, account_id=1, number="Р-4", signed_on=date(2024, 3, 20), debt=D("0.02"),
                                   months=3, first_period=Period(2024, 4))
        with pytest.raises(NotFound):
            await create_agreement(conn, account_id=99, number="Р-5", signed_on=date(2024, 3, 20), debt=D("10"),
                                   months=3, first_period=Period(2024, 4))
        with pytest.raises(NotFound):
            await cancel_agreement(conn, 999, cancelled_on=date(2024, 3, 20))


# ---- over the API ------------------------------------------------------------------------------------

@pytest.fixture
def api(client, billing_tenant) -> Api:
    return Api(client, billing_tenant.headers)


async def test_adjustments_over_the_api(api, client, billing_tenant, tx):
    cold_id = await service_id(api, "cold_water")
    async with tx() as conn:
        await set_periods(conn, p2024_03="open")
    body = {"period": "2024-03", "service_id": cold_id, "basis": "area", "house_id": 1, "total": "1000.00",
            "note": "Замена ввода"}
    preview = await api.ok("post", "/api/billing/one-off-charges", {**body, "dry_run": True}, status=200)
    assert [r["amount"] for r in preview["rows"]] == ["325.40", "333.33", "341.27"] and preview["id"] is None
    made = await api.ok("post", "/api/billing/one-off-charges", body)
    assert made["amount"] == "1000.00" and made["accounts"] == 3
    listed = await api.ok("get", "/api/billing/one-off-charges?period=2024-03")
    assert listed["total"] == 1 and listed["items"][0]["id"] == made["id"]
    assert (await api.ok("get", "/api/billing/one-off-charges?account_id=2"))["total"] == 1
    got = await api.ok("get", f"/api/billing/one-off-charges/{made['id']}")
    assert [(r["account_number"], r["amount"], r["storno_id"]) for r in got["rows"]] == [
        ("ЛС1", "325.40", None), ("ЛС2", "333.33", None), ("ЛС3", "341.27", None)]
    assert (await api.get("/api/billing/one-off-charges/99999")).status_code == 404

    r = await api.post("/api/billing/one-off-charges", {**body, "total": "1,5"})
    assert r.status_code == 400
    r = await api.post("/api/billing/one-off-charges", {**body, "basis": "volume"})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "basis"
    await close_period(tx, "2024-02")
    r = await api.post("/api/billing/one-off-charges", {**body, "period": "2024-02"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "period_closed"
    assert "Период 2024-02 закрыт" in r.json()["error"]["message"]

    # storno of one row of the document, twice
    first = got["rows"][0]["id"]
    done = await api.ok("post", "/api/billing/storno", {"charge_id": first})
    assert done["rows"][0]["amount"] == "-325.40" and done["rows"][0]["corrects_period"] == "2024-03"
    r = await api.post("/api/billing/storno", {"charge_id": first})
    assert r.status_code == 409 and "уже сторнировано" in r.json()["error"]["message"]
    assert (await api.post("/api/billing/storno", {"charge_id": 999999})).status_code == 404
    assert (await api.post("/api/billing/storno", {})).status_code == 422
    rest = await api.ok("post", "/api/billing/storno", {"one_off_id": made["id"], "note": "Отмена"})
    assert [r["amount"] for r in rest["rows"]] == ["-333.33", "-341.27"]
    charges = await api.ok("get", "/api/billing/charges?period=2024-03")
    assert charges["amount"] == "0.00" and charges["total"] == 6

    # an agreement, its schedule, cancel
    agreement = await api.ok("post", "/api/billing/installments", {
        "account_id": 3, "number": "Р-7/2024", "signed_on": "2024-03-05", "debt": "1000.00", "months": 3,
        "first_period": "2024-04", "service_id": cold_id})
    assert [(s["period"], s["amount"]) for s in agreement["schedule"]] == [
        ("2024-04", "333.33"), ("2024-05", "333.33"), ("2024-06", "333.34")]
    r = await api.post("/api/billing/installments", {
        "account_id": 3, "number": "Р-7/2024", "signed_on": "2024-03-05", "debt": "10", "months": 1,
        "first_period": "2024-04"})
    assert r.status_code == 409
    run = await api.post("/api/billing/runs", {"period": "2024-04", "scope": "account", "scope_id": 3})
    assert run.status_code == 202, run.text
    got = await api.ok("get", f"/api/billing/installments/{agreement['id']}")
    assert [s["posted"] for s in got["schedule"]] == [True, False, False] and got["remaining"] == "666.67"
    listed = await api.ok("get", "/api/billing/installments?account_id=3&status=active")
    assert [a["id"] for a in listed["items"]] == [agreement["id"]]
    assert (await api.get("/api/billing/installments?status=odd")).status_code == 422
    cancelled = await api.ok("post", f"/api/billing/installments/{agreement['id']}/cancel",
                             {"cancelled_on": "2024-04-10"}, status=200)
    # the current open period is March: the rest (1000.00 − 333.33) returns there
    assert cancelled["status"] == "cancelled" and cancelled["charges"][-1] == {
        "id": cancelled["charges"][-1]["id"], "period": "2024-03", "amount": "666.67",
        "note": "Расторжение соглашения № Р-7/2024 от 10.04.2024: остаток долга возвращён"}
    r = await api.post(f"/api/billing/installments/{agreement['id']}/cancel")
    assert r.status_code == 409
    # the documents are audited with the acting user, the created_by is the caller
    history = (await api.ok("get", f"/api/audit/installment_agreements/{agreement['id']}"))["items"]
    assert [h["action"] for h in history] == ["insert", "update"] and history[0]["user_id"] == cancelled["created_by"]
    assert cancelled["created_by"] is not None
    assert (await api.ok("get", f"/api/audit/one_off_charges/{made['id']}"))["total"] == 1
    assert (await api.post("/api/billing/installments/99999/cancel")).status_code == 404
    assert (await api.get("/api/billing/installments/99999")).status_code == 404


async def test_permissions(client, billing_tenant):
    viewer = await as_role(client, billing_tenant, "viewer")
    operator = await as_role(client, billing_tenant, "operator")
    assert (await viewer.get("/api/billing/installments")).status_code == 200
    assert (await viewer.get("/api/billing/one-off-charges")).status_code == 200
    r = await viewer.post("/api/billing/storno", {"charge_id": 1})
    assert r.status_code == 403 and "Расчёт начислений" in r.json()["error"]["message"]
    assert (await viewer.post("/api/billing/installments/1/cancel")).status_code == 403
    assert (await operator.get("/api/billing/one-off-charges")).status_code == 403
