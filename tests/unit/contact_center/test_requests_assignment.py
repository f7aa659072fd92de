"""Choosing an executor: division, territory (house before street before anywhere), cap, least loaded, ties
by user id, exclusions (reassignment)."""

from aquabill.contact_center.requests.assignment import Candidate, choose_executor, coverage

HOUSE, STREET, OTHER_HOUSE, OTHER_STREET = 10, 5, 11, 6


def c(user_id, load=0, cap=5, division=1, houses=(), streets=(), active=True) -> Candidate:
    return Candidate(user_id, division, cap, load, active, frozenset(houses), frozenset(streets))


def pick(cands, **kw):
    kw.setdefault("division_id", 1)
    kw.setdefault("house_id", HOUSE)
    kw.setdefault("street_id", STREET)
    found = choose_executor(cands, **kw)
    return found.user_id if found else None


def test_coverage_levels():
    assert coverage(c(1, houses=[HOUSE]), HOUSE, STREET) == 0
    assert coverage(c(1, streets=[STREET]), HOUSE, STREET) == 1
    assert coverage(c(1), HOUSE, STREET) == 2
    assert coverage(c(1, houses=[OTHER_HOUSE], streets=[OTHER_STREET]), HOUSE, STREET) is None
    assert coverage(c(1, houses=[OTHER_HOUSE]), None, None) == 1  # no address: anyone of the division
    assert coverage(c(1), None, None) == 2


def test_least_loaded_first_ties_by_user_id():
    assert pick([c(3, load=2), c(2, load=1), c(4, load=1)]) == 2
    assert pick([c(7, load=0), c(5, load=0)]) == 5


def test_house_before_street_before_anywhere_even_if_busier():
    cands = [c(1, load=0), c(2, load=3, streets=[STREET]), c(3, load=4, houses=[HOUSE])]
    assert pick(cands) == 3
    assert pick(cands[:2]) == 2


def test_cap_reached_other_territory_other_division_inactive_excluded_are_skipped():
    cands = [c(1, load=5, cap=5, houses=[HOUSE]),  # at its cap
             c(2, houses=[OTHER_HOUSE]),  # elsewhere
             c(3, division=2),  # another division
             c(4, active=False),  # off
             c(5, load=2, cap=0)]  # cap 0: never auto-assigned
    assert pick(cands) is None
    assert pick(cands + [c(6, load=4)]) == 6
    assert pick(cands + [c(6), c(8, load=1)], exclude=frozenset({6})) == 8


def test_without_division_any_division_will_do():
    assert pick([c(9, division=3, load=1), c(8, division=2, load=2)], division_id=None) == 9


def test_the_worker_runs_the_request_timers_every_minute():
    from aquabill.platform.jobs.request_timers import cron_jobs

    (job,) = cron_jobs()
    assert job.name == "requests.timers" and job.second == 0 and job.minute is None and job.unique
