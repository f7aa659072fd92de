"""The fixed vocabularies of counterparties and contracts with their Russian names (the same codes as the CHECK
constraints of migration t0032), and the cleaning of what people type into a text field. Pure, no I/O."""

from __future__ import annotations

import re

from aquabill.base.errors import Invalid

COUNTERPARTY_KINDS = {"org": "Организация", "ip": "Индивидуальный предприниматель"}
# Federal Law 416-FZ of 07.12.2011 «О водоснабжении и водоотведении», art. 13 (cold water) and art. 14 (sewage),
# parts 6.2–6.4 as amended by Federal Law 307-FZ of 03.11.2015: the category picks the penalty's scale — part 6.4
# managing organisations (and heat suppliers, water organisations buying water), part 6.3 HOAs and housing
# cooperatives, part 6.2 every other subscriber. The wording and its sources: legal_entities/penalties.py.
PENALTY_CATEGORIES = {"management_company": "Управляющая организация (1/300, с 61-го дня 1/170, с 91-го 1/130)",
                      "hoa": "ТСЖ, ЖСК (с 31-го дня 1/300, с 91-го 1/130)",
                      "other": "Прочие абоненты (1/130 с первого дня)"}
# the same, short (a category's history on the counterparty's card)
PENALTY_CATEGORY_SHORT = {"management_company": "Управляющая организация", "hoa": "ТСЖ, ЖСК", "other": "Прочие"}
CONTRACT_KINDS = {"cold_water": "Холодное водоснабжение", "sewage": "Водоотведение",
                  "combined": "Холодное водоснабжение и водоотведение", "stormwater": "Поверхностные сточные воды"}
CONTRACT_STATUSES = {"draft": "Проект", "active": "Действует", "terminated": "Расторгнут"}
# which status may follow which (a terminated contract stays terminated: a new contract is signed instead)
STATUS_MOVES = {"draft": ("active", "terminated"), "active": ("terminated",), "terminated": ()}
VAT_MODES = {"vat": "С НДС", "no_vat": "Без НДС"}
POINT_KINDS = {"supply": "Водопроводный ввод", "discharge": "Канализационный выпуск"}
# the point kinds a contract of each kind may have
POINT_KINDS_OF = {"cold_water": ("supply",), "sewage": ("discharge",), "combined": ("supply", "discharge"),
                  "stormwater": ("discharge",)}
# the billing service a point's meter measures (services.code of migration t0003)
METER_SERVICE_OF = {"supply": "cold_water", "discharge": "sewage"}

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"[\r\n\t]+")


def clean(value: object, *, field: str, what: str, limit: int = 500, required: bool = False,
          multiline: bool = False) -> str:
    """A text field: control characters dropped, spaces trimmed (line breaks kept only when `multiline`),
    at most `limit` characters; empty and `required` → a refusal naming `what`."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    text = _CONTROL.sub("", text)
    if not multiline:
        text = _LINE_BREAKS.sub(" ", text)
    text = text.strip()
    if required and not text:
        raise Invalid(f"Укажите {what}", field=field)
    if len(text) > limit:
        raise Invalid(f"{what[:1].upper()}{what[1:]}: не более {limit} знаков, указано {len(text)}", field=field)
    return text


def choice(value: object, options: dict[str, str], *, field: str, what: str) -> str:
    """One of the codes of `options`; anything else is refused with the list of the Russian names."""
    if isinstance(value, str) and value in options:
        return value
    listed = "; ".join(f"{code} — {name}" for code, name in options.items())
    raise Invalid(f"{what}: допустимые значения — {listed}", field=field)


_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_PHONE = re.compile(r"^[0-9+()\-\s.,;доб]{5,32}$")


def email(value: object, *, field: str = "email") -> str:
    text = clean(value, field=field, what="адрес эл. почты", limit=254)
    if text and not _EMAIL.match(text):
        raise Invalid(f"Адрес эл. почты «{text}» указан неверно", field=field)
    return text


def phone(value: object, *, field: str = "phone") -> str:
    text = clean(value, field=field, what="телефон", limit=32)
    if text and (not _PHONE.match(text) or sum(ch.isdigit() for ch in text) < 5):
        raise Invalid(f"Телефон «{text}»: цифры, «+», скобки, дефисы, не более 32 знаков", field=field)
    return text
