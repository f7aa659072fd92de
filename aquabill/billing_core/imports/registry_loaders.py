"""Loading houses and accounts: the address chain settlement → street → house → premise is created as
needed, then the objects are upserted set-based (a few INSERT … SELECT FROM unnest … ON CONFLICT)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.imports.addresses import Place
from aquabill.billing_core.imports.lookups import (
    Progress,
    arrays,
    closed_months,
    closed_reason,
    ensure_keys,
    unnest,
    upsert,
)
from aquabill.billing_core.imports.report import ImportReport
from aquabill.billing_core.imports.rows import AccountRow, HouseRow
from aquabill.billing_core.parameters import ParameterValue, set_parameters

RESIDENTS = "residents"

Street = tuple[Place, Place]  # (settlement, street)


async def _streets(conn: AsyncConnection, wanted: set[Street], report: ImportReport) -> dict[Street, int]:
    settlement_ids, made = await ensure_keys(conn, "settlements", (("kind", "text"), ("name", "text")),
                                             ((s.kind, s.name) for s, _ in wanted))
    report.created["settlements"] = report.created.get("settlements", 0) + made
    by_key = {(settlement_ids[(s.kind, s.name)], st.kind, st.name): (s, st) for s, st in wanted}
    street_ids, made = await ensure_keys(conn, "streets", (("settlement_id", "int"), ("kind", "text"),
                                                           ("name", "text")), by_key)
    report.created["streets"] = report.created.get("streets", 0) + made
    return {by_key[k]: v for k, v in street_ids.items()}


async def load_houses(conn: AsyncConnection, rows: list[tuple[int, HouseRow]], report: ImportReport,
                      progress: Progress) -> None:
    streets = await _streets(conn, {(r.settlement, r.street) for _, r in rows}, report)
    await progress(40, "Улицы и населённые пункты")
    cols = (("street_id", "int"), ("number", "text"), ("built_year", "int"), ("floors", "int"),
            ("improvement", "text"))
    values = [(streets[(r.settlement, r.street)], r.house, r.built_year, r.floors, r.improvement) for _, r in rows]
    changed = {(r.street_id, r.number): r.inserted for r in await conn.execute(text(f"""
        INSERT INTO houses AS h (street_id, number, built_year, floors, improvement)
        SELECT * FROM {unnest(cols)}
        ON CONFLICT (street_id, number) DO UPDATE SET
          built_year = coalesce(EXCLUDED.built_year, h.built_year), floors = coalesce(EXCLUDED.floors, h.floors),
          improvement = coalesce(EXCLUDED.improvement, h.improvement)
        WHERE (h.built_year, h.floors, h.improvement) IS DISTINCT FROM
              (coalesce(EXCLUDED.built_year, h.built_year), coalesce(EXCLUDED.floors, h.floors),
               coalesce(EXCLUDED.improvement, h.improvement))
        RETURNING street_id, number, (xmax = 0) AS inserted
    """), arrays(values, cols))}
    for (line, _), (street_id, number, *_) in zip(rows, values, strict=True):
        state = changed.get((street_id, number))
        report.mark(line, "unchanged" if state is None else "inserted" if state else "updated")


def _premise_conflicts(rows: list[tuple[int, AccountRow]], report: ImportReport) -> list[tuple[int, AccountRow]]:
    """Accounts of one premise (a communal flat) must not state different areas for it."""
    area: dict[tuple, tuple[int, Decimal]] = {}
    kept = []
    for line, r in rows:
        key = (r.settlement, r.street, r.house, r.apartment)
        if r.area_m2 is not None:
            first = area.setdefault(key, (line, r.area_m2))
            if first[1] != r.area_m2:
                report.fail(line, f"Площадь помещения {r.area_m2} отличается от указанной в строке {first[0]} "
                                  f"({first[1]}) для того же помещения")
                continue
        kept.append((line, r))
    return kept


async def load_accounts(conn: AsyncConnection, rows: list[tuple[int, AccountRow]], report: ImportReport,
                        progress: Progress) -> None:
    rows = _premise_conflicts(rows, report)
    if not rows:
        return
    streets = await _streets(conn, {(r.settlement, r.street) for _, r in rows}, report)
    house_ids, made = await ensure_keys(conn, "houses", (("street_id", "int"), ("number", "text")),
                                        {(streets[(r.settlement, r.street)], r.house) for _, r in rows})
    report.created["houses"] = report.created.get("houses", 0) + made
    await progress(25, "Адреса")

    keys = [(house_ids[(streets[(r.settlement, r.street)], r.house)], r.apartment) for _, r in rows]
    areas: dict[tuple[int, str], tuple] = {}
    for key, (_, r) in zip(keys, rows, strict=True):
        if areas.get(key, (None,))[0] is None:
            areas[key] = (r.area_m2,)
    premise = await upsert(conn, "premises", (("house_id", "int"), ("number", "text")), (("area_m2", "numeric"),),
                           areas, merge=lambda old, new: new if new[0] is not None else old)
    report.created["premises"] = report.created.get("premises", 0) + sum(
        1 for _, change, _ in premise.values() if change == "inserted")
    await progress(50, "Помещения")

    wanted = {(r.account_number,): (premise[key][0], r.holder, r.opened_on, r.phone)
              for key, (_, r) in zip(keys, rows, strict=True)}
    accounts = await upsert(conn, "accounts", (("number", "text"),), (
        ("premise_id", "int"), ("holder", "text"), ("opened_on", "date"), ("phone", "text")), wanted,
        merge=lambda old, new: (new[0], new[1] or old[1], new[2], old[3] if new[3] is None else new[3]))
    await progress(75, "Лицевые счета")

    changed_residents = await _set_residents(conn, [(line, accounts[(r.account_number,)][0], r) for line, r in rows],
                                             report)
    for key, (line, r) in zip(keys, rows, strict=True):
        account_id, change, _ = accounts[(r.account_number,)]
        if change == "unchanged" and (premise[key][1] == "updated" and r.area_m2 is not None
                                      or account_id in changed_residents):
            change = "updated"
        report.mark(line, change)


async def _set_residents(conn: AsyncConnection, rows: list[tuple[int, int, AccountRow]], report: ImportReport
                         ) -> set[int]:
    """`residents` as a date-dependent parameter valid from the opening date; returns the accounts whose
    value was new or different. A value that would start in a closed period is not set (a warning)."""
    wanted = {(account_id, r.opened_on): (line, r.residents) for line, account_id, r in rows
              if r.residents is not None}
    if not wanted:
        return set()
    existing = {(p.account_id, p.valid_from): p.value_num for p in await conn.execute(text(
        "SELECT account_id, valid_from, value_num FROM account_parameters "
        "WHERE kind = :kind AND account_id = ANY(CAST(:ids AS int[]))"),
        {"kind": RESIDENTS, "ids": sorted({a for a, _ in wanted})})}
    changed = {k: v for k, v in wanted.items() if existing.get(k) != v[1]}
    closed = await closed_months(conn, (d for _, d in changed))
    values = []
    for (account_id, day), (line, residents) in changed.items():
        if day.replace(day=1) in closed:
            report.warn(line, closed_reason(day, f"число проживающих с {day:%d.%m.%Y}"))
        else:
            values.append(ParameterValue(account_id, RESIDENTS, day, value_num=residents))
    await set_parameters(conn, values)
    return {v.account_id for v in values}
