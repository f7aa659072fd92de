"""Foreign keys of payments and allocations checked once per statement (t0015): the same refusals as a
row-level foreign key — a missing parent, a referenced parent deleted, a parent's id changed — and no
orphan from a concurrent delete and insert (the second waits for the first to end, then is refused)."""

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

PAYMENT = ("INSERT INTO payments(agent_id, source, paid_on, amount, account_id, status) "
           "VALUES ({agent}, 'manual', DATE '2026-11-20', 100, {account}, 'identified') RETURNING id")


def _fk_error(exc: pytest.ExceptionInfo) -> tuple[str, str]:
    orig = exc.value.orig
    return orig.sqlstate, str(orig)


async def _agent(conn) -> int:
    return (await conn.execute(text("SELECT id FROM payment_agents WHERE code = 'manual'"))).scalar_one()


async def test_missing_parent_is_refused(tx):
    async with tx() as conn:
        agent = await _agent(conn)
    for sql, constraint in (
        (PAYMENT.format(agent=agent, account=999), "payments_account_id_fkey"),
        (PAYMENT.format(agent=999, account=1), "payments_agent_id_fkey"),
        ("INSERT INTO payment_allocations(payment_id, account_id, amount) VALUES (999999, 1, 5)",
         "payment_allocations_payment_id_fkey"),
    ):
        with pytest.raises(DBAPIError) as exc:
            async with tx() as conn:
                await conn.execute(text(sql))
        state, message = _fk_error(exc)
        assert state == "23503" and constraint in message, message
    # many rows, one of them wrong: the statement is refused whole and names the missing key
    with pytest.raises(DBAPIError) as exc:
        async with tx() as conn:
            await conn.execute(text(
                "INSERT INTO payments(agent_id, source, paid_on, amount, account_id, status) "
                f"SELECT {agent}, 'manual', DATE '2026-11-20', 1, a, 'identified' FROM unnest(ARRAY[1, 2, 777, 3]) a"))
    assert exc.value.orig.__cause__.detail == 'Key (account_id)=(777) is not present in table "accounts".'
    async with tx() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM payments"))).scalar_one() == 0
        # an update to a missing parent is refused too; to an existing one it passes
        pid = (await conn.execute(text(PAYMENT.format(agent=agent, account=1)))).scalar_one()
        await conn.execute(text("UPDATE payments SET account_id = 2 WHERE id = :p"), {"p": pid})
    with pytest.raises(DBAPIError) as exc:
        async with tx() as conn:
            await conn.execute(text("UPDATE payments SET account_id = 555 WHERE id = :p"), {"p": pid})
    assert _fk_error(exc)[0] == "23503"


async def test_referenced_parent_cannot_go(tx):
    async with tx() as conn:
        agent = await _agent(conn)
        pid = (await conn.execute(text(PAYMENT.format(agent=agent, account=1)))).scalar_one()
        await conn.execute(text("INSERT INTO payment_allocations(payment_id, account_id, kind, amount) "
                                "VALUES (:p, 1, 'advance', 100)"), {"p": pid})
    for sql in ("DELETE FROM accounts WHERE id = 1", "DELETE FROM payments WHERE id = :p",
                "UPDATE accounts SET id = 100 WHERE id = 1", "UPDATE payments SET id = 100000 WHERE id = :p"):
        with pytest.raises(DBAPIError) as exc:
            async with tx() as conn:
                await conn.execute(text(sql), {"p": pid})
        assert _fk_error(exc)[0] == "23503", sql
    async with tx() as conn:  # an unreferenced parent may go
        await conn.execute(text("INSERT INTO payment_agents(code, name) VALUES ('spare', 'Запасной')"))
        await conn.execute(text("DELETE FROM payment_agents WHERE code = 'spare'"))


async def _temporary_account(tx) -> tuple[int, int]:
    async with tx() as conn:
        agent = await _agent(conn)
        account = (await conn.execute(text(
            "INSERT INTO accounts(number, premise_id, holder, opened_on) VALUES ('7770001', 1, 'Временный', "
            "DATE '2026-01-01') RETURNING id"))).scalar_one()
    return agent, account


async def test_concurrent_delete_waits_for_the_insert_and_is_refused(tx):
    agent, account = await _temporary_account(tx)
    async with tx() as inserter:
        await inserter.execute(text(PAYMENT.format(agent=agent, account=account)))

        async def delete() -> None:
            async with tx() as conn:
                await conn.execute(text("DELETE FROM accounts WHERE id = :a"), {"a": account})

        deleting = asyncio.create_task(delete())
        await asyncio.sleep(0.5)
        assert not deleting.done()  # waits for the payment's writer to end
    with pytest.raises(DBAPIError) as exc:
        await deleting
    assert _fk_error(exc)[0] == "23503"
    async with tx() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM accounts WHERE id = :a"), {"a": account})).scalar() == 1


async def test_insert_waits_for_a_concurrent_delete_and_is_refused(tx):
    agent, account = await _temporary_account(tx)
    async with tx() as deleter:
        await deleter.execute(text("DELETE FROM accounts WHERE id = :a"), {"a": account})

        async def insert() -> None:
            async with tx() as conn:
                await conn.execute(text(PAYMENT.format(agent=agent, account=account)))

        inserting = asyncio.create_task(insert())
        await asyncio.sleep(0.5)
        assert not inserting.done()  # waits for the delete to end
    with pytest.raises(DBAPIError) as exc:
        await inserting
    assert _fk_error(exc)[0] == "23503"
    async with tx() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM payments WHERE account_id = :a"),
                                   {"a": account})).scalar() == 0
