"""The penalties API: a run as a job, rows, the account's penalty balance apart from its debt, storno,
key rates, deferrals, and permissions."""

from datetime import date

from sqlalchemy import text

from tests.integration.billing_core.api_helpers import Api, as_role, wait_job
from tests.integration.penalties.test_penalty_run import charge, flat_6


async def test_run_rows_balance_storno(client, penalty_tenant, tx, worker):
    api = Api(client, penalty_tenant.headers)
    async with tx() as conn:
        await flat_6(conn)
        await charge(conn, 1, date(2018, 12, 1), "3000.00")
        await charge(conn, 2, date(2018, 12, 1), "1000.00")
    r = await api.post("/api/penalties/runs", {"period": "2019-03"})
    assert r.status_code == 202, r.text
    job = await wait_job(api, r.json()["job"]["id"])
    assert job["status"] == "done", job
    # 3000 × 6 × 50 / 30000 = 30.00; 1000 × 6 × 50 / 30000 = 10.00
    assert (job["result"]["rows"], job["result"]["accounts"], job["result"]["amount"]) == (2, 2, "40.00")
    runs = await api.ok("get", "/api/penalties/runs")
    assert runs["items"][0]["status"] == "done" and runs["items"][0]["period"] == "2019-03"

    found = await api.ok("get", "/api/penalties?account_id=1&period=2019-03")
    assert [(x["month_of_origin"], x["amount"], x["days"], x["debt"]) for x in found["items"]] == [
        (None, "30.00", 80, "3000.00")]  # one row per account × period; by month: the breakdown
    assert found["amount"] == "30.00"
    page = await api.ok("get", "/api/penalties?period=2019-03&limit=1&offset=1")
    assert page["total"] == 2 and [x["account_id"] for x in page["items"]] == [2]

    # the month-of-origin detail of the account's row, on demand (default: the last run's period)
    detail = await api.ok("get", "/api/accounts/1/penalties/breakdown")
    assert (detail["period"], detail["total"], detail["account_number"]) == ("2019-03", "30.00", "ЛС1")
    assert [(x["month_of_origin"], x["debt"], x["rest"], x["days"], x["penalty"]) for x in detail["months"]] == [
        ("2018-12", "3000.00", "3000.00", 80, "30.00")]
    assert (await api.get("/api/accounts/999999/penalties/breakdown")).status_code == 404

    balance = await api.ok("get", "/api/accounts/1/balance")
    assert balance["debt"] == "3000.00" and balance["penalties"]["balance"] == "30.00"
    card = await api.ok("get", "/api/accounts/1/penalties")
    assert card["periods"] == [{"period": "2019-03", "accrued": "30.00", "storno": "0.00", "amount": "30.00"}]
    turnover = await api.ok("get", "/api/balances/turnover?from=2019-03&to=2019-03")
    assert turnover["penalties"] == {"opening": "0.00", "charged": "40.00", "storno": "0.00", "paid": "0.00",
                                     "closing": "40.00"}
    assert turnover["totals"]["closing"] == "4000.00"  # the main balance has no penalty in it

    r = await api.post("/api/penalties/storno", {"penalty_id": found["items"][0]["id"], "reason": ""})
    assert r.status_code == 422, r.text
    done = await api.ok("post", "/api/penalties/storno", {"penalty_id": found["items"][0]["id"],
                                                          "reason": "Заявление абонента"})
    assert (done["rows"], done["amount"]) == (1, "-30.00")
    r = await api.post("/api/penalties/storno", {"penalty_id": found["items"][0]["id"], "reason": "ещё"})
    assert r.status_code == 409, r.text
    assert (await api.ok("get", "/api/accounts/1/penalties"))["balance"] == "0.00"
    history = await api.ok("get", f"/api/audit/penalty_stornos/{done['id']}")
    assert history["items"], history


async def test_run_of_a_closed_period_fails_clearly(client, penalty_tenant, tx, worker):
    api = Api(client, penalty_tenant.headers)
    async with tx() as conn:
        await conn.execute(text("INSERT INTO periods(period, status, closed_at) VALUES (DATE '2019-03-01', 'closed', "
                                "now())"))
    r = await api.post("/api/penalties/runs", {"period": "2019-03"})
    job = await wait_job(api, r.json()["job"]["id"])
    assert job["status"] == "failed" and "2019-03 закрыт" in str(job["error"]), job
    r = await api.post("/api/penalties/runs", {"period": "2019-13"})
    assert r.status_code == 422, r.text


async def test_key_rates_and_deferrals(client, penalty_tenant):
    api = Api(client, penalty_tenant.headers)
    rates = await api.ok("get", "/api/key-rates")
    assert rates["items"][0] == {"id": rates["items"][0]["id"], "valid_from": "2026-07-27", "rate": "14.00",
                                 "source": "Банк России"}
    added = await api.ok("post", "/api/key-rates", {"valid_from": "2026-09-14", "rate": "13.5", "source": "ЦБ"})
    assert added["rate"] == "13.5"
    r = await api.post("/api/key-rates", {"valid_from": "2026-09-14", "rate": "13"})
    assert r.status_code == 409, r.text
    d = await api.ok("post", "/api/penalty-deferrals", {"scope": "houses", "house_ids": [2], "date_from": "2026-01-01",
                                                        "date_to": "2026-03-31", "reason": "Решение № 5"})
    assert (d["scope"], d["house_ids"]) == ("houses", [2])
    r = await api.post("/api/penalty-deferrals", {"scope": "houses", "house_ids": [999], "date_from": "2026-01-01",
                                                  "date_to": "2026-03-31", "reason": "x"})
    assert r.status_code == 404, r.text
    r = await api.post("/api/penalty-deferrals", {"scope": "all", "date_from": "2026-04-01",
                                                  "date_to": "2026-03-31", "reason": "x"})
    assert r.status_code == 422, r.text
    assert [x["id"] for x in (await api.ok("get", "/api/penalty-deferrals"))["items"]] == [d["id"]]


async def test_permissions(client, penalty_tenant):
    viewer = await as_role(client, penalty_tenant, "viewer")
    assert (await viewer.get("/api/penalties")).status_code == 200
    r = await viewer.post("/api/penalties/runs", {"period": "2019-03"})
    assert r.status_code == 403, r.text
    operator = await as_role(client, penalty_tenant, "operator")
    assert (await operator.get("/api/key-rates")).status_code == 200
