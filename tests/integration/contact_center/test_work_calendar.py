"""The working calendar with real PostgreSQL: the seeded 2025–2026 production calendar, the API and the page
to add and remove dates, and a request's phase deadline in working time crossing a transferred working
Saturday and days off (computed by hand: the SLA reads the tenant's calendar)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aquabill.contact_center.requests.flow import create_request
from aquabill.contact_center.requests.store import Outbox
from tests.integration.billing_core.api_helpers import as_role, login_cookie

MSK = ZoneInfo("Europe/Moscow")


async def _deadline(tx, route_id: int, now: datetime) -> datetime:
    async with tx() as conn:
        req = await create_request(conn, {"kind": "planned", "description": "Поверка", "address_text": "ул. Речная, 1",
                                          "route_id": route_id}, by=None, now=now, out=Outbox())
    return req["phase_deadline"]


async def test_seeded_calendar_and_deadlines_across_holidays(api, tx, client, cc_tenant):
    days = {d["day"]: (d["kind"], d["note"]) for d in (await api.ok("get", "/api/working-calendar?year=2025"))["items"]}
    assert days["2025-11-01"][0] == "working" and days["2025-11-03"][0] == "holiday"
    assert days["2025-12-31"] == ("holiday", "Перенос с 5 января") and days["2025-05-08"][0] == "holiday"
    days_2026 = {d["day"]: d["kind"] for d in (await api.ok("get", "/api/working-calendar?year=2026"))["items"]}
    assert {"2026-01-09", "2026-03-09", "2026-05-11", "2026-12-31"} <= days_2026.keys()
    assert "working" not in days_2026.values()

    route = await api.ok("post", "/api/request-routes", {"code": "wt", "name": "Поверка", "kind": "planned",
                                                          "phases": [{"name": "Выезд", "time_limit_minutes": 660,
                                                                      "working_time": True}]})
    friday = datetime(2025, 10, 31, 16, 0, tzinfo=MSK).astimezone(UTC)
    # Fri 16:00–17:00 (60) + working Saturday 1.11 (540) = 600; Sun, Mon 3.11, Tue 4.11 off → Wed 5.11 09:00
    assert await _deadline(tx, route["id"], friday) == datetime(2025, 11, 5, 9, 0, tzinfo=MSK)

    added = await api.ok("post", "/api/working-calendar", {"day": "2025-11-05", "kind": "holiday",
                                                           "note": "Местный праздник"})
    assert await _deadline(tx, route["id"], friday) == datetime(2025, 11, 6, 9, 0, tzinfo=MSK)
    r = await api.post("/api/working-calendar", {"day": "2025-11-05", "kind": "holiday"})
    assert r.status_code == 409
    r = await api.post("/api/working-calendar", {"day": "2025-11-06", "kind": "working"})
    assert r.status_code == 422 and "будний день" in r.json()["error"]["message"]
    await api.ok("delete", f"/api/working-calendar/{added['id']}")
    assert (await api.delete(f"/api/working-calendar/{added['id']}")).status_code == 404
    assert await _deadline(tx, route["id"], friday) == datetime(2025, 11, 5, 9, 0, tzinfo=MSK)
    history = await api.ok("get", f"/api/audit/working_calendar/{added['id']}")
    assert len(history["items"]) >= 2

    operator = await as_role(client, cc_tenant, "operator")
    assert (await operator.get("/api/working-calendar")).status_code == 200
    assert (await operator.post("/api/working-calendar", {"day": "2027-01-01"})).status_code == 403

    await login_cookie(client, cc_tenant)
    page = await client.get("/requests/calendar?year=2025")
    assert page.status_code == 200 and "Рабочий день (перенос)" in page.text and 'data-day="2025-11-01"' in page.text
    r = await client.post("/requests/calendar", data={"day": "2027-06-14", "kind": "holiday", "note": "Проверка"},
                          follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/requests/calendar?year=2027"
    r = await client.post("/requests/calendar", data={"day": "2027-06-15", "kind": "working"})
    assert r.status_code == 200 and "будний день" in r.text
    made = next(d for d in (await api.ok("get", "/api/working-calendar?year=2027"))["items"] if d["day"] == "2027-06-14")
    assert made["note"] == "Проверка"
    r = await client.post(f"/requests/calendar/{made['id']}/delete", follow_redirects=False)
    assert r.status_code == 303
    assert (await api.ok("get", "/api/working-calendar?year=2027"))["items"] == []
