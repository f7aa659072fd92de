"""Billing runs of overlapping scopes never run at the same time: advisory transaction locks per tenant.

Every write of a run is per account (its computed rows of the period, its recalculation rows, its
instalments), so runs conflict exactly when their accounts overlap, whatever their periods: a run of a
closed period posts its differences into the open period, and the open period's run recalculates closed
periods with late readings, so two runs of different periods can write the same account's rows. The
locks are therefore keyed by the scope, not by the period, in a fixed order (no deadlock):

    tenant run   exclusive (tenant)
    house run    shared (tenant), exclusive (house)
    account run  shared (tenant), shared (its house), exclusive (account)

Two account runs of one house go together (their common-property shares read each other's committed
volumes, as any later change of a neighbour would). A run that opens its month (no `periods` row yet)
takes the tenant's lock exclusively whatever its scope: the row it inserts would otherwise make every
other run of the month wait for its commit, an account's run in a web request included. The keys name
the tenant's schema (`current_schema()`, the transaction's search_path), since advisory locks are
database-wide; a hash collision could only make two runs wait for each other, never run together. The
locks are held until the run's transaction ends. `wait=False` (an account's run inside a web request)
takes them only if they are free at once and otherwise refuses with 409; a job or the CLI waits its turn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict
from aquabill.billing_core.run.compute import Scope

# the lock key of suffix :k: the tenant's schema, the run, the scope
KEY = "hashtextextended(current_schema() || '/billing-run' || CAST(:k AS text), 0)"
WAITING = "Ожидание: идёт другой расчёт начислений, затрагивающий эти лицевые счета"

# how another run holding a lock is described to the user, by (level, the lock wanted exclusively)
_BUSY = {
    ("tenant", False): "Идёт расчёт начислений по всей организации",
    ("tenant", True): "Идёт другой расчёт начислений организации",
    ("house", False): "Идёт расчёт начислений по дому этого лицевого счёта",
    ("house", True): "Идёт расчёт начислений по этому дому",
    ("account", True): "Расчёт этого лицевого счёта уже выполняется",
}


def _locks(scope: Scope, houses: list[int]) -> list[tuple[str, str, bool]]:
    """The locks of a run as (level, key suffix, exclusive), in the order they are taken."""
    if scope.kind == "tenant":
        return [("tenant", "", True)]
    if scope.kind == "house":
        return [("tenant", "", False), ("house", f"/house/{scope.id}", True)]
    accounts = sorted({scope.id} if scope.kind == "account" else set(scope.ids))
    return [("tenant", "", False), *(("house", f"/house/{h}", False) for h in houses),
            *(("account", f"/account/{a}", True) for a in accounts)]


async def _houses(conn: AsyncConnection, scope: Scope) -> list[int]:
    if scope.kind not in ("account", "accounts"):
        return []
    ids = [scope.id] if scope.kind == "account" else list(scope.ids)
    return list((await conn.execute(text(
        "SELECT DISTINCT p.house_id FROM accounts a JOIN premises p ON p.id = a.premise_id "
        "WHERE a.id = ANY(CAST(:ids AS int[])) ORDER BY 1"), {"ids": ids})).scalars())


async def _take(conn: AsyncConnection, key: str, exclusive: bool, *, wait: bool) -> bool:
    """Lock the key (shared or exclusive); without `wait`, only if it is free at once (else False)."""
    fn = ("pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock") + ("" if exclusive else "_shared")
    taken = (await conn.execute(text(f"SELECT {fn}({KEY})"), {"k": key})).scalar()
    return wait or bool(taken)


async def lock_run(conn: AsyncConnection, scope: Scope, *, wait: bool = True, opens_period: bool = False,
                   waiting: Callable[[str], Awaitable[None]] | None = None) -> None:
    """Take the run's locks for the rest of the transaction (`opens_period`: the tenant's, exclusively).
    `wait=False`: refuse (Conflict, 409) if another run of an overlapping scope holds one; else wait for it,
    telling `waiting(message)` first. (Each lock is tried in order and the wait starts at the first busy one,
    so no run holds a later lock while waiting for an earlier one.)"""
    locks = _locks(Scope(), []) if opens_period else _locks(scope, await _houses(conn, scope))
    for i, (level, key, exclusive) in enumerate(locks):
        if await _take(conn, key, exclusive, wait=False):
            continue
        if not wait:
            raise Conflict(f"{_BUSY[level, exclusive]}: повторите, когда он завершится")
        if waiting is not None:
            await waiting(WAITING)
        for _level, rest, rest_exclusive in locks[i:]:
            await _take(conn, rest, rest_exclusive, wait=True)
        return
