"""The short answer's tariff sentence: a changed tariff is named with its start date and the act that set it."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal as D

import pytest

from aquabill.billing_core.periods import Period
from aquabill.billing_core.run.explain_answer import summary

NB = "\u00a0"
ORDER = "Приказ Управления по тарифам Энской области от 20.05.2026 № 41-вк"


@dataclass
class Line:
    service_code: str = "cold_water"
    service_name: str = "Холодное водоснабжение"
    method: str = "meter"
    amount: D = D("573.70")
    volume: D = D("10")
    corrects_period: str | None = None
    lines: list[str] = field(default_factory=lambda: ["Холодное водоснабжение: по счётчику, 10 м³."])
    tariff: D = D("57.37")
    coefficient: D = D("1")


PREV = [{"service_code": "cold_water", "method": "meter", "volume": D("10"), "tariff": D("53.12"),
         "amount": D("531.20"), "corrects_period": None}]


@pytest.mark.parametrize(("known", "said"), [
    ((date(2026, 7, 1), ORDER), f" Тариф вырос с 53,12{NB}₽ до 57,37{NB}₽ с 01.07.2026 ({ORDER})."),
    ((date(2026, 7, 1), ""), f" Тариф вырос с 53,12{NB}₽ до 57,37{NB}₽ с 01.07.2026."),
    (None, f" Тариф вырос с 53,12{NB}₽ до 57,37{NB}₽."),
])
def test_a_changed_tariff_names_its_date_and_basis(known, said):
    dates = {("cold_water", D("57.37")): known} if known else {}
    text = summary("ЛС1", Period(2026, 7), [Line()], PREV, dates)
    line = next(x for x in text.splitlines() if x.startswith("— Холодное водоснабжение"))
    assert line.endswith(said), line
