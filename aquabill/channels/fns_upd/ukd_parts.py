"""The parts of the correction document's table that the formats 5.01 (`ukd.py`) and 5.02 (`ukd502.py`) write
alike: a line's money before / after the change with the increase or decrease (cost without tax, excise, tax, cost
with tax) and the totals ВсегоУвел / ВсегоУм. The differences are parameters: 5.01 writes an unchanged cost as an
increase of 0.00 (its СтоимУвел may be 0), 5.02 writes neither (its СтоимУвел / СтоимУм are > 0); the totals' tax
is `СумНал` in 5.01 and `СумНалВсего` in 5.02."""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from aquabill.channels.fns_upd.upd import _num, _sub
from aquabill.legal_entities.issue.ukd import CorrLine
from aquabill.legal_entities.vat import Amounts

ZERO = Decimal("0.00")


def cost(parent: etree._Element, tag: str, before: Decimal, after: Decimal, *, equal_as_increase: bool) -> None:
    """СтоимТип: before, after and the increase (СтоимУвел) or the decrease (СтоимУм)."""
    el = _sub(parent, tag, СтоимДоИзм=_num(before), СтоимПослеИзм=_num(after))
    if after > before or (after == before and equal_as_increase):
        el.set("СтоимУвел", _num(after - before))
    elif after < before:
        el.set("СтоимУм", _num(before - after))


def tax(parent: etree._Element, tag: str, amounts: Amounts) -> None:
    holder = _sub(parent, tag)
    if amounts.vat is None:
        _sub(holder, "БезНДС").text = "без НДС"
    else:
        _sub(holder, "СумНДС").text = _num(amounts.vat)


def diff(parent: etree._Element, tag: str, before: Decimal, after: Decimal) -> None:
    holder = _sub(parent, tag)
    if after >= before:
        _sub(holder, "СумУвел").text = _num(after - before)
    else:
        _sub(holder, "СумУм").text = _num(before - after)


def line_amounts(row: etree._Element, line: CorrLine, *, equal_as_increase: bool) -> None:
    """The children of a line (СведТов) in the order both formats have: СтТовБезНДС, АкцизДо, АкцизПосле,
    АкцизРазн (no excise), СумНалДо, СумНалПосле, СумНалРазн, СтТовУчНал."""
    cost(row, "СтТовБезНДС", line.before.net, line.after.net, equal_as_increase=equal_as_increase)
    for tag in ("АкцизДо", "АкцизПосле"):
        _sub(_sub(row, tag), "БезАкциз").text = "без акциза"
    diff(row, "АкцизРазн", ZERO, ZERO)
    tax(row, "СумНалДо", line.before)
    tax(row, "СумНалПосле", line.after)
    diff(row, "СумНалРазн", line.before.vat_or_zero, line.after.vat_or_zero)
    cost(row, "СтТовУчНал", line.before.gross, line.after.gross, equal_as_increase=equal_as_increase)


def totals(table: etree._Element, lines: tuple[CorrLine, ...], *, tax_tag: str) -> None:
    """ВсегоУвел over the lines whose cost with tax does not fall, ВсегоУм over those where it falls; the tax of
    each under `tax_tag`."""
    up = [ln for ln in lines if ln.after.gross >= ln.before.gross]
    down = [ln for ln in lines if ln.after.gross < ln.before.gross]
    exempt = all(ln.before.vat is None and ln.after.vat is None for ln in lines)
    for tag, chosen, sign in (("ВсегоУвел", up, 1), ("ВсегоУм", down, -1)):
        if not chosen:
            continue
        net = sum((sign * (ln.after.net - ln.before.net) for ln in chosen), ZERO)
        gross = sum((sign * (ln.after.gross - ln.before.gross) for ln in chosen), ZERO)
        vat = sum((sign * (ln.after.vat_or_zero - ln.before.vat_or_zero) for ln in chosen), ZERO)
        total = _sub(table, tag, СтТовБезНДСВсего=_num(net), СтТовУчНалВсего=_num(gross))
        holder = _sub(total, tax_tag)
        if exempt:
            _sub(holder, "БезНДС").text = "без НДС"
        else:
            _sub(holder, "СумНДС").text = _num(vat)
