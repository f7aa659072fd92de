"""A tenant with a small town for appeals: two streets, three houses, accounts 00100001… with digits-only
numbers (so that an account number written in an e-mail can be found)."""

import pytest
from sqlalchemy import text

from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.api_helpers import Api


async def town(conn, _tenant=None) -> None:
    for sql in (
        "INSERT INTO settlements(kind, name) VALUES ('г.', 'Тестовск')",
        "INSERT INTO streets(settlement_id, kind, name) VALUES (1, 'ул.', 'Речная'), (1, 'ул.', 'Лесная')",
        # houses 1 and 2 on Речная, house 3 on Лесная
        "INSERT INTO houses(street_id, number, improvement) VALUES (1, '1', 'full'), (1, '2', 'full'), (2, '7', 'full')",
        "INSERT INTO premises(house_id, number, area_m2) SELECT h, n::text, 40 FROM generate_series(1, 3) h, "
        "generate_series(1, 2) n ORDER BY h, n",
        "INSERT INTO accounts(number, premise_id, holder, phone, opened_on) SELECT '0010000' || id, id, "
        "'Абонент ' || id, '+7900000000' || id, DATE '2020-01-01' FROM premises",
    ):
        await conn.execute(text(sql))


@pytest.fixture(scope="module")
async def cc_tenant(make_tenant):
    return await make_tenant(seed=town)


@pytest.fixture
def api(client, cc_tenant) -> Api:
    return Api(client, cc_tenant.headers)


@pytest.fixture
def tx(core, cc_tenant):
    def open_tx(user_id=None):
        return tenant_transaction(core.engines, cc_tenant.tenant, user_id)

    return open_tx
