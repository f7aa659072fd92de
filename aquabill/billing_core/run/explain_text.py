"""Plain-Russian sentences explaining a charge row from the inputs the run kept (pure; explain.py reads the data).

Each explanation names the method and why it was chosen, the day segments, the readings or the average or
persons × norm, the tariff, the increasing coefficient with the decree that sets it, and ends with the formula
whose numbers, as shown, give the amount («≈» when a number is shown rounded). Points of the Rules (Decree
No. 354 of 06.05.2011): para. 42 (meter, norm, the coefficient where a meter could be installed), 59 «а» /
«б» (average after a failure or a lapsed verification / when readings are not submitted, at most three
periods), 60 (the norm after them; with the coefficient only after a failure), 81(12) «д» (a lapsed
verification counts as a failure), 86 (temporary absence), 44 (common property). The coefficient's own
decree is the `basis` of its dated row (coefficients)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from aquabill.billing_core.periods import Period
from aquabill.billing_core.run.explain_facts import Facts, Row, Segment
from aquabill.billing_core.run.explain_format import (
    Factor,
    Term,
    day,
    days_word,
    equation,
    m3,
    month,
    months_word,
    num,
    price,
    rub,
    span,
)

RULES = "Правил № 354"
P42, P44, P60, P86 = (f"п. {n} {RULES}" for n in (42, 44, 60, 86))
P59A, P59B = f"пп. «а» п. 59 {RULES}", f"пп. «б» п. 59 {RULES}"
P81 = f"пп. «д» п. 81(12) {RULES}"
METHODS = {"meter": "по счётчику", "norm": "по нормативу", "average": "по среднему", "common": "на общее имущество",
           "substitute": "замещающий объём"}
NO_INPUTS = ("Исходные данные этого расчёта не сохранены (строка начислена до того, как расчёт стал их записывать), "
             "поэтому здесь только итог.")


def _mi(d: date | Period) -> int:
    return d.year * 12 + d.month


def _add_months(p: Period, n: int) -> Period:
    k = p.year * 12 + p.month - 1 + n
    return Period(k // 12, k % 12 + 1)


def _months_gen(n: int) -> str:
    """«3 месяцев» (after «не дольше»)."""
    return f"{n} {'месяца' if n % 10 == 1 and n % 100 != 11 else 'месяцев'}"


def _meter(facts: Facts, seg: Segment, case: str = "") -> str:
    """«счётчик № ХВ-1» (case "а": «счётчика № ХВ-1», "у": «счётчику № ХВ-1»)."""
    m = facts.meters.get(seg.meter_id) if seg.meter_id else None
    return f"счётчик{case} № {m.serial}" if m else f"счётчик{case}"


def _delta(seg: Segment, facts: Facts) -> tuple[Decimal, bool]:
    """The volume between the two readings, and whether the meter went round through zero."""
    vf, vt = seg.value_from or Decimal(0), seg.value_to or Decimal(0)
    m = facts.meters.get(seg.meter_id) if seg.meter_id else None
    if vt >= vf or (m and m.reversible) or not m:
        return vt - vf, False
    return Decimal(10) ** m.digits - vf + vt, True


def _interval_days(seg: Segment) -> int:
    return (seg.read_to - seg.read_from).days if seg.read_from and seg.read_to else 0


def _persons(seg: Segment) -> Decimal:
    p = seg.persons or Decimal(0)
    return max(p - (seg.absent or Decimal(0)), Decimal(0)) if seg.meter_id is None else p


def term(row: Row, seg: Segment, facts: Facts) -> Term | None:
    """A segment's volume as a product of the numbers shown (None when its inputs were not kept)."""
    nd = row.period.days
    share = [] if seg.days == nd else [Factor.share(seg.days, nd)]
    if row.method == "meter" and seg.read_from and seg.read_to:
        delta, _ = _delta(seg, facts)
        idays = _interval_days(seg)
        return [Factor.of(delta, m3(delta)), *([] if idays == seg.days else [Factor.share(seg.days, idays)])]
    if row.method == "meter" and seg.meter_id:  # installed in the segment, no reading yet
        return [Factor.of(0, m3(Decimal(0)))]
    if row.method == "average" and seg.avg_volume is not None:
        shown = seg.avg_volume.quantize(Decimal("0.001"))
        return [Factor.of(shown, f"среднемесячный объём {m3(shown)}"), *share]
    if row.method == "norm" and seg.norm is not None and seg.persons is not None:
        persons = _persons(seg)
        return [Factor.of(persons, f"{num(persons, 2)} чел."), Factor.of(seg.norm, f"норматив {m3(seg.norm, 4)}"),
                *share]
    return None


def _tail(row: Row) -> Term:
    tail = [Factor.of(row.tariff, f"тариф {price(row.tariff)}")]
    if row.coefficient != 1:
        tail.append(Factor.of(row.coefficient, f"повышающий коэффициент {num(row.coefficient)}"))
    return tail


def _formula(row: Row, terms: list[Term] | None) -> str:
    if not terms:
        terms = [[Factor.of(row.volume, m3(row.volume))]]
    return f"Расчёт: {equation(terms, _tail(row), row.amount)}."


def _whole_month(row: Row) -> bool:
    segs = row.segments
    return not segs or (segs[0].start == row.period.first_day and segs[-1].end == row.period.last_day
                        and sum(s.days for s in segs) == row.period.days)


def _head(row: Row) -> str:
    if _whole_month(row) or len(row.segments) != 1:
        return row.service_name
    s = row.segments[0]
    return f"{row.service_name}, {span(s.start, s.end, row.period.year)}"


def _readings(seg: Segment, facts: Facts, year: int) -> str:
    """«показания 145,2 (15.10) и 152,7 (15.11)» (the installation's initial reading named so)."""
    m = facts.meters.get(seg.meter_id) if seg.meter_id else None
    first = "показание при установке" if m and seg.read_from == m.installed_on else "показания"
    return f"{first} {num(seg.value_from)} ({day(seg.read_from, year)}) и {num(seg.value_to)} ({day(seg.read_to, year)})"


def _consumption(seg: Segment, facts: Facts, year: int, *, share: bool = True) -> str:
    """«расход 7,5 м³» and, when the interval is not the segment, its days and (`share`) how many of them fall in
    the segment."""
    delta, wrapped = _delta(seg, facts)
    text = f"расход {m3(delta)}" + (" (счётчик перешёл через ноль)" if wrapped else "")
    idays = _interval_days(seg)
    if idays != seg.days:
        text += f" за {days_word(idays)}"
        if share:
            text += f"; на {span(seg.start, seg.end, year)} приходится {days_word(seg.days)}"
    return text


def _broken(seg: Segment, facts: Facts) -> str:
    m = facts.meters.get(seg.meter_id) if seg.meter_id else None
    b = seg.broken_from
    if m and m.failed_on == b:
        return f"Счётчик № {m.serial} вышел из строя {day(b)}"
    if m and m.verified_until and m.verified_until + timedelta(days=1) == b:
        return (f"Срок поверки счётчика № {m.serial} истёк {day(m.verified_until)}, со следующего дня он считается "
                f"вышедшим из строя ({P81})")
    return f"{_meter(facts, seg).capitalize()} не учитывает расход с {day(b)} (вышел из строя или истёк срок поверки)"


def _coefficient(row: Row, seg: Segment, facts: Facts) -> str:
    c = facts.coefficient(row.service_kind, row.coefficient, seg.start)
    if c is None:
        return f"повышающий коэффициент {num(row.coefficient)}"
    basis = c.basis or (f"установлен организацией с {day(c.valid_from)}" if c.source == "tenant" else "")
    return f"повышающий коэффициент {num(row.coefficient)}" + (f" — {basis}" if basis else "")


def _reasons(row: Row, seg: Segment, facts: Facts) -> list[str]:
    """Why the method of this segment: the sentences."""
    n, period = facts.avg_periods, row.period
    if row.method == "meter":
        return [] if seg.read_from else [
            f"{_meter(facts, seg).capitalize()} установлен недавно, показаний после установки ещё нет — расход 0 м³."]
    if row.method == "average":
        if seg.broken_from:
            k = _mi(period) - _mi(seg.broken_from) + 1
            return [f"{_broken(seg, facts)}, поэтому не дольше {_months_gen(n)} начисление идёт по среднемесячному "
                    f"объёму ({P59A}); {month(period)} — {k}-й из них."]
        if seg.last_read_on:
            k = _mi(period) - _mi(seg.last_read_on)
            if k <= 0:
                return [f"После показаний {day(seg.last_read_on)} новых ещё не поступало, поэтому дни до следующих "
                        f"показаний начислены по среднемесячному объёму ({P59B}); когда они придут, начисление "
                        f"пересчитают по ним."]
            return [f"Показания {_meter(facts, seg, 'а')} не передавались с {day(seg.last_read_on)}, поэтому начисление идёт по среднемесячному объёму "
                    f"({P59B}), не дольше {_months_gen(n)} подряд; {month(period)} — {k}-й из них."]
        return [f"Начисление по среднемесячному объёму ({P59B})."]
    if row.method != "norm":
        return []
    if seg.meter_id is None:
        out = [f"Счётчика нет — начисление по нормативу потребления ({P42})."]
        if row.coefficient != 1:
            out.append(f"Установить счётчик технически возможно, поэтому применяется "
                       f"{_coefficient(row, seg, facts)}.")
        elif row.service_kind != "sewage" and facts.coefficient_exists(row.service_kind, seg.start):
            out.append("Повышающий коэффициент не применяется: установить счётчик технически невозможно.")
        return out
    meter_of = _meter(facts, seg, "а")
    if seg.broken_from:
        k = _mi(period) - _mi(seg.broken_from)
        if k >= n:
            since = _add_months(Period.of(seg.broken_from), n)
            out = [f"{_broken(seg, facts)}: {months_word(n)} начисление шло по среднему ({P59A}), а с "
                   f"{day(since.first_day)} — по нормативу ({P60})."]
        else:
            out = [f"{_broken(seg, facts)}; показаний для расчёта среднего недостаточно (нужно не менее "
                   f"{_months_gen(facts.avg_min_months)}), поэтому — по нормативу ({P60})."]
        if row.coefficient != 1:
            out.append(f"При неисправном счётчике к нормативу применяется {_coefficient(row, seg, facts)}.")
        return out
    if seg.last_read_on:
        k = _mi(period) - _mi(seg.last_read_on)
        if k > n:
            since = _add_months(Period.of(seg.last_read_on), n + 1)
            return [f"Показания {meter_of} не передавались с {day(seg.last_read_on)}, поэтому {months_word(n)} "
                    f"начисление шло по среднему ({P59B}), а с {day(since.first_day)} — по нормативу ({P60}), "
                    f"без повышающего коэффициента."]
        return [f"Последние показания {meter_of} — {day(seg.last_read_on)}; показаний для расчёта среднего "
                f"недостаточно (нужно не менее {_months_gen(facts.avg_min_months)}), поэтому — по нормативу ({P42})."]
    m = facts.meters.get(seg.meter_id)
    since = f" {day(m.installed_on)}" if m else ""
    return [f"Показаний {meter_of} после установки{since} не поступало, поэтому — по нормативу ({P42})."]


def _detail(row: Row, seg: Segment, facts: Facts) -> str:
    """What a segment's volume is made of, in words (the formula repeats its numbers)."""
    year = row.period.year
    if row.method == "meter" and seg.read_from:
        return f"{_meter(facts, seg)}, {_readings(seg, facts, year)}, {_consumption(seg, facts, year, share=False)}"
    if row.method == "average" and seg.avg_volume is not None:
        return (f"среднемесячный объём {m3(seg.avg_volume)} (по показаниям за "
                f"{months_word(seg.avg_months or 0)})")
    if row.method == "norm" and seg.persons is not None:
        text = f"{num(_persons(seg), 2)} чел. × норматив {m3(seg.norm or 0, 4)} в месяц"
        if seg.absent and seg.meter_id is None:
            text += (f" (проживает {num(seg.persons, 2)} чел., из них временно отсутствующих {num(seg.absent, 2)} — "
                     f"{P86})")
        return text
    return ""


def merged(segs: tuple[Segment, ...]) -> tuple[Segment, ...]:
    """Adjacent segments with the same inputs shown as one (the month is cut for every input of any service)."""
    out: list[Segment] = []
    for seg in segs:
        last = out[-1] if out else None
        if last and last.end + timedelta(days=1) == seg.start and \
                replace(last, start=seg.start, end=seg.end, volume=None) == replace(seg, volume=None):
            volume = None if last.volume is None or seg.volume is None else last.volume + seg.volume
            out[-1] = replace(last, end=seg.end, volume=volume)
        else:
            out.append(seg)
    return tuple(out)


def _uniq(lines: list[str]) -> list[str]:
    return list(dict.fromkeys(lines))


def water(row: Row, facts: Facts) -> list[str]:
    """Cold or hot water by meter, average or norm."""
    row = replace(row, segments=merged(row.segments))
    segs = row.segments
    if not segs:
        return [f"{row.service_name}: {METHODS.get(row.method, row.method)}, {m3(row.volume)}.", NO_INPUTS,
                _formula(row, None)]
    year = row.period.year
    terms = [term(row, s, facts) for s in segs]
    reasons = _uniq([r for s in segs for r in _reasons(row, s, facts)])
    if len(segs) == 1:
        seg = segs[0]
        detail = _detail(row, seg, facts)
        if row.method == "meter" and seg.read_from and terms[0]:
            # «Холодное водоснабжение: по счётчику № … — показания … и …, расход 7,5 м³ × тариф … = … ₽.»
            formula = equation([terms[0]], _tail(row), row.amount)
            if _interval_days(seg) == seg.days:
                wrapped = " (счётчик перешёл через ноль)" if _delta(seg, facts)[1] else ""
                return [f"{_head(row)}: по {_meter(facts, seg, 'у')} — {_readings(seg, facts, year)}, "
                        f"расход {formula}{wrapped}.", *reasons]
            return [f"{_head(row)}: по {_meter(facts, seg, 'у')} — {_readings(seg, facts, year)}, "
                    f"{_consumption(seg, facts, year)}: {formula}.", *reasons]
        first = f"{_head(row)}: {METHODS.get(row.method, row.method)}" + (f" — {detail}." if detail else ".")
        return [first, *reasons, _formula(row, terms if all(terms) else None)]
    parts = [f"{span(s.start, s.end, year)} ({days_word(s.days)}): {_detail(row, s, facts)}" for s in segs]
    first = f"{row.service_name}: {METHODS.get(row.method, row.method)}, по частям месяца — {'; '.join(parts)}."
    return [first, *reasons, _formula(row, terms if all(terms) else None)]


def sewage(row: Row, facts: Facts, siblings: list[Row]) -> list[str]:
    """Sewage: the water's volume of the same days, or its own norm."""
    row = replace(row, segments=merged(row.segments))
    segs = row.segments
    if not segs:
        return [f"{row.service_name}: {METHODS.get(row.method, row.method)}, {m3(row.volume)}.", NO_INPUTS,
                _formula(row, None)]
    if all(s.norm is not None for s in segs):
        terms = [term(row, s, facts) for s in segs]
        return [f"{_head(row)}: по нормативу водоотведения ({P42}).", _formula(row, terms)]
    # the water's terms of the days of each sewage segment (the run's own segments: each inside one of them)
    water = [(s, term(w, s, facts)) for w in siblings if w.service_kind in ("cold_water", "hot_water")
             and w.corrects_period is None and w.method in METHODS for s in merged(w.segments)]
    terms: list[Term] = []
    for s in segs:
        inside = [t for w, t in water if s.start <= w.start and w.end <= s.end]
        if not inside or any(t is None for t in inside) or sum(w.days for w, _ in water if s.start <= w.start
                                                               and w.end <= s.end) < s.days:
            terms = []
            break
        terms += [t for t in inside if t is not None]
    how = "" if row.method == "meter" else f" (вода за эти дни начислена {METHODS.get(row.method, row.method)})"
    return [f"{_head(row)}: объём водоотведения равен объёму потреблённой воды за те же дни — {m3(row.volume)}{how}.",
            _formula(row, terms or None)]


def common(row: Row, facts: Facts) -> list[str]:
    """Cold water for the common property: the house's volume spread by area."""
    figures = facts.common.get((row.run_id, row.period.first_day))
    if figures is None or row.area is None or not figures.total_area:
        return [f"{row.service_name}: доля дома, распределённая по площади помещений ({P44}), — {m3(row.volume)}.",
                NO_INPUTS, _formula(row, None)]
    out = [f"{row.service_name}: объём дома за {month(row.period)} — {m3(figures.volume)} ({P44})."]
    if figures.building_volume is not None:
        individual = figures.individual_volume or Decimal(0)
        text = (f"По общедомовому счётчику {m3(figures.building_volume)}, по счетам всех помещений дома "
                f"{m3(individual)}, разница {m3(max(figures.building_volume - individual, Decimal(0)))}")
        if figures.capped and figures.norm is not None and figures.common_area is not None:
            text += (f"; больше норматива нельзя: {num(figures.norm, 4)} м³ на 1 м² × {num(figures.common_area, 2)} м² "
                     f"мест общего пользования = {m3(figures.norm * figures.common_area)}")
        out.append(text + ".")
    elif figures.norm is not None and figures.common_area is not None:
        out.append(f"Общедомового счётчика нет (или он учитывал не весь месяц), поэтому объём дома — по нормативу: "
                   f"{num(figures.norm, 4)} м³ на 1 м² × {num(figures.common_area, 2)} м² мест общего пользования.")
    out.append(f"Объём распределяется пропорционально площади помещений: на ваш лицевой счёт приходится "
               f"{num(row.area, 2)} м² из {num(figures.total_area, 2)} м².")
    volume = figures.volume.quantize(Decimal("0.001"))
    out.append(f"Расчёт: {_common_formula(volume, row, figures.total_area)}.")
    return out


def _common_formula(volume: Decimal, row: Row, total_area: Decimal) -> str:
    """«объём дома 14,4 м³ × 45 м² / 3 200 м² × тариф 48,73 ₽ = 9,87 ₽»."""
    area = row.area or Decimal(0)
    factors = [Factor.of(volume, f"объём дома {m3(volume)}"), Factor.of(area, f"{num(area, 2)} м²"),
               Factor(1 / Factor.of(total_area, "").value, f"/ {num(total_area, 2)} м²")]
    return equation([factors], _tail(row), row.amount)


def recalculation(row: Row, before: Decimal, after_lines: list[list[str]], had_average: bool) -> list[str]:
    """A recalculation row: why, what had been charged, what the month comes to now."""
    q = row.corrects_period
    reason = (row.inputs or {}).get("reason")
    out = [f"{row.service_name}: перерасчёт за {month(q) if q else 'прошлый период'} — {rub(row.amount)}"
           + (f" (объём {'+' if row.volume > 0 else ''}{m3(row.volume)})" if row.volume else "") + "."]
    if reason == "late_readings":
        out.append("Показания счётчика поступили после того, как месяц был начислен по среднему, поэтому он "
                   "пересчитан по фактическим показаниям.")
    elif reason == "closed_period":
        out.append("Закрытый месяц пересчитан по уточнённым данным; разница внесена в этот счёт.")
    elif had_average:
        out.append("Месяц был начислен по среднему и пересчитан по поступившим позже показаниям.")
    else:
        out.append("Месяц пересчитан заново; разница внесена в этот счёт.")
    out.append(f"Было начислено {rub(before)}, по пересчёту — {rub(before + row.amount)}: разница "
               f"{rub(before + row.amount)} − {rub(before)} = {rub(row.amount)}.")
    for lines in after_lines:  # each recomputed line's own explanation, its service named above
        if lines:
            first = lines[0].split(": ", 1)[1] if lines[0].startswith(row.service_name) else lines[0]
            out += [f"По пересчёту: {first}", *lines[1:]]
    return out


def adjustment(row: Row, label: str) -> list[str]:
    """Rows people post: one-off charges, storno, instalments."""
    note = f": {row.note}" if row.note else ""
    return [f"{row.service_name}: {label}{note} — {rub(row.amount)}."]
