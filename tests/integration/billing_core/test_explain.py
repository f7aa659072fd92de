"""Every charge explains itself (#13): for a small tenant with known inputs, the exact sentences of each line's
explanation, and the numbers in its formula multiply out to the amount charged."""

import re
from datetime import date
from decimal import ROUND_HALF_UP
from decimal import Decimal as D
from fractions import Fraction

import pytest
from sqlalchemy import text

from aquabill.billing_core.parameters import ParameterValue, set_parameters
from aquabill.billing_core.periods import Period
from aquabill.billing_core.run.compute import Scope
from aquabill.billing_core.run.explain import explain_charges, explain_summary
from aquabill.billing_core.run.service import run_billing
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.conftest import small_registry
from tests.integration.billing_core.test_common_property import odn_data
from tests.integration.billing_core.test_month_run import close, meter, readings, resident

APRIL, JULY = Period(2024, 4), Period(2024, 7)


@pytest.fixture
async def tx5(core, make_tenant):
    async def seed(conn, tenant):
        await small_registry(conn, tenant, accounts=5)

    handle = await make_tenant(seed=seed)
    return lambda: tenant_transaction(core.engines, handle.tenant)


async def scenario(conn):
    await odn_data(conn)  # cold water 40 ₽, sewage 30 ₽, norms 5 and 8 m³; common property 0.05 m³/m² × 150 m²
    # ЛС1: a meter read at the month's ends (100 → 112)
    m1 = await meter(conn, 1, date(2023, 1, 1))
    await readings(conn, m1, (date(2024, 3, 31), "100"), (date(2024, 4, 30), "112"))
    # ЛС2: month-end readings to 31.03.2024 (6, 7, 8, 6, 7, 8 m³: average 7), then silent
    m2 = await meter(conn, 2, date(2023, 9, 30), initial="100")
    await resident(conn, 2, date(2020, 1, 1))
    await readings(conn, m2, (date(2023, 10, 31), "106"), (date(2023, 11, 30), "113"), (date(2023, 12, 31), "121"),
                   (date(2024, 1, 31), "127"), (date(2024, 2, 29), "134"), (date(2024, 3, 31), "142"))
    # ЛС3: 3 residents, verification lapsed 31.12.2023 (readings until then)
    m3 = await meter(conn, 3, date(2017, 6, 30))
    await conn.execute(text("UPDATE meters SET verified_until = DATE '2023-12-31', serial = 'ХВ-300' WHERE id = :m"),
                       {"m": m3})
    for name in ("Первый", "Второй", "Третий"):
        await resident(conn, 3, date(2020, 1, 1), name=name)
    await readings(conn, m3, (date(2023, 9, 30), "500"), (date(2023, 10, 31), "512"), (date(2023, 11, 30), "524"),
                   (date(2023, 12, 31), "536"))
    await conn.execute(text("UPDATE meters SET serial = 'ХВ-100' WHERE account_id = 1"))
    await conn.execute(text("UPDATE meters SET serial = 'ХВ-200' WHERE account_id = 2"))
    # ЛС4: no meter, one resident, a second from 15.04.2024
    await resident(conn, 4, date(2020, 1, 1))
    await resident(conn, 4, date(2024, 4, 15), name="Второй")
    # ЛС5: no meter and no possibility of one, two residents, one away 10–19 April
    await resident(conn, 5, date(2020, 1, 1))
    await resident(conn, 5, date(2020, 1, 1), name="Второй")
    await set_parameters(conn, [ParameterValue(5, "meter_possible", date(2020, 1, 1), D(0))])
    await conn.execute(text("INSERT INTO absences(account_id, date_from, date_to) "
                            "VALUES (5, DATE '2024-04-10', DATE '2024-04-19')"))
    return m2


def _value(formula: str) -> Fraction:
    expr = formula.replace("\u00a0", "").replace("\u202f", "").replace(",", ".").replace("×", "*").replace("−", "-")
    expr = re.sub(r"[^0-9.*/+()\- ]", " ", expr)
    expr = re.sub(r"(?<![0-9])\.|\.(?![0-9])", " ", expr)
    expr = re.sub(r"([0-9.]+)", r"Fraction('\1')", expr)
    return eval(expr, {"Fraction": Fraction})  # noqa: S307 (digits and operators only)


def multiplies_out(line: str, amount: D) -> bool:
    """«… : a × b … = 123,45 ₽.» — the product of the numbers shown, rounded to kopecks, is the amount."""
    head = line[:line.rindex(" = ")]
    formula = head[max(head.rfind(": ") + 2, head.rfind("расход ") + len("расход ")):]
    value = _value(formula)
    shown = D(value.numerator) / D(value.denominator)
    return shown.quantize(D("0.01"), rounding=ROUND_HALF_UP) == amount


async def run_months(conn, m2):
    """April–June billed and closed; ЛС2's reading of 20.07 arrives; July billed (recalculating April–June)."""
    for month in (4, 5, 6):
        await run_billing(conn, Period(2024, month), Scope())
    await close(conn, date(2024, 4, 1), date(2024, 5, 1), date(2024, 6, 1))
    await readings(conn, m2, (date(2024, 7, 20), "170"))
    await run_billing(conn, JULY, Scope())


async def explained(conn, account_id, period):
    return {(e.service_code, e.method, e.corrects_period): e for e in await explain_charges(conn, account_id, period)}


NB = "\u00a0"


def ru(text_: str) -> str:
    """The sentences below are written with plain spaces before units and in thousands: the text has NBSP."""
    return text_.replace(NB, " ").replace("\u202f", " ")


async def test_each_method_explains_itself_in_plain_russian(tx5):
    async with tx5() as conn:
        await run_months(conn, await scenario(conn))
        ls1, ls2, ls3, ls4, ls5 = [await explained(conn, a, APRIL) for a in (1, 2, 3, 4, 5)]
        july2 = await explained(conn, 2, JULY)

    # by the readings of a meter read at the month's ends
    assert [ru(x) for x in ls1["cold_water", "meter", None].lines] == [
        "Холодное водоснабжение: по счётчику № ХВ-100 — показания 100 (31.03) и 112 (30.04), "
        "расход 12 м³ × тариф 40,00 ₽ = 480,00 ₽."]
    assert [ru(x) for x in ls1["sewage", "meter", None].lines] == [
        "Водоотведение: объём водоотведения равен объёму потреблённой воды за те же дни — 12 м³.",
        "Расчёт: 12 м³ × тариф 30,00 ₽ = 360,00 ₽."]
    # by the average after the readings stopped
    assert [ru(x) for x in ls2["cold_water", "average", None].lines] == [
        "Холодное водоснабжение: по среднему — среднемесячный объём 7 м³ (по показаниям за 6 месяцев).",
        "Показания счётчика № ХВ-200 не передавались с 31.03.2024, поэтому начисление идёт по среднемесячному "
        "объёму (пп. «б» п. 59 Правил № 354), не дольше 3 месяцев подряд; апрель 2024 — 1-й из них.",
        "Расчёт: среднемесячный объём 7 м³ × тариф 40,00 ₽ = 280,00 ₽."]
    # by norm with the increasing coefficient after the verification lapsed (three months by the average first)
    assert [ru(x) for x in ls3["cold_water", "norm", None].lines] == [
        "Холодное водоснабжение: по нормативу — 3 чел. × норматив 5 м³ в месяц.",
        "Срок поверки счётчика № ХВ-300 истёк 31.12.2023, со следующего дня он считается вышедшим из строя "
        "(пп. «д» п. 81(12) Правил № 354): 3 месяца начисление шло по среднему (пп. «а» п. 59 Правил № 354), "
        "а с 01.04.2024 — по нормативу (п. 60 Правил № 354).",
        "При неисправном счётчике к нормативу применяется повышающий коэффициент 1,5 — ПП РФ № 603 от 29.06.2016 "
        "(п. 42 Правил № 354).",
        "Расчёт: 3 чел. × норматив 5 м³ × тариф 40,00 ₽ × повышающий коэффициент 1,5 = 900,00 ₽."]
    # day segments: a second resident from the 15th, no meter although one could be installed
    assert [ru(x) for x in ls4["cold_water", "norm", None].lines] == [
        "Холодное водоснабжение: по нормативу, по частям месяца — 01.04–14.04 (14 дней): 1 чел. × норматив 5 м³ "
        "в месяц; 15.04–30.04 (16 дней): 2 чел. × норматив 5 м³ в месяц.",
        "Счётчика нет — начисление по нормативу потребления (п. 42 Правил № 354).",
        "Установить счётчик технически возможно, поэтому применяется повышающий коэффициент 1,5 — ПП РФ № 603 "
        "от 29.06.2016 (п. 42 Правил № 354).",
        "Расчёт: (1 чел. × норматив 5 м³ × 14/30 + 2 чел. × норматив 5 м³ × 16/30) × тариф 40,00 ₽ × "
        "повышающий коэффициент 1,5 = 460,00 ₽."]
    # a temporary absence, no technical possibility of a meter
    assert [ru(x) for x in ls5["cold_water", "norm", None].lines][0] == (
        "Холодное водоснабжение: по нормативу, по частям месяца — 01.04–09.04 (9 дней): 2 чел. × норматив 5 м³ "
        "в месяц; 10.04–19.04 (10 дней): 1 чел. × норматив 5 м³ в месяц (проживает 2 чел., из них временно "
        "отсутствующих 1 — п. 86 Правил № 354); 20.04–30.04 (11 дней): 2 чел. × норматив 5 м³ в месяц.")
    assert ru(ls5["cold_water", "norm", None].lines[2]) == (
        "Повышающий коэффициент не применяется: установить счётчик технически невозможно.")
    # common property by norm × common area, spread by area (41 of 215 m²)
    assert [ru(x) for x in ls1["common_cold", "common", None].lines] == [
        "Холодная вода на содержание общего имущества: объём дома за апрель 2024 — 7,5 м³ (п. 44 Правил № 354).",
        "Общедомового счётчика нет (или он учитывал не весь месяц), поэтому объём дома — по нормативу: 0,05 м³ "
        "на 1 м² × 150 м² мест общего пользования.",
        "Объём распределяется пропорционально площади помещений: на ваш лицевой счёт приходится 41 м² из 215 м².",
        "Расчёт: объём дома 7,5 м³ × 41 м² / 215 м² × тариф 38,50 ₽ = 55,06 ₽."]
    # July: 1–20 by the late reading, 21–31 by the new average; April recalculated by the reading (28 m³ / 111 days)
    assert ru(july2["cold_water", "meter", None].lines[0]) == (
        "Холодное водоснабжение, 01.07–20.07: по счётчику № ХВ-200 — показания 142 (31.03) и 170 (20.07), "
        "расход 28 м³ за 111 дней; на 01.07–20.07 приходится 20 дней: 28 м³ × 20/111 × тариф 40,00 ₽ = 201,80 ₽.")
    assert [ru(x) for x in july2["cold_water", "recalculation", "2024-04"].lines] == [
        "Холодное водоснабжение: перерасчёт за апрель 2024 — 22,70 ₽ (объём +0,568 м³).",
        "Показания счётчика поступили после того, как месяц был начислен по среднему, поэтому он пересчитан "
        "по фактическим показаниям.",
        "Было начислено 280,00 ₽, по пересчёту — 302,70 ₽: разница 302,70 ₽ − 280,00 ₽ = 22,70 ₽.",
        "По пересчёту: по счётчику № ХВ-200 — показания 142 (31.03) и 170 (20.07), расход 28 м³ за 111 дней; "
        "на 01.04–30.04 приходится 30 дней: 28 м³ × 30/111 × тариф 40,00 ₽ = 302,70 ₽."]
    assert [ru(x) for x in july2["sewage", "recalculation", "2024-05"].lines][2:] == [
        "Было начислено 210,00 ₽, по пересчёту — 234,59 ₽: разница 234,59 ₽ − 210,00 ₽ = 24,59 ₽.",
        "По пересчёту: объём водоотведения равен объёму потреблённой воды за те же дни — 7,82 м³.",
        "Расчёт: 28 м³ × 31/111 × тариф 30,00 ₽ = 234,59 ₽."]


async def test_the_numbers_in_each_formula_give_the_amount(tx5):
    async with tx5() as conn:
        await run_months(conn, await scenario(conn))
        lines = [(e, line) for a in (1, 2, 3, 4, 5) for p in (APRIL, Period(2024, 5), JULY)
                 for e in await explain_charges(conn, a, p) for line in e.lines
                 if line.startswith("Расчёт:") or " = " in line and "₽." in line and "разница" not in line]
    assert len(lines) > 40
    for e, line in lines:
        amount = D(re.findall(r"([−\d\u202f]+,\d\d)\u00a0₽\.$", line)[0].replace("\u202f", "").replace(",", ".")
                   .replace("−", "-"))
        if " ≈ " in line:  # an average shown to the litre: the text says so
            assert not multiplies_out(line.replace(" ≈ ", " = "), amount), line
        else:
            assert multiplies_out(line, amount), line
        if e.method != "recalculation":
            assert amount == e.amount, line


async def test_summary_answers_why_the_bill_is_so_high(tx5):
    async with tx5() as conn:
        await run_months(conn, await scenario(conn))
        answer = await explain_summary(conn, 2, JULY)
        # a line written before the run kept its inputs says less, and still gives its total
        await conn.execute(text("UPDATE charges SET seg_from = NULL, meter_id = NULL, read_from = NULL, "
                                "read_to = NULL, value_from = NULL, value_to = NULL WHERE account_id = 1 "
                                "AND period = DATE '2024-04-01'"))
        older = await explained(conn, 1, APRIL)
        empty = await explain_summary(conn, 1, Period(2023, 1))
    assert len(answer) <= 3500
    assert ru(answer).splitlines() == [
        "Лицевой счёт № ЛС2, июль 2024: начислено 728,36 ₽.",
        "Это на 181,95 ₽ больше, чем за июнь 2024 (546,41 ₽).",
        "Из чего складывается сумма:",
        "— Холодное водоснабжение: 305,78 ₽ (за июнь 2024 — 280,00 ₽), по среднему, по показаниям счётчика, "
        "7,644 м³. После показаний 20.07.2024 новых ещё не поступало, поэтому дни до следующих показаний начислены "
        "по среднемесячному объёму (пп. «б» п. 59 Правил № 354); когда они придут, начисление пересчитают по ним.",
        "— Водоотведение: 229,33 ₽ (за июнь 2024 — 210,00 ₽), по среднему, по показаниям счётчика, 7,644 м³.",
        "— Холодная вода на содержание общего имущества: 56,41 ₽ (за июнь 2024 — 56,41 ₽), доля общедомового "
        "объёма, 1,465 м³. Общедомового счётчика нет (или он учитывал не весь месяц), поэтому объём дома — по "
        "нормативу: 0,05 м³ на 1 м² × 150 м² мест общего пользования. Объём распределяется пропорционально площади "
        "помещений: на ваш лицевой счёт приходится 42 м² из 215 м².",
        "— Перерасчёт за апрель, май, июнь 2024: +136,84 ₽ (холодное водоснабжение +78,19 ₽, водоотведение "
        "+58,65 ₽). Показания счётчика поступили после того, как месяц был начислен по среднему, поэтому он "
        "пересчитан по фактическим показаниям.",
        "Подробный расчёт каждой строки — в личном кабинете, раздел «Как рассчитано».",
    ]
    assert [ru(x) for x in older["cold_water", "meter", None].lines] == [
        "Холодное водоснабжение: по счётчику, 12 м³.",
        "Исходные данные этого расчёта не сохранены (строка начислена до того, как расчёт стал их записывать), "
        "поэтому здесь только итог.",
        "Расчёт: 12 м³ × тариф 40,00 ₽ = 480,00 ₽."]
    assert empty == "Лицевой счёт № ЛС1: за январь 2023 начислений нет."
