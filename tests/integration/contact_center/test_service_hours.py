"""The tenant's working hours and zone, and a calendar year loaded through the API and the page, with real
PostgreSQL: deadlines of requests in working time are computed in the tenant's zone and hours, across the
days of a year (2027) that was filled and then corrected by its official list. Worked out by hand:
Asia/Yekaterinburg is UTC+5; 30.12.2026 is a Wednesday, 31.12.2026 a holiday (the seeded 2026 calendar)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text

from aquabill.contact_center.work_calendar import fill_year, parse_upload, production_calendar, replace_year
from tests.integration.billing_core.api_helpers import as_role, login_cookie
from tests.integration.contact_center.test_work_calendar import _deadline

YEKT = ZoneInfo("Asia/Yekaterinburg")
MSK = ZoneInfo("Europe/Moscow")


async def test_deadlines_in_the_tenants_zone_and_a_loaded_2027(api, tx, client, cc_tenant):
    assert await api.ok("get", "/api/working-calendar/hours") == {"zone": "Europe/Moscow", "day_start": "08:00",
                                                                   "day_end": "17:00"}
    route = await api.ok("post", "/api/request-routes", {"code": "ural", "name": "Поверка", "kind": "planned",
                                                          "phases": [{"name": "Выезд", "time_limit_minutes": 60,
                                                                      "working_time": True}]})
    monday = datetime(2026, 11, 23, 17, 30, tzinfo=YEKT).astimezone(UTC)  # 15:30 in Moscow
    assert await _deadline(tx, route["id"], monday) == datetime(2026, 11, 23, 16, 30, tzinfo=MSK)

    saved = await api.ok("put", "/api/working-calendar/hours", {"zone": "Asia/Yekaterinburg", "day_start": "09:00",
                                                                 "day_end": "18:00"})
    assert saved == {"zone": "Asia/Yekaterinburg", "day_start": "09:00", "day_end": "18:00"}
    # 17:30–18:00 local on Monday, then Tuesday 09:00 + 30 min, local time
    assert await _deadline(tx, route["id"], monday) == datetime(2026, 11, 24, 9, 30, tzinfo=YEKT)
    for wrong, field in (({"zone": "Europe/Atlantis", "day_start": "09:00", "day_end": "18:00"}, "zone"),
                         ({"zone": "Asia/Yekaterinburg", "day_start": "18:00", "day_end": "09:00"}, "day_end"),
                         ({"zone": "Asia/Yekaterinburg", "day_start": "25:00", "day_end": "26:00"}, "day_start")):
        r = await api.put("/api/working-calendar/hours", wrong)
        assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == field, r.text

    # 2027 not loaded: Friday 1 January counts as a working day. Wednesday 30.12 17:00, 120 min:
    # 60 min to 18:00, 31.12 a holiday, then 1.01 09:00 + 60
    wednesday = datetime(2026, 12, 30, 17, 0, tzinfo=YEKT)
    assert (await api.ok("get", "/api/working-calendar?year=2027"))["year_loaded"] is False
    route2 = await api.ok("post", "/api/request-routes", {"code": "ural2", "name": "Поверка 2", "kind": "planned",
                                                           "phases": [{"name": "Выезд", "time_limit_minutes": 120,
                                                                       "working_time": True}]})
    assert await _deadline(tx, route2["id"], wednesday) == datetime(2027, 1, 1, 10, 0, tzinfo=YEKT)
    filled = await api.ok("post", "/api/working-calendar/fill", {"year": 2027}, status=200)
    assert filled == {"year": 2027, "added": len(production_calendar(2027)), "days": len(production_calendar(2027))}
    assert (await api.ok("post", "/api/working-calendar/fill", {"year": 2027}, status=200))["added"] == 0
    listed = await api.ok("get", "/api/working-calendar?year=2027")
    assert listed["year_loaded"] is True and listed["total"] == len(production_calendar(2027))
    # 1–8 January holidays, 9–10 a weekend: Monday 11.01 09:00 + 60
    assert await _deadline(tx, route2["id"], wednesday) == datetime(2027, 1, 11, 10, 0, tzinfo=YEKT)

    # the decree's list (as CSV): 11 January made a day off; uploading it again changes nothing
    official = "\n".join([*(f"2027-01-0{n};holiday;Новогодние каникулы" for n in (1, 2, 3, 4, 5, 6, 8)),
                          "2027-01-07;holiday;Рождество Христово", "2027-01-11;holiday;Перенос с 2 января"])
    r = await api.client.put("/api/working-calendar/official-list?year=2027", content=official.encode(),
                             headers={**api.headers, "Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    # the Labour Code's other dates of 2027 that the list does not name are gone (transfers, short days, May …)
    non_weekend = sum(1 for d in production_calendar(2027) if d.kind != "weekend" and d.day.month > 1)
    assert r.json() == {"year": 2027, "written": 1, "removed": non_weekend}
    again = await api.client.put("/api/working-calendar/official-list?year=2027", content=official.encode(),
                                 headers={**api.headers, "Content-Type": "text/csv"})
    assert again.json() == {"year": 2027, "written": 0, "removed": 0}
    assert await _deadline(tx, route2["id"], wednesday) == datetime(2027, 1, 12, 10, 0, tzinfo=YEKT)
    r = await api.put("/api/working-calendar/official-list?year=2027", {"days": [{"day": "2028-01-03"}]})
    assert r.status_code == 422 and "не из 2027 года" in r.json()["error"]["message"]

    operator = await as_role(client, cc_tenant, "operator")
    assert (await operator.get("/api/working-calendar/hours")).status_code == 200
    assert (await operator.post("/api/working-calendar/fill", {"year": 2028})).status_code == 403
    r = await operator.put("/api/working-calendar/hours", {"zone": "Europe/Moscow", "day_start": "08:00",
                                                            "day_end": "17:00"})
    assert r.status_code == 403


async def test_the_page_edits_hours_and_loads_a_year(client, cc_tenant, api):
    await login_cookie(client, cc_tenant)
    page = await client.get("/requests/calendar?year=2029")
    assert page.status_code == 200 and 'id="year-not-loaded"' in page.text and 'name="zone"' in page.text
    r = await client.post("/requests/calendar/hours", data={"zone": "Asia/Yekaterinburg", "day_start": "09:00",
                                                            "day_end": "18:00", "year": "2029"})
    assert r.status_code == 200 and "с 09:00 до 18:00" in r.text and "Asia/Yekaterinburg" in r.text
    r = await client.post("/requests/calendar/hours", data={"zone": "Марс", "day_start": "09:00",
                                                            "day_end": "18:00", "year": "2029"})
    assert r.status_code == 200 and "Неизвестный часовой пояс" in r.text
    r = await client.post("/requests/calendar/fill", data={"year": "2029"})
    assert r.status_code == 200 and f"2029: добавлено дат — {len(production_calendar(2029))}" in r.text
    assert 'id="year-not-loaded"' not in r.text and 'data-day="2029-01-01"' in r.text
    r = await client.post("/requests/calendar/upload?year=2029", files={"file": ("2029.csv", b"")},
                          data={"text": "2029-01-01;holiday;Новый год\n2029-12-29;working;Рабочая суббота"})
    assert r.status_code == 200 and "2029: записано дат — 2" in r.text, r.text[-2000:]
    days = {d["day"]: d["kind"] for d in (await api.ok("get", "/api/working-calendar?year=2029"))["items"]}
    assert days["2029-12-29"] == "working" and days["2029-01-01"] == "holiday" and "2029-01-02" not in days
    r = await client.post("/requests/calendar/upload?year=2029", files={"file": ("2029.csv", b"2029-01-02;outing")})
    assert r.status_code == 200 and "неизвестный вид дня" in r.text


async def test_two_fills_or_uploads_at_once_write_the_year_once(tx):
    async def fill():
        async with tx() as conn:
            return (await fill_year(conn, 2031, by=None))["added"]

    added = await asyncio.gather(fill(), fill())
    assert sorted(added) == [0, len(production_calendar(2031))]
    async with tx() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM working_calendar WHERE day BETWEEN :a AND :b"),
                                    {"a": date(2031, 1, 1), "b": date(2031, 12, 31)})).scalar()
    assert count == len(production_calendar(2031))

    official = parse_upload("2031-01-01;holiday\n2031-01-02;holiday\n2031-01-03;holiday;Перенос")

    async def replace():
        async with tx() as conn:
            return await replace_year(conn, 2031, official, by=None)

    done = sorted((await asyncio.gather(replace(), replace())), key=lambda d: d["removed"])
    # the first removes the Labour Code's other dates and rewrites the three (their notes differ); the second
    # finds it all done
    others = sum(1 for d in production_calendar(2031) if d.kind != "weekend") - 3
    assert done == [{"year": 2031, "written": 0, "removed": 0}, {"year": 2031, "written": 3, "removed": others}]
