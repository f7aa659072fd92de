"""The demo tenant: an admin user and a few hundred realistic accounts of a small town, with a year of
billing data (billing.py): tariffs, norms, residents, meters and readings, periods and charges; and what a
working utility has (lived_in.py): requisites, bank registries and unidentified payments, appeals, calls,
requests. `ensure_demo` creates the tenant once and tops an existing one up (idempotent)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.registry.tables import accounts, houses, premises, settlements, streets
from aquabill.demo.appeals import MOSCOW
from aquabill.demo.billing import seed_billing
from aquabill.demo.lived_in import seed_lived_in
from aquabill.demo.paperless import seed_paperless
from aquabill.demo.subscribers import seed_dev_acquiring
from aquabill.platform.auth.seed import admin_seeder
from aquabill.platform.state import Core
from aquabill.tenants import registry
from aquabill.tenants.context import Tenant, tenant_transaction
from aquabill.tenants.provisioning import create_tenant

DEMO_SLUG = "demo"
DEMO_NAME = "МУП «Водоканал г. Приозёрска» (демо)"
DEMO_ADMIN = ("admin", "admin12345")

STREETS = [("ул.", "Ленина"), ("ул.", "Советская"), ("ул.", "Набережная"), ("пр-т", "Мира"),
           ("ул.", "Гагарина"), ("ул.", "Строителей"), ("пер.", "Школьный"), ("ул.", "Заводская")]
SURNAMES = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
            "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров"]
MALE = ["Александр", "Сергей", "Дмитрий", "Андрей", "Алексей", "Иван", "Михаил", "Николай"]
FEMALE = ["Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана", "Анна", "Мария"]
PATRONYMIC_BASE = ["Александров", "Сергеев", "Иванов", "Петров", "Николаев", "Викторов", "Юрьев"]


def _person(rng: random.Random) -> str:
    surname, base = rng.choice(SURNAMES), rng.choice(PATRONYMIC_BASE)
    if rng.random() < 0.5:
        return f"{surname} {rng.choice(MALE)} {base}ич"
    return f"{surname}а {rng.choice(FEMALE)} {base}на"


async def seed_registry(conn: AsyncConnection, *, accounts_count: int = 320, seed: int = 42) -> int:
    """Houses with apartments plus private houses; one account per premise. Deterministic."""
    rng = random.Random(seed)
    town = (await conn.execute(insert(settlements).values(kind="г.", name="Приозёрск")
                               .returning(settlements.c.id))).scalar_one()
    street_ids = (await conn.execute(insert(streets).returning(streets.c.id),
                                     [{"settlement_id": town, "kind": k, "name": n} for k, n in STREETS])).scalars().all()
    made = 0
    house_no = 0
    premise_rows: list[dict] = []
    while made < accounts_count:
        house_no += 1
        street = street_ids[house_no % len(street_ids)]
        apartment_block = house_no % 4 != 0
        floors = rng.choice([5, 9]) if apartment_block else 1
        house = (await conn.execute(insert(houses).values(
            street_id=street, number=str(house_no // len(street_ids) * 2 + 1 + house_no % 3),
            built_year=rng.randint(1958, 2015), floors=floors,
            improvement="full" if apartment_block else "no_sewage",
        ).returning(houses.c.id))).scalar_one()
        flats = min(rng.randint(20, 60) if apartment_block else 1, accounts_count - made)
        for flat in range(1, flats + 1):
            premise_rows.append({"house_id": house, "number": str(flat) if apartment_block else "",
                                 "area_m2": round(rng.uniform(28, 95), 2), "is_communal": rng.random() < 0.03})
        made += flats
    premise_ids = (await conn.execute(insert(premises).returning(premises.c.id), premise_rows)).scalars().all()
    account_rows = []
    for i, pid in enumerate(premise_ids, start=1):
        account_rows.append({
            "number": f"{100000 + i:08d}", "premise_id": pid, "holder": _person(rng),
            "phone": f"+7912{rng.randint(1000000, 9999999)}" if rng.random() < 0.8 else None,
            "opened_on": date(2015, 1, 1) + timedelta(days=rng.randint(0, 3000)), "status": "open",
        })
    await conn.execute(insert(accounts), account_rows)
    return len(account_rows)


async def ensure_demo(core: Core) -> tuple[Tenant, bool]:
    """Create the demo tenant once; later runs reuse it (and its data), adding only what it lacks."""
    async with core.engines.control.connect() as conn:
        existing = await registry.by_slug(conn, DEMO_SLUG)
    if existing and existing.status == "active":
        async with tenant_transaction(core.engines, existing) as conn:
            await seed_lived_in(conn, now=datetime.now(UTC))
            await seed_dev_acquiring(conn, core.settings.secret_key)
            await seed_paperless(conn)  # a few accounts get their receipts by e-mail (/receipts/delivery)
        return existing, False

    admin = admin_seeder(*DEMO_ADMIN, full_name="Администратор демо")

    async def seed(conn: AsyncConnection, tenant: Tenant) -> None:
        await admin(conn, tenant)
        await seed_registry(conn)
        now = datetime.now(UTC)
        await seed_billing(conn, today=now.astimezone(MOSCOW).date())
        await seed_lived_in(conn, now=now)
        await seed_dev_acquiring(conn, core.settings.secret_key)
        await seed_paperless(conn)  # a few accounts get their receipts by e-mail (/receipts/delivery)

    return await create_tenant(core.engines, DEMO_SLUG, DEMO_NAME, seed=seed), True


async def ensure_platform_admin(core: Core, login: str, password: str) -> bool:
    from aquabill.platform.auth.passwords import hash_password
    from aquabill.tenants import control

    async with core.engines.control.begin() as conn:
        found = (await conn.execute(select(control.platform_admins.c.id)
                                    .where(control.platform_admins.c.login == login))).first()
        if found:
            return False
        await conn.execute(text("INSERT INTO control.platform_admins(login, password_hash) VALUES (:l, :h)"),
                           {"l": login, "h": hash_password(password)})
        return True
