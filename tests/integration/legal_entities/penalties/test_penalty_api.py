"""The 416-FZ penalties over the API and the pages: the accrual as a job, the contract's breakdown, the month's
list, refusals (bad period or day, a closed month, an unknown contract), the contract card's section and the
tenant's page."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import text

from tests.integration.billing_core.api_helpers import close_period, login_cookie, wait_job
from tests.integration.legal_entities.penalties.penalty_data import document, org_contract, pay


async def test_accrual_job_breakdown_and_month(api, tx, worker):
    mc = await org_contract(api, tx, "management_company")
    doc = await document(tx, mc, "123456.78", date(2021, 2, 10))
    await pay(tx, mc, date(2021, 4, 20), {doc: "50000.00"})
    r = await api.post("/api/legal/penalties", {"period": "2021-06", "on": "2021-06-20"})
    assert r.status_code == 202, r.text
    job = await wait_job(api, r.json()["job"]["id"])
    assert job["status"] == "done", job
    assert (job["kind"], job["title"]) == ("legal.penalties", "Пени юридических лиц (416-ФЗ)")
    assert (job["result"]["amount"], job["result"]["rows"]) == ("3302.14", 1)

    card = await api.ok("get", f"/api/legal/contracts/{mc['id']}/penalties")
    assert (card["total"], card["count"]) == ("3302.14", 1)
    x = card["items"][0]
    assert (x["document_id"], x["posted_period"], x["days"], x["amount"], x["category"]) == (
        doc, "2021-06", 129, "3302.14", "management_company")
    assert [(d["days"], d["fraction"], d["rate"], d["debt"], d["amount"]) for d in x["details"]] == [
        (60, "1/300", "4.50", "50000.00", "450.00"), (9, "1/170", "4.50", "50000.00", "119.12"),
        (60, "1/300", "5.50", "73456.78", "808.02"), (30, "1/170", "5.50", "73456.78", "712.96"),
        (39, "1/130", "5.50", "73456.78", "1212.04")]

    month = await api.ok("get", "/api/legal/penalties?period=2021-06")
    assert (month["amount"], month["contracts"], month["by_category"]) == (
        "3302.14", 1, {"management_company": "3302.14", "hoa": "0.00", "other": "0.00"})
    assert month["items"][0]["contract_id"] == mc["id"]


async def test_an_advance_pays_the_new_penalty(api, tx, worker):
    mc = await org_contract(api, tx, "management_company")
    doc = await document(tx, mc, "1000.00", date(2021, 2, 10), period=date(2021, 1, 1))
    await pay(tx, mc, date(2021, 4, 20), {doc: "1000.00"}, advance="500.00")
    r = await api.post("/api/legal/penalties", {"period": "2021-06", "on": "2021-06-20", "contract_id": mc["id"]})
    job = await wait_job(api, r.json()["job"]["id"])
    # 1000 × 4.5 × 60 / 30000 + 1000 × 4.5 × 9 / 17000 = 9 + 2.382353 = 11.38 (paid on day 69); the job then
    # lets the advance pay it
    assert job["status"] == "done", job
    assert (job["result"]["amount"], job["result"]["reallocated_contracts"],
            job["result"]["penalty_paid_from_advances"]) == ("11.38", 1, "11.38")
    async with tx() as conn:
        kinds = dict((await conn.execute(text(
            "SELECT kind, sum(amount) FROM contract_allocations WHERE contract_id = :c GROUP BY kind"),
            {"c": mc["id"]})).all())
    assert kinds == {"charge": Decimal("1000.00"), "penalty": Decimal("11.38"), "advance": Decimal("488.62")}


async def test_refusals(api, tx):
    mc = await org_contract(api, tx, "other")
    for body, status in [({"period": "2021-13", "on": "2021-06-20"}, 422),
                         ({"period": "2021-06", "on": "2010-01-01"}, 422),
                         ({"period": "2021-06", "on": "2021-07-02"}, 422),
                         ({"period": "2021-06", "on": "не дата"}, 400),
                         ({"period": "2021-06", "on": "2021-06-20", "contract_id": 2_000_000_000}, 404)]:
        r = await api.post("/api/legal/penalties", body)
        assert r.status_code == status, (body, r.text)
    await close_period(tx, "2020-01")
    r = await api.post("/api/legal/penalties", {"period": "2020-01", "on": "2020-01-31"})
    assert r.status_code == 409 and "закрыт" in r.text, r.text
    assert (await api.get("/api/legal/contracts/2000000000/penalties")).status_code == 404
    assert (await api.get("/api/legal/penalties?period=2021-99")).status_code == 422
    empty = await api.ok("get", f"/api/legal/contracts/{mc['id']}/penalties")
    assert (empty["total"], empty["items"]) == ("0.00", [])


async def test_pages(legal_client, tenant, api, tx, worker):
    mc = await org_contract(api, tx, "other")
    doc = await document(tx, mc, "1000.00", date(2026, 8, 10))
    await login_cookie(legal_client, tenant)
    page = await legal_client.get("/legal/penalties?period=2026-09")
    assert page.status_code == 200 and "Пени юридических лиц (416-ФЗ)" in page.text
    r = await legal_client.post("/legal/penalties", data={"period": "2026-09", "on": "2026-09-10"},
                                follow_redirects=False)
    assert r.status_code == 303, r.text
    job_id = r.headers["location"].split("job=")[1]
    assert (await wait_job(api, job_id))["status"] == "done"
    listed = await legal_client.get("/legal/penalties?period=2026-09")
    # 1000 × 9.5 (Decree 474, fixed) × 30 / 13000 = 21.923… → 21.92
    assert f"/legal/contracts/{mc['id']}#penalties" in listed.text and "21,92" in listed.text
    card = await legal_client.get(f"/legal/contracts/{mc['id']}")
    assert f'hx-get="/legal/contracts/{mc["id"]}/penalties"' in card.text
    section = await legal_client.get(f"/legal/contracts/{mc['id']}/penalties")
    assert section.status_code == 200 and "1/130" in section.text and "21,92" in section.text
    assert doc
    bad = await legal_client.post("/legal/penalties", data={"period": "2026-09", "on": "вчера"},
                                  follow_redirects=False)
    assert bad.status_code == 422 and "Дата расчёта" in bad.text
    assert (await legal_client.get("/legal/penalties?period=мусор")).status_code == 200
