"""Working-time deadlines with the working calendar (pure): a public holiday and a transferred day off are
skipped, a transferred working Saturday counts. Worked out by hand on the 2025 production calendar
(Saturday 1 November 2025 is a working day, Monday 3 and Tuesday 4 November are days off)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from aquabill.contact_center.requests.sla import WorkingHours, phase_deadline

MSK = ZoneInfo("Europe/Moscow")
NOVEMBER_2025 = WorkingHours(holidays=frozenset({date(2025, 11, 3), date(2025, 11, 4)}),
                             working_days=frozenset({date(2025, 11, 1)}))


@pytest.mark.parametrize(("minutes", "due"), [
    # Friday 31.10 16:00 → 17:00 is 60 min; Saturday 1.11 is working: 08:00 + 120 → 10:00
    (180, datetime(2025, 11, 1, 10, 0, tzinfo=MSK)),
    # 60 (Fri) + 540 (Sat) = 600; Sun off, Mon 3.11 and Tue 4.11 off; Wed 5.11 08:00 + 60 → 09:00
    (660, datetime(2025, 11, 5, 9, 0, tzinfo=MSK)),
    # exactly the end of the working Saturday
    (600, datetime(2025, 11, 1, 17, 0, tzinfo=MSK)),
])
def test_deadline_across_a_holiday_and_a_working_saturday(minutes, due):
    start = datetime(2025, 10, 31, 16, 0, tzinfo=MSK).astimezone(UTC)
    assert phase_deadline(start, minutes, working_time=True, hours=NOVEMBER_2025) == due


def test_without_the_calendar_the_same_limit_ends_earlier():
    start = datetime(2025, 10, 31, 16, 0, tzinfo=MSK)
    # ordinary week: 60 (Fri) + 540 (Mon 3.11) = 600; Tue 4.11 08:00 + 60 → 09:00
    assert phase_deadline(start, 660, working_time=True) == datetime(2025, 11, 4, 9, 0, tzinfo=MSK)


def test_a_start_on_a_holiday_waits_for_the_next_working_day():
    start = datetime(2025, 11, 3, 11, 0, tzinfo=MSK)  # a transferred day off
    assert phase_deadline(start, 30, working_time=True, hours=NOVEMBER_2025) == datetime(2025, 11, 5, 8, 30,
                                                                                         tzinfo=MSK)
    assert NOVEMBER_2025.is_working_day(date(2025, 11, 1)) and not NOVEMBER_2025.is_working_day(date(2025, 11, 2))
