"""The line-by-line reader of a Sberbank-style registry (`sberbank` has the entry points and the format's
description): the fast path for plainly right lines, the full checks that word the reasons, the trailer and
its reconciliation with the lines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from operator import itemgetter
from typing import Any

from aquabill.billing_core.payments.periods import parse_payment_period
from aquabill.billing_core.periods import Period
from aquabill.channels.bank_files.common import (
    AMOUNT_PATTERN,
    BankFileError,
    LineError,
    parse_amount,
    parse_ru_date,
)
from aquabill.channels.bank_files.sberbank_layout import (
    KNOWN_COLUMNS,
    REQUIRED_COLUMNS,
    TEXT_COLUMNS,
    MeterReading,
    RegistryLayout,
    RegistryRow,
    RegistryRows,
    RegistryTrailer,
    parse_reading,
    parse_time,
)

_CENT = Decimal("0.01")
_ZERO = Decimal("0.00")
_MONEY_COLUMNS = ("amount", "commission", "transferred")
_new_row = tuple.__new__


@dataclass
class RegistryParser:
    layout: RegistryLayout
    fast: bool = True
    rows: list[RegistryRow] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    warnings: list[LineError] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    trailer: RegistryTrailer | None = None
    lines_read: int = 0
    # money column → total of every payment line's value and the lines where it is unreadable (refused lines
    # included: the trailer counts them)
    money_total: dict[str, Decimal] = field(default_factory=dict)
    money_unreadable: dict[str, list[int]] = field(default_factory=dict)
    seen_ids: dict[str, int] = field(default_factory=dict)
    # the fast path's caches: cell text → parsed value
    _dates: dict[str, date] = field(default_factory=dict)
    _times: dict[str, time] = field(default_factory=dict)
    _periods: dict[str, Period] = field(default_factory=dict)
    _amounts: dict[str, Decimal] = field(default_factory=dict)
    # the fast path's money, summed at the end (a column the layout does not have stays empty)
    _amount_total: list[Decimal] = field(default_factory=list)
    _commission_total: list[Decimal] = field(default_factory=list)
    _transferred_total: list[Decimal] = field(default_factory=list)

    def __post_init__(self) -> None:
        columns = self.layout.columns
        ix = {name: columns.index(name) if name in columns else -1 for name in KNOWN_COLUMNS}
        self._cells = itemgetter(*(ix[name] for name in (
            "operation_id", "account", "date", "time", "period", "amount", "commission", "transferred")))
        self._texts = itemgetter(*(ix[name] for name in TEXT_COLUMNS))
        for name in _MONEY_COLUMNS:
            if name in self.layout.columns:
                self.money_total[name] = _ZERO
                self.money_unreadable[name] = []

    def read(self, text: str) -> None:
        """Every line of the text; numbers count physical lines from 1."""
        sep, prefix, fast, feed = self.layout.separator, self.layout.trailer_prefix, self._fast, self.feed
        rows, seen = self.rows, self.seen_ids
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith(prefix) or self.trailer is not None or not self.fast:
                feed(number, raw)
                continue
            row = fast(number, [c.strip() for c in line.split(sep)])
            if row is None:
                feed(number, raw)  # the full checks word the reason
                continue
            self.lines_read += 1
            seen[row.operation_id] = number
            rows.append(row)

    def feed(self, number: int, raw: str) -> None:
        line = raw.strip()
        if not line:
            return
        if line.startswith(self.layout.trailer_prefix):
            if self.trailer is not None:
                self.file_errors.append(f"Строка {number}: вторая итоговая строка (первая в строке "
                                        f"{self.trailer.line})")
                return
            self.trailer = self._trailer(number, line)
            return
        if self.trailer is not None:
            self.file_errors.append(f"Строка {number}: строка платежа после итоговой строки "
                                    f"{self.trailer.line}")
        self.lines_read += 1
        cells = [c.strip() for c in line.split(self.layout.separator)]
        # the amount counts for the trailer check even when the line is refused for another reason
        self._remember_money(number, cells)
        try:
            row, warnings = self._payment(number, cells)
        except ValueError as exc:
            self.errors.append(LineError(number, str(exc), raw))
            return
        first = self.seen_ids.get(row.operation_id)
        if first is not None:
            self.errors.append(LineError(
                number, f"операция {row.operation_id} повторяется (уже в строке {first})", raw))
            return
        self.seen_ids[row.operation_id] = number
        self.rows.append(row)
        self.warnings.extend(LineError(number, w, raw) for w in warnings)

    def _remember_money(self, number: int, cells: list[str]) -> None:
        for name in self.money_total:
            i = self.layout.columns.index(name)
            cell = cells[i] if i < len(cells) else None
            try:
                value = parse_amount(cell) if cell else None
            except ValueError:
                value = None
            if cell == "" and name != "amount":  # an empty commission is none
                value = _ZERO
            if value is None:
                self.money_unreadable[name].append(number)
            else:
                self.money_total[name] += value

    def _money(self, raw: str) -> Decimal | None:
        """A money cell by the fast path (cached), None when not a plain amount."""
        value = self._amounts.get(raw)
        if value is None:
            if not AMOUNT_PATTERN.match(raw):
                return None
            value = self._amounts[raw] = Decimal(raw.replace(",", ".")).quantize(_CENT)
        return value

    def _fast(self, number: int, cells: list[str]) -> RegistryRow | None:
        """The line's row when every cell is plainly right (its money remembered), else None: the full
        checks then read it and word the reasons. Must agree with `_payment` on every line it accepts."""
        width = len(self.layout.columns)
        if len(cells) < width:
            return None
        tail = cells[width:]
        cells.append("")  # what a column the layout does not have reads (its index is -1)
        operation_id, account, raw_date, raw_time, raw_period, raw_amount, raw_commission, raw_transferred = (
            self._cells(cells))
        if not operation_id or not account or operation_id in self.seen_ids:
            return None
        paid_on = self._dates.get(raw_date)
        if paid_on is None:
            try:
                paid_on = self._dates[raw_date] = parse_ru_date(raw_date)
            except ValueError:
                return None
        paid_time = period = transferred = None
        if raw_time:
            paid_time = self._times.get(raw_time)
            if paid_time is None:
                try:
                    paid_time = self._times[raw_time] = parse_time(raw_time)
                except ValueError:
                    return None
        if raw_period:
            period = self._periods.get(raw_period)
            if period is None:
                try:
                    period = self._periods[raw_period] = parse_payment_period(raw_period)
                except ValueError:
                    return None
        amount = self._money(raw_amount)
        if amount is None or amount <= 0:
            return None
        commission = _ZERO
        if raw_commission:
            commission = self._money(raw_commission)  # type: ignore[assignment]
            if commission is None or commission < 0:
                return None
        if raw_transferred:
            transferred = self._money(raw_transferred)
            if transferred is None or transferred < 0:
                return None
        readings: tuple[MeterReading, ...] = ()
        if tail and any(tail):
            if not self.layout.readings:
                return None
            try:
                readings = tuple(parse_reading(c) for c in tail if c)
            except ValueError:
                return None
        self._amount_total.append(amount)
        if commission:
            self._commission_total.append(commission)
        if transferred:
            self._transferred_total.append(transferred)
        return _new_row(RegistryRow, (
            number, paid_on, paid_time, operation_id, account, amount, commission, transferred, period,
            *self._texts(cells), readings))

    def _payment(self, number: int, cells: list[str]) -> tuple[RegistryRow, list[str]]:
        columns = self.layout.columns
        if len(cells) < len(columns):
            raise ValueError(f"полей {len(cells)}, а по описанию реестра должно быть не меньше {len(columns)}")
        values = {name: cells[i] for i, name in enumerate(columns) if name != "skip"}
        tail = cells[len(columns):]
        problems: list[str] = []
        for name in REQUIRED_COLUMNS:
            if not values[name]:
                problems.append(f"не заполнено поле «{_CAPTIONS[name]}»")
        if problems:
            raise ValueError("; ".join(problems))

        def read(name: str, parse: Callable[[str], Any], default: Any = None) -> Any:
            raw = values.get(name, "")
            if not raw:
                return default
            try:
                return parse(raw)
            except ValueError as exc:
                problems.append(str(exc))
                return default

        paid_on = read("date", lambda r: parse_ru_date(r, "дата платежа"))
        paid_time = read("time", parse_time)
        period = read("period", parse_payment_period)
        amount = read("amount", lambda r: parse_amount(r, "сумма платежа"))
        commission = read("commission", lambda r: parse_amount(r, "комиссия"), Decimal("0.00"))
        transferred = read("transferred", lambda r: parse_amount(r, "сумма к перечислению"))
        if amount is not None and amount <= 0:
            problems.append(f"сумма платежа {amount} должна быть больше нуля")
        if commission is not None and commission < 0:
            problems.append(f"комиссия {commission} не может быть отрицательной")
        if transferred is not None and transferred < 0:
            problems.append(f"сумма к перечислению {transferred} не может быть отрицательной")
        if problems:
            raise ValueError("; ".join(problems))

        warnings: list[str] = []
        readings: list[MeterReading] = []
        for cell in tail:
            if not cell:
                continue
            if not self.layout.readings:
                raise ValueError(f"лишнее поле «{cell}» после {len(columns)} полей")
            try:
                readings.append(parse_reading(cell))
            except ValueError as exc:
                warnings.append(f"платёж принят, но {exc}")
        assert paid_on is not None and amount is not None
        payment = RegistryRow(
            line=number, paid_on=paid_on, paid_time=paid_time, operation_id=values["operation_id"],
            account=values["account"], amount=amount, commission=commission, transferred=transferred,
            period=period, readings=tuple(readings),
            **{name: values.get(name, "") for name in TEXT_COLUMNS},
        )
        return payment, warnings

    def _trailer(self, number: int, line: str) -> RegistryTrailer | None:
        cells = [c.strip() for c in line[len(self.layout.trailer_prefix):].split(self.layout.separator)]
        count: int | None = None
        got: dict[str, Decimal] = {}
        try:
            for name, cell in zip(self.layout.trailer, cells, strict=False):
                if name == "skip" or not cell:
                    continue
                if name == "count":
                    if not cell.isdigit():
                        raise ValueError(f"число строк «{cell}» не целое")
                    count = int(cell)
                else:
                    got[name] = parse_amount(cell, _TRAILER_CAPTIONS[name])
        except ValueError as exc:
            self.file_errors.append(f"Строка {number}: итоговая строка не читается: {exc}")
            return RegistryTrailer(number, None, None, None, None)
        return RegistryTrailer(number, count, got.get("amount"), got.get("commission"), got.get("transferred"))

    def finish(self, digest: str, encoding: str) -> RegistryRows:
        for name, values in (("amount", self._amount_total), ("commission", self._commission_total),
                             ("transferred", self._transferred_total)):
            if name in self.money_total:
                self.money_total[name] += sum(values, _ZERO)
        if self.lines_read == 0 and not self.errors:
            raise BankFileError("В реестре нет ни одной строки платежа")
        self._check_trailer()
        return RegistryRows(
            checksum=digest, encoding=encoding, rows=self.rows, errors=tuple(self.errors),
            warnings=tuple(self.warnings), file_errors=tuple(self.file_errors), trailer=self.trailer,
            lines_read=self.lines_read,
        )

    def _check_trailer(self) -> None:
        t = self.trailer
        if t is None:
            if self.layout.trailer_required:
                self.file_errors.append("В реестре нет итоговой строки (начинается с "
                                        f"«{self.layout.trailer_prefix}»): реестр мог быть обрезан")
            return
        if t.count is not None and t.count != self.lines_read:
            self.file_errors.append(f"Итоговая строка {t.line}: указано строк {t.count}, "
                                    f"в реестре {self.lines_read}")
        for name, caption, expected in (("amount", "сумма платежей", t.amount),
                                        ("commission", "сумма комиссии", t.commission),
                                        ("transferred", "сумма к перечислению", t.transferred)):
            if expected is None or name not in self.money_total or not self.lines_read:
                continue
            unreadable = self.money_unreadable[name]
            if unreadable:
                self.file_errors.append(f"Итоговая строка {t.line}: не сверить, {caption} не читается "
                                        f"в строках {', '.join(map(str, unreadable))}")
                continue
            actual = self.money_total[name]
            if actual != expected:
                self.file_errors.append(f"Итоговая строка {t.line}: {caption} {expected}, "
                                        f"а по строкам реестра {actual}")


_CAPTIONS = {"date": "дата платежа", "operation_id": "номер операции", "account": "лицевой счёт",
             "amount": "сумма платежа"}
_TRAILER_CAPTIONS = {"amount": "итоговая сумма", "commission": "итоговая комиссия",
                     "transferred": "итоговая сумма к перечислению"}
