"""A charge line's `details` (plain data written by `compute`) as Russian text for people: the card of a contract,
the documents' annexes, the organisation's portal. Pure."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

NBSP = "\u00a0"
AVERAGE_REASONS = {"no_readings": "показания не переданы", "failed": "прибор учёта неисправен",
                   "verification": "истёк срок поверки прибора учёта"}
CAPACITY_REASONS = {"unmetered": "точка без прибора учёта", "no_meter": "прибор учёта не установлен",
                    "no_readings_6m": "показания не передавались более 6 месяцев",
                    "failed_60d": "прибор учёта неисправен более 60 дней",
                    "verification_60d": "срок поверки истёк более 60 дней назад",
                    "no_basis": "нет показаний для расчёта среднесуточного объёма",
                    "no_water": "выпуск без прибора учёта сточных вод, водопроводного ввода на объекте нет"}


def num(value: Any, *, places: int | None = None, min_places: int = 1) -> str:
    """1234.500 → «1 234,5» (a no-break space between thousands; trailing zeros dropped, at least `min_places`
    decimals; `places` fixes them)."""
    d = Decimal(str(value))
    if places is not None:
        text = f"{d:,.{places}f}"
    else:
        text = f"{d.normalize():,f}" if d == d.to_integral() or d.normalize().as_tuple().exponent < 0 else f"{d:,f}"
        whole, _, frac = text.partition(".")
        frac = frac.rstrip("0")
        frac = frac + "0" * max(0, min_places - len(frac))
        text = f"{whole}.{frac}" if frac else whole
    return text.replace(",", NBSP).replace(".", ",")


def _day(value: Any) -> str:
    d = value if isinstance(value, date) else date.fromisoformat(str(value))
    return f"{d:%d.%m.%Y}"


def explain(method: str, details: dict[str, Any]) -> str:
    """«По прибору учёта № 123: 1 234,5 − 1 100,0 = 134,5 м³ …» — one sentence or two per line."""
    d = details or {}
    days = d.get("days")
    if method == "meter":
        text = (f"По прибору учёта № {d.get('serial', '—')}: {num(d['to_value'])} − {num(d['from_value'])} = "
                f"{num(d['diff'])} м³ с {_day(date.fromordinal(date.fromisoformat(d['from_on']).toordinal() + 1))} "
                f"по {_day(d['to_on'])} ({d['interval_days']} дн.)")
        if d.get("rollover"):
            text += ", счётчик перешёл через ноль"
        if days is not None and days != d.get("interval_days"):
            text += f"; на {days} дн. этого периода — пропорционально дням"
        return text + "."
    if method == "average":
        why = AVERAGE_REASONS.get(d.get("reason", ""), "")
        return (f"Среднесуточный объём ({why}; прибор учёта № {d.get('serial', '—')}): "
                f"{num(d['basis_volume'])} м³ за {d['basis_days']} дн. с {_day(d['basis_from'])} по "
                f"{_day(d['basis_to'])} = {num(d['avg_daily'], min_places=1)} м³/сут × {days} дн. "
                "(Правила коммерческого учёта воды, пост. Правительства РФ № 776, п. 17).")
    if method == "capacity":
        why = CAPACITY_REASONS.get(d.get("reason", ""), "")
        return (f"По пропускной способности трубы Ø {d.get('diameter_mm', '—')} мм ({why}): π × d² / 4 × 1,2 м/с × "
                f"24 ч = {num(d.get('capacity_daily', 0))} м³/сут × {days} дн. "
                + ("(пост. Правительства РФ № 776, пп. 16, 24)." if d.get("reason") == "no_water"
                   else "(пост. Правительства РФ № 776, п. 16)."))
    if method == "sewage":
        return (f"Водоотведение по объёму воды объекта: {num(d.get('supply_volume', 0))} × {num(d.get('share', 1))} = "
                f"{num(Decimal(str(d.get('supply_volume', 0))) * Decimal(str(d.get('share', 1))))} м³ за {days} дн. "
                "(пост. Правительства РФ № 776, п. 23).")
    if method == "stormwater":
        return (f"Поверхностные сточные воды: {num(d['area_m2'])} м² × {num(d['mm'])} мм / 1000 × "
                f"{num(d['coefficient'])} (коэффициент стока) × {days}/{d['month_days']} дн.")
    if method == "sub_deduction":
        text = (f"Вычет объёма субабонента: точка «{d.get('sub_point', '—')}» (договор {d.get('sub_contract', '—')}), "
                f"{num(d.get('sub_volume', 0))} м³ за {days} дн.")
        if d.get("capped"):
            text += "; объём субабонента больше объёма точки — вычтено не больше объёма точки (не ниже нуля)"
        return text + "."
    if "recalc_of" in d:
        return (f"Перерасчёт за {d['recalc_of']}: было {num(d.get('old_volume') or 0)} м³ на "
                f"{num(d.get('old_amount') or 0, places=2)} ₽, стало {num(d.get('new_volume') or 0)} м³ на "
                f"{num(d.get('new_amount') or 0, places=2)} ₽.")
    return ""
