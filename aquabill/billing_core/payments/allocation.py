"""Allocation of payments over charges by month of origin: recomputed from scratch, set-based.

The rule (same inputs → same rows; every step is a FIFO match of two ordered streams):

- Debts: the account's charges grouped by (month of origin = coalesce(corrects_period, period), service),
  all methods netted (recalculation and storno rows land in the month they correct). Positive nets are
  debts; negative nets are credits.
- Payments: those with status 'identified' (storno / rolled_back / unidentified never count), in order of
  (paid_on, id). A negative identified payment (a refund) is recorded whole as a negative advance.
- Debt order: month of origin, then the tenant's `allocation_service_order` (billing_settings, a JSON
  list of service codes; services not listed come after, by id), then service id.
- Steps, each matching what is left of both streams:
  1. payments naming a period and a service cover that (month, service) item, in payment order;
  2. payments naming only a period cover that month's items, in service order;
  3. payments naming only a service cover that service's items, oldest month first;
  4. credits (negative nets) cover the remaining debts oldest first, as an advance would (no rows: a
     credit is not a payment; `balances` applies them the same way);
  5. every payment's remaining amount covers the remaining debts oldest first;
  6. what is still left of a payment is an advance (kind 'advance', month and service NULL), which the
     next allocation turns into coverage of later charges.
  Named claims thus take precedence over earlier unnamed payments for the item they name.
- Penalties are their own demand: an account's penalty balance (Σ penalty_charges: accruals − storno,
  when positive), rows of kind 'penalty' (month and service NULL). The part of a payment the payer named
  for penalties (`payments.penalty`) covers it first (step 0, in payment order); after step 5 whatever is
  left of any payment covers the rest of the penalty balance (step 6) before it becomes an advance. So a
  partial payment goes to the main debt (penalties stop growing), and paying the receipt's total (debt +
  penalties) settles both.

A FIFO step: cumulative sums over both streams, partitioned by the match key, give each row an interval
[lo, hi); a payment covers a debt by the overlap of their intervals. A step with nothing to match (no
payment naming a period, no credit…) is skipped.

The result is written as a difference: rows already stored as computed stay (with their ids), the others
are deleted, the missing ones inserted — a file of new payments writes only their rows, however long the
accounts' history. A recomputation of many accounts (a payments file) takes the tenant's allocation lock
exclusively instead of one lock per account.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

# the services' rank in the tenant's allocation order
SERVICE_RANK = """
    SELECT s.id AS service_id, coalesce(o.ord, 1000000) AS rank
    FROM services s LEFT JOIN (
        SELECT t.code, t.ord FROM billing_settings b,
               jsonb_array_elements_text(CASE WHEN jsonb_typeof(b.value) = 'array' THEN b.value ELSE '[]' END)
               WITH ORDINALITY AS t(code, ord)
        WHERE b.key = 'allocation_service_order') o ON o.code = s.code"""

# item nets per account × month of origin × service ({cond} filters charges `c`)
ITEM_NETS = """
    SELECT c.account_id, coalesce(c.corrects_period, c.period) AS month, c.service_id, r.rank,
           sum(c.amount) AS amount
    FROM charges c JOIN ({rank}) r USING (service_id)
    WHERE {cond}
    GROUP BY 1, 2, 3, 4"""

# one FIFO step: demand = remaining debts, supply = remaining payments (or credits), matched by key
_STEP = """
    INSERT INTO alloc_out(step, payment_id, account_id, service_id, month, amount)
    WITH d AS (
        SELECT account_id, month, service_id, sum(left_) OVER w - left_ AS lo, sum(left_) OVER w AS hi
        FROM alloc_debt WHERE left_ > 0
        WINDOW w AS (PARTITION BY {dkey} ORDER BY month, rank, service_id ROWS UNBOUNDED PRECEDING)
    ), s AS (
        SELECT id, {skey_cols}, sum(left_) OVER w - left_ AS lo, sum(left_) OVER w AS hi
        FROM {supply} WHERE left_ > 0 AND {sfilter}
        WINDOW w AS (PARTITION BY {skey} ORDER BY {sorder} ROWS UNBOUNDED PRECEDING)
    )
    SELECT {step}, {payment}, d.account_id, d.service_id, d.month,
           least(d.hi, s.hi) - greatest(d.lo, s.lo)
    FROM d JOIN s ON {join} AND d.lo < s.hi AND s.lo < d.hi"""

_SPEND = [
    """UPDATE alloc_debt d SET left_ = d.left_ - o.amount
       FROM (SELECT account_id, month, service_id, sum(amount) AS amount FROM alloc_out WHERE step = {step}
             GROUP BY 1, 2, 3) o
       WHERE d.account_id = o.account_id AND d.month = o.month AND d.service_id = o.service_id""",
    """UPDATE {supply} p SET left_ = p.left_ - o.amount
       FROM (SELECT payment_id AS id, sum(amount) AS amount FROM alloc_out WHERE step = {step} GROUP BY 1) o
       WHERE p.id = o.id""",
]

# (demand key, supply key columns, supply filter, join) per step; supply is alloc_pay unless said
_STEPS = [
    ("account_id, month, service_id", "account_id, period, service_id",
     "period IS NOT NULL AND service_id IS NOT NULL",
     "s.account_id = d.account_id AND s.period = d.month AND s.service_id = d.service_id"),
    ("account_id, month", "account_id, period", "period IS NOT NULL AND service_id IS NULL",
     "s.account_id = d.account_id AND s.period = d.month"),
    ("account_id, service_id", "account_id, service_id", "period IS NULL AND service_id IS NOT NULL",
     "s.account_id = d.account_id AND s.service_id = d.service_id"),
    ("account_id", "account_id", "TRUE", "s.account_id = d.account_id"),  # step 4: credits (alloc_credit)
    ("account_id", "account_id", "TRUE", "s.account_id = d.account_id"),  # step 5: all payments
]
_CREDIT_STEP = 4
# which supply rows each step takes: skipped when it has none (counted in one pass over alloc_pay)
_STEP_SUPPLY = [
    "count(*) FILTER (WHERE period IS NOT NULL AND service_id IS NOT NULL)",
    "count(*) FILTER (WHERE period IS NOT NULL AND service_id IS NULL)",
    "count(*) FILTER (WHERE period IS NULL AND service_id IS NOT NULL)",
    "(SELECT count(*) FROM alloc_credit)",
    "count(*)",
]
# the two penalty steps (see the docstring): the named part first, then the rest of every payment
PENALTY_NAMED_STEP, PENALTY_REST_STEP = 0, len(_STEPS) + 1
_PENALTY = """
    INSERT INTO alloc_out(step, payment_id, account_id, service_id, month, amount)
    SELECT {step}, id, account_id, NULL, NULL, used FROM (
        SELECT p.id, p.account_id, least(p.x, greatest(d.left_ - (sum(p.x) OVER w - p.x), 0)) AS used
        FROM (SELECT id, account_id, paid_on, {available} AS x FROM alloc_pay WHERE left_ > 0 AND {cond}) p
        JOIN alloc_pen d ON d.account_id = p.account_id AND d.left_ > 0
        WINDOW w AS (PARTITION BY p.account_id ORDER BY p.paid_on, p.id ROWS UNBOUNDED PRECEDING)
    ) z WHERE used > 0"""
_PENALTY_SPEND = """UPDATE alloc_pen d SET left_ = d.left_ - o.amount
       FROM (SELECT account_id, sum(amount) AS amount FROM alloc_out WHERE step = {step} GROUP BY 1) o
       WHERE d.account_id = o.account_id"""


async def _penalty_step(conn: AsyncConnection, step: int, available: str, cond: str) -> None:
    sql = _PENALTY.format(step=step, available=available, cond=cond)
    if (await conn.execute(text(sql))).rowcount:
        await conn.execute(text(_PENALTY_SPEND.format(step=step)))
        await conn.execute(text(_SPEND[1].format(step=step, supply="alloc_pay")))


async def _debts_left(conn: AsyncConnection) -> bool:
    """Whether any debt is still uncovered (the later steps have nothing to do otherwise)."""
    return bool((await conn.execute(text("SELECT EXISTS (SELECT 1 FROM alloc_debt WHERE left_ > 0)"))).scalar())


# above this many accounts one exclusive tenant lock is taken instead of one lock per account
MANY_ACCOUNTS = 1000


def _filter(column: str, account_ids: list[int] | None) -> str:
    """The accounts in scope: all, a few (an array parameter), or many (the temporary table `alloc_scope`,
    filled once: an array of 100,000 ids sent with every statement costs more than the statement)."""
    if account_ids is None:  # every account's — an organisation's payment (on a contract, no account) is not ours
        return f"{column} IS NOT NULL"
    if len(account_ids) > MANY_ACCOUNTS:
        return f"{column} IN (SELECT account_id FROM pg_temp.alloc_scope)"
    return f"{column} = ANY(CAST(:a AS integer[]))"


async def _scope(conn: AsyncConnection, account_ids: list[int] | None) -> dict[str, list[int]]:
    """The parameters of `_filter` (and the scope table for many accounts; the ids are distinct)."""
    if account_ids is None:
        return {}
    if len(account_ids) <= MANY_ACCOUNTS:
        return {"a": account_ids}
    await conn.execute(text("DROP TABLE IF EXISTS pg_temp.alloc_scope"))
    await conn.execute(text("CREATE TEMP TABLE alloc_scope ON COMMIT DROP AS "
                            "SELECT unnest(CAST(:a AS integer[])) AS account_id"), {"a": account_ids})
    await conn.execute(text("ANALYZE pg_temp.alloc_scope"))
    return {}


async def _lock(conn: AsyncConnection, account_ids: list[int] | None) -> None:
    """Allocations of an account are recomputed by one transaction at a time; a whole-tenant run (or one of
    many accounts) excludes every account run (transaction-level advisory locks, keyed by the tenant's
    schema)."""
    if account_ids is None or len(account_ids) > MANY_ACCOUNTS:
        await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '/alloc'), 0)"))
        return
    await conn.execute(text("SELECT pg_advisory_xact_lock_shared(hashtext(current_schema() || '/alloc'), 0)"))
    await conn.execute(text(
        "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '/alloc'), a) "
        "FROM (SELECT DISTINCT a FROM unnest(CAST(:a AS integer[])) a ORDER BY a) x"), {"a": account_ids})


async def _allocate(conn: AsyncConnection, account_ids: list[int] | None) -> int:
    await _lock(conn, account_ids)
    params = await _scope(conn, account_ids)
    await conn.execute(text("DROP TABLE IF EXISTS pg_temp.alloc_nets, pg_temp.alloc_debt, pg_temp.alloc_credit, "
                            "pg_temp.alloc_pay, pg_temp.alloc_out, pg_temp.alloc_new, pg_temp.alloc_pen"))
    nets = ITEM_NETS.format(rank=SERVICE_RANK, cond=_filter("c.account_id", account_ids))
    await conn.execute(text(f"CREATE TEMP TABLE alloc_nets ON COMMIT DROP AS {nets}"), params)
    await conn.execute(text(
        "CREATE TEMP TABLE alloc_debt ON COMMIT DROP AS SELECT account_id, month, service_id, rank, "
        "amount AS left_ FROM alloc_nets WHERE amount > 0"))
    # credits carry a synthetic id in their stream order (month, service order) for the FIFO
    await conn.execute(text(
        "CREATE TEMP TABLE alloc_credit ON COMMIT DROP AS SELECT row_number() OVER (ORDER BY account_id, month, "
        "rank, service_id) AS id, account_id, month, rank, service_id, -amount AS left_ "
        "FROM alloc_nets WHERE amount < 0"))
    await conn.execute(text(
        "CREATE TEMP TABLE alloc_pay ON COMMIT DROP AS "
        "SELECT id, account_id, paid_on, period, service_id, coalesce(penalty, 0) AS penalty, amount AS left_ "
        f"FROM payments WHERE status = 'identified' AND amount > 0 AND {_filter('account_id', account_ids)}"), params)
    await conn.execute(text(
        "CREATE TEMP TABLE alloc_pen ON COMMIT DROP AS SELECT account_id, sum(amount) AS left_ FROM penalty_charges "
        f"WHERE {_filter('account_id', account_ids)} GROUP BY 1 HAVING sum(amount) > 0"), params)
    penalties = (await conn.execute(text("SELECT count(*) FROM alloc_pen"))).scalar_one()
    await conn.execute(text(
        "CREATE TEMP TABLE alloc_out (step integer NOT NULL, payment_id bigint, account_id integer NOT NULL, "
        "service_id integer, month date, amount numeric(14, 2) NOT NULL) ON COMMIT DROP"))
    supplies = (await conn.execute(text(f"SELECT {', '.join(_STEP_SUPPLY)} FROM alloc_pay"))).one()
    if penalties:
        await _penalty_step(conn, PENALTY_NAMED_STEP, "least(penalty, left_)", "penalty > 0")
    debts_left = await _debts_left(conn)
    for step, (dkey, skey, sfilter, join) in enumerate(_STEPS, start=1):
        if not supplies[step - 1] or not debts_left:
            continue
        credit = step == _CREDIT_STEP
        supply = "alloc_credit" if credit else "alloc_pay"
        sql = _STEP.format(dkey=dkey, skey=skey, skey_cols=skey, sfilter=sfilter, join=join, supply=supply,
                           sorder="id" if credit else "paid_on, id", step=step,
                           payment="NULL::bigint" if credit else "s.id")
        if not (await conn.execute(text(sql))).rowcount:
            continue
        # after the last step only the payments' rest matters (it becomes their advance)
        for spend in _SPEND if step < len(_STEPS) else _SPEND[1:]:
            await conn.execute(text(spend.format(step=step, supply=supply)))
        debts_left = step < len(_STEPS) and await _debts_left(conn)
    if penalties:
        await _penalty_step(conn, PENALTY_REST_STEP, "left_", "TRUE")
    await conn.execute(text(f"""
        CREATE TEMP TABLE alloc_new ON COMMIT DROP AS
        SELECT payment_id, account_id, service_id, month, kind, amount FROM (
            SELECT payment_id, account_id, service_id, month,
                   CASE WHEN step IN ({PENALTY_NAMED_STEP}, {PENALTY_REST_STEP}) THEN 'penalty' ELSE 'charge' END
                   AS kind, sum(amount) AS amount
            FROM alloc_out WHERE payment_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5
            UNION ALL
            SELECT id, account_id, NULL, NULL, 'advance', left_ FROM alloc_pay WHERE left_ > 0
        ) x
        UNION ALL
        SELECT id, account_id, NULL, NULL, 'advance', amount FROM payments
        WHERE status = 'identified' AND amount < 0 AND """ + _filter("account_id", account_ids) + """
        ORDER BY 1, 5, 4 NULLS LAST, 3"""), params)
    # the stored rows of the scope; a row is kept when computed the same (payment, account, service, month,
    # kind and amount: unique per payment by construction)
    stored = ("SELECT id, payment_id, account_id, coalesce(service_id, 0) AS s, "
              "coalesce(month_of_origin, '-infinity') AS m, kind, amount FROM payment_allocations WHERE "
              + ("TRUE" if account_ids is None else
                 f"{_filter('account_id', account_ids)} OR payment_id IN (SELECT id FROM payments "
                 f"WHERE {_filter('account_id', account_ids)})"))
    same = ("n.payment_id = o.payment_id AND n.account_id = o.account_id AND coalesce(n.service_id, 0) = o.s "
            "AND coalesce(n.month, '-infinity') = o.m AND n.kind = o.kind AND n.amount = o.amount")
    await conn.execute(text(
        f"DELETE FROM payment_allocations WHERE id IN (SELECT o.id FROM ({stored}) o "
        f"WHERE NOT EXISTS (SELECT 1 FROM alloc_new n WHERE {same}))"), params)
    await conn.execute(text(
        "INSERT INTO payment_allocations(payment_id, account_id, service_id, month_of_origin, kind, amount) "
        "SELECT payment_id, account_id, service_id, month, kind, amount FROM alloc_new n WHERE NOT EXISTS ("
        f"SELECT 1 FROM ({stored}) o WHERE {same}) ORDER BY payment_id, kind, month NULLS LAST, service_id"),
        params)
    written = (await conn.execute(text("SELECT count(*) FROM alloc_new"))).scalar_one()
    await conn.execute(text("DROP TABLE IF EXISTS pg_temp.alloc_nets, pg_temp.alloc_debt, pg_temp.alloc_credit, "
                            "pg_temp.alloc_pay, pg_temp.alloc_out, pg_temp.alloc_new, pg_temp.alloc_pen, "
                            "pg_temp.alloc_scope"))
    return written


async def allocate_accounts(conn: AsyncConnection, account_ids: list[int]) -> int:
    """Recompute the allocations of these accounts from scratch; returns the number of rows written."""
    if not account_ids:
        return 0
    return await _allocate(conn, sorted(set(account_ids)))


async def allocate_all(conn: AsyncConnection) -> int:
    """Recompute the allocations of the whole tenant (the same SQL without an account filter)."""
    return await _allocate(conn, None)


async def allocate_scope(conn: AsyncConnection, kind: str, scope_id: int | None = None) -> int:
    """Recompute the allocations of a billing run's scope: the whole tenant (`tenant`, one set-based pass),
    the accounts of one house (`house`) or one account (`account`); nothing outside the scope is touched.

    Called after a run has written new charges, so that advances are consumed by them. Closed months keep
    the allocation's rule: allocations are derived rows, recomputed from scratch over the whole history in
    the same deterministic order (no closed charge or payment is changed by it).
    """
    if kind == "tenant":
        return await allocate_all(conn)
    if kind == "house":
        ids = (await conn.execute(text(
            "SELECT coalesce(array_agg(a.id ORDER BY a.id), '{}') FROM accounts a "
            "JOIN premises p ON p.id = a.premise_id WHERE p.house_id = :h"), {"h": scope_id})).scalar_one()
        return await allocate_accounts(conn, list(ids))
    if kind == "account":
        return await allocate_accounts(conn, [scope_id] if scope_id is not None else [])
    raise ValueError(f"Неизвестная область разнесения оплат: {kind}")
