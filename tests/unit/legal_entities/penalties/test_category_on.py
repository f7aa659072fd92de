"""The debtor's 416-FZ category in force on a debt's due day, and the day a new category may hold from."""

from datetime import date

import pytest

from aquabill.base.errors import Invalid
from aquabill.legal_entities.counterparties import check_category_from
from aquabill.legal_entities.penalties import CategoryChange, category_on

# 'other' until 31.03.2026, 'management_company' from 01.04.2026, 'hoa' from 01.09.2026 (the current one)
CHANGES = (CategoryChange(date(2026, 9, 1), "management_company", "hoa"),
           CategoryChange(date(2026, 4, 1), "other", "management_company"))


@pytest.mark.parametrize(("due", "category"), [
    (date(2026, 3, 10), "other"),
    (date(2026, 3, 31), "other"),
    (date(2026, 4, 1), "management_company"),  # a change effective on the due day applies
    (date(2026, 5, 10), "management_company"),
    (date(2026, 8, 31), "management_company"),
    (date(2026, 9, 1), "hoa"),
    (date(2027, 1, 10), "hoa"),
])
def test_the_category_in_force_on_the_due_day(due, category):
    assert category_on(due, "hoa", CHANGES) == category


def test_without_changes_the_current_category_holds_since_ever():
    assert category_on(date(2016, 2, 10), "management_company", ()) == "management_company"


TODAY = date(2026, 12, 7)


@pytest.mark.parametrize(("day", "latest"), [
    (TODAY, None), (date(2020, 1, 1), None), (date(2026, 4, 1), date(2026, 4, 1)), (date(2027, 12, 7), None)])
def test_a_day_from_the_latest_change_to_a_year_ahead_is_taken(day, latest):
    assert check_category_from(day, latest=latest, today=TODAY) == day


@pytest.mark.parametrize(("day", "latest", "message"), [
    (date(2026, 3, 31), date(2026, 4, 1), "Категория действует с 31.03.2026: это раньше последнего изменения "
                                          "категории (с 01.04.2026). Укажите дату не раньше 01.04.2026"),
    (date(2027, 12, 8), None, "Категория действует с 08.12.2027: не позднее чем через год, 07.12.2027"),
])
def test_a_day_before_the_latest_change_or_beyond_a_year_is_refused(day, latest, message):
    with pytest.raises(Invalid) as refused:
        check_category_from(day, latest=latest, today=TODAY)
    assert (str(refused.value), refused.value.field) == (message, "category_from")


def test_a_year_ahead_of_29_february():
    assert check_category_from(date(2029, 3, 1), latest=None, today=date(2028, 2, 29)) == date(2029, 3, 1)
