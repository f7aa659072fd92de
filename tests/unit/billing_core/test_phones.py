import pytest

from aquabill.billing_core.registry.phones import normalise_phone


@pytest.mark.parametrize("raw, expected", [
    ("89161234567", "+79161234567"),
    ("79161234567", "+79161234567"),
    ("+7 (916) 123-45-67", "+79161234567"),
    ("8 (81379) 2-11-22", "+78137921122"),
    ("9161234567", "+79161234567"),
    ("916 123 45 67", "+79161234567"),
    ("123", None),
    ("", None),
    (None, None),
    ("+380441234567", None),
    ("59161234567", None),
])
def test_normalise_phone(raw, expected):
    assert normalise_phone(raw) == expected
