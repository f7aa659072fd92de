"""Billing data of the demo tenant: tariffs, norms, residents, meters with a year of readings, building
meters, periods, and billing runs of the last closed months and of the open month.

Deterministic for a given `today` and seed (dates are relative to `today`: the current month is the open
period, the twelve before it are closed). Sizeable tables are written with one statement each (`unnest`
of arrays, or INSERT … SELECT); readings go through `record_readings` like an import.

Every tariff and norm cites an invented act of an imaginary region, marked «(демо)» (`tariff_basis`, NORM_BASIS);
a demo tenant seeded before the basis existed gets them from `cite_bases` at its next start.

Modelled town: apartment blocks (improvement `full`) have cold water and sewage; private houses
(`no_sewage`) have cold water only, so sewage is not connected by default here but per account of the
blocks (`account_services`). About 70 % of accounts have a cold-water meter (a few with the verification
overdue, a few that stopped submitting readings, a few that submit late: their last closed month is
recalculated by the open month's run); two blocks have a building meter; every block has a common area.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.metering.readings import NewReading, record_readings
from aquabill.billing_core.month_close import close_period
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import start_period
from aquabill.billing_core.run.service import run_billing

READING_MONTHS = 12  # closed months with readings (and the closed periods)
BILLED_CLOSED_MONTHS = 3  # closed months with charges, billed before the open month
METERED_SHARE = 0.7
VERIFICATION_YEARS = 6  # cold-water meters
# ₽ per m³ (population) from 1 January 2024, then from 1 July of each year
TARIFFS = {"cold_water": ["45.12", "48.73", "53.12", "57.37"],
           "sewage": ["38.47", "41.55", "45.29", "48.91"]}
YEARLY_RISE = Decimal("1.07")  # after the listed values, should the demo run in a later year
# m³ per person per month (common_cold: per m² of common area) by the house's improvement, from 01.01.2017
NORMS = [("cold_water", "full", "4.85"), ("cold_water", "no_sewage", "2.92"), ("sewage", "full", "8.09"),
         ("common_cold", "full", "0.03")]
NORMS_FROM = date(2017, 1, 1)
# the acts that set them: invented (an imaginary region), marked so
NORM_BASIS = "Постановление Правительства Энской области от 15.12.2016 № 512-п (демо)"
TARIFF_BASIS = "Приказ Управления по тарифам Энской области от {signed:%d.%m.%Y} № {number}-вк (демо)"
FIRST_NAMES_M = ["Александр", "Сергей", "Дмитрий", "Андрей", "Алексей", "Иван", "Михаил", "Николай", "Егор"]
FIRST_NAMES_F = ["Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана", "Анна", "Мария", "Полина"]
PATRONYMICS = ["Александров", "Сергеев", "Иванов", "Петров", "Николаев", "Викторов", "Юрьев"]


def _months_back(period: Period, n: int) -> Period:
    for _ in range(n):
        period = period.prev()
    return period


def tariff_rows(today: date) -> list[tuple[str, str, Decimal, date]]:
    """(service, group, price, valid_from): the population's listed values from 2024, then +7 % each 1 July up to
    today."""
    rows = []
    for service, prices in TARIFFS.items():
        price = Decimal(prices[0])
        rows.append((service, "population", price, date(2024, 1, 1)))
        for year in range(2024, max(2024 + len(prices) - 1, today.year + 1)):
            i = year - 2024 + 1
            price = Decimal(prices[i]) if i < len(prices) else (price * YEARLY_RISE).quantize(Decimal("0.01"))
            rows.append((service, "population", price, date(year, 7, 1)))
    # water for common property is priced as cold water
    rows += [("common_cold", group, value, valid_from) for code, group, value, valid_from in list(rows)
             if code == "cold_water"]
    return rows


def tariff_basis(valid_from: date) -> str:
    """The invented order that set the tariffs of every group from `valid_from` (signed six weeks before it)."""
    signed = valid_from - timedelta(days=42)
    return TARIFF_BASIS.format(signed=signed, number=signed.month * 3 + signed.year % 100)


async def cite_bases(conn: AsyncConnection, tariffs: list[tuple[str, str, Decimal, date]]) -> int:
    """The demo's own rows still without a basis (a demo tenant seeded before t0036) get their invented acts: the
    `tariffs` listed (service, group, price, valid_from) as they were seeded, and the norms of NORMS. A row changed
    since, or with a basis, is left as it is; returns how many rows got one."""
    cited = await conn.execute(text(
        "UPDATE tariffs t SET basis = x.basis FROM unnest(CAST(:code AS text[]), CAST(:grp AS text[]), "
        "CAST(:price AS numeric[]), CAST(:valid_from AS date[]), CAST(:basis AS text[])) "
        "AS x(code, grp, price, valid_from, basis) JOIN services s ON s.code = x.code "
        "WHERE t.service_id = s.id AND t.tariff_group = x.grp AND t.valid_from = x.valid_from AND t.price = x.price "
        "AND t.basis = ''"),
        {"code": [r[0] for r in tariffs], "grp": [r[1] for r in tariffs], "price": [r[2] for r in tariffs],
         "valid_from": [r[3] for r in tariffs], "basis": [tariff_basis(r[3]) for r in tariffs]})
    norms = await conn.execute(text(
        "UPDATE norms n SET basis = :basis FROM unnest(CAST(:code AS text[]), CAST(:improvement AS text[]), "
        "CAST(:volume AS numeric[])) AS x(code, improvement, volume) JOIN services s ON s.code = x.code "
        "WHERE n.service_id = s.id AND n.improvement = x.improvement AND n.volume = x.volume "
        "AND n.valid_from = :valid_from AND n.basis = ''"),
        {"code": [n[0] for n in NORMS], "improvement": [n[1] for n in NORMS],
         "volume": [Decimal(n[2]) for n in NORMS], "valid_from": NORMS_FROM, "basis": NORM_BASIS})
    return cited.rowcount + norms.rowcount


def _surname(holder: str) -> str:
    """The family name in its masculine form (holders are «Фамилия Имя Отчество»)."""
    surname = holder.split()[0]
    return surname[:-1] if surname.endswith("а") else surname


def _family_member(rng: random.Random, holder: str) -> str:
    base, patronymic = _surname(holder), rng.choice(PATRONYMICS)
    if rng.random() < 0.5:
        return f"{base} {rng.choice(FIRST_NAMES_M)} {patronymic}ич"
    return f"{base}а {rng.choice(FIRST_NAMES_F)} {patronymic}на"


async def _unnest(conn: AsyncConnection, sql: str, columns: dict[str, tuple[str, list]]) -> None:
    """`{unnest}` in `sql` becomes unnest(CAST(:name AS type[]), …) of the columns: one statement for any
    number of rows."""
    if not next(iter(columns.values()))[1]:
        return
    args = ", ".join(f"CAST(:{name} AS {kind}[])" for name, (kind, _) in columns.items())
    await conn.execute(text(sql.replace("{unnest}", f"unnest({args})")),
                       {name: values for name, (_, values) in columns.items()})


async def seed_billing(conn: AsyncConnection, *, today: date | None = None, seed: int = 42) -> dict[str, int]:
    """Fill the billing data of a tenant whose registry `seed_registry` made; returns a few counts."""
    today = today or date.today()
    rng = random.Random(seed)
    current = Period.of(today)
    first_closed = _months_back(current, READING_MONTHS)

    await _reference_data(conn, today)
    accounts = (await conn.execute(text(
        "SELECT a.id, a.holder, a.opened_on, h.id AS house_id, h.improvement, h.built_year "
        "FROM accounts a JOIN premises p ON p.id = a.premise_id JOIN houses h ON h.id = p.house_id "
        "ORDER BY a.id"))).all()
    persons = await _residents(conn, rng, accounts, today)
    # sewage: connected for the accounts of apartment blocks only
    await conn.execute(text("UPDATE services SET default_connected = false WHERE code = 'sewage'"))
    await conn.execute(text(
        "INSERT INTO account_services(account_id, service_id, connected_from) "
        "SELECT a.id, s.id, a.opened_on FROM accounts a JOIN premises p ON p.id = a.premise_id "
        "JOIN houses h ON h.id = p.house_id, services s WHERE s.code = 'sewage' AND h.improvement = 'full'"))

    meters = await _meters(conn, rng, accounts, today)
    held_back = await _readings(conn, rng, meters, persons, current, today)
    monthly = {m["account_id"]: m["monthly"] for m in meters}
    await _building_meters(conn, rng, accounts, persons, monthly, current)
    await _parameters_and_absences(conn, rng, accounts, {m["account_id"] for m in meters}, current)

    # periods: the reading months closed (the last ones once billed), the current month open
    await conn.execute(text(
        "INSERT INTO periods(period, status, closed_at) "
        "SELECT gs::date, 'closed', now() FROM generate_series(CAST(:a AS date), CAST(:b AS date), "
        "interval '1 month') gs"), {"a": first_closed.first_day,
                                    "b": _months_back(current, BILLED_CLOSED_MONTHS + 1).first_day})
    runs = 0
    for back in range(BILLED_CLOSED_MONTHS, 0, -1):
        period = _months_back(current, back)
        await start_period(conn, period)
        await run_billing(conn, period)
        if back > 1:
            await conn.execute(text("UPDATE periods SET status = 'closed', closed_at = now() WHERE period = :p"),
                               {"p": period.first_day})
        else:  # last month is closed as staff close it: checks, the close journal, the next month started
            await close_period(conn, period, accept_warnings=True, today=today)
        runs += 1
    # readings submitted after their month was billed: the open month's run recalculates that month
    await record_readings(conn, held_back, source="portal")
    await start_period(conn, current)
    await run_billing(conn, current)
    return {"accounts": len(accounts), "meters": len(meters), "runs": runs + 1}


async def _reference_data(conn: AsyncConnection, today: date) -> None:
    rows = tariff_rows(today)
    await _unnest(conn, "INSERT INTO tariffs(service_id, tariff_group, price, valid_from, basis) "
                        "SELECT s.id, x.grp, x.price, x.valid_from, x.basis "
                        "FROM {unnest} AS x(code, grp, price, valid_from, basis) JOIN services s ON s.code = x.code", {
                            "code": ("text", [r[0] for r in rows]), "grp": ("text", [r[1] for r in rows]),
                            "price": ("numeric", [r[2] for r in rows]), "valid_from": ("date", [r[3] for r in rows]),
                            "basis": ("text", [tariff_basis(r[3]) for r in rows])})
    await _unnest(conn, "INSERT INTO norms(service_id, improvement, volume, valid_from, basis) "
                        "SELECT s.id, x.improvement, x.volume, x.valid_from, x.basis "
                        "FROM {unnest} AS x(code, improvement, volume, valid_from, basis) "
                        "JOIN services s ON s.code = x.code", {
                            "code": ("text", [n[0] for n in NORMS]), "improvement": ("text", [n[1] for n in NORMS]),
                            "volume": ("numeric", [Decimal(n[2]) for n in NORMS]),
                            "valid_from": ("date", [NORMS_FROM] * len(NORMS)),
                            "basis": ("text", [NORM_BASIS] * len(NORMS))})


async def _residents(conn: AsyncConnection, rng: random.Random, accounts, today: date) -> dict[int, int]:
    """Registered residents: the holder and family; a few moved out, a few registered temporarily."""
    rows: list[tuple[int, str, date | None, str, date, date | None]] = []
    persons: dict[int, int] = {}
    for a in accounts:
        n = rng.choices([1, 2, 3, 4, 5], weights=[28, 34, 22, 12, 4])[0]
        living = 0
        for i in range(n):
            name = a.holder if i == 0 else _family_member(rng, a.holder)
            born = date(1940, 1, 1) + timedelta(days=rng.randint(0, 29000)) if i < 2 else \
                date(1995, 1, 1) + timedelta(days=rng.randint(0, 10000))
            born = min(born, today - timedelta(days=200))
            start = a.opened_on if i == 0 or rng.random() < 0.7 else \
                a.opened_on + timedelta(days=rng.randint(30, max(31, (today - a.opened_on).days - 30)))
            kind, end = "permanent", None
            roll = rng.random()
            if i > 0 and roll < 0.05:  # moved out some months ago
                end = today - timedelta(days=rng.randint(40, 400))
                end = max(end, start)
            elif i > 0 and roll < 0.08:  # registered for a year
                kind, end = "temporary", start + timedelta(days=365)
            living += end is None or end >= today
            rows.append((a.id, name, born, kind, start, end))
        persons[a.id] = max(living, 1)
    await _unnest(conn, "INSERT INTO residents(account_id, full_name, birth_date, kind, registered_from, "
                        "registered_to) SELECT * FROM {unnest}", {
                            "a": ("int", [r[0] for r in rows]), "n": ("text", [r[1] for r in rows]),
                            "b": ("date", [r[2] for r in rows]), "k": ("text", [r[3] for r in rows]),
                            "f": ("date", [r[4] for r in rows]), "t": ("date", [r[5] for r in rows])})
    return persons


async def _meters(conn: AsyncConnection, rng: random.Random, accounts, today: date) -> list[dict]:
    """Cold-water meters of ~70 % of accounts; each installed 4 months to ~6.5 years ago (so a few are
    past their verification), with the monthly volume its household uses."""
    chosen = []
    for a in accounts:
        if rng.random() >= METERED_SHARE:
            continue
        installed = max(today - timedelta(days=rng.randint(120, 2400)), a.opened_on)
        chosen.append({"account_id": a.id, "serial": f"ХВ-{rng.randint(100000, 999999)}-{a.id}",
                       "installed_on": installed,
                       "verified_until": installed.replace(year=installed.year + VERIFICATION_YEARS)
                       if not (installed.month == 2 and installed.day == 29) else
                       date(installed.year + VERIFICATION_YEARS, 2, 28),
                       "initial": Decimal(rng.randint(0, 5)), "private": a.improvement != "full"})
    # a few stopped submitting readings two months ago; a few submitted last month's reading after that
    # month was billed; a few sent a suspicious reading this month (waiting for an operator)
    roles = rng.sample(range(len(chosen)), k=len(chosen))
    counts = {role: max(1, round(len(chosen) * share)) for role, share in
              (("silent", 0.07), ("late", 0.05), ("flagged", 0.015))}
    start = 0
    for m in chosen:
        m.update(silent=False, late=False, flagged=False)
    for role, n in counts.items():
        for i in roles[start:start + n]:
            chosen[i][role] = True
        start += n
    ids = (await conn.execute(text(
        "INSERT INTO meters(account_id, service_id, serial, digits, installed_on, initial_reading, verified_until, "
        "seal_number, sealed_on) "
        "SELECT x.a, s.id, x.serial, 5, x.installed, x.initial, x.verified, 'П-' || x.n, x.installed "
        "FROM unnest(CAST(:a AS int[]), CAST(:serial AS text[]), CAST(:installed AS date[]), "
        "CAST(:initial AS numeric[]), CAST(:verified AS date[])) WITH ORDINALITY AS x(a, serial, installed, initial, "
        "verified, n) JOIN services s ON s.code = 'cold_water' ORDER BY x.n RETURNING id"), {
            "a": [m["account_id"] for m in chosen], "serial": [m["serial"] for m in chosen],
            "installed": [m["installed_on"] for m in chosen], "initial": [m["initial"] for m in chosen],
            "verified": [m["verified_until"] for m in chosen]})).scalars().all()
    for m, meter_id in zip(chosen, ids, strict=True):
        m["id"] = meter_id
    return chosen


def _season(period: Period, private: bool) -> float:
    """Private houses water their gardens in summer."""
    return 1.6 if private and period.month in (6, 7, 8) else 1.1 if period.month in (6, 7, 8) else 1.0


async def _readings(conn: AsyncConnection, rng: random.Random, meters: list[dict], persons: dict[int, int],
                    current: Period, today: date) -> list[NewReading]:
    """A reading around the 20th–25th of each closed month (and of this month for about half the meters
    once the 20th has passed); returns the held-back readings of the late submitters."""
    items: list[NewReading] = []
    held_back: list[NewReading] = []
    months = [_months_back(current, k) for k in range(READING_MONTHS, 0, -1)]
    for m in meters:
        per_person = rng.uniform(2.0, 3.8) if not m["private"] else rng.uniform(2.5, 4.5)
        m["monthly"] = persons[m["account_id"]] * per_person
        value = float(m["initial"])
        last_on = m["installed_on"]
        for period in months + [current]:
            day = rng.randint(20, 25)
            if period == current:
                if today.day < 20 or m["silent"] or m["late"] or m["flagged"] or rng.random() < 0.55:
                    continue
                day = rng.randint(20, today.day)
            read_on = date(period.year, period.month, day)
            if read_on <= m["installed_on"] + timedelta(days=5):
                continue
            value += m["monthly"] * _season(period, m["private"]) * rng.uniform(0.8, 1.2) * (read_on - last_on).days / 30.4
            last_on = read_on
            if m["silent"] and period >= _months_back(current, 2):
                continue
            reading = NewReading(m["id"], read_on, Decimal(round(value)))
            (held_back if m["late"] and period == current.prev() else items).append(reading)
        if m["flagged"]:
            items.append(NewReading(m["id"], today, Decimal(round(value + 150 + m["monthly"]))))
    await record_readings(conn, items, source="portal")
    return held_back


async def _building_meters(conn: AsyncConnection, rng: random.Random, accounts, persons: dict[int, int],
                           monthly: dict[int, float], current: Period) -> None:
    """Common areas of the blocks; building meters of the two largest, read on each month's last day."""
    await conn.execute(text(
        "UPDATE houses h SET common_area_m2 = round(a.area * 0.12, 1) "
        "FROM (SELECT house_id, sum(area_m2) AS area FROM premises GROUP BY house_id) a "
        "WHERE a.house_id = h.id AND h.improvement = 'full'"))
    by_house: dict[int, list] = {}
    for a in accounts:
        if a.improvement == "full":
            by_house.setdefault(a.house_id, []).append(a)
    largest = sorted(by_house, key=lambda h: (-len(by_house[h]), h))[:2]
    norm = float(next(n[2] for n in NORMS if n[:2] == ("cold_water", "full")))
    meter_rows, reading_rows = [], []
    for i, house_id in enumerate(largest, start=1):
        installed = _months_back(current, 30 + 9 * i).first_day + timedelta(days=13)
        serial = f"ОДПУ-{installed.year}-{house_id:04d}"
        meter_rows.append((house_id, serial, installed))
        use = sum(monthly.get(a.id, norm * persons[a.id]) for a in by_house[house_id])
        value, last_on = 0.0, installed
        for k in range(READING_MONTHS + 1, 0, -1):
            period = _months_back(current, k)
            read_on = period.last_day
            value += use * 1.06 * rng.uniform(0.97, 1.05) * (read_on - last_on).days / 30.4
            reading_rows.append((serial, read_on, Decimal(round(value, 2))))
            last_on = read_on
    await _unnest(conn, "INSERT INTO meters(kind, house_id, service_id, serial, digits, fraction_digits, installed_on, "
                        "verified_until) SELECT 'building', x.h, s.id, x.serial, 8, 2, x.installed, "
                        "CAST(x.installed + interval '6 years' AS date) "
                        "FROM {unnest} AS x(h, serial, installed) JOIN services s ON s.code = 'cold_water'", {
                            "h": ("int", [r[0] for r in meter_rows]), "serial": ("text", [r[1] for r in meter_rows]),
                            "installed": ("date", [r[2] for r in meter_rows])})
    await _unnest(conn, """
        INSERT INTO readings(meter_id, read_on, value, source, status, consumption)
        SELECT m.id, x.read_on, x.value, 'operator', 'accepted',
               x.value - coalesce(lag(x.value) OVER (PARTITION BY m.id ORDER BY x.read_on), m.initial_reading)
        FROM {unnest} AS x(serial, read_on, value) JOIN meters m ON m.serial = x.serial AND m.kind = 'building'
        ORDER BY m.id, x.read_on""", {
        "serial": ("text", [r[0] for r in reading_rows]), "read_on": ("date", [r[1] for r in reading_rows]),
        "value": ("numeric", [r[2] for r in reading_rows])})


async def _parameters_and_absences(conn: AsyncConnection, rng: random.Random, accounts, metered: set[int],
                                   current: Period) -> None:
    """No technical possibility of a meter in the oldest buildings (no increasing coefficient for them);
    a few households away for two to four weeks last month (their norm charges shrink)."""
    old = [a.id for a in accounts if a.id not in metered and (a.built_year or 2000) < 1965]
    await _unnest(conn, "INSERT INTO account_parameters(account_id, kind, value_num, valid_from) "
                        "SELECT x.a, 'meter_possible', 0, ac.opened_on FROM {unnest} AS x(a) "
                        "JOIN accounts ac ON ac.id = x.a", {"a": ("int", old)})
    away = sorted(rng.sample([a.id for a in accounts if a.id not in metered], k=min(12, len(accounts) - len(metered))))
    last = current.prev()
    starts = [last.first_day + timedelta(days=rng.randint(0, 10)) for _ in away]
    await _unnest(conn, "INSERT INTO absences(account_id, date_from, date_to, reason) "
                        "SELECT x.a, x.f, x.t, 'Командировка' FROM {unnest} AS x(a, f, t)", {
                            "a": ("int", away), "f": ("date", starts),
                            "t": ("date", [s + timedelta(days=rng.randint(14, 28)) for s in starts])})
