"""The month-close checks' pure part: Russian plurals, evaluation into pass / warn / block / skip, the
outcome of a set, refusal messages and validation of a settings change."""

import pytest

from aquabill.billing_core.month_close import (
    CATALOGUE,
    CheckConfig,
    CheckResult,
    Finding,
    check_change,
    evaluate,
    outcome,
    plural,
    refusal,
)

FORMS = ("счёт", "счёта", "счетов")


@pytest.mark.parametrize(("n", "word"), [(1, "счёт"), (2, "счёта"), (4, "счёта"), (5, "счетов"), (11, "счетов"),
                                         (12, "счетов"), (14, "счетов"), (21, "счёт"), (22, "счёта"),
                                         (111, "счетов"), (0, "счетов")])
def test_plural(n, word):
    assert plural(n, FORMS) == word


def _cfg(code="unbilled_accounts", *, enabled=True, blocking=True, parameter=None):
    return CheckConfig(code, CATALOGUE[code].name, enabled, blocking, parameter)


def test_catalogue_has_the_six_checks():
    assert set(CATALOGUE) == {"unbilled_accounts", "negative_volumes", "overdue_verification",
                              "unallocated_payments", "old_unidentified_payments", "unfinished_runs",
                              "receipts_delivered"}  # #14, t0029: receipts issued and delivered in time
    assert [c for c, s in CATALOGUE.items() if s.parameter] == ["old_unidentified_payments"]


@pytest.mark.parametrize(("enabled", "blocking", "count", "status"), [
    (True, True, 0, "pass"), (True, False, 0, "pass"), (True, True, 3, "block"), (True, False, 3, "warn"),
    (False, True, 3, "skip")])
def test_evaluate_status(enabled, blocking, count, status):
    result = evaluate(_cfg(enabled=enabled, blocking=blocking), Finding("unbilled_accounts", count, ("л/с 1",)))
    assert result.status == status and result.blocking is blocking


def test_evaluate_message_with_sample_and_rest():
    r = evaluate(_cfg(), Finding("unbilled_accounts", 12, ("л/с 1", "л/с 2")))
    assert r.message == "12 лицевых счетов без начислений за период: л/с 1, л/с 2 и ещё 10"
    assert r.count == 12 and r.sample == ("л/с 1", "л/с 2")
    one = evaluate(_cfg("old_unidentified_payments", blocking=False), Finding("x", 1, ("платёж № 5",)), 7)
    assert one.message == "1 невыясненный платёж старше 7 дн.: платёж № 5" and one.status == "warn"
    assert evaluate(_cfg(), None).status == "skip"


def test_outcome_and_refusal():
    ok = CheckResult("a", "A", "pass", True, 0, (), "")
    warn = CheckResult("b", "Платежи", "warn", False, 2, (), "2 платежа")
    block = CheckResult("c", "Счета", "block", True, 1, (), "1 счёт")
    assert outcome([ok]) == "pass" and outcome([ok, warn]) == "warn" and outcome([warn, block]) == "block"
    assert outcome([]) == "pass"
    assert refusal([ok], accept_warnings=False) is None
    assert refusal([ok, warn], accept_warnings=True) is None
    assert "подтвердите" in refusal([warn], accept_warnings=False)
    why = refusal([warn, block], accept_warnings=True)
    assert why.startswith("Период нельзя закрыть") and "Счета: 1 счёт." in why and "Платежи" not in why


def test_result_round_trip():
    r = evaluate(_cfg(), Finding("unbilled_accounts", 2, ("л/с 1", "л/с 2")))
    assert CheckResult.from_dict(r.as_dict()) == r


@pytest.mark.parametrize(("code", "change", "error"), [
    ("nope", {}, "Неизвестная проверка"),
    ("unbilled_accounts", {"parameter": 3}, "нет параметра"),
    ("old_unidentified_payments", {"parameter": -1}, "от 0 до 3650"),
    ("old_unidentified_payments", {"parameter": True}, "от 0 до 3650"),
    ("unbilled_accounts", {"enabled": "yes"}, "да или нет"),
    ("unbilled_accounts", {"colour": 1}, "Неизвестные поля"),
])
def test_check_change_refusals(code, change, error):
    with pytest.raises(ValueError, match=error):
        check_change(code, change)


def test_check_change_accepts():
    assert check_change("old_unidentified_payments", {"parameter": 10, "blocking": True}) == \
        {"parameter": 10, "blocking": True}
    assert check_change("old_unidentified_payments", {"parameter": None}) == {"parameter": None}
    assert check_change("unbilled_accounts", {"enabled": False}) == {"enabled": False}
