"""SLA deadlines in calendar and working time, time left, states and escalation levels — computed by hand.

Working time: 08:00–17:00 Moscow (UTC+3, no DST), Monday–Friday. 23.11.2026 is a Monday.
"""

from datetime import UTC, datetime, timedelta

import pytest

from aquabill.contact_center.requests.sla import (
    MOSCOW,
    escalation_level_due,
    is_overdue,
    phase_deadline,
    reaction_deadline,
    remaining_seconds,
    sla_state,
)


def msk(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=MOSCOW)


def test_calendar_deadline_is_start_plus_minutes():
    start = datetime(2026, 11, 27, 22, 30, tzinfo=UTC)
    assert phase_deadline(start, 120) == datetime(2026, 11, 28, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(("start", "minutes", "due"), [
    (msk(23, 10), 120, msk(23, 12)),  # inside one working day
    (msk(23, 16), 120, msk(24, 9)),  # 1 h on Monday (16–17), 1 h on Tuesday (8–9)
    (msk(27, 16), 120, msk(30, 9)),  # Friday 16:00 → Monday 09:00 (Saturday and Sunday skipped)
    (msk(28, 12), 60, msk(30, 9)),  # made on Saturday: counts from Monday 08:00
    (msk(23, 6), 30, msk(23, 8, 30)),  # before opening: from 08:00
    (msk(23, 17), 30, msk(24, 8, 30)),  # at closing: the next morning
    (msk(23, 8), 540, msk(23, 17)),  # a whole working day ends at closing, not the next morning
    (msk(23, 8), 2700, msk(27, 17)),  # 45 h = five working days: Friday 17:00
    (msk(23, 8), 2701, msk(30, 8, 1)),  # one minute more: Monday 08:01
])
def test_working_time_deadline(start, minutes, due):
    got = phase_deadline(start.astimezone(UTC), minutes, working_time=True)
    assert got == due and got.tzinfo == UTC


def test_deadline_needs_an_aware_start_and_a_positive_limit():
    with pytest.raises(ValueError):
        phase_deadline(datetime(2026, 11, 23, 10, 0), 60)
    with pytest.raises(ValueError):
        phase_deadline(msk(23, 10), 0)


def test_remaining_overdue_and_state():
    start, due = msk(23, 10), msk(23, 12)
    assert remaining_seconds(due, msk(23, 11, 30)) == 1800
    assert remaining_seconds(due, msk(23, 12, 30)) == -1800
    assert remaining_seconds(None, msk(23, 12)) is None
    assert not is_overdue(due, msk(23, 11, 59)) and is_overdue(due, msk(23, 12))
    assert sla_state(start, due, msk(23, 11)) == "ok"
    assert sla_state(start, due, msk(23, 11, 36)) == "soon"  # 24 min left of 120: the last 20 %
    assert sla_state(start, due, msk(23, 11, 35)) == "ok"  # 25 min left
    assert sla_state(start, due, msk(23, 12)) == "overdue"
    assert sla_state(start, None, msk(23, 12)) == "none"


def test_escalation_levels_grow_with_each_further_limit():
    due = msk(23, 10)
    assert escalation_level_due(due, 60, msk(23, 9, 59)) == 0
    assert escalation_level_due(due, 60, msk(23, 10)) == 1
    assert escalation_level_due(due, 60, msk(23, 10, 59)) == 1
    assert escalation_level_due(due, 60, msk(23, 11)) == 2
    assert escalation_level_due(due, 60, msk(23, 13, 30)) == 4
    assert escalation_level_due(None, 60, msk(23, 13)) == 0


def test_reaction_deadline_is_calendar_minutes():
    assigned = msk(27, 16, 50)
    assert reaction_deadline(assigned, 15) == assigned + timedelta(minutes=15)
    assert reaction_deadline(assigned, None) is None
