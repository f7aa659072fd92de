"""Cloud fiscalization tests: a tenant whose online payments go through the local fake of ЮKassa (real HTTP) and
whose receipts go to the local fake of ATOL Online (real HTTP), both served from threads of their own.

One tenant for the module (accounts ЛС1…ЛС12, each test its own), ЮKassa's receipts off, cloud fiscalization on.
Every account owes October 2026: cold water 300.00 («без НДС»), sewage 200.00 (22 %): 500.00 in all."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from aquabill.cash import cloud_settings
from aquabill.channels.acquiring import flow
from aquabill.channels.cloud_fiscal.runner import process_tenant
from aquabill.devserver.fakes.atol_online import FakeAtolOnline
from aquabill.devserver.fakes.yookassa import FakeYooKassa
from aquabill.platform.app import create_app
from aquabill.platform.secret_box import SecretBox
from aquabill.platform.state import Core
from aquabill.platform.web.acquiring import fiscal_routes
from aquabill.subscribers.acquiring_settings import save_acquiring
from aquabill.tenants.context import tenant_transaction
from tests.conftest import with_settings
from tests.integration.billing_core.conftest import small_registry

OCT = date(2026, 10, 1)
FAST = (0.0, 0.05, 0.1, 0.2)  # the runner's polls in place, shortened for the tests


async def seed(conn, tenant) -> None:
    await small_registry(conn, tenant, accounts=12)
    await conn.execute(text(
        "INSERT INTO charges(account_id, service_id, period, method, amount) "
        "SELECT a.id, s.id, :p, 'norm', CASE s.code WHEN 'cold_water' THEN 300.00 ELSE 200.00 END "
        "FROM accounts a, services s WHERE s.code IN ('cold_water', 'sewage')"), {"p": OCT})


@pytest.fixture(scope="module")
def yookassa():
    f = FakeYooKassa(notify="never").start_in_thread()
    yield f
    f.stop_thread()


@pytest.fixture(scope="module")
def atol():
    f = FakeAtolOnline().start_in_thread()
    yield f
    f.stop_thread()


@pytest.fixture(scope="module")
async def pay_core(settings, yookassa):
    """The service's resources with the acquirer's API at the fake (as the app and the worker would have)."""
    core = Core.open(with_settings(settings, yookassa_api_url=yookassa.api_url))
    yield core
    await core.close()


def with_fiscal_routes(app):
    """The app with the cloud fiscalization routes (registered here until the app factory lists them)."""
    if not any(getattr(r, "path", "") == "/acquiring/cloud-fiscal" for r in app.routes):
        for handler in fiscal_routes.ROUTES:
            app.register(handler)
    return app


@pytest.fixture(scope="module")
async def fiscal_client(settings, yookassa):
    app = with_fiscal_routes(create_app(with_settings(settings, yookassa_api_url=yookassa.api_url, telephony=False)))
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as c:
        yield c


class Shop:
    """The module's tenant with its shop at the fake ЮKassa and its group at the fake ATOL Online."""

    def __init__(self, handle, shop, group) -> None:
        self.handle, self.shop, self.group = handle, shop, group
        self.tenant = handle.tenant


@pytest.fixture(scope="module")
async def shop(make_tenant, pay_core, yookassa, atol) -> Shop:
    handle = await make_tenant(seed=seed)
    ys = yookassa.add_shop(fiscalization=False)  # the shop sends no receipts: the cloud does
    group = atol.add_group(inn="7707083893")
    box = SecretBox(pay_core.settings.secret_key)
    async with tenant_transaction(pay_core.engines, handle.tenant) as conn:
        await save_acquiring(conn, shop_id=ys.shop_id, sealed_secret=box.seal(ys.secret), vat="none", enabled=True,
                             send_receipt=False, vat_by_service={"sewage": "22"})
        await cloud_settings.save(conn, {
            "api_url": atol.api_url, "login": group.login, "group_code": group.code, "inn": "7707083893",
            "email": "kassa@vodokanal.ru", "payment_address": "https://lk.vodokanal.ru", "sno": "usn_income",
            "enabled": True}, sealed_password=box.seal(group.password), default_api_url=atol.api_url)
    return Shop(handle, ys, group)


async def sql(core, tenant, query: str, **params) -> list[Any]:
    async with tenant_transaction(core.engines, tenant) as conn:
        return (await conn.execute(text(query), params)).all()


async def pay(core: Core, shop: Shop, yookassa: FakeYooKassa, number: str,
              contact: str = "ivanov@mail.ru") -> tuple[UUID, int]:
    """An online payment of what ЛС`number` owes, paid at the fake and credited by the read-back, as the return
    page does: (attempt id, the payment's id)."""
    acc = (await sql(core, shop.tenant, "SELECT id FROM accounts WHERE number = :n", n=number))[0].id
    started = await flow.start_payment(core, shop.tenant, account_id=acc, amount=None, contact=contact,
                                       channel="portal", subscriber_id=None, return_base="http://testserver.local")
    payment_id = started["confirmation_url"].rsplit("/", 1)[1]
    await yookassa._here(yookassa.complete(payment_id))
    attempt = await flow.refresh(core, shop.tenant, UUID(started["id"]), force=True)
    assert attempt["status"] == "succeeded"
    return attempt["id"], attempt["payment_id"]


async def request_of(core: Core, shop: Shop, payment_id: int, operation: str = "sale"):
    rows = await sql(core, shop.tenant, "SELECT * FROM cloud_fiscal_requests WHERE payment_id = :p AND operation = :o",
                     p=payment_id, o=operation)
    return rows[0] if rows else None


async def fiscal_of(core: Core, shop: Shop, payment_id: int) -> list[Any]:
    return await sql(core, shop.tenant, "SELECT * FROM payment_fiscal WHERE payment_id = :p ORDER BY id", p=payment_id)


async def due_now(core: Core, shop: Shop, request_id: UUID) -> None:
    """Time passes: the request's next try is due now."""
    async with tenant_transaction(core.engines, shop.tenant) as conn:
        await conn.execute(text("UPDATE cloud_fiscal_requests SET next_try_at = now() WHERE id = :i"), {"i": request_id})


async def until(core: Core, shop: Shop, query: str, expected: Any, **params: Any) -> None:
    """Until the first column of `query`'s first row is `expected` (a job on the worker has done its part)."""
    for _ in range(300):
        rows = await sql(core, shop.tenant, query, **params)
        if rows and rows[0][0] == expected:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{query} never gave {expected!r}")


async def drive(core: Core, shop: Shop, payment_id: int, until_: Callable[[Any], bool], operation: str = "sale"):
    """Run passes of the runner (as the job and the sweep do; the session's worker may run some of them too: the
    outcome is the same) until the request satisfies `until_`; the request's row."""
    for _ in range(100):
        row = await request_of(core, shop, payment_id, operation)
        if row is not None and until_(row):
            return row
        await process_tenant(core, shop.tenant, polls=FAST)
        await asyncio.sleep(0.05)
    raise AssertionError(f"the request of payment {payment_id} never got there: {row}")


def finished(row) -> bool:
    return row.status in ("done", "fail")
