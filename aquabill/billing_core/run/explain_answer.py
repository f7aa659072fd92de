"""The short answer to "why is my bill like this" (pure): the month's total against the previous month, then for
each service what it was charged by and what changed (tariff, volume, method), the recalculations and other
lines — from the charges' own explanations (explain.py). For an operator to read out and for a messenger. A changed
tariff is named with its start date and the act that set it (`tariff_dates`: (service, price) → (date, basis))."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from aquabill.billing_core.periods import Period
from aquabill.billing_core.run.explain_format import day, m3, month, price, rub, signed_rub

LIMIT = 3500
COMPUTED = ("meter", "norm", "average", "substitute", "common")
_HOW = {"meter": "по показаниям счётчика", "norm": "по нормативу", "average": "по среднему",
        "common": "доля общедомового объёма", "substitute": "замещающий объём"}


class Explained(Protocol):
    service_code: str
    service_name: str
    method: str
    amount: Decimal
    volume: Decimal
    corrects_period: str | None
    lines: list[str]
    tariff: Decimal
    coefficient: Decimal


def _reasons(e: Explained) -> list[str]:
    """The sentences that say why (those after the line's own, before the formula)."""
    return [line for line in e.lines[1:] if not line.startswith(("Расчёт", "По пересчёту", "Было начислено"))]


def _reason(e: Explained) -> str:
    found = _reasons(e)
    return found[0] if found else ""


def _service(code: str, rows: list[Explained], prev: list[dict[str, Any]], prev_period: Period,
             tariff_dates: dict[tuple[str, Decimal], tuple[date, str]]) -> str:
    amount = sum((e.amount for e in rows), Decimal(0))
    main = max(rows, key=lambda e: e.amount)
    methods = ", ".join(dict.fromkeys(_HOW.get(e.method, e.method) for e in rows))
    text = f"— {main.service_name}: {rub(amount)}"
    prev_amount = sum((Decimal(r["amount"]) for r in prev), Decimal(0))
    if prev:
        text += f" (за {month(prev_period)} — {rub(prev_amount)})"
    volume = sum((e.volume for e in rows), Decimal(0))
    text += f", {methods}" + (f", {m3(volume)}" if volume else "") + "."
    reasons = list(dict.fromkeys(r for e in rows if e.method != "meter" for r in _reasons(e)))
    if reasons:
        text += " " + " ".join(reasons[:2])
    computed_prev = [r for r in prev if r["method"] in COMPUTED and r["corrects_period"] is None]
    if computed_prev:
        old = max(computed_prev, key=lambda r: r["amount"])
        old_tariff = Decimal(old["tariff"])
        if old_tariff and main.tariff and old_tariff != main.tariff:
            since, basis = tariff_dates.get((code, main.tariff), (None, ""))
            text += (f" Тариф {'вырос' if main.tariff > old_tariff else 'снизился'} с {price(old_tariff)} до "
                     f"{price(main.tariff)}" + (f" с {day(since)}" if since else "")
                     + (f" ({basis})" if since and basis else "") + ".")
        old_volume = sum((Decimal(r["volume"]) for r in computed_prev), Decimal(0))
        if old_volume and volume and abs(volume - old_volume) >= old_volume / 10:
            text += f" Объём {m3(volume)} против {m3(old_volume)} месяцем раньше."
    return text


def _months(months: list[Period]) -> str:
    """«апрель, май, июнь 2024» (or with each month's year)."""
    if not months:
        return "прошлые периоды"
    if len({m.year for m in months}) == 1:
        return ", ".join(month(m).split()[0] for m in months) + f" {months[0].year}"
    return ", ".join(month(m) for m in months)


def summary(number: str, period: Period, now: list[Explained], prev_rows: list[dict[str, Any]],
            tariff_dates: dict[tuple[str, Decimal], tuple[date, str]]) -> str:
    """The answer, at most LIMIT characters."""
    if not now:
        return f"Лицевой счёт № {number}: за {month(period)} начислений нет."
    total = sum((e.amount for e in now), Decimal(0))
    prev_period = period.prev()
    out = [f"Лицевой счёт № {number}, {month(period)}: начислено {rub(total)}."]
    if prev_rows:
        prev_total = sum((Decimal(r["amount"]) for r in prev_rows), Decimal(0))
        diff = total - prev_total
        out.append(f"Это на {rub(abs(diff))} {'больше' if diff > 0 else 'меньше'}, чем за {month(prev_period)} "
                   f"({rub(prev_total)})." if diff else f"Столько же, сколько за {month(prev_period)}.")
    out.append("Из чего складывается сумма:")
    services: dict[str, list[Explained]] = {}
    for e in now:
        if e.method in COMPUTED:
            services.setdefault(e.service_code, []).append(e)
    for code, rows in services.items():
        out.append(_service(code, rows, [r for r in prev_rows if r["service_code"] == code], prev_period,
                            tariff_dates))
    recalcs: dict[str, list[Explained]] = {}  # the reason → its recalculation lines
    for e in now:
        if e.method == "recalculation":
            recalcs.setdefault(_reason(e), []).append(e)
        elif e.method not in COMPUTED:
            out.append(f"— {e.lines[0]}")
    for why, rows in recalcs.items():
        months = sorted({Period.parse(e.corrects_period) for e in rows if e.corrects_period})
        by_service: dict[str, Decimal] = {}
        for e in rows:
            by_service[e.service_name.lower()] = by_service.get(e.service_name.lower(), Decimal(0)) + e.amount
        parts = ", ".join(f"{name} {signed_rub(v)}" for name, v in by_service.items())
        total_r = sum(by_service.values(), Decimal(0))
        out.append(f"— Перерасчёт за {_months(months)}: {signed_rub(total_r)}"
                   + (f" ({parts})" if len(by_service) > 1 else "") + "." + (f" {why}" if why else ""))
    out.append("Подробный расчёт каждой строки — в личном кабинете, раздел «Как рассчитано».")
    text = "\n".join(out)
    if len(text) > LIMIT:
        text = text[:LIMIT - 1].rsplit("\n", 1)[0] + "\n…"
    return text
