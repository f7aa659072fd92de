"""Organisations' payments on the web: «Отнести на договор» by API and page (audited, 409 the second time), the
contract's turnover and the month's statement by API, and every page answering."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import text

from tests.conftest import ADMIN_PASSWORD
from tests.integration.billing_core.api_helpers import as_role
from tests.integration.legal_entities.payments.statements import (
    Line,
    document,
    ensure_agent,
    org_with_contracts,
    statement,
    upload,
)


async def _queued_payment(api, tx, amount: str, number: str) -> tuple[int, dict, list[dict]]:
    """A payment of an organisation with two contracts whose purpose names neither: in the queue."""
    await ensure_agent(api)
    org, contracts = await org_with_contracts(api, 2, f"ООО «Очередь {number}»")
    report = await upload(api, statement([Line(number, date(2026, 11, 10), amount, org["inn"], "Оплата за воду",
                                               payer_account=f"4070281050000000{number:0>4}")]))
    async with tx() as conn:
        pid, status = (await conn.execute(text("SELECT id, status FROM payments WHERE file_id = :f"),
                                          {"f": report["file_id"]})).one()
    assert status == "unidentified"
    return pid, org, contracts


async def test_assign_by_api_then_409_audit_and_refusals(api, tx, legal_client, tenant):
    pid, org, (k1, _k2) = await _queued_payment(api, tx, "150.00", "41")
    async with tx() as conn:
        await document(conn, k1, "act", "100.00", date(2026, 10, 31))
    viewer = await as_role(legal_client, tenant, "viewer")
    assert (await viewer.post(f"/api/legal/payments/{pid}/assign", {"contract_id": k1["id"]})).status_code == 403
    done = await api.ok("post", f"/api/legal/payments/{pid}/assign", {"contract_id": k1["id"], "note": "письмо"},
                        status=200)
    assert (done["status"], done["contract_id"], done["counterparty_id"]) == ("identified", k1["id"], org["id"])
    assert D(done["advance"]) == D("50.00") and done["reason"] == f"Отнесён на договор № {k1['number']} вручную: письмо"
    again = await api.post(f"/api/legal/payments/{pid}/assign", {"contract_id": k1["id"]})
    assert again.status_code == 409 and "уже опознан" in again.text
    assert (await api.post("/api/legal/payments/2147483647/assign", {"contract_id": k1["id"]})).status_code == 404
    pid2, _org, _ = await _queued_payment(api, tx, "1.00", "42")
    assert (await api.post(f"/api/legal/payments/{pid2}/assign", {"contract_id": 2147483647})).status_code == 404
    assert (await api.post(f"/api/legal/payments/{pid2}/assign", {"contract_id": 0})).status_code in (400, 422)
    assert (await api.post(f"/api/legal/payments/{pid2}/assign", {})).status_code in (400, 422)
    hist = await api.ok("get", f"/api/audit/payments/{pid}")
    items = hist["items"] if isinstance(hist, dict) else hist
    update = [h for h in items if h["action"] == "update"]
    assert update and update[-1]["user_id"] and update[-1]["new"]["contract_id"] == k1["id"], hist
    listed = await api.ok("get", f"/api/legal/payments?contract_id={k1['id']}")
    assert [p["id"] for p in listed["items"]] == [pid] and D(listed["amount"]) == D("150.00")


async def test_turnover_api_and_refusals(api, tx):
    await ensure_agent(api)
    _org, (k,) = await org_with_contracts(api, 1, "ООО «Обороты»")
    async with tx() as conn:
        await document(conn, k, "upd", "120.00", date(2026, 8, 31))
    t = await api.ok("get", f"/api/legal/contracts/{k['id']}/turnover?from=2026-09-01&to=2026-09-30")
    assert (D(t["opening"]), D(t["charged"]), D(t["paid"]), D(t["closing"])) == (
        D("120.00"), D("0.00"), D("0.00"), D("120.00"))
    for query in ("from=2026-09-30&to=2026-09-01", "from=завтра", "from=2000-01-01&to=2026-01-01"):
        r = await api.get(f"/api/legal/contracts/{k['id']}/turnover?{query}")
        assert r.status_code == 422, (query, r.text)
    assert (await api.get("/api/legal/contracts/2147483647/turnover")).status_code == 404
    s = await api.ok("get", "/api/legal/turnover?period=2026-09&q=" + k["number"])
    assert s["total"] == 1 and D(s["totals"]["closing"]) == D("120.00")
    assert (await api.get("/api/legal/turnover?period=2026-13")).status_code == 422
    # the edges of the calendar and of integers: clear answers, never a 5xx
    for url in (f"/api/legal/contracts/{k['id']}/turnover?from=9999-12-01&to=9999-12-31",
                f"/api/legal/contracts/{k['id']}/turnover?from=0001-01-01&to=0001-02-01",
                "/api/legal/turnover?period=9999-12", "/api/legal/turnover?period=0001-01&debtors=maybe",
                "/api/legal/contracts/2147483648/turnover", "/api/legal/payments?contract_id=2147483648",
                "/api/legal/payments?from=31.12.9999&to=0001-01-01&status=storno&q=%25_\\",
                "/api/legal/turnover?limit=501", "/api/legal/turnover?offset=-1"):
        r = await api.get(url)
        assert r.status_code < 500, (url, r.text)
    r = await api.post("/api/legal/payments/2147483648/assign", {"contract_id": 1})
    assert 400 <= r.status_code < 500
    r = await api.post(f"/api/legal/contracts/{k['id']}/reallocate")
    assert r.status_code == 200 and r.json()["contracts"] == 1


@pytest.fixture
async def pages(legal_client, tenant):
    legal_client.cookies.clear()
    r = await legal_client.post("/login", data={"tenant": tenant.tenant.slug, "login": "admin",
                                                "password": ADMIN_PASSWORD, "next": "/"}, follow_redirects=False)
    assert r.status_code == 302, r.text
    yield legal_client
    legal_client.cookies.clear()


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_pages_assign_from_the_queue(api, tx, pages):
    pid, _org, (k1, _k2) = await _queued_payment(api, tx, "75.25", "43")
    queue = await pages.get("/payments/unidentified")
    assert queue.status_code == 200 and f'href="/legal/payments/{pid}/assign"' in queue.text
    form = await pages.get(f"/legal/payments/{pid}/assign?q={k1['number']}")
    assert form.status_code == 200 and f"№ {k1['number']}" in _text(form.text)
    refused = await pages.post(f"/legal/payments/{pid}/assign", data={"contract_id": ""})
    assert refused.status_code == 422 and "Выберите договор" in refused.text
    done = await pages.post(f"/legal/payments/{pid}/assign", data={"contract_id": str(k1["id"])},
                            follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/legal/payments?notice=")
    listed = await pages.get(done.headers["location"])
    assert listed.status_code == 200 and "отнесён на договор" in _text(listed.text) and "75,25" in listed.text
    again = await pages.post(f"/legal/payments/{pid}/assign", data={"contract_id": str(k1["id"])})
    assert again.status_code == 422 and "уже опознан" in again.text
    for url in (f"/legal/contracts/{k1['id']}/payments-part", f"/legal/contracts/{k1['id']}/turnover",
                f"/legal/contracts/{k1['id']}/turnover?from=bad", "/legal/turnover", "/legal/turnover?period=bad",
                "/legal/turnover?period=2026-11&debtors=true&q=Очередь", "/legal/payments?from=bad&status=x",
                f"/legal/contracts/{k1['id']}"):
        r = await pages.get(url)
        assert r.status_code == 200, (url, r.text[:500])
    card = await pages.get(f"/legal/contracts/{k1['id']}")
    assert f'hx-get="/legal/contracts/{k1["id"]}/payments-part"' in card.text
    assert (await pages.get("/legal/payments/2147483647/assign")).status_code == 404
