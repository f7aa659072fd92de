"""End to end: CSV import → month run (API: one account at once, a house as a job; CLI) → export."""

import asyncio
import csv
import io
from decimal import Decimal as D

from tests.integration.billing_core.test_imports import cli

ACCOUNTS = """account_number;settlement;street;house;apartment;area_m2;residents;holder;opened_on
500001;г. Тестовск;ул. Озёрная;5;1;40;1;Иванов И. И.;2020-01-01
500002;г. Тестовск;ул. Озёрная;5;2;60;2;Петрова А. П.;2020-01-01
"""
TARIFFS = """service;tariff_group;price;valid_from
cold_water;population;40;2020-01-01
sewage;population;30;2020-01-01
"""
NORMS = """service;improvement;volume;valid_from
cold_water;full;5;2020-01-01
sewage;full;8;2020-01-01
"""
HOUSES = """settlement;street;house;built_year;floors;improvement
г. Тестовск;ул. Озёрная;5;1975;5;full
"""
METERS = """account_number;service;serial;digits;installed_on;initial_reading;verified_until;removed_on
500002;cold_water;ОЗ-2;5;2023-01-01;100;2030-01-01;
"""
READINGS = """serial;read_on;value;source
ОЗ-2;2024-03-31;110;import
ОЗ-2;2024-04-30;118.5;import
"""


async def _import(client, headers, kind, body):
    r = await client.post(f"/api/imports/{kind}", headers={**headers, "Content-Type": "text/csv"},
                          content=body.encode())
    assert r.status_code == 200, r.text
    assert not r.json()["errors"], r.json()
    return r.json()


async def _wait_job(client, headers, job_id):
    async with asyncio.timeout(30):
        while True:
            job = (await client.get(f"/api/jobs/{job_id}", headers=headers)).json()
            if job["status"] in ("done", "failed"):
                return job
            await asyncio.sleep(0.1)


async def test_import_bill_export(client, make_tenant, worker, settings):
    t = await make_tenant()
    h = t.headers
    for kind, body in (("houses", HOUSES), ("accounts", ACCOUNTS), ("tariffs", TARIFFS), ("norms", NORMS), ("meters", METERS),
                       ("readings", READINGS)):
        await _import(client, h, kind, body)
    accounts = {a["number"]: a["id"] for a in (await client.get("/api/accounts?q=5000", headers=h)).json()["items"]}
    # search by meter serial (prefix) finds the metered account only
    found = (await client.get("/api/accounts", params={"q": "ОЗ-"}, headers=h)).json()
    assert [a["number"] for a in found["items"]] == ["500002"] and found["total"] == 1
    # by address as people type it: a street, a house and a flat
    for q, numbers in (("ул. Озёрная, д. 5, кв. 2", ["500002"]), ("Озёрная 5-1", ["500001"]),
                       ("Озёрная, д. 5", ["500001", "500002"]), ("Озёрная 7", [])):
        found = (await client.get("/api/accounts", params={"q": q}, headers=h)).json()
        assert [a["number"] for a in found["items"]] == numbers, q

    # one account answers at once: 1 person by norm
    r = await client.post("/api/billing/runs", headers=h, json={"period": "2024-04", "scope": "account",
                                                                "scope_id": accounts["500001"]})
    assert r.status_code == 202, r.text
    assert r.json()["mode"] == "immediate" and r.json()["result"]["charges"] == 2
    # 5 m³ × 40 × 1.5 (no meter, installable) + 5 m³ × 30
    assert D(r.json()["result"]["amount"]) == D("450.00")

    # the whole tenant as a job with progress
    r = await client.post("/api/billing/runs", headers=h, json={"period": "2024-04"})
    assert r.status_code == 202 and r.json()["mode"] == "job"
    job = await _wait_job(client, h, r.json()["job"]["id"])
    assert job["status"] == "done", job
    assert job["result"]["accounts"] == 2 and job["result"]["missing_total"] == 0
    # metered 8.5 m³ × 40 = 340.00, sewage 8.5 × 30 = 255.00; plus 450.00 for the first account
    assert D(job["result"]["amount"]) == D("1045.00")

    charges = (await client.get("/api/billing/charges?period=2024-04", headers=h)).json()
    assert charges["total"] == 4 and D(charges["amount"]) == D("1045.00")
    metered = [c for c in charges["items"] if c["account_number"] == "500002"]
    assert {(c["service"], c["method"], c["volume"], c["amount"]) for c in metered} == {
        ("cold_water", "meter", "8.500", "340.00"), ("sewage", "meter", "8.500", "255.00")}  # money as strings

    exported = (await client.get("/api/exports/charges?period=2024-04", headers=h)).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(exported), delimiter=";"))
    assert sum(D(row["amount"]) for row in rows) == D("1045.00")
    assert {row["account_number"] for row in rows} == {"500001", "500002"}

    runs = (await client.get("/api/billing/runs", headers=h)).json()
    assert runs["total"] == 2 and runs["items"][0]["status"] == "done"

    # the CLI runs the same month again: an open period is recomputed, not doubled
    code, out, err = await cli(settings, "bill", t.tenant.slug, "--period", "2024-04")
    assert code == 0, err
    assert '"amount": "1045.00"' in out and "100.0%" in out
    again = (await client.get("/api/billing/charges?period=2024-04", headers=h)).json()
    assert again["total"] == 4 and D(again["amount"]) == D("1045.00")


async def test_billing_run_validation_and_permissions(client, make_tenant):
    t = await make_tenant()
    r = await client.post("/api/billing/runs", headers=t.headers, json={"period": "2024-13"})
    assert r.status_code == 422 and "Недопустимый расчётный период" in r.json()["error"]["message"]
    r = await client.post("/api/billing/runs", headers=t.headers, json={"period": "2024-04", "scope": "house"})
    assert r.status_code == 422 and "scope_id" in r.json()["error"]["message"]
    r = await client.post("/api/billing/runs", headers=t.headers,
                          json={"period": "2024-04", "scope": "account", "scope_id": 999999})
    assert r.status_code == 404
    await client.post("/api/users", headers=t.headers, json={"login": "op", "password": "operator-pw",
                                                             "roles": ["operator"]})
    token = (await client.post("/api/auth/login", json={"tenant": t.tenant.slug, "login": "op",
                                                        "password": "operator-pw"})).json()["token"]
    r = await client.post("/api/billing/runs", headers={"Authorization": f"Bearer {token}"}, json={"period": "2024-04"})
    assert r.status_code == 403
