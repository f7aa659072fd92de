"""The tenant's own working hours and zone in SLA working time, short pre-holiday days, the production
calendar of any year by the Labour Code, and the upload of a year's official list — pure, worked by hand.

Asia/Yekaterinburg is UTC+5 (no DST), Moscow UTC+3. 23.11.2026 is a Monday."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from aquabill.base.errors import Invalid
from aquabill.contact_center.requests.sla import WorkingHours, phase_deadline
from aquabill.contact_center.work_calendar import CalendarDay, parse_upload, production_calendar

YEKT = ZoneInfo("Asia/Yekaterinburg")
MSK = ZoneInfo("Europe/Moscow")
URAL = WorkingHours(start=time(9, 0), end=time(18, 0), zone=YEKT)


@pytest.mark.parametrize(("start", "minutes", "due"), [
    # Monday 17:30 in Yekaterinburg: 30 min to 18:00, then Tuesday 09:00 + 30
    (datetime(2026, 11, 23, 17, 30, tzinfo=YEKT), 60, datetime(2026, 11, 24, 9, 30, tzinfo=YEKT)),
    # 08:30 there is before opening (09:00), although it is 06:30 in Moscow
    (datetime(2026, 11, 23, 8, 30, tzinfo=YEKT), 60, datetime(2026, 11, 23, 10, 0, tzinfo=YEKT)),
    # a whole working day of 9 hours ends at 18:00 local time
    (datetime(2026, 11, 23, 9, 0, tzinfo=YEKT), 540, datetime(2026, 11, 23, 18, 0, tzinfo=YEKT)),
])
def test_deadline_in_the_tenants_zone_and_hours(start, minutes, due):
    assert phase_deadline(start.astimezone(UTC), minutes, working_time=True, hours=URAL) == due


def test_the_same_moment_in_moscow_hours_is_due_elsewhere():
    start = datetime(2026, 11, 23, 17, 30, tzinfo=YEKT)  # 15:30 in Moscow: inside Moscow's 08:00–17:00
    assert phase_deadline(start, 60, working_time=True) == datetime(2026, 11, 23, 16, 30, tzinfo=MSK)


def test_a_short_day_ends_an_hour_earlier():
    hours = WorkingHours(short_days=frozenset({date(2026, 11, 3)}))  # Tuesday, Moscow 08:00–17:00
    start = datetime(2026, 11, 3, 15, 0, tzinfo=MSK)
    # 15:00–16:00 (the short day closes at 16:00), then Wednesday 08:00 + 60
    assert phase_deadline(start, 120, working_time=True, hours=hours) == datetime(2026, 11, 4, 9, 0, tzinfo=MSK)


def test_hours_must_make_a_day():
    with pytest.raises(ValueError):
        WorkingHours(start=time(18, 0), end=time(9, 0))


def test_production_calendar_2027_by_the_labour_code():
    days = {d.day: d.kind for d in production_calendar(2027)}
    assert all(days[date(2027, 1, n)] == "holiday" for n in range(1, 9))
    # 1 May and 9 May 2027 are a Saturday and a Sunday: the days off move to Monday 3 and Monday 10 May;
    # 12 June is a Saturday: Monday 14 June is off
    assert (days[date(2027, 5, 3)], days[date(2027, 5, 10)], days[date(2027, 6, 14)]) == ("holiday",) * 3
    # the working day before a holiday is an hour shorter: Monday 22.02, Friday 30.04, Friday 11.06,
    # Wednesday 03.11, Friday 31.12 (before 1 January 2028)
    assert sorted(d for d, k in days.items() if k == "short") == [
        date(2027, 2, 22), date(2027, 4, 30), date(2027, 6, 11), date(2027, 11, 3), date(2027, 12, 31)]
    weekends = [d for d, k in days.items() if k == "weekend"]
    # 52 Saturdays and 52 Sundays; 5 of them are holidays: 2.01, 3.01, 1.05, 9.05, 12.06
    assert len(weekends) == 104 - 5
    assert all(d.weekday() >= 5 for d in weekends)
    assert date(2027, 3, 9) not in days  # 8 March 2027 is a Monday: nothing moves


def test_the_calendar_works_in_the_sla():
    days = production_calendar(2027)
    hours = WorkingHours(holidays=frozenset(d.day for d in days if d.kind in ("holiday", "weekend")),
                         short_days=frozenset(d.day for d in days if d.kind == "short"))
    # Thursday 31.12.2026 16:00 (a working day here), 120 min: 60 on 31.12, then 1–10 January off → 11.01 09:00
    start = datetime(2026, 12, 31, 16, 0, tzinfo=MSK)
    assert phase_deadline(start, 120, working_time=True, hours=hours) == datetime(2027, 1, 11, 9, 0, tzinfo=MSK)


def test_upload_csv_and_json():
    csv_text = "дата;вид;примечание\n2027-01-11;holiday;Перенос с 2 января\n11.12.2027;working;Рабочая суббота\n" \
               "03.11.2027;short;\n"
    assert parse_upload(csv_text.encode("utf-8-sig")) == [
        CalendarDay(date(2027, 1, 11), "holiday", "Перенос с 2 января"),
        CalendarDay(date(2027, 12, 11), "working", "Рабочая суббота"),
        CalendarDay(date(2027, 11, 3), "short", "")]
    assert parse_upload('{"days": [{"day": "2027-01-11", "kind": "holiday"}]}') == [
        CalendarDay(date(2027, 1, 11), "holiday", "")]


@pytest.mark.parametrize(("raw", "message"), [
    ("", "пуст"),
    ("2027-13-01;holiday", "Строка 1: неверная дата"),
    ("2027-01-11;отгул", "неизвестный вид дня"),
    ("2027-01-12;working", "будний день"),  # a Tuesday cannot be a working weekend day
    ("2027-01-11;holiday\n2027-01-11;short", "указана дважды"),
    ('{"days": 5}', "ожидается список"),
    (b"\xff\xfe2027", "UTF-8"),
])
def test_upload_refusals(raw, message):
    with pytest.raises(Invalid) as caught:
        parse_upload(raw)
    assert message in caught.value.message
