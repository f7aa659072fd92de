"""The calculation through the API (a job run by the worker), its refusals, the precipitation, and the pages."""

from __future__ import annotations

import asyncio
import re
from datetime import date

import pytest
from sqlalchemy import text

from tests.integration.legal_entities.calc.conftest import add_meter, add_point, make_contract, reading
from tests.integration.legal_entities.test_pages import _sign_in


async def _wait_job(api, job_id: str) -> dict:
    async with asyncio.timeout(60):
        while True:
            job = (await api.get(f"/api/jobs/{job_id}")).json()
            if job["status"] in ("done", "failed"):
                return job
            await asyncio.sleep(0.2)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
async def metered(tx) -> tuple[int, str]:
    async with tx() as conn:
        cid = await make_contract(conn, kind="cold_water")
        m = await add_meter(conn, await add_point(conn, cid, metered=True), date(2026, 1, 1))
        await reading(conn, m, date(2026, 10, 31), "1100")
        await reading(conn, m, date(2026, 11, 30), "1234.5")
        number = await conn.scalar(text("SELECT number FROM contracts WHERE id = :id"), {"id": cid})
    return cid, number


async def test_run_as_a_job_then_the_contracts_charges(api, worker, metered):
    cid, _ = metered
    started = await api.ok("post", "/api/legal/runs", {"period": "2026-11-01", "contract_id": cid}, status=202)
    job = await _wait_job(api, started["job"]["id"])
    assert job["status"] == "done", job
    assert job["result"]["lines"] == 1 and job["result"]["amount"] == "7464.75"
    charges = await api.ok("get", f"/api/legal/contracts/{cid}/charges?period=2026-11")
    assert [(line["method"], line["volume"], line["amount"]) for line in charges["lines"]] == [
        ("meter", "134.500", "7464.75")]
    assert charges["lines"][0]["explanation"].startswith("По прибору учёта № ")
    runs = await api.ok("get", "/api/legal/runs")
    assert runs["items"][0]["status"] == "done" and runs["active"] is None
    month = await api.ok("get", "/api/legal/charges?period=2026-11&q=" + charges["number"])
    assert month["total"] == 1 and month["items"][0]["amount"] == "7464.75"


async def test_refusals(api, tx, metered):
    cid, _ = metered
    for body, status in (({"period": "2026-13-01"}, 422), ({"period": "осень"}, 422),
                         ({"period": "2026-11-01", "contract_id": 2_000_000_000}, 404),
                         ({"period": "2026-11-01", "contract_id": -1}, 400)):
        r = await api.post("/api/legal/runs", body)
        assert r.status_code == status, (body, r.text)
    assert (await api.get("/api/legal/contracts/2000000000/charges")).status_code == 404
    assert (await api.get("/api/legal/contracts/99999999999/charges")).status_code in (400, 422)
    assert (await api.get(f"/api/legal/contracts/{cid}/charges?period=2026-99")).status_code == 422
    async with tx() as conn:  # a calculation queued: another start is refused
        await conn.execute(text("INSERT INTO jobs(id, kind, title, params, status) VALUES "
                                "(gen_random_uuid(), 'legal.run', 'Расчёт', '{}', 'queued')"))
    try:
        r = await api.post("/api/legal/runs", {"period": "2026-11-01"})
    finally:
        async with tx() as conn:
            await conn.execute(text("UPDATE jobs SET status = 'failed' WHERE kind = 'legal.run' AND status = 'queued'"))
    assert r.status_code == 409 and "уже запущен" in r.text


async def test_precipitation_is_entered_and_audited(api, tx):
    saved = await api.ok("post", "/api/legal/precipitation", {"month": "2026-09", "mm": "42,4", "source": "ЦГМС"})
    assert saved["mm"] == "42.40"
    for mm in ("-1", "много", "5000", "1.234"):
        r = await api.post("/api/legal/precipitation", {"month": "2026-09", "mm": mm})
        assert r.status_code == 422, r.text
    items = (await api.ok("get", "/api/legal/precipitation"))["items"]
    assert [(i["month"], i["mm"], i["source"]) for i in items if i["month"] == "2026-09-01"] == [
        ("2026-09-01", "42.40", "ЦГМС")]
    async with tx() as conn:
        audited = await conn.scalar(text(
            "SELECT count(*) FROM audit_log WHERE table_name = 'stormwater_precipitation' AND user_id IS NOT NULL"))
    assert audited >= 1


async def test_pages(legal_client, tenant, tx, metered):
    cid, number = metered
    async with tx() as conn:
        from aquabill.legal_entities.calc.run import run_month
        await run_month(conn, date(2026, 11, 1), contract_id=cid)
    await _sign_in(legal_client, tenant)
    try:
        r = await legal_client.get("/legal/runs?period=2026-11&q=" + number)
        assert r.status_code == 200, r.text
        page = _text(r.text)
        assert "Рассчитать" in page and f"№ {number}" in page and "7 464,75" in page.replace("\u202f", " ")
        r = await legal_client.get("/legal/runs?period=garbage")
        assert r.status_code == 200 and "не распознан" in r.text
        r = await legal_client.get("/legal/runs?part=runs")
        assert r.status_code == 200 and "Расчёты" in r.text
        r = await legal_client.get(f"/legal/contracts/{cid}")
        assert f'hx-get="/legal/contracts/{cid}/charges"' in r.text
        r = await legal_client.get(f"/legal/contracts/{cid}/charges")
        assert r.status_code == 200 and "По прибору учёта № " in r.text and "134,5" in r.text
        r = await legal_client.post("/legal/runs", data={"period": "2026-11", "contract_id": "нет-такого"})
        assert r.status_code == 422 and "не найден" in r.text
        r = await legal_client.post("/legal/precipitation", data={"month": "2026-08", "mm": "абв"})
        assert r.status_code == 422 and "миллиметров" in r.text
        r = await legal_client.post("/legal/precipitation", data={"month": "2026-08", "mm": "12,5", "source": "x"})
        assert r.status_code == 200 and "сохранены" in r.text and "12,5" in r.text
    finally:
        legal_client.cookies.clear()
