"""Cash orders (Bank of Russia Directive 3210-U of 11.03.2014 «О порядке ведения кассовых операций…»): the
приходный кассовый ордер (form КО-1, OKUD 0310001) for cash received and the расходный кассовый ордер (КО-2,
0310002) for cash paid out, numbered per year and kind (an order's number starts again on 1 January), each on
a day and a cash point; the cash book (КО-4) is made of them (book.py).

At a shift's close the ПКО «Выручка по кассе за смену № N» books the shift's net cash (cash sales − cash
refunds; Directive 3210-U p. 5.2: the revenue of a cash register is received by one ПКО at the end of the
shift). A shift whose cash refunds exceed its cash sales gets an РКО for the difference instead. A РКО is also
written by hand: the revenue handed over to the bank (сдача выручки в банк), collection (инкассация), … It may
not take more cash than the book holds at the end of its day.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core.run.explain_format import rub
from aquabill.cash.shifts import get_point, shift_totals

KINDS = {"in": "ПКО", "out": "РКО"}
FORMS = {"in": "Приходный кассовый ордер (форма КО-1)", "out": "Расходный кассовый ордер (форма КО-2)"}
OUT_BASES = ("Сдача выручки в банк", "Инкассация", "Выдача под отчёт", "Возврат денежных средств покупателю")
IN_BASES = ("Внесение размена", "Возврат подотчётных сумм")
KOPECK = Decimal("0.01")
LOCK = 0x63617368  # 'cash': the advisory lock that numbers orders one at a time

COLUMNS = """o.id, o.kind, o.year, o.number, o.ordered_on, o.amount, o.person, o.basis, o.cash_point_id, o.shift_id,
    o.created_at, o.created_by, p.name AS point_name"""


def shift_basis(number: int | None, *, refunds: bool = False) -> str:
    what = "Возврат денежных средств по кассе" if refunds else "Выручка по кассе"
    return f"{what} за смену № {number}" if number else what


async def cash_on_hand(conn: AsyncConnection, point_id: int, until: date) -> Decimal:
    """The cash book's balance at the end of the day `until`."""
    return Decimal((await conn.execute(text(
        "SELECT coalesce(sum(CASE kind WHEN 'in' THEN amount ELSE -amount END), 0) FROM cash_orders "
        "WHERE cash_point_id = :p AND ordered_on <= :d"), {"p": point_id, "d": until})).scalar_one()).quantize(KOPECK)


async def _insert(conn: AsyncConnection, *, kind: str, point_id: int, on: date, amount: Decimal, basis: str,
                  person: str, shift_id: int | None, user_id: int | None) -> dict[str, Any]:
    await conn.execute(text("SELECT pg_advisory_xact_lock(:k, :y)"), {"k": LOCK, "y": on.year})
    order_id = (await conn.execute(text(
        "INSERT INTO cash_orders(kind, year, number, ordered_on, amount, person, basis, cash_point_id, shift_id, "
        "created_by) SELECT CAST(:kind AS varchar), :y, coalesce(max(number), 0) + 1, :on, :amount, :person, :basis, :p, "
        ":shift, :user FROM cash_orders WHERE kind = CAST(:kind AS varchar) AND year = :y RETURNING id"),
        {"kind": kind, "y": on.year, "on": on, "amount": amount, "person": person, "basis": basis, "p": point_id,
         "shift": shift_id, "user": user_id})).scalar_one()
    return await get_order(conn, order_id)


async def get_order(conn: AsyncConnection, order_id: int) -> dict[str, Any]:
    r = (await conn.execute(text(f"SELECT {COLUMNS} FROM cash_orders o JOIN cash_points p ON p.id = o.cash_point_id "
                                 "WHERE o.id = :id"), {"id": order_id})).first()
    if r is None:
        raise NotFound("Кассовый ордер не найден")
    return dict(r._mapping)


async def create_order(conn: AsyncConnection, *, kind: str, point_id: int, on: date, amount: Decimal | None,
                       basis: str, person: str = "", user_id: int | None = None) -> dict[str, Any]:
    """A cash order written by hand (its number is the next of its kind and year)."""
    if kind not in KINDS:
        raise Invalid("Вид ордера: приходный (ПКО) или расходный (РКО)", field="kind")
    if not date(2000, 1, 1) <= on <= date(2100, 12, 31):
        raise Invalid(f"Дата ордера {on:%d.%m.%Y} вне допустимого диапазона (2000–2100 годы)", field="day")
    await get_point(conn, point_id)
    if amount is not None and amount.is_finite() and amount > Decimal("100000000"):
        raise Invalid("Сумма ордера слишком велика: проверьте ввод", field="amount")
    if amount is None or not amount.is_finite() or amount <= 0 or amount != amount.quantize(KOPECK):
        raise Invalid("Сумма ордера: больше нуля, с точностью до копеек", field="amount")
    basis = " ".join((basis or "").split())[:200]
    if not basis:
        raise Invalid("Укажите основание ордера", field="basis")
    person = " ".join((person or "").split())[:200]
    amount = amount.quantize(KOPECK)
    if kind == "out":
        on_hand = await cash_on_hand(conn, point_id, on)
        if amount > on_hand:
            raise Invalid(f"В кассе на конец {on:%d.%m.%Y} {rub(on_hand)}: выдать {rub(amount)} нельзя", field="amount")
    return await _insert(conn, kind=kind, point_id=point_id, on=on, amount=amount, basis=basis,
                         person=person, shift_id=None, user_id=user_id)


async def shift_order(conn: AsyncConnection, shift: dict[str, Any], on: date) -> dict[str, Any] | None:
    """The automatic order of a closed shift (once: a second call finds it): a ПКО of its net cash, or a РКО when
    it paid out more than it took; none when no cash moved."""
    found = (await conn.execute(text("SELECT id FROM cash_orders WHERE shift_id = :s ORDER BY id LIMIT 1"),
                                {"s": shift["id"]})).scalar()
    if found is not None:
        return await get_order(conn, found)
    net = (await shift_totals(conn, [shift["id"]]))[shift["id"]]["net_cash"]
    if net == 0:
        return None
    kind = "in" if net > 0 else "out"
    return await _insert(conn, kind=kind, point_id=shift["cash_point_id"], on=on, amount=abs(net),
                         basis=shift_basis(shift.get("shift_number"), refunds=net < 0),
                         person=shift["cashier_name"], shift_id=shift["id"], user_id=None)


async def list_orders(conn: AsyncConnection, *, point_id: int, day_from: date, day_to: date) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in await conn.execute(text(
        f"SELECT {COLUMNS} FROM cash_orders o JOIN cash_points p ON p.id = o.cash_point_id "
        "WHERE o.cash_point_id = :p AND o.ordered_on BETWEEN :f AND :t ORDER BY o.ordered_on, o.kind, o.number"),
        {"p": point_id, "f": day_from, "t": day_to})]
