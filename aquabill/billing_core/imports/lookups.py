"""Set-based helpers shared by the loaders: arrays in, one statement per table, natural keys to ids."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.periods import Period

Progress = Callable[[float, str], Awaitable[None]]


async def no_progress(_percent: float, _message: str) -> None:
    return None


def unnest(columns: Sequence[tuple[str, str]], alias: str = "v") -> str:
    """`unnest(CAST(:a AS int[]), …) AS v(a, …)` for bind parameters named like the columns."""
    arrays = ", ".join(f"CAST(:{name} AS {sql_type}[])" for name, sql_type in columns)
    return f"unnest({arrays}) AS {alias}({', '.join(name for name, _ in columns)})"


def arrays(rows: Iterable[Any], columns: Sequence[tuple[str, str]]) -> dict[str, list]:
    """Column-wise lists for `unnest` from tuples (by position) or objects (by attribute name)."""
    rows = list(rows)
    names = [name for name, _ in columns]
    if not rows:
        return {name: [] for name in names}
    if isinstance(rows[0], tuple):
        return {name: list(col) for name, col in zip(names, zip(*rows, strict=True), strict=False)}
    return {name: [getattr(r, name) for r in rows] for name in names}


async def account_ids(conn: AsyncConnection, numbers: Iterable[str]) -> dict[str, int]:
    rows = await conn.execute(text("SELECT number, id FROM accounts WHERE number = ANY(CAST(:n AS text[]))"),
                              {"n": sorted(set(numbers))})
    return dict(rows.all())


async def service_ids(conn: AsyncConnection) -> dict[str, int]:
    return dict((await conn.execute(text("SELECT code, id FROM services"))).all())


async def ensure_keys(conn: AsyncConnection, table: str, columns: Sequence[tuple[str, str]],
                      keys: Iterable[tuple]) -> tuple[dict[tuple, int], int]:
    """Insert the missing rows of `table` identified by the unique `columns` (nothing else is written);
    return (key → id for every key, number of rows created). One statement."""
    keys = sorted(set(keys))
    if not keys:
        return {}, 0
    names = ", ".join(n for n, _ in columns)
    join = " AND ".join(f"t.{n} = v.{n}" for n, _ in columns)
    rows = (await conn.execute(text(f"""
        WITH v AS (SELECT * FROM {unnest(columns)}),
        ins AS (INSERT INTO {table} ({names}) SELECT {names} FROM v ON CONFLICT ({names}) DO NOTHING
                RETURNING id, {names})
        SELECT id, {names}, true AS created FROM ins
        UNION ALL
        SELECT t.id, {", ".join("t." + n for n, _ in columns)}, false FROM {table} t JOIN v ON {join}
    """), arrays(keys, columns))).all()
    ids = {tuple(r[1:-1]): r[0] for r in rows}
    missing = [k for k in keys if k not in ids]
    if missing:  # inserted by a concurrent transaction after this statement's snapshot: a new statement sees them
        more, _ = await ensure_keys(conn, table, columns, missing)
        ids.update(more)
    return ids, sum(1 for r in rows if r[-1])


Merge = Callable[[tuple, tuple], tuple]
Refuse = Callable[[tuple, tuple, "tuple | None"], "str | None"]  # (key, values to write, stored) → reason
Outcome = tuple["int | None", str, str]  # (row id, inserted | updated | unchanged | failed, reason)


def _replace(_old: tuple, new: tuple) -> tuple:
    return new


async def upsert(conn: AsyncConnection, table: str, keys: Sequence[tuple[str, str]],
                 values: Sequence[tuple[str, str]], wanted: dict[tuple, tuple], merge: Merge = _replace,
                 refuse: Refuse | None = None) -> dict[tuple, Outcome]:
    """Make `table` hold `wanted` (natural key → values), diff first: one SELECT of the existing rows, then
    INSERT … SELECT FROM unnest … ON CONFLICT DO NOTHING for the new keys and one UPDATE … FROM unnest for
    the rows whose values differ (`merge(stored, given)` gives the values to keep). `refuse` may veto a
    write (it is asked only about rows that would change). Rows that appear concurrently are merged on a
    second pass."""
    result: dict[tuple, Outcome] = {}
    if not wanted:
        return result
    names = [n for n, _ in keys]
    value_names = [n for n, _ in values]
    width = len(names)
    stored = {tuple(r[1:1 + width]): (r[0], tuple(r[1 + width:])) for r in await conn.execute(text(
        f"SELECT t.id, {', '.join('t.' + n for n in names + value_names)} FROM {table} t "
        f"JOIN {unnest(keys)} USING ({', '.join(names)})"), arrays(wanted, keys))}
    updates, fresh = [], []
    for key, given in wanted.items():
        row_id, old = stored.get(key, (None, None))
        new = given if old is None else merge(old, given)
        if new == old:
            result[key] = (row_id, "unchanged", "")
        elif refuse is not None and (reason := refuse(key, new, old)):
            result[key] = (row_id, "failed", reason)
        elif old is None:
            fresh.append((*key, *new))
        else:
            result[key] = (row_id, "updated", "")
            updates.append((row_id, *new))
    if fresh:
        cols = [*keys, *values]
        for r in await conn.execute(text(
                f"INSERT INTO {table} ({', '.join(n for n, _ in cols)}) SELECT * FROM {unnest(cols)} "
                f"ON CONFLICT ({', '.join(names)}) DO NOTHING RETURNING id, {', '.join(names)}"),
                arrays(fresh, cols)):
            result[tuple(r[1:])] = (r[0], "inserted", "")
        raced = {k: v for k, v in wanted.items() if k not in result}
        if raced:  # inserted by a concurrent transaction since the SELECT
            result.update(await upsert(conn, table, keys, values, raced, merge, refuse))
    if updates:
        cols = [("id", "int"), *values]
        await conn.execute(text(
            f"UPDATE {table} t SET {', '.join(f'{n} = v.{n}' for n in value_names)} "
            f"FROM {unnest(cols)} WHERE t.id = v.id"), arrays(updates, cols))
    return result


async def closed_months(conn: AsyncConnection, days: Iterable[date | None]) -> set[date]:
    """First days of the closed billing periods among the months of `days`. The `periods` rows of those
    months are locked FOR SHARE: no period can be closed while this transaction writes into it."""
    months = sorted({d.replace(day=1) for d in days if d is not None})
    if not months:
        return set()
    rows = await conn.execute(text(
        "SELECT period, status FROM periods WHERE period = ANY(CAST(:m AS date[])) ORDER BY period FOR SHARE"),
        {"m": months})
    return {r.period for r in rows if r.status == "closed"}


def closed_reason(day: date, what: str) -> str:
    return (f"Период {Period.of(day)} закрыт: {what} не принимается. Изменения в закрытом периоде вносятся "
            "перерасчётом в текущем периоде.")
