"""SLA timers of requests (pure): the deadline of a phase from its time limit, in calendar time or in
working time, the time left, and how far an overdue phase is escalated.

Working time (an option per route phase): the tenant's working hours in the tenant's time zone, Monday to
Friday (table `service_hours`, t0019; a tenant without its own: 08:00–17:00 Moscow time); the limit counts
only minutes inside those hours (with 08:00–17:00 a request made on Friday at 16:00 with a 2-hour limit is due
on Monday at 09:00). The tenant's working calendar (`working_calendar`, loaded by
`work_calendar.working_hours`) adds public holidays, transferred days off and the weekends of a loaded year
(`holidays`), transferred working Saturdays (`working_days`) and pre-holiday days shortened by one hour
(`short_days`, art. 95 of the Labour Code).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MOSCOW = ZoneInfo("Europe/Moscow")
SOON_SHARE = 0.2  # the last 20 % of a phase's time: "soon" (highlighted before it is overdue)
SHORT_DAY = timedelta(hours=1)  # art. 95 of the Labour Code: the day before a public holiday is an hour shorter


@dataclass(frozen=True, slots=True)
class WorkingHours:
    start: time = time(8, 0)
    end: time = time(17, 0)
    weekdays: frozenset[int] = frozenset(range(5))  # Monday = 0
    zone: ZoneInfo = MOSCOW
    holidays: frozenset[date] = frozenset()  # non-working although a weekday
    working_days: frozenset[date] = frozenset()  # working although a weekend day
    short_days: frozenset[date] = frozenset()  # working, one hour shorter (a pre-holiday day)

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError("the working day must end after it starts")

    def is_working_day(self, day: date) -> bool:
        if day in self.working_days or day in self.short_days:
            return True
        return day.weekday() in self.weekdays and day not in self.holidays

    def closing(self, day: date) -> datetime:
        """When the working day `day` ends (in the tenant's zone); a short day an hour earlier."""
        closes = datetime.combine(day, self.end, self.zone)
        if day in self.short_days:
            closes = max(closes - SHORT_DAY, datetime.combine(day, self.start, self.zone))
        return closes


WORKING_HOURS = WorkingHours()


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("SLA times must carry a time zone")
    return moment


def phase_deadline(start: datetime, minutes: int, *, working_time: bool = False,
                   hours: WorkingHours = WORKING_HOURS) -> datetime:
    """When a phase started at `start` with a limit of `minutes` is due (UTC-aware like `start`)."""
    _aware(start)
    if minutes <= 0:
        raise ValueError("the time limit must be positive")
    if not working_time:
        return start + timedelta(minutes=minutes)
    if not hours.weekdays and not hours.working_days:
        raise ValueError("no working days")
    left = timedelta(minutes=minutes)
    local = start.astimezone(hours.zone)
    while True:
        day = local.date()
        opens = datetime.combine(day, hours.start, hours.zone)
        closes = hours.closing(day)
        if hours.is_working_day(day) and local < closes:
            begin = max(local, opens)
            if begin + left <= closes:
                return (begin + left).astimezone(start.tzinfo)
            left -= closes - begin
        local = datetime.combine(day + timedelta(days=1), hours.start, hours.zone)


def remaining_seconds(deadline: datetime | None, now: datetime) -> int | None:
    """Seconds left until the deadline (negative when overdue); None without a deadline."""
    if deadline is None:
        return None
    return int((_aware(deadline) - _aware(now)).total_seconds() // 1)


def is_overdue(deadline: datetime | None, now: datetime) -> bool:
    return deadline is not None and _aware(now) >= _aware(deadline)


def sla_state(started: datetime | None, deadline: datetime | None, now: datetime) -> str:
    """'none' (no timer), 'ok', 'soon' (the last SOON_SHARE of the phase's time) or 'overdue'."""
    if deadline is None:
        return "none"
    if is_overdue(deadline, now):
        return "overdue"
    if started is not None and started < deadline:
        if (deadline - now) <= (deadline - started) * SOON_SHARE:
            return "soon"
    return "ok"


def escalation_level_due(deadline: datetime | None, limit_minutes: int, now: datetime) -> int:
    """How many escalation levels an overdue phase has earned: 1 at the deadline, one more for each further
    full time limit it stays overdue (limit 60 min, deadline 10:00: 0 before 10:00, 1 from 10:00, 2 from
    11:00 …)."""
    if deadline is None or not is_overdue(deadline, now):
        return 0
    late = now - deadline
    return 1 + int(late // timedelta(minutes=max(1, limit_minutes)))


def reaction_deadline(assigned_at: datetime, reaction_minutes: int | None) -> datetime | None:
    """By when the assignee must accept (calendar minutes); None: no reassignment on silence."""
    if reaction_minutes is None:
        return None
    return _aware(assigned_at) + timedelta(minutes=reaction_minutes)
