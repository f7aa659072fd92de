"""Audiences: which accounts a campaign speaks to, by filter, as one set-based query.

A filter (stored as jsonb on the campaign) has a place and conditions:
- place: houses (`house_ids`), streets (`street_ids`), the house of a contact-center request (`request_id`: its
  house, or its account's house) — several are united; none: the whole tenant;
- conditions (all must hold): a debt over `debt_over` roubles; a debt of `debt_months` months or more (months of
  origin whose charges are not paid in full); a meter whose verification ends within `verification_days` days
  (or has ended: verified_until ≤ today + N; removed and failed meters do not count).
Only open accounts are counted. The debt is the account's main balance (penalties are a balance of their own):
Σ charges − Σ payment allocations of kind 'charge' and 'advance' (every identified payment is allocated whole,
see billing_core/payments/allocation.py, so this is the closing balance of billing_core/payments/balances.py);
the months are those whose charges net of the allocations to that month of origin stay positive.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core.registry.queries import HOUSE_ADDRESS

MAX_IDS = 1000
INT4 = 2_147_483_647


@dataclass(frozen=True, slots=True)
class Audience:
    house_ids: tuple[int, ...] = ()
    street_ids: tuple[int, ...] = ()
    request_id: int | None = None
    debt_over: Decimal | None = None
    debt_months: int | None = None
    verification_days: int | None = None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["house_ids"], d["street_ids"] = list(self.house_ids), list(self.street_ids)
        d["debt_over"] = None if self.debt_over is None else str(self.debt_over)
        return d

    @property
    def whole_tenant(self) -> bool:
        return not (self.house_ids or self.street_ids or self.request_id)


def _ids(raw: Any, field: str) -> tuple[int, ...]:
    if raw in (None, "", []):
        return ()
    values = raw if isinstance(raw, list) else [raw]
    if len(values) > MAX_IDS:
        raise Invalid(f"Не больше {MAX_IDS} значений", field=field)
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | str) or not str(v).strip().isdigit() \
                or not 0 < int(v) <= INT4:
            raise Invalid("Ожидаются номера (идентификаторы)", field=field)
        out.append(int(v))
    return tuple(sorted(set(out)))


def _whole(raw: Any, field: str, message: str, high: int) -> int | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).strip().isdigit() \
            or not 0 <= int(raw) <= high:
        raise Invalid(message, field=field)
    return int(raw)


def parse_audience(raw: Any) -> Audience:
    """A filter from input (the API's JSON, a page's form, a campaign's stored jsonb)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise Invalid("Аудитория: ожидается набор условий", field="audience")
    unknown = set(raw) - set(Audience.__dataclass_fields__)
    if unknown:
        raise Invalid(f"Неизвестное условие аудитории: {sorted(unknown)[0][:40]}", field="audience")
    debt_over = raw.get("debt_over")
    if debt_over not in (None, ""):
        try:
            debt_over = Decimal(str(debt_over).replace(" ", "").replace(",", "."))
        except InvalidOperation as exc:
            raise Invalid("Долг больше: ожидается сумма, например 1000,00", field="debt_over") from exc
        if not debt_over.is_finite() or not Decimal(0) <= debt_over < Decimal(10) ** 10:
            raise Invalid("Долг больше: сумма от 0 до 9 999 999 999", field="debt_over")
    else:
        debt_over = None
    request = raw.get("request_id")
    request_id = _ids(request, "request_id")[0] if request not in (None, "") else None
    return Audience(
        house_ids=_ids(raw.get("house_ids"), "house_ids"), street_ids=_ids(raw.get("street_ids"), "street_ids"),
        request_id=request_id, debt_over=debt_over,
        debt_months=_whole(raw.get("debt_months"), "debt_months", "Долг за месяцев: от 1 до 120", 120) or None,
        verification_days=_whole(raw.get("verification_days"), "verification_days",
                                 "Поверка в ближайшие дней: от 0 до 3650", 3650))


# the debt and the months of debt of the accounts in `aud`, in one pass over their charges and allocations
_DEBT = """
items AS (
    SELECT x.account_id, x.month, sum(x.amount) AS left_
    FROM (SELECT c.account_id, coalesce(c.corrects_period, c.period) AS month, c.amount
          FROM charges c JOIN aud ON aud.account_id = c.account_id
          UNION ALL
          SELECT pa.account_id, CASE WHEN pa.kind = 'charge' THEN pa.month_of_origin END, -pa.amount
          FROM payment_allocations pa JOIN aud ON aud.account_id = pa.account_id
          WHERE pa.kind IN ('charge', 'advance')) x
    GROUP BY 1, 2
),
bal AS (
    SELECT account_id, sum(left_) AS debt, count(*) FILTER (WHERE month IS NOT NULL AND left_ > 0) AS months
    FROM items GROUP BY 1
),"""
_VERIFICATION = """
ver AS (
    SELECT m.account_id, min(m.verified_until) AS until
    FROM meters m JOIN aud ON aud.account_id = m.account_id
    WHERE m.removed_on IS NULL AND m.failed_on IS NULL AND m.verified_until IS NOT NULL
    GROUP BY 1
),"""


def audience_sql(audience: Audience, today: date, *, details: bool = True) -> tuple[str, dict[str, Any]]:
    """`WITH … , chosen AS (account_id, debt, debt_months, verification_date)` for the audience, to be followed
    by a SELECT. `details` computes the debt and verification date even when no condition needs them (the
    message's variables)."""
    params: dict[str, Any] = {}
    place = []
    if audience.house_ids:
        place.append("p.house_id = ANY(:aud_houses)")
        params["aud_houses"] = list(audience.house_ids)
    if audience.street_ids:
        place.append("h.street_id = ANY(:aud_streets)")
        params["aud_streets"] = list(audience.street_ids)
    if audience.request_id is not None:
        place.append("p.house_id IN (SELECT coalesce(r.house_id, rp.house_id) FROM requests r "
                     "LEFT JOIN accounts ra ON ra.id = r.account_id LEFT JOIN premises rp ON rp.id = ra.premise_id "
                     "WHERE r.id = :aud_request)")
        params["aud_request"] = audience.request_id
    where = f"({' OR '.join(place)})" if place else "TRUE"
    debt = details or audience.debt_over is not None or audience.debt_months is not None
    verification = details or audience.verification_days is not None
    conds = ["TRUE"]
    if audience.debt_over is not None:
        conds.append("coalesce(bal.debt, 0) > :aud_debt")
        params["aud_debt"] = audience.debt_over
    if audience.debt_months is not None:
        conds.append("coalesce(bal.months, 0) >= :aud_months")
        params["aud_months"] = audience.debt_months
    if audience.verification_days is not None:
        conds.append("ver.until <= :aud_until")
        params["aud_until"] = today + timedelta(days=audience.verification_days)
    sql = f"""
WITH aud AS (
    SELECT a.id AS account_id FROM accounts a JOIN premises p ON p.id = a.premise_id
    JOIN houses h ON h.id = p.house_id
    WHERE a.status = 'open' AND {where}
),{_DEBT if debt else ''}{_VERIFICATION if verification else ''}
chosen AS (
    SELECT aud.account_id, {'coalesce(bal.debt, 0)' if debt else '0'} AS debt,
           {'coalesce(bal.months, 0)' if debt else '0'} AS debt_months,
           {'ver.until' if verification else 'NULL::date'} AS verification_date
    FROM aud {'LEFT JOIN bal ON bal.account_id = aud.account_id' if debt else ''}
    {'LEFT JOIN ver ON ver.account_id = aud.account_id' if verification else ''}
    WHERE {' AND '.join(conds)}
)"""
    return sql, params


async def count_audience(conn: AsyncConnection, audience: Audience, today: date) -> int:
    """How many accounts the filter gives (nothing is written)."""
    sql, params = audience_sql(audience, today, details=False)
    return (await conn.execute(text(sql + " SELECT count(*) FROM chosen"), params)).scalar_one()


async def audience_accounts(conn: AsyncConnection, audience: Audience, today: date) -> list[int]:
    sql, params = audience_sql(audience, today, details=False)
    return list((await conn.execute(text(sql + " SELECT account_id FROM chosen ORDER BY 1"), params)).scalars())


async def check_places(conn: AsyncConnection, audience: Audience) -> list[str]:
    """The addresses of the filter's houses (those of its streets and of its request too); NotFound names a
    house, street or request the tenant does not have."""
    found = await conn.execute(text(f"""
        SELECT h.id, h.street_id, {HOUSE_ADDRESS} AS address
        FROM houses h JOIN streets st ON st.id = h.street_id JOIN settlements se ON se.id = st.settlement_id
        WHERE h.id = ANY(:h) OR h.street_id = ANY(:s) OR h.id IN (
            SELECT coalesce(r.house_id, rp.house_id) FROM requests r LEFT JOIN accounts ra ON ra.id = r.account_id
            LEFT JOIN premises rp ON rp.id = ra.premise_id WHERE r.id = :r)
        ORDER BY st.name, CAST(nullif(substring(h.number FROM '^\\d+'), '') AS int) NULLS LAST, h.number"""),
        {"h": list(audience.house_ids), "s": list(audience.street_ids), "r": audience.request_id or 0})
    rows = found.all()
    missing = set(audience.house_ids) - {r.id for r in rows}
    if missing:
        raise NotFound(f"Дом не найден: {min(missing)}", field="house_ids")
    streets = set(audience.street_ids) - {r.street_id for r in rows}
    if streets:
        exists = (await conn.execute(text("SELECT id FROM streets WHERE id = ANY(:s)"), {"s": list(streets)})).scalars()
        gone = streets - set(exists)
        if gone:
            raise NotFound(f"Улица не найдена: {min(gone)}", field="street_ids")
    if audience.request_id is not None:
        request = (await conn.execute(text(
            "SELECT r.id, coalesce(r.house_id, rp.house_id) AS house_id FROM requests r "
            "LEFT JOIN accounts ra ON ra.id = r.account_id LEFT JOIN premises rp ON rp.id = ra.premise_id "
            "WHERE r.id = :r"), {"r": audience.request_id})).first()
        if request is None:
            raise NotFound("Заявка не найдена", field="request_id")
        if request.house_id is None:
            raise Invalid("У заявки не указан дом: выберите дома вручную", field="request_id")
    return [r.address for r in rows]
