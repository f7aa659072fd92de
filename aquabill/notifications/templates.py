"""Message templates: plain text rendered by Jinja2's sandbox, one message per recipient.

The sandbox (`SandboxedEnvironment`) refuses access to Python's internals (`__class__`, `mro`, function
globals …) and unsafe callables; undefined names are errors (`StrictUndefined`). A template is checked when it
is saved or a campaign is composed — syntax, names outside `VARIABLES`, and a render with sample values — so a
bad template is refused there with its line and a Russian message, never at send time.

Variables of a recipient: `holder`, `account`, `address`, `debt` (roubles, printed the Russian way: 1 234,56;
still a number for comparisons: `{% if debt > 0 %}`), `debt_months`, `verification_date`; of the campaign:
`period` (the billing month: «март 2025»), `due_date` (the day to pay by, art. 155 ЖК РФ: see
billing_core/penalties/rules.py), the outage's `outage_from`, `outage_to`, `outage_houses`, `outage_text`;
of the tenant: `tenant_name`, `tenant_phone`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from aquabill.base.errors import Invalid

VARIABLES: dict[str, str] = {
    "holder": "владелец лицевого счёта",
    "account": "номер лицевого счёта",
    "address": "адрес помещения",
    "debt": "задолженность, руб. (1 234,56)",
    "debt_months": "число месяцев с долгом",
    "verification_date": "когда истекает поверка счётчика",
    "period": "расчётный месяц (март 2025)",
    "due_date": "оплатить до (дата)",
    "outage_from": "начало отключения",
    "outage_to": "конец отключения",
    "outage_houses": "дома, где отключение",
    "outage_text": "пояснение к отключению",
    "tenant_name": "название организации",
    "tenant_phone": "телефон организации",
}
MAX_SUBJECT = 200
MAX_BODY = 4000
MAX_SOUND = 200
MONTHS = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
          "ноябрь", "декабрь")


class Rub(Decimal):
    """Roubles: a Decimal that prints as «1 234,56»."""

    def __str__(self) -> str:
        return format_money(self)


def format_money(value: Decimal) -> str:
    """Decimal('1234.5') → '1 234,50'."""
    return f"{Decimal(value).quantize(Decimal('0.01')):,f}".replace(",", " ").replace(".", ",")


def month_name(day: date) -> str:
    return f"{MONTHS[day.month - 1]} {day.year}"


SAMPLE: dict[str, Any] = {
    "holder": "Иванов Иван Иванович", "account": "00100001", "address": "г. Приозёрск, ул. Речная, д. 1, кв. 1",
    "debt": Rub("1234.56"), "debt_months": 2, "verification_date": "01.03.2025", "period": "март 2025",
    "due_date": "10.04.2025", "outage_from": "12.04.2025 09:00", "outage_to": "12.04.2025 18:00",
    "outage_houses": "ул. Речная, д. 1", "outage_text": "", "tenant_name": "Водоканал", "tenant_phone": "",
}

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
_SYNTAX = (("unexpected end of template", "шаблон оборван: не закрыт блок или выражение"),
           ("unexpected '}'", "лишняя закрывающая скобка «}»"),
           ("unexpected char", "недопустимый символ"),
           ("expected token 'end of print statement'", "выражение {{ … }} не закрыто или записано с ошибкой"),
           ("Encountered unknown tag", "неизвестная команда {% … %}"),
           ("unknown tag", "неизвестная команда {% … %}"),
           ("unexpected", "синтаксическая ошибка"))


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    subject: str
    body: str
    sound: str = ""


@dataclass(frozen=True, slots=True)
class Compiled:
    subject: Any
    body: Any

    def render(self, values: Mapping[str, Any]) -> tuple[str, str]:
        """(subject, text) for one recipient; a failure raises `RenderFailed` with a Russian message."""
        try:
            return self.subject.render(values).strip(), self.body.render(values).strip()
        except (TemplateError, ArithmeticError, TypeError, ValueError) as exc:
            raise RenderFailed(_runtime_message(exc)) from exc


class RenderFailed(Exception):
    pass


def _syntax_message(exc: TemplateSyntaxError, where: str) -> str:
    text = str(exc.message or "")
    block = re.search(r"block that needs to be closed is '(\w+)'", text)
    if block:
        reason = f"не закрыт блок {{% {block.group(1)} %}} — нет {{% end{block.group(1)} %}}"
    else:
        reason = next((ru for en, ru in _SYNTAX if en.lower() in text.lower()), "синтаксическая ошибка")
    return f"{where}, строка {exc.lineno}: {reason}"


def _runtime_message(exc: Exception) -> str:
    if isinstance(exc, SecurityError):
        return "обращение к недоступным данным запрещено"
    if isinstance(exc, UndefinedError):
        return "неизвестная переменная или поле: " + str(exc.message or exc)[:100]
    return "ошибка при подстановке значений: " + str(exc)[:100]


def _line_of(exc: BaseException) -> int | None:
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _compile(source: str, where: str, field: str) -> Any:
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise Invalid(_syntax_message(exc, where), field=field) from exc
    unknown = sorted(meta.find_undeclared_variables(tree) - set(VARIABLES))
    if unknown:
        line = next((n for n, row in enumerate(source.splitlines(), 1) if unknown[0] in row), 1)
        raise Invalid(f"{where}, строка {line}: неизвестная переменная «{unknown[0]}»; доступны: "
                      + ", ".join(VARIABLES), field=field)
    return _ENV.from_string(source)


def compile_template(template: MessageTemplate) -> Compiled:
    """Check and compile: syntax, names, a render with sample values; `Invalid` names the field and line."""
    if len(template.subject) > MAX_SUBJECT:
        raise Invalid(f"Тема — не длиннее {MAX_SUBJECT} знаков", field="subject")
    if not template.body.strip():
        raise Invalid("Текст сообщения пуст", field="body")
    if len(template.body) > MAX_BODY:
        raise Invalid(f"Текст — не длиннее {MAX_BODY} знаков", field="body")
    if len(template.sound) > MAX_SOUND or any(c in template.sound for c in "\r\n,|"):
        raise Invalid("Звуковой файл: имя без запятых и переводов строки, не длиннее 200 знаков", field="sound")
    compiled = Compiled(_compile(template.subject, "Тема", "subject"), _compile(template.body, "Текст", "body"))
    for part, where, field in ((compiled.subject, "Тема", "subject"), (compiled.body, "Текст", "body")):
        try:
            part.render(SAMPLE)
        except (TemplateError, ArithmeticError, TypeError, ValueError) as exc:
            line = _line_of(exc)
            raise Invalid(f"{where}{f', строка {line}' if line else ''}: {_runtime_message(exc)}", field=field) from exc
    return compiled


def recipient_values(recipient_vars: Mapping[str, Any], campaign_values: Mapping[str, Any]) -> dict[str, Any]:
    """The names a message is rendered with: the campaign's, then the recipient's (its `debt` as roubles)."""
    values = {name: "" for name in VARIABLES}
    values.update(campaign_values)
    values.update(recipient_vars)
    values["debt"] = Rub(str(values.get("debt") or "0"))
    values["debt_months"] = int(values.get("debt_months") or 0)
    return values
