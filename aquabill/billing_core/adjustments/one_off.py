"""One-off charges: a document that charges a sum to one account, or spreads it over the accounts of a
house (or of the whole tenant) by premise area or by persons — exact to the kopeck.

Spreading a total T over weights wᵢ (W = Σ wᵢ): each account's exact share T·wᵢ/W is cut down to whole
kopecks; the kopecks left over (fewer than the number of accounts) go one each to the largest remainders
(ties: the lower account id) — the largest-remainder method, so the rows sum to T exactly. With a rate
(₽ per m² or per person) each row is round(rate × wᵢ, 2) instead.

Weights, as on the period's last day, of the accounts open on some day of the period:
- area: the account's own parameter `area` if set, else the premise's area (shared evenly by the
  accounts of a communal flat);
- residents: the registered residents, else the parameter `residents`.
Accounts of weight 0 get nothing, nor do rows that would be 0.00. Only a period that is not closed
takes a one-off charge. Rows are `charges` with method 'one_off' and source ('one_off', document id).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core.adjustments.periods import ACTING_USER
from aquabill.billing_core.money import money
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import ensure_open, open_for_posting
from aquabill.billing_core.reference.services import get_service
from aquabill.billing_core.registry.queries import require_account, require_house

BASES = {"area": "по площади", "residents": "по числу проживающих", "account": "на один лицевой счёт"}
MAX_AMOUNT = Decimal("1000000000")
MAX_NOTE = 500
PREVIEW_ROWS = 1000


@dataclass(frozen=True, slots=True)
class OneOff:
    period: Period
    service_id: int
    basis: str  # area | residents | account
    house_id: int | None = None  # area/residents: one house, or None for every account of the tenant
    account_id: int | None = None  # account: the one account
    total: Decimal | None = None  # the sum spread (or charged to the one account)
    rate: Decimal | None = None  # or ₽ per m² / per person (area/residents)
    note: str = ""


def check_one_off(doc: OneOff) -> None:
    """The document is well-formed (pure)."""
    if doc.basis not in BASES:
        raise Invalid("Способ распределения: area (по площади), residents (по проживающим) или account "
                           "(один лицевой счёт)", field="basis")
    if doc.basis == "account":
        if doc.account_id is None:
            raise Invalid("Укажите лицевой счёт", field="account_id")
        if doc.house_id is not None:
            raise Invalid("Для начисления на один лицевой счёт дом не указывается", field="house_id")
        if doc.rate is not None or doc.total is None:
            raise Invalid("Укажите сумму начисления (total); ставка применяется только при распределении",
                               field="total")
    else:
        if doc.account_id is not None:
            raise Invalid("При распределении лицевой счёт не указывается: укажите дом или ничего "
                               "(все лицевые счета)", field="account_id")
        if (doc.total is None) == (doc.rate is None):
            raise Invalid("Укажите либо сумму для распределения (total), либо ставку (rate)", field="total")
    if doc.total is not None:
        if not doc.total.is_finite() or doc.total != money(doc.total):
            raise Invalid("Сумма указывается в рублях с точностью до копейки", field="total")
        if doc.total == 0 or abs(doc.total) >= MAX_AMOUNT:
            raise Invalid("Сумма должна быть ненулевой и меньше 1 000 000 000 ₽", field="total")
    if doc.rate is not None:
        if not doc.rate.is_finite() or doc.rate != doc.rate.quantize(Decimal("0.0001")):
            raise Invalid("Ставка указывается не более чем с 4 знаками после запятой", field="rate")
        if doc.rate == 0 or abs(doc.rate) >= Decimal("100000000"):
            raise Invalid("Ставка должна быть ненулевой и меньше 100 000 000 ₽", field="rate")
    if len(doc.note) > MAX_NOTE:
        raise Invalid(f"Примечание: не более {MAX_NOTE} знаков", field="note")


# accounts of the scope that are open on some day of the period, with their weight on its last day
_WEIGHTS = {
    "area": """
        SELECT a.id AS account_id, a.number,
               coalesce(par.value_num, p.area_m2 / count(*) OVER (PARTITION BY a.premise_id), 0) AS weight
        FROM accounts a JOIN premises p ON p.id = a.premise_id
        LEFT JOIN account_parameters par ON par.account_id = a.id AND par.kind = 'area'
             AND par.valid_from <= :dn AND coalesce(par.valid_to, 'infinity') >= :dn
        WHERE {scope}""",
    "residents": """
        SELECT a.id AS account_id, a.number, coalesce(nullif(reg.n, 0), par.value_num, 0) AS weight
        FROM accounts a JOIN premises p ON p.id = a.premise_id
        LEFT JOIN (SELECT account_id, count(*) AS n FROM residents
                   WHERE registered_from <= :dn AND coalesce(registered_to, 'infinity') >= :dn
                   GROUP BY account_id) reg ON reg.account_id = a.id
        LEFT JOIN account_parameters par ON par.account_id = a.id AND par.kind = 'residents'
             AND par.valid_from <= :dn AND coalesce(par.valid_to, 'infinity') >= :dn
        WHERE {scope}""",
    "account": """
        SELECT a.id AS account_id, a.number, 1::numeric AS weight FROM accounts a WHERE {scope}""",
}
_OPEN_IN_PERIOD = "a.opened_on <= :dn AND (a.closed_on IS NULL OR a.closed_on >= :d1)"

# largest remainder over kopecks: :kop is |total| in kopecks, :sign its sign
_BY_TOTAL = """
    WITH w AS ({weights}), pos AS (SELECT * FROM w WHERE weight > 0),
    s AS (SELECT pos.*, CAST(:kop AS numeric) * weight / (SELECT sum(weight) FROM pos) AS exact FROM pos),
    f AS (SELECT s.*, floor(exact) AS base,
                 row_number() OVER (ORDER BY exact - floor(exact) DESC, account_id) AS rn FROM s)
    SELECT account_id, number, weight,
           round(CAST(:sign AS int) * (base + CASE WHEN rn <= CAST(:kop AS numeric) - sum(base) OVER ()
                                                   THEN 1 ELSE 0 END) / 100, 2) AS amount
    FROM f"""
_BY_RATE = """
    SELECT account_id, number, weight, round(CAST(:rate AS numeric) * weight, 2) AS amount
    FROM ({weights}) w WHERE weight > 0"""


async def _spread(conn: AsyncConnection, doc: OneOff) -> None:
    """Fill the temp table `adj_spread(account_id, number, weight, amount)` (rows of 0.00 left out)."""
    if doc.basis == "account":
        scope = "a.id = :account"
    else:
        scope = _OPEN_IN_PERIOD + (" AND p.house_id = :house" if doc.house_id is not None else "")
    weights = _WEIGHTS[doc.basis].format(scope=scope)
    params: dict[str, Any] = {"d1": doc.period.first_day, "dn": doc.period.last_day, "house": doc.house_id,
                              "account": doc.account_id}
    if doc.rate is not None:
        sql = _BY_RATE.format(weights=weights)
        params["rate"] = doc.rate
    else:
        assert doc.total is not None
        sql = _BY_TOTAL.format(weights=weights)
        params.update(kop=abs(doc.total) * 100, sign=1 if doc.total > 0 else -1)
    await conn.execute(text("DROP TABLE IF EXISTS adj_spread"))
    used = {k: v for k, v in params.items() if f":{k}" in sql}
    await conn.execute(text(f"CREATE TEMP TABLE adj_spread ON COMMIT DROP AS "
                            f"SELECT * FROM ({sql}) x WHERE amount <> 0"), used)


async def _summary(conn: AsyncConnection, limit: int) -> dict[str, Any]:
    totals = (await conn.execute(text(
        "SELECT count(*) AS n, coalesce(sum(amount), 0) AS amount, coalesce(sum(weight), 0) AS weight "
        "FROM adj_spread"))).one()
    rows = await conn.execute(text(
        "SELECT account_id, number AS account_number, weight, amount FROM adj_spread "
        "ORDER BY number LIMIT :l"), {"l": limit})
    return {"accounts": totals.n, "amount": totals.amount, "weight": totals.weight,
            "rows": [dict(r._mapping) for r in rows]}


def _what(doc: OneOff) -> str:
    return f"разовое начисление за {doc.period}"


async def create_one_off(conn: AsyncConnection, doc: OneOff, *, dry_run: bool = False,
                         rows_limit: int = PREVIEW_ROWS) -> dict[str, Any]:
    """Post the document (or, with dry_run, only show the spread). The answer lists at most `rows_limit`
    rows; `accounts` and `amount` count them all."""
    doc = replace(doc, note=(doc.note or "").strip())
    check_one_off(doc)
    await get_service(conn, doc.service_id)
    if doc.account_id is not None:
        await require_account(conn, doc.account_id)
    if doc.house_id is not None:
        await require_house(conn, doc.house_id)
    target = {"account_id": doc.account_id, "house_id": doc.house_id}  # a division's closed month counts too
    if dry_run:
        await ensure_open(conn, doc.period.first_day, what=_what(doc), field="period", **target)
    else:
        await open_for_posting(conn, doc.period, what=_what(doc), **target)
    await _spread(conn, doc)
    summary = await _summary(conn, rows_limit)
    if summary["accounts"] == 0:
        raise Invalid(
            "Некому начислить: нет открытых лицевых счетов " + ("с площадью" if doc.basis == "area" else
                                                               "с проживающими") + " в периоде "
            + str(doc.period), field="basis")
    base = {"period": str(doc.period), "service_id": doc.service_id, "basis": doc.basis, "house_id": doc.house_id,
            "account_id": doc.account_id, "total": doc.total, "rate": doc.rate, "note": doc.note}
    if dry_run:
        return {"id": None, "dry_run": True, **base, **summary}
    doc_id = (await conn.execute(text(f"""
        INSERT INTO one_off_charges(period, service_id, basis, house_id, account_id, total, rate, amount, accounts,
                                    note, created_by)
        VALUES (:p, :s, :b, :h, :a, :t, :r, :amount, :n, :note, {ACTING_USER}) RETURNING id"""),
        {"p": doc.period.first_day, "s": doc.service_id, "b": doc.basis, "h": doc.house_id, "a": doc.account_id,
         "t": doc.total, "r": doc.rate, "amount": summary["amount"], "n": summary["accounts"],
         "note": doc.note})).scalar_one()
    await conn.execute(text("""
        INSERT INTO charges(account_id, service_id, period, method, tariff, amount, note, source, source_id)
        SELECT account_id, :s, :p, 'one_off', coalesce(CAST(:r AS numeric), 0), amount, :note, 'one_off', :id
        FROM adj_spread ORDER BY account_id"""),
        {"s": doc.service_id, "p": doc.period.first_day, "r": doc.rate, "id": doc_id,
         "note": f"Разовое начисление № {doc_id}" + (f": {doc.note}" if doc.note else "")})
    return {"id": doc_id, "dry_run": False, **base, **summary}


_COLS = """d.id, to_char(d.period, 'YYYY-MM') AS period, d.service_id, s.code AS service, d.basis, d.house_id,
           d.account_id, a.number AS account_number, d.total, d.rate, d.amount, d.accounts, d.note, d.created_by,
           d.created_at"""
_FROM = """one_off_charges d JOIN services s ON s.id = d.service_id LEFT JOIN accounts a ON a.id = d.account_id"""


async def list_one_offs(conn: AsyncConnection, *, period: Period | None = None, house_id: int | None = None,
                        account_id: int | None = None, limit: int = 50,
                        offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Documents, newest first; `account_id` finds the documents that charged that account."""
    where, params = ["true"], {"l": limit, "o": offset}
    if period is not None:
        where.append("d.period = :p")
        params["p"] = period.first_day
    if house_id is not None:
        where.append("d.house_id = :h")
        params["h"] = house_id
    if account_id is not None:
        where.append("EXISTS (SELECT 1 FROM charges c WHERE c.source = 'one_off' AND c.source_id = d.id "
                     "AND c.account_id = :a)")
        params["a"] = account_id
    cond = " AND ".join(where)
    rows = await conn.execute(text(f"SELECT {_COLS} FROM {_FROM} WHERE {cond} ORDER BY d.id DESC LIMIT :l OFFSET :o"),
                              params)
    total = (await conn.execute(text(f"SELECT count(*) FROM one_off_charges d WHERE {cond}"), params)).scalar_one()
    return [dict(r._mapping) for r in rows], total


async def get_one_off(conn: AsyncConnection, doc_id: int, *, rows_limit: int = PREVIEW_ROWS) -> dict[str, Any]:
    """The document with its charge rows (and whether each was reversed)."""
    row = (await conn.execute(text(f"SELECT {_COLS} FROM {_FROM} WHERE d.id = :id"), {"id": doc_id})).first()
    if row is None:
        raise NotFound("Разовое начисление не найдено", field="one_off_charge_id")
    rows = await conn.execute(text("""
        SELECT c.id, c.account_id, a.number AS account_number, c.amount, st.id AS storno_id
        FROM charges c JOIN accounts a ON a.id = c.account_id
        LEFT JOIN charges st ON st.source = 'storno' AND st.source_id = c.id
        WHERE c.source = 'one_off' AND c.source_id = :id ORDER BY a.number LIMIT :l"""),
        {"id": doc_id, "l": rows_limit})
    return {**dict(row._mapping), "rows": [dict(r._mapping) for r in rows]}
