"""Month close with real PostgreSQL: each check finds its case (whole tenant and per division); a blocking
failure refuses the close with a Russian message; warnings need accept_warnings; a division's close refuses
changes on its accounts only; a whole-tenant close refuses changes, opens the next month, and corrections
still go to the open month as recalculation; reopen (admin only); audit rows; the realtime event.

Town: houses 1 and 2, two accounts each (ЛС1, ЛС2 in house 1; ЛС3, ЛС4 in house 2), one resident each,
cold water and sewage by norm; the month 2024-03 is open."""

from __future__ import annotations

import asyncio
from datetime import date as day
from decimal import Decimal

import pytest
from sqlalchemy import text

from aquabill.base.errors import PeriodClosed
from aquabill.billing_core.metering.reading_entry import add_reading
from aquabill.billing_core.month_close import close_period
from aquabill.billing_core.periods import Period
from aquabill.platform.jobs import store
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.api_helpers import Api, as_role
from tests.integration.billing_core.test_month_run import base_data

MARCH = "2024-03"


async def seed(conn, _tenant=None) -> None:
    await conn.execute(text("INSERT INTO settlements(kind, name) VALUES ('г.', 'Тестовск')"))
    await conn.execute(text("INSERT INTO streets(settlement_id, kind, name) VALUES (1, 'ул.', 'Речная')"))
    await conn.execute(text("INSERT INTO houses(street_id, number, improvement) VALUES (1, '1', 'full'), "
                            "(1, '2', 'full')"))
    await conn.execute(text("INSERT INTO premises(house_id, number, area_m2) "
                            "SELECT (n + 1) / 2, n::text, 40 + n FROM generate_series(1, 4) n"))
    await conn.execute(text("INSERT INTO accounts(number, premise_id, holder, opened_on) "
                            "SELECT 'ЛС' || n, n, 'Абонент ' || n, DATE '2020-01-01' FROM generate_series(1, 4) n"))
    await conn.execute(text("INSERT INTO residents(account_id, full_name, registered_from) "
                            "SELECT id, 'Житель ' || id, DATE '2020-01-01' FROM accounts"))
    await base_data(conn)
    await conn.execute(text("INSERT INTO meters(account_id, service_id, serial, digits, installed_on, verified_until) "
                            "SELECT a.id, s.id, 'ПУ-' || a.id, 5, DATE '2023-01-01', DATE '2030-01-01' "
                            "FROM accounts a, services s WHERE s.code = 'cold_water'"))
    await conn.execute(text("INSERT INTO periods(period, status, closed_at) VALUES "
                            "(DATE '2024-02-01', 'closed', now()), (DATE '2024-03-01', 'open', NULL)"))


@pytest.fixture
async def town(make_tenant):
    return await make_tenant(seed=seed)


class CloseApi(Api):
    async def put(self, url: str, json=None):
        return await self.client.put(url, headers=self.headers, json=json)


@pytest.fixture
def api(client, town):
    return CloseApi(client, town.headers)


@pytest.fixture
def tx(core, town):
    def open_tx(user_id=None):
        return tenant_transaction(core.engines, town.tenant, user_id)

    return open_tx


async def sql(tx, query: str, **params):
    async with tx() as conn:
        result = await conn.execute(text(query), params)
        return result.all() if result.returns_rows else None


async def bill(api: Api, period: str, *account_ids: int) -> list[dict]:
    out = []
    for account_id in account_ids:
        r = await api.ok("post", "/api/billing/runs", {"period": period, "scope": "account", "scope_id": account_id},
                         status=202)
        out.append(r["result"])
    return out


async def divisions(api: Api) -> tuple[int, int]:
    north = await api.ok("post", "/api/divisions", {"code": "north", "name": "Северный участок", "house_ids": [1]})
    south = await api.ok("post", "/api/divisions", {"code": "south", "name": "Южный участок", "house_ids": [2]})
    assert north["house_ids"] == [1] and south["house_ids"] == [2]
    return north["id"], south["id"]


def by_code(check_run: dict) -> dict[str, dict]:
    return {r["code"]: r for r in check_run["results"]}


async def test_each_check_finds_its_case(api, tx, town):
    north, south = await divisions(api)
    await bill(api, MARCH, 1, 2, 3)  # ЛС4 stays unbilled
    # a negative volume on ЛС1 (a recalculation's negative volume is fine)
    await sql(tx, "INSERT INTO charges(account_id, service_id, period, method, volume, amount) "
                  "SELECT 1, id, DATE '2024-03-01', 'substitute', -1.5, -60 FROM services WHERE code = 'cold_water'")
    await sql(tx, "INSERT INTO charges(account_id, service_id, period, method, volume, amount, corrects_period) "
                  "SELECT 2, id, DATE '2024-03-01', 'recalculation', -2, -80, DATE '2024-02-01' "
                  "FROM services WHERE code = 'cold_water'")
    # ЛС2's meter expired before March yet billed by meter; ЛС3's expired too but billed by norm
    await sql(tx, "UPDATE meters SET verified_until = DATE '2024-01-31' WHERE account_id IN (2, 3)")
    await sql(tx, "UPDATE charges SET method = 'meter' WHERE account_id = 2 AND period = DATE '2024-03-01' "
                  "AND method = 'norm' AND service_id = (SELECT id FROM services WHERE code = 'cold_water')")
    # payments: one through the API (allocated whole), one identified without allocation, an old unidentified one
    await api.ok("post", "/api/payments", {"account_id": 3, "amount": "100.00", "paid_on": "2024-03-10"})
    await sql(tx, "INSERT INTO payments(agent_id, source, paid_on, amount, account_id, status) "
                  "SELECT id, 'manual', DATE '2024-03-11', 250, 1, 'identified' FROM payment_agents WHERE code = 'manual'")
    await sql(tx, "INSERT INTO payments(agent_id, source, paid_on, amount, account_text, status, reason) "
                  "SELECT id, 'manual', DATE '2024-03-05', 77.70, '999', 'unidentified', 'не найден' "
                  "FROM payment_agents WHERE code = 'manual'")
    # a run of March still running and one still queued
    await sql(tx, "INSERT INTO billing_runs(period, scope, status) VALUES (DATE '2024-03-01', 'tenant', 'running')")
    async with tx() as conn:
        await store.create(conn, "billing.run", "Расчёт", {"period": MARCH, "scope": "tenant"}, None)
        await store.create(conn, "billing.run", "Расчёт", {"period": "2024-04", "scope": "tenant"}, None)

    run = await api.ok("post", f"/api/month-close/{MARCH}/checks", {}, status=200)
    found = by_code(run)
    assert run["outcome"] == "block"
    assert (found["unbilled_accounts"]["count"], found["unbilled_accounts"]["sample"]) == (1, ["л/с ЛС4"])
    assert found["unbilled_accounts"]["status"] == "block"
    assert found["unbilled_accounts"]["message"] == "1 лицевой счёт без начислений за период: л/с ЛС4"
    assert found["negative_volumes"]["count"] == 1 and "л/с ЛС1" in found["negative_volumes"]["sample"][0]
    assert found["overdue_verification"]["count"] == 1
    assert found["overdue_verification"]["sample"] == ["ПУ № ПУ-2 (л/с ЛС2, поверка до 31.01.2024)"]
    assert found["overdue_verification"]["status"] == "warn"
    unallocated = found["unallocated_payments"]
    assert unallocated["count"] == 1 and "л/с ЛС1: не распределено 250.00 руб." in unallocated["sample"][0]
    old = found["old_unidentified_payments"]
    assert old["count"] == 1 and "от 05.03.2024 на 77.70 руб." in old["sample"][0] and "старше 5 дн." in old["message"]
    runs = found["unfinished_runs"]
    assert runs["count"] == 2 and runs["status"] == "block" and "в очереди" in runs["sample"][1]
    # stored, and shown in the state
    state = await api.ok("get", f"/api/month-close/{MARCH}")
    assert state["status"] == "open" and state["checks"][0]["id"] == run["id"]
    assert (await sql(tx, "SELECT outcome FROM close_check_runs"))[0].outcome == "block"

    # per division: house 1 (north) has ЛС1's negative volume and payment, house 2 (south) the unbilled ЛС4
    n = by_code(await api.ok("post", f"/api/month-close/{MARCH}/checks", {"division_id": north}, status=200))
    s = by_code(await api.ok("post", f"/api/month-close/{MARCH}/checks", {"division_id": south}, status=200))
    assert (n["unbilled_accounts"]["count"], s["unbilled_accounts"]["count"]) == (0, 1)
    assert (n["negative_volumes"]["count"], s["negative_volumes"]["count"]) == (1, 0)
    assert (n["overdue_verification"]["count"], s["overdue_verification"]["count"]) == (1, 0)
    assert (n["unallocated_payments"]["count"], s["unallocated_payments"]["count"]) == (1, 0)
    assert n["old_unidentified_payments"]["count"] == s["old_unidentified_payments"]["count"] == 1  # tenant-wide

    # configuration: N days, a check switched off, a warning made blocking
    config = await api.ok("put", "/api/month-close/checks", {"checks": [
        {"code": "old_unidentified_payments", "parameter": 3650},
        {"code": "negative_volumes", "enabled": False},
        {"code": "unallocated_payments", "blocking": True}]}, status=200)
    items = {c["code"]: c for c in config["items"]}
    assert items["old_unidentified_payments"]["parameter"] == 3650 and not items["negative_volumes"]["enabled"]
    again = by_code(await api.ok("post", f"/api/month-close/{MARCH}/checks", {}, status=200))
    assert again["old_unidentified_payments"]["count"] == 0 and again["negative_volumes"]["status"] == "skip"
    assert again["unallocated_payments"]["status"] == "block"
    r = await api.client.put("/api/month-close/checks", headers=api.headers,
                             json={"checks": [{"code": "unbilled_accounts", "parameter": 3}]})
    assert r.status_code == 422 and "нет параметра" in r.json()["error"]["message"]
    r = await api.post(f"/api/month-close/{MARCH}/checks", {"division_id": 999})
    assert r.status_code == 404 and r.json()["error"]["message"] == "Подразделение не найдено"
    assert (await api.post("/api/month-close/2024-13/checks", {})).status_code == 422


async def test_blocking_refuses_warnings_need_acceptance_then_close(api, tx, town, core):
    await bill(api, MARCH, 1, 2, 3)
    r = await api.post(f"/api/month-close/{MARCH}/close", {})
    assert r.status_code == 409, r.text
    message = r.json()["error"]["message"]
    assert message.startswith("Период нельзя закрыть: не пройдены обязательные проверки.")
    assert "Лицевые счета без начислений за период: 1 лицевой счёт без начислений за период: л/с ЛС4." in message
    assert (await sql(tx, "SELECT status FROM periods WHERE period = DATE '2024-03-01'"))[0].status == "open"
    assert not await sql(tx, "SELECT 1 FROM period_closes") and not await sql(tx, "SELECT 1 FROM close_check_runs")

    await bill(api, MARCH, 4)
    await sql(tx, "INSERT INTO payments(agent_id, source, paid_on, amount, account_text, status, reason) "
                  "SELECT id, 'manual', DATE '2024-03-05', 10, '999', 'unidentified', '' "
                  "FROM payment_agents WHERE code = 'manual'")
    r = await api.post(f"/api/month-close/{MARCH}/close", {})
    assert r.status_code == 409 and "подтвердите" in r.json()["error"]["message"], r.text
    assert r.json()["error"]["fields"][0]["field"] == "accept_warnings"
    assert (await api.post("/api/month-close/2024-05/close", {})).status_code == 409  # not started

    closed = await api.ok("post", f"/api/month-close/{MARCH}/close", {"accept_warnings": True}, status=200)
    assert closed["outcome"] == "warn" and closed["next_period"] == "2024-04" and closed["division"] is None
    periods = dict(await sql(tx, "SELECT to_char(period, 'YYYY-MM'), status FROM periods"))
    assert periods == {"2024-02": "closed", "2024-03": "closed", "2024-04": "open"}
    history = await sql(tx, "SELECT action, warnings_accepted, created_by FROM period_closes")
    assert [tuple(h) for h in history] == [("close", True, 1)]
    audited = {r.table_name for r in await sql(tx, "SELECT table_name FROM audit_log WHERE user_id = 1")}
    assert {"periods", "period_closes", "close_check_runs"} <= audited
    replay = await core.redis.zrange(core.keys.events_replay(town.tenant.id), 0, -1)
    assert any(b'"period.closed"' in e and b'"2024-03"' in e for e in replay), replay
    r = await api.post(f"/api/month-close/{MARCH}/close", {"accept_warnings": True})
    assert r.status_code == 409 and r.json()["error"]["message"] == "Период 2024-03 уже закрыт"

    # the closed month refuses changes
    r = await api.post("/api/meters/1/readings", {"read_on": "2024-03-25", "value": "12"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "period_closed", r.text
    assert r.json()["error"]["message"].startswith("Период 2024-03 закрыт: показание на 25.03.2024 не принимается")
    r = await api.post("/api/payments", {"account_id": 1, "amount": "10.00", "paid_on": "2024-03-20"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "period_closed"
    # corrections go to the open month: a second resident found later, recalculated through a run of March
    await sql(tx, "INSERT INTO residents(account_id, full_name, registered_from) VALUES (1, 'Найден', DATE '2024-03-01')")
    [result] = await bill(api, MARCH, 1)
    assert result["recalculated"] == {MARCH: 2}
    rows = await sql(tx, "SELECT to_char(period, 'YYYY-MM') AS p, method, to_char(corrects_period, 'YYYY-MM') AS q, "
                         "amount FROM charges WHERE account_id = 1 AND method = 'recalculation'")
    assert {(r.p, r.method, r.q) for r in rows} == {("2024-04", "recalculation", MARCH)} and len(rows) == 2
    assert all(r.amount > 0 for r in rows)


async def test_division_close_refuses_its_accounts_only(api, tx, town, client):
    north, south = await divisions(api)
    await bill(api, MARCH, 1, 2, 3, 4)
    march_1 = await sql(tx, "SELECT sum(amount) AS s FROM charges WHERE account_id = 1 AND period = DATE '2024-03-01'")
    closed = await api.ok("post", f"/api/month-close/{MARCH}/close", {"division_id": north}, status=200)
    assert closed["division"]["name"] == "Северный участок" and closed["next_period"] is None
    state = await api.ok("get", f"/api/month-close/{MARCH}")
    assert state["status"] == "open"
    assert {d["code"]: d["status"] for d in state["divisions"]} == {"north": "closed", "south": "open"}

    # ЛС1 (house 1, north): refused; ЛС3 (house 2, south): accepted
    r = await api.post("/api/meters/1/readings", {"read_on": "2024-03-25", "value": "12"})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["message"].startswith(
        "Период 2024-03 закрыт по подразделению «Северный участок»: показание на 25.03.2024 не принимается")
    assert (await api.post("/api/meters/3/readings", {"read_on": "2024-03-25", "value": "12"})).status_code == 201
    r = await api.post("/api/accounts/2/parameters", {"kind": "residents", "value": 2, "valid_from": "2024-03-10"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "period_closed"
    assert (await api.post("/api/accounts/4/parameters", {"kind": "residents", "value": 2,
                                                          "valid_from": "2024-03-10"})).status_code == 201
    r = await api.post("/api/payments", {"account_id": 1, "amount": "10.00", "paid_on": "2024-03-20"})
    assert r.status_code == 409
    assert (await api.post("/api/payments", {"account_id": 3, "amount": "10.00", "paid_on": "2024-03-20"})).status_code == 201
    r = await api.post("/api/meters", {"service_id": 1, "serial": "Н-1", "account_id": 2, "installed_on": "2024-03-15"})
    assert r.status_code == 409
    resident = {"full_name": "Новый жилец", "registered_from": "2024-03-05"}
    assert (await api.post("/api/accounts/1/residents", resident)).status_code == 409
    assert (await api.post("/api/accounts/3/residents", resident)).status_code == 201
    absence = {"date_from": "2024-03-01", "date_to": "2024-03-20", "reason": "Отпуск"}
    assert (await api.post("/api/accounts/2/absences", absence)).status_code == 409
    assert (await api.post("/api/accounts/4/absences", absence)).status_code == 201
    one_off = {"period": MARCH, "service_id": 1, "basis": "account", "total": "100.00", "note": "Опломбировка"}
    r = await api.post("/api/billing/one-off-charges", {**one_off, "account_id": 2})
    assert r.status_code == 409 and "по подразделению «Северный участок»" in r.json()["error"]["message"]
    assert (await api.post("/api/billing/one-off-charges", {**one_off, "account_id": 4})).status_code == 201
    r = await api.post("/api/billing/one-off-charges", {**one_off, "basis": "area", "house_id": 1})
    assert r.status_code == 409
    # April is open for the north too
    assert (await api.post("/api/meters/1/readings", {"read_on": "2024-04-02", "value": "13"})).status_code == 201
    # a run of the open month leaves the closed division's charges as they were
    await sql(tx, "INSERT INTO residents(account_id, full_name, registered_from) VALUES (1, 'Найден', DATE '2024-03-01')")
    await bill(api, MARCH, 1)
    assert await sql(tx, "SELECT sum(amount) AS s FROM charges WHERE account_id = 1 "
                         "AND period = DATE '2024-03-01'") == march_1
    r = await api.post(f"/api/month-close/{MARCH}/close", {"division_id": north})
    assert r.status_code == 409 and "уже закрыт по подразделению" in r.json()["error"]["message"]

    # the whole month: every division closed, April started
    await api.ok("post", f"/api/month-close/{MARCH}/close", {"accept_warnings": True}, status=200)
    state = await api.ok("get", f"/api/month-close/{MARCH}")
    assert state["status"] == "closed" and {d["status"] for d in state["divisions"]} == {"closed"}
    assert [h["action"] for h in state["history"]] == ["close", "close"]

    # reopen: admins only, with a reason
    operator = await as_role(client, town, "operator")
    r = await operator.post(f"/api/month-close/{MARCH}/reopen", {"reason": "ошибка"})
    assert r.status_code == 403
    r = await api.post(f"/api/month-close/{MARCH}/reopen", {"reason": "  "})
    assert r.status_code == 422
    reopened = await api.ok("post", f"/api/month-close/{MARCH}/reopen", {"reason": "Пропущены показания"}, status=200)
    assert reopened["status"] == "open"
    state = await api.ok("get", f"/api/month-close/{MARCH}")
    assert state["status"] == "open" and {d["status"] for d in state["divisions"]} == {"open"}
    assert state["history"][0]["action"] == "reopen" and state["history"][0]["reason"] == "Пропущены показания"
    assert (await api.post("/api/meters/1/readings", {"read_on": "2024-03-26", "value": "12.5"})).status_code == 201
    # a division's month reopened alone
    await api.ok("post", f"/api/month-close/{MARCH}/close", {"division_id": south, "accept_warnings": True},
                 status=200)
    assert (await api.post("/api/meters/3/readings", {"read_on": "2024-03-27", "value": "13"})).status_code == 409
    await api.ok("post", f"/api/month-close/{MARCH}/reopen", {"division_id": south, "reason": "Акт сверки"}, status=200)
    assert (await api.post("/api/meters/3/readings", {"read_on": "2024-03-27", "value": "13"})).status_code == 201
    r = await api.post(f"/api/month-close/{MARCH}/reopen", {"division_id": south, "reason": "ещё раз"})
    assert r.status_code == 409 and "не закрыт по подразделению «Южный участок»" in r.json()["error"]["message"]
    r = await api.post("/api/month-close/2024-02/reopen", {"reason": "старый"})
    assert r.status_code == 200  # the latest closed month now is February


async def test_permissions(client, town, api):
    await bill(api, MARCH, 1, 2, 3, 4)
    viewer = await as_role(client, town, "viewer")
    operator = await as_role(client, town, "operator")
    assert (await viewer.post(f"/api/month-close/{MARCH}/checks", {})).status_code == 403
    r = await client.put("/api/month-close/checks", headers=operator.headers, json={"checks": []})
    assert r.status_code == 403
    assert (await operator.get("/api/month-close/checks")).status_code == 200
    run = await operator.ok("post", f"/api/month-close/{MARCH}/checks", {}, status=200)
    assert run["outcome"] == "pass"
    assert (await operator.ok("post", f"/api/month-close/{MARCH}/close", {}, status=200))["outcome"] == "pass"


async def test_close_waits_for_a_change_being_written(api, tx):
    """A reading being written holds its month (FOR SHARE): the division's close waits for it, and a reading
    written after the close is refused."""
    north, _ = await divisions(api)
    await bill(api, MARCH, 1, 2, 3, 4)
    async with tx(1) as writer:
        await add_reading(writer, 1, read_on=day(2024, 3, 20), value=Decimal("11"))

        async def close_north():
            async with tx(1) as conn:
                return await close_period(conn, Period(2024, 3), division_id=north, today=day(2024, 4, 2))

        closing = asyncio.create_task(close_north())
        await asyncio.sleep(0.5)
        assert not closing.done()  # waits for the writer's lock on the month
    result = await closing
    assert result["division"]["id"] == north
    assert len(await sql(tx, "SELECT 1 FROM readings WHERE meter_id = 1 AND read_on = DATE '2024-03-20'")) == 1
    with pytest.raises(PeriodClosed, match="по подразделению «Северный участок»"):
        async with tx(1) as conn:
            await add_reading(conn, 1, read_on=day(2024, 3, 21), value=Decimal("11.5"))
