"""VAT (НДС) for documents to legal entities: the rates as dated rules, and the amounts of one document line.

Rates (Tax Code art. 164):
- general rate (p. 3): 20 % from 01.01.2019 to 31.12.2025 (Federal Law 303-FZ of 03.08.2018), 22 % from
  01.01.2026 (Federal Law 425-FZ of 28.11.2025 amending art. 164 p. 3);
- 10 % (p. 2: listed food, children's, medical goods …), 0 % (p. 1: export and the like);
- 5 % and 7 % for simplified-system payers who chose them (p. 8, from 01.01.2025, Federal Law 176-FZ of
  12.07.2024);
- calculated rates (p. 4) for advances received and other amounts that already include the tax: the rate
  divided by 100 + the rate — 20/120 until 31.12.2025, 22/122 from 01.01.2026, 10/110, 5/105, 7/107;
- «без НДС»: operations exempt under art. 149, or a seller that is not a VAT payer (art. 145, 346.11).
The rate in force is the one of the day the tax base arises (art. 167: the shipment day, or the day an
advance is received), so `general_rate(on)` / `advance_rate(on)` take that day.

Rounding — decided here, once. Tax Code art. 52 p. 6 (tax "in full roubles") concerns the tax payable for the
period (the return); an invoice shows its amounts in roubles and kopecks: the invoice form (Government Decree
1137 of 26.12.2011, columns 5, 8, 9) and the FNS electronic formats (order ЕД-7-26/970@: СтТовБезНДС,
СумНал, СтТовУчНал are decimal 19.2). Art. 168 p. 1 and art. 166 p. 1 compute the tax as the rate's percentage
of the tax base, i.e. per operation = per document line. So: every line's VAT is rounded half-up to the
kopeck (`money`), a document's totals are the sums of its lines (never recomputed from the total), which is
also what the format's checks expect (ВсегоОпл = Σ СведТов).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from aquabill.base.errors import Invalid

KOPECK = Decimal("0.01")
HUNDRED = Decimal(100)


def money(value: Decimal) -> Decimal:
    """The one rounding of this package: half-up to the kopeck."""
    return value.quantize(KOPECK, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class VatRate:
    """A rate as the documents name it: `label` is the FNS format's НалСт value ("22%", "22/122", "без НДС")."""

    label: str
    percent: Decimal | None  # None: без НДС
    calculated: bool = False  # 22/122 and the like: the amount already includes the tax

    @property
    def exempt(self) -> bool:
        return self.percent is None

    @property
    def share(self) -> Decimal:
        """The VAT share of the base: percent/100, or for a calculated rate percent/(100 + percent)."""
        if self.percent is None:
            return Decimal(0)
        return self.percent / (HUNDRED + self.percent) if self.calculated else self.percent / HUNDRED

    def __str__(self) -> str:
        return self.label


VAT_0 = VatRate("0%", Decimal(0))
VAT_5 = VatRate("5%", Decimal(5))
VAT_7 = VatRate("7%", Decimal(7))
VAT_10 = VatRate("10%", Decimal(10))
VAT_20 = VatRate("20%", Decimal(20))
VAT_22 = VatRate("22%", Decimal(22))
VAT_5_105 = VatRate("5/105", Decimal(5), calculated=True)
VAT_7_107 = VatRate("7/107", Decimal(7), calculated=True)
VAT_10_110 = VatRate("10/110", Decimal(10), calculated=True)
VAT_20_120 = VatRate("20/120", Decimal(20), calculated=True)
VAT_22_122 = VatRate("22/122", Decimal(22), calculated=True)
NO_VAT = VatRate("без НДС", None)

RATES: dict[str, VatRate] = {r.label: r for r in (VAT_0, VAT_5, VAT_7, VAT_10, VAT_20, VAT_22, VAT_5_105,
                                                   VAT_7_107, VAT_10_110, VAT_20_120, VAT_22_122, NO_VAT)}
_CALCULATED = {VAT_5: VAT_5_105, VAT_7: VAT_7_107, VAT_10: VAT_10_110, VAT_20: VAT_20_120, VAT_22: VAT_22_122}


@dataclass(frozen=True, slots=True)
class DatedRate:
    rate: VatRate
    since: date
    until: date | None  # inclusive; None: still in force
    source: str

    def covers(self, on: date) -> bool:
        return self.since <= on and (self.until is None or on <= self.until)


# When each rate may be applied (the day the tax base arises). Rates absent here (0 %, 10 %, без НДС, their
# calculated forms) have no end date in the period this product covers.
IN_FORCE: tuple[DatedRate, ...] = (
    DatedRate(VAT_20, date(2019, 1, 1), date(2025, 12, 31), "НК РФ ст. 164 п. 3 в ред. 303-ФЗ от 03.08.2018"),
    DatedRate(VAT_22, date(2026, 1, 1), None, "НК РФ ст. 164 п. 3 в ред. 425-ФЗ от 28.11.2025"),
    DatedRate(VAT_20_120, date(2019, 1, 1), date(2025, 12, 31), "НК РФ ст. 164 п. 4 в ред. 303-ФЗ от 03.08.2018"),
    DatedRate(VAT_22_122, date(2026, 1, 1), None, "НК РФ ст. 164 п. 4 в ред. 425-ФЗ от 28.11.2025"),
    DatedRate(VAT_5, date(2025, 1, 1), None, "НК РФ ст. 164 п. 8 в ред. 176-ФЗ от 12.07.2024"),
    DatedRate(VAT_7, date(2025, 1, 1), None, "НК РФ ст. 164 п. 8 в ред. 176-ФЗ от 12.07.2024"),
    DatedRate(VAT_5_105, date(2025, 1, 1), None, "НК РФ ст. 164 п. 8 в ред. 176-ФЗ от 12.07.2024"),
    DatedRate(VAT_7_107, date(2025, 1, 1), None, "НК РФ ст. 164 п. 8 в ред. 176-ФЗ от 12.07.2024"),
)
_GENERAL = (IN_FORCE[0], IN_FORCE[1])


def rate_by_label(label: str, *, field: str = "vat_rate") -> VatRate:
    """"22%", "22 %", "22/122", "без ндс" → the rate; anything else is refused."""
    key = " ".join((label or "").split()).replace(" %", "%")
    rate = RATES.get(key) or (NO_VAT if key.lower() == NO_VAT.label.lower() else None)
    if rate is None:
        raise Invalid(f"Ставка НДС «{label}» не поддерживается; допустимы: {', '.join(RATES)}", field=field)
    return rate


def general_rate(on: date) -> VatRate:
    """The general rate (art. 164 p. 3) for a tax base arising on `on`."""
    for dated in _GENERAL:
        if dated.covers(on):
            return dated.rate
    raise Invalid(f"Ставка НДС на {on:%d.%m.%Y} не определена (правила с 01.01.2019)", field="date")


def calculated_rate(rate: VatRate) -> VatRate:
    """The calculated rate for an amount that includes the tax (art. 164 p. 4): 22 % → 22/122."""
    if rate.calculated or rate.exempt or rate.percent == 0:
        return rate
    return _CALCULATED[rate]


def advance_rate(received_on: date, base: VatRate | None = None) -> VatRate:
    """The rate of an advance invoice for a prepayment received on `received_on` (art. 164 p. 4, art. 167
    p. 1 pp. 2): the calculated form of the general rate in force that day, or of `base` (e.g. 10 %)."""
    rate = calculated_rate(base or general_rate(received_on))
    check_in_force(rate, received_on)
    return rate


def check_in_force(rate: VatRate, on: date, *, field: str = "vat_rate") -> VatRate:
    """Refuse a rate that cannot apply on `on` (22 % for a 2025 shipment, 20 % for one in 2026)."""
    for dated in IN_FORCE:
        if dated.rate == rate and not dated.covers(on):
            until = f"по {dated.until:%d.%m.%Y}" if dated.until else "без срока"
            raise Invalid(f"Ставка НДС {rate} на {on:%d.%m.%Y} не применяется: она действует с "
                          f"{dated.since:%d.%m.%Y} {until} ({dated.source})", field=field)
    return rate


@dataclass(frozen=True, slots=True)
class Amounts:
    """One line's (or a total's) money: without VAT, the VAT (None: без НДС), with VAT; net + vat = gross."""

    net: Decimal
    vat: Decimal | None
    gross: Decimal

    @property
    def vat_or_zero(self) -> Decimal:
        return self.vat if self.vat is not None else Decimal(0)


def _amount(value: Decimal, what: str, field: str) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise Invalid(f"{what}: ожидается число", field=field)
    if value < 0:
        raise Invalid(f"{what} не может быть отрицательной: {value}", field=field)
    if value != value.quantize(KOPECK):
        raise Invalid(f"{what} {value} точнее копейки", field=field)
    return value.quantize(KOPECK)


def from_net(net: Decimal, rate: VatRate) -> Amounts:
    """Add VAT to an amount without it: VAT = net × rate, rounded half-up to the kopeck."""
    if rate.calculated:
        raise Invalid(f"Расчётная ставка {rate} применяется к сумме с НДС, не к сумме без налога",
                      field="vat_rate")
    net = _amount(net, "Сумма без НДС", "amount")
    if rate.exempt:
        return Amounts(net, None, net)
    vat = money(net * rate.share)
    return Amounts(net, vat, net + vat)


def from_gross(gross: Decimal, rate: VatRate) -> Amounts:
    """Split an amount that includes VAT: VAT = gross × rate / (100 + rate) (the calculated rate, art. 164
    p. 4), rounded half-up to the kopeck; net = gross − VAT."""
    gross = _amount(gross, "Сумма с НДС", "amount")
    if rate.exempt:
        return Amounts(gross, None, gross)
    share = rate.share if rate.calculated else calculated_rate(rate).share
    vat = money(gross * share)
    return Amounts(gross - vat, vat, gross)


def line_amounts(quantity: Decimal, price: Decimal, rate: VatRate, *, price_includes_vat: bool) -> Amounts:
    """A line's amounts from quantity × price: the product is rounded to the kopeck first (the line's cost,
    column 5 or 9 of the invoice), then VAT is added to it or split from it."""
    if quantity <= 0:
        raise Invalid(f"Количество должно быть больше нуля: {quantity}", field="quantity")
    if price < 0:
        raise Invalid(f"Цена не может быть отрицательной: {price}", field="price")
    cost = money(quantity * price)
    return from_gross(cost, rate) if price_includes_vat else from_net(cost, rate)


def total(lines: Iterable[Amounts]) -> Amounts:
    """A document's totals: the sums of its lines. VAT is None only when every line is без НДС."""
    items = list(lines)
    net = sum((a.net for a in items), Decimal("0.00"))
    gross = sum((a.gross for a in items), Decimal("0.00"))
    if items and all(a.vat is None for a in items):
        return Amounts(net, None, gross)
    return Amounts(net, sum((a.vat_or_zero for a in items), Decimal("0.00")), gross)
