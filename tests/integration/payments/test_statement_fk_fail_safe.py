"""The statement-level foreign keys fail safe (t0017): they hold only at READ COMMITTED, so a writer at
REPEATABLE READ or SERIALIZABLE is refused (its snapshot would miss a parent deleted meanwhile and leave an
orphan), and TRUNCATE of a parent is refused while a child row references it (the trigger-based keys are
invisible to PostgreSQL's own TRUNCATE check)."""

import asyncio
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from aquabill.tenants.context import bind_tenant
from tests.integration.billing_core.test_run_guards import waits_on_a_lock
from tests.integration.payments.test_statement_foreign_keys import PAYMENT, _agent, _temporary_account

REFUSED = ('table "{table}" has foreign keys checked per statement, which hold only at READ COMMITTED: '
           'refused in a {level} transaction')


@pytest.fixture
def iso_tx(core, billing_tenant):
    """A tenant transaction at the given isolation level (set before its first statement)."""

    @asynccontextmanager
    async def open_tx(level: str):
        engine = await core.engines.engine(billing_tenant.tenant.db_key)
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level=level)
            async with conn.begin():
                await bind_tenant(conn, billing_tenant.tenant)
                yield conn

    return open_tx


def _state(exc: pytest.ExceptionInfo) -> tuple[str, str]:
    return exc.value.orig.sqlstate, exc.value.orig.__cause__.args[0]


@pytest.mark.parametrize("level", ["REPEATABLE READ", "SERIALIZABLE"])
async def test_a_writer_that_is_not_read_committed_is_refused(tx, iso_tx, level):
    async with tx() as conn:
        agent = await _agent(conn)
        await conn.execute(text("INSERT INTO payment_agents(code, name) VALUES ('spare', 'Запасной')"))
    for sql, table in ((PAYMENT.format(agent=agent, account=1), "payments"),
                       ("DELETE FROM payment_agents WHERE code = 'spare'", "payment_agents")):
        with pytest.raises(DBAPIError) as exc:
            async with iso_tx(level) as conn:
                await conn.execute(text(sql))
        assert _state(exc) == ("25000", REFUSED.format(table=table, level=level)), sql
    async with iso_tx("READ COMMITTED") as conn:  # the service's level passes
        await conn.execute(text(PAYMENT.format(agent=agent, account=1)))
        await conn.execute(text("DELETE FROM payment_agents WHERE code = 'spare'"))
    async with tx() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM payments"))).scalar_one() == 1


async def test_repeatable_read_cannot_insert_a_child_of_a_parent_deleted_since_its_snapshot(tx, iso_tx):
    """The orphan REPEATABLE READ would leave: its snapshot still shows the account another transaction has
    deleted (and committed) since; refused instead of inserted."""
    agent, account = await _temporary_account(tx)
    with pytest.raises(DBAPIError) as exc:
        async with iso_tx("REPEATABLE READ") as conn:
            assert (await conn.execute(text("SELECT count(*) FROM accounts WHERE id = :a"),
                                       {"a": account})).scalar_one() == 1  # the snapshot is taken
            async with tx() as other:
                await other.execute(text("DELETE FROM accounts WHERE id = :a"), {"a": account})
            await conn.execute(text(PAYMENT.format(agent=agent, account=account)))
    assert _state(exc)[0] == "25000"
    async with tx() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM payments WHERE account_id = :a"),
                                   {"a": account})).scalar_one() == 0


async def _payment_with_allocation(tx) -> int:
    async with tx() as conn:
        pid = (await conn.execute(text(PAYMENT.format(agent=await _agent(conn), account=1)))).scalar_one()
        await conn.execute(text("INSERT INTO payment_allocations(payment_id, account_id, kind, amount) "
                                "VALUES (:p, 1, 'advance', 100)"), {"p": pid})
    return pid


async def test_truncate_of_a_referenced_parent_is_refused(tx):
    await _payment_with_allocation(tx)
    # CASCADE empties the tables with row-level keys to payment_agents (payment_files, their contents), and
    # would have left the payments pointing at nothing
    # payments are referenced by the individuals' allocations and, since t0033, by the legal entities' advance
    # invoices and contract allocations: PostgreSQL names one of them
    for sql, children in (("TRUNCATE payment_agents CASCADE", {"payments": "payments_agent_id_fkey"}),
                          ("TRUNCATE payments", {"payment_allocations": "payment_allocations_payment_id_fkey",
                                                 "legal_documents": "legal_documents_payment_id_fkey",
                                                 "contract_allocations": "contract_allocations_payment_id_fkey"})):
        with pytest.raises(DBAPIError) as exc:
            async with tx() as conn:
                await conn.execute(text(sql))
        assert _state(exc) == ("0A000", "cannot truncate a table referenced in a foreign key constraint"), sql
        detail = exc.value.orig.__cause__.detail
        child = detail.split('"')[1]
        # (the detail names the constraint for a row-level key, e.g. 'Table "payments" references "payment_agents"
        # via constraint …', or only the tables)
        assert child in children and detail.startswith(f'Table "{child}" references '), detail
    async with tx() as conn:
        counts = (await conn.execute(text(
            "SELECT (SELECT count(*) FROM payment_agents), (SELECT count(*) FROM payments), "
            "(SELECT count(*) FROM payment_allocations)"))).one()
        assert counts[0] > 0 and tuple(counts[1:]) == (1, 1)
        # a parent truncated together with its children (payments also references itself) passes, as with a
        # row-level key; so does a parent nobody references any more
        await conn.execute(text("TRUNCATE payments, payment_allocations, contract_allocations, legal_documents, "
                                "legal_document_lines, contract_penalties, edo_messages"))
        await conn.execute(text("TRUNCATE payment_agents CASCADE"))
        assert (await conn.execute(text("SELECT count(*) FROM payment_agents"))).scalar_one() == 0


async def test_truncate_waits_for_a_child_writer_in_flight_and_is_refused(tx):
    async with tx() as conn:
        agent = await _agent(conn)
    pid: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def truncate() -> None:
        async with tx() as conn:
            pid.set_result((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
            await conn.execute(text("TRUNCATE payment_agents CASCADE"))

    async with tx() as inserter:
        await inserter.execute(text(PAYMENT.format(agent=agent, account=1)))  # checked, not committed
        truncating = asyncio.create_task(truncate())
        await waits_on_a_lock(tx, await pid)  # for the payment's writer to end
    with pytest.raises(DBAPIError) as exc:
        await truncating
    assert _state(exc)[0] == "0A000"
    async with tx() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM payments p JOIN payment_agents a "
                                        "ON a.id = p.agent_id"))).scalar_one() == 1
