"""The Bank of Russia key rate as a dated table and `rate_on(day)`.

Since 01.01.2016 the refinancing rate of art. 155 part 14 of the Housing Code equals the key rate
(Bank of Russia Directive No. 3894-U of 11.12.2015). Rates are percent per annum; a row holds from its
date until the day before the next row.

Sources (checked 2026-11-23 with the stored-pages search; cross-checked against each other):
- 2016–2018: mshatalova.ru «Ставка рефинансирования ЦБ РФ: таблица по годам» (each row cites the Bank of
  Russia notice of the decision; it prints "с 1 июня 2016" for 10.5 %, a typo: the decision of 10.06.2016
  took effect on 14.06.2016, as every other table below gives);
- 2019: the 2019 table on xn----ctbeed2afqgdf5acu0lzbm.xn--p1ai («Ставка рефинансирования ЦБ РФ на 2019
  год: таблица»); 2021-03-22 4.5 %: vladcons.ru (КонсультантПлюс); 2022-04-11 17 %: roszakupki.ru;
  2022-07-25 8 %: its.1c.ru; 2024-09-16 19 %: its.1c.ru; 2025-09-15 17 %: risk.econlib.ru;
- the whole series 2019-12-16 … 2026-07-27 as copied from cbr.ru/hd_base/KeyRate in public code read with
  the same search (two independent files agree row by row, one naming cbr.ru/hd_base/KeyRate).
NOT verified: any decision after 2026-07-27 (the stored copies end there). Before relying on a date
after that, add the later rows (official table: https://www.cbr.ru/hd_base/KeyRate/). A tenant or a
test may pass its own table to every function here.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class KeyRate:
    valid_from: date
    rate: Decimal  # percent per annum, e.g. Decimal("9.5")


def _table(rows: list[tuple[str, str]]) -> tuple[KeyRate, ...]:
    return tuple(KeyRate(date.fromisoformat(d), Decimal(r)) for d, r in rows)


KEY_RATES: tuple[KeyRate, ...] = _table([
    ("2016-01-01", "11.00"),  # refinancing rate := key rate (Directive 3894-U); key rate 11 % since 03.08.2015
    ("2016-06-14", "10.50"),
    ("2016-09-19", "10.00"),
    ("2017-03-27", "9.75"),
    ("2017-05-02", "9.25"),
    ("2017-06-19", "9.00"),
    ("2017-09-18", "8.50"),
    ("2017-10-30", "8.25"),
    ("2017-12-18", "7.75"),
    ("2018-02-12", "7.50"),
    ("2018-03-26", "7.25"),
    ("2018-09-17", "7.50"),
    ("2018-12-17", "7.75"),
    ("2019-06-17", "7.50"),
    ("2019-07-29", "7.25"),
    ("2019-09-09", "7.00"),
    ("2019-10-28", "6.50"),
    ("2019-12-16", "6.25"),
    ("2020-02-10", "6.00"),
    ("2020-04-27", "5.50"),
    ("2020-06-22", "4.50"),
    ("2020-07-27", "4.25"),
    ("2021-03-22", "4.50"),
    ("2021-04-26", "5.00"),
    ("2021-06-15", "5.50"),
    ("2021-07-26", "6.50"),
    ("2021-09-13", "6.75"),
    ("2021-10-25", "7.50"),
    ("2021-12-20", "8.50"),
    ("2022-02-14", "9.50"),  # the rate "in force on 27.02.2022" of Decree 474
    ("2022-02-28", "20.00"),
    ("2022-04-11", "17.00"),
    ("2022-05-04", "14.00"),
    ("2022-05-27", "11.00"),
    ("2022-06-14", "9.50"),
    ("2022-07-25", "8.00"),
    ("2022-09-19", "7.50"),
    ("2023-07-24", "8.50"),
    ("2023-08-15", "12.00"),
    ("2023-09-18", "13.00"),
    ("2023-10-30", "15.00"),
    ("2023-12-18", "16.00"),
    ("2024-07-29", "18.00"),
    ("2024-09-16", "19.00"),
    ("2024-10-28", "21.00"),
    ("2025-06-09", "20.00"),
    ("2025-07-28", "18.00"),
    ("2025-09-15", "17.00"),
    ("2025-10-27", "16.50"),
    ("2025-12-22", "16.00"),
    ("2026-02-16", "15.50"),
    ("2026-03-23", "15.00"),
    ("2026-04-27", "14.50"),
    ("2026-06-22", "14.25"),
    ("2026-07-27", "14.00"),  # latest verified row
])


def rate_on(day: date, table: tuple[KeyRate, ...] = KEY_RATES) -> Decimal:
    """The key rate (percent per annum) in force on `day`. `table` must be sorted by date."""
    i = bisect_right([r.valid_from for r in table], day)
    if i == 0:
        raise ValueError(f"no key rate known for {day:%d.%m.%Y}")
    return table[i - 1].rate


def changes_between(start: date, end: date, table: tuple[KeyRate, ...] = KEY_RATES) -> list[date]:
    """Dates in (start, end] on which a new key rate takes effect (to cut intervals)."""
    return [r.valid_from for r in table if start < r.valid_from <= end]
