"""Templates (sandboxed Jinja), SMS parts and cost, quiet hours: pure rules, no fixtures."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest

from aquabill.base.errors import Invalid
from aquabill.notifications.settings import SendingRules, check_rules
from aquabill.notifications.sms import sms_cost, sms_parts
from aquabill.notifications.templates import MessageTemplate, compile_template, format_money, recipient_values
from tests.integration.notifications.support import moscow


def render(body: str, subject: str = "", **values) -> tuple[str, str]:
    return compile_template(MessageTemplate(subject, body)).render(recipient_values(values, {}))


def refusal(body: str, subject: str = "") -> Invalid:
    with pytest.raises(Invalid) as err:
        compile_template(MessageTemplate(subject, body))
    return err.value


def test_variables_are_rendered_and_money_is_russian():
    subject, text = render("{{ holder }}, долг {{ debt }} руб.{% if debt > 1000 %} Срочно!{% endif %}",
                           "Счёт {{ account }}", holder="Иванов И. И.", account="00100001", debt="1234.5")
    assert subject == "Счёт 00100001"
    assert text == "Иванов И. И., долг 1 234,50 руб. Срочно!"
    assert format_money(Decimal("1234567.891")) == "1 234 567,89"


@pytest.mark.parametrize("body", [
    "{{ holder.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ debt.__class__.__init__.__globals__ }}",
    "{% for x in ().__class__.__base__.__subclasses__() %}{{ x }}{% endfor %}",
    "{{ holder.format.__globals__ }}",
])
def test_the_sandbox_blocks_internals(body):
    err = refusal(body)
    assert err.fields[0]["field"] == "body"
    assert "запрещено" in err.message or "неизвестн" in err.message


def test_a_syntax_error_names_its_line_in_russian():
    err = refusal("Здравствуйте, {{ holder }}!\n{% if debt > 0 %}\nДолг {{ debt }}")
    assert err.message.startswith("Текст, строка 3")  # the block is never closed
    assert "не закрыт" in err.message
    err = refusal("ok", "Тема {{ holder }")
    assert err.fields[0]["field"] == "subject" and "строка 1" in err.message


def test_an_unknown_variable_is_refused_when_composing():
    err = refusal("Строка\nИтого: {{ dolg }}")
    assert "строка 2" in err.message and "«dolg»" in err.message
    assert err.fields[0]["field"] == "body"


def test_an_empty_or_oversized_template_is_refused():
    assert refusal("   ").fields[0]["field"] == "body"
    assert refusal("x" * 5000).fields[0]["field"] == "body"


@pytest.mark.parametrize("text, parts", [
    ("", 0), ("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3),
    ("я" * 70, 1), ("я" * 71, 2), ("я" * 134, 2), ("я" * 135, 3),
    ("{" * 80, 1), ("{" * 81, 2),  # extension characters count twice
    ("a" * 159 + "я", 3),  # one Cyrillic letter makes it UCS-2: 160 units / 67
    ("😀" * 35, 1), ("😀" * 36, 2),  # outside the BMP: two units each
])
def test_sms_parts(text, parts):
    assert sms_parts(text) == parts


def test_sms_cost_is_parts_times_price():
    assert sms_cost("я" * 71, Decimal("3.50")) == Decimal("7.00")
    assert sms_cost("hello", Decimal("2.35")) == Decimal("2.35")


def test_quiet_hours_over_midnight():
    rules = SendingRules()  # 21:00–09:00 Moscow
    assert rules.quiet_until(moscow(20, 59)) is None
    assert rules.quiet_until(moscow(21, 0)) == moscow(9, 0, moscow(12).date().replace(day=13))
    assert rules.quiet_until(moscow(3, 30)) == moscow(9, 0)
    assert rules.quiet_until(moscow(9, 0)) is None
    day = SendingRules(quiet_from=time(13, 0), quiet_to=time(14, 0))
    assert day.quiet_until(moscow(13, 30)) == moscow(14, 0)
    assert day.quiet_until(moscow(23, 0)) is None
    assert SendingRules(quiet_from=time(0, 0), quiet_to=time(0, 0)).quiet_until(moscow(3)) is None
    vladivostok = SendingRules(timezone="Asia/Vladivostok")  # UTC+10: 21:00 there is 14:00 in Moscow
    assert vladivostok.quiet_until(moscow(14, 30)) is not None


def test_bad_rules_are_refused():
    for raw, field in (({"timezone": "Mars/Olympus"}, "timezone"), ({"sms_price": "дёшево"}, "sms_price"),
                       ({"quiet_from": "25:99"}, "quiet_from"), ({"rates": {"pigeon": 1}}, "rates"),
                       ({"rates": {"autocall": 50}}, "rates"), ({"sms_price": "-1"}, "sms_price")):
        with pytest.raises(Invalid) as err:
            check_rules(raw)
        assert err.value.fields[0]["field"] == field
    assert check_rules({"sms_price": "2,5", "rates": {"sms": "40"}}).rates["sms"] == 40
