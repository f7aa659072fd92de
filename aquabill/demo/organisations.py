"""The demo tenant's organisations (#16): a few hundred counterparties — management companies and HOAs, shops,
cafés, offices, workshops, schools and kindergartens, a hospital, sole traders — with bank accounts and contact
people, and their contracts of every kind with sites, connection points, commercial meters and a few months of
readings, and sub-subscribers.

Every INN, KPP, OGRN / OGRNIP and account passes its checksum (`legal_entities.requisites`): the numbers are made
here by the same check-digit algorithms (the organisations are invented; the banks' BICs and correspondent
accounts are real ones, as the Bank of Russia's directory lists them, as is the Treasury body of the Orel region
with its single treasury account from the reference 1CClientBankExchange sample). Deterministic for a given
`today` and seed; set-based (one INSERT … SELECT over arrays per table); a tenant that has counterparties already
is left as it is.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.periods import Period
from aquabill.legal_entities.requisites import complete_account, complete_inn, complete_ogrn

REGION = "57"  # the subject of the RF in the numbers made here (Orel region, as the Treasury body below)
TAX_OFFICES = ("5751", "5752", "5753", "5754")  # tax office codes of the KPPs (region 57 + a two-digit office)
# (BIC, correspondent account, bank): real credit institutions (BICs 04…, accounts 30101… at the Bank of Russia)
BANKS = (("044525225", "30101810400000000225", "ПАО Сбербанк"),
         ("045402601", "30101810300000000601", "Орловское отделение № 8595 ПАО Сбербанк"),
         ("044525187", "30101810700000000187", "Банк ВТБ (ПАО)"),
         ("044525593", "30101810200000000593", "АО «Альфа-Банк»"),
         ("044525974", "30101810145250000974", "АО «ТБанк»"),
         ("044525823", "30101810200000000823", "Банк ГПБ (АО)"),
         ("044525555", "30101810400000000555", "ПАО «Промсвязьбанк»"),
         ("044525111", "30101810200000000111", "АО «Россельхозбанк»"),
         ("044525700", "30101810200000000700", "АО «Райффайзенбанк»"),
         ("043469743", "30101810300000000743", "ПАО «Совкомбанк»"))
# budget institutions hold a treasury account (03234…) at the Treasury body; its "correspondent account" is the
# single treasury account (ЕКС 40102…)
TREASURY = ("015402901", "40102810545370000046", "ОТДЕЛЕНИЕ ОРЕЛ БАНКА РОССИИ//УФК по Орловской области г. Орел")
DIAMETERS = (15, 20, 25, 32, 40, 50, 65, 80, 100)
READING_MONTHS = 6  # month-end readings of the last closed months
SURNAMES = ("Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков",
            "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов")
MALE = ("Александр", "Сергей", "Дмитрий", "Андрей", "Алексей", "Иван", "Михаил", "Николай", "Олег")
PATRONYMICS = ("Александрович", "Сергеевич", "Иванович", "Петрович", "Николаевич", "Викторович", "Юрьевич")
WORDS = ("Родник", "Исток", "Север", "Заря", "Восход", "Радуга", "Берёзка", "Гранит", "Меридиан", "Вектор", "Альфа",
         "Прогресс", "Сфера", "Уют", "Лидер", "Континент", "Орион", "Дельта", "Ладога", "Светлана", "Надежда",
         "Сокол", "Кристалл", "Гарант", "Ресурс", "Стимул", "Фаворит", "Аврора", "Престиж", "Горизонт")
# (category, share, names, contract kinds, tariff group, vat included in the tariff, penalty category)
PROFILES = (
    ("management", 0.10, ("ООО «УК «{w}»", "ТСЖ «{w}»", "ЖСК «{w}»"), ("combined",), "population", True,
     "management_company"),
    ("shop", 0.22, ("ООО «Магазин «{w}»", "ООО «Торговый дом «{w}»", "АО «{w}-Ритейл»"),
     ("combined", "cold_water"), "other", False, "other"),
    ("cafe", 0.08, ("ООО «Кафе «{w}»", "ООО «Столовая «{w}»"), ("combined",), "other", False, "other"),
    ("office", 0.12, ("ООО «{w}»", "АО «{w}»", "ООО «Компания «{w}»"), ("combined", "cold_water", "sewage"),
     "other", False, "other"),
    ("workshop", 0.08, ("ООО «Автосервис «{w}»", "ООО «Завод «{w}»", "ООО «Производственная компания «{w}»"),
     ("combined", "stormwater"), "other", False, "other"),
    ("school", 0.07, ("МБОУ «Средняя общеобразовательная школа № {n}»", "МБДОУ «Детский сад № {n} «{w}»"),
     ("combined",), "budget", False, "other"),
    ("ip", 0.33, ("ИП {last} {first_initial}. {middle_initial}.",), ("combined", "cold_water"), "other", False,
     "other"),
)
HOSPITAL = "ГБУЗ «Приозёрская центральная районная больница»"


# ---- requisites with valid check digits ---------------------------------------------------------------------------

def inn10(rng: random.Random, region: str = REGION) -> str:
    """An organisation's INN: region (2) + tax office (2) + record (5) + the control digit (FNS ММВ-7-6/435@)."""
    return complete_inn(region + f"{rng.randint(51, 54):02d}" + f"{rng.randint(0, 99999):05d}")


def inn12(rng: random.Random, region: str = REGION) -> str:
    """A person's (sole trader's) INN: region + office + record (6) + two control digits."""
    return complete_inn(region + f"{rng.randint(51, 54):02d}" + f"{rng.randint(0, 999999):06d}")


def kpp_of(inn: str, serial: int = 1) -> str:
    """The KPP of an organisation registered where its INN was given: office + «01» (registered as a Russian
    organisation) + the serial number."""
    return inn[:4] + "01" + f"{serial:03d}"


def ogrn(rng: random.Random, year: int, region: str = REGION) -> str:
    """OGRN: 1 (an OGRN) + year (2) + region (2) + office (2) + record (5) + (the 12 digits mod 11 mod 10)."""
    office, record = f"{rng.randint(51, 54):02d}", f"{rng.randint(0, 99999):05d}"
    return complete_ogrn("1" + f"{year % 100:02d}" + region + office + record)


def ogrnip(rng: random.Random, year: int, region: str = REGION) -> str:
    """OGRNIP: 3 + year (2) + region (2) + record (9) + (the 14 digits mod 13 mod 10)."""
    return complete_ogrn("3" + f"{year % 100:02d}" + region + f"{rng.randint(0, 999999999):09d}")


def settlement_account(rng: random.Random, bic: str, *, sole_trader: bool) -> str:
    """40702 (a commercial organisation) or 40802 (a sole trader), currency 810 (rouble), key, branch, number."""
    head = "40802810" if sole_trader else "40702810"
    return complete_account(bic, head + "0" + f"{rng.randint(0, 9999):04d}" + f"{rng.randint(0, 9999999):07d}")


# ---- the organisations ---------------------------------------------------------------------------------------------

@dataclass
class _Org:
    category: str
    kind: str
    name: str
    short_name: str
    inn: str
    kpp: str
    ogrn: str
    penalty_category: str
    tariff_group: str
    vat_included: bool
    contract_kinds: tuple[str, ...]
    person: tuple[str, str, str] = ("", "", "")


def _organisations(rng: random.Random, count: int) -> list[_Org]:
    seen: set[str] = set()
    orgs: list[_Org] = []
    numbers = iter(range(1, 10_000))

    def unique(make) -> str:
        while True:
            value = make()
            if value not in seen:
                seen.add(value)
                return value

    hospital = unique(lambda: inn10(rng))
    orgs.append(_Org("hospital", "org", HOSPITAL, "ЦРБ", hospital, kpp_of(hospital), ogrn(rng, 2002), "other",
                     "budget", False, ("combined", "stormwater")))
    for category, share, names, kinds, group, vat_included, penalty in PROFILES:
        for _ in range(max(1, round((count - 1) * share))):
            word = rng.choice(WORDS)
            if category == "ip":
                last, first, middle = rng.choice(SURNAMES), rng.choice(MALE), rng.choice(PATRONYMICS)
                inn = unique(lambda: inn12(rng))
                orgs.append(_Org(category, "ip", f"Индивидуальный предприниматель {last} {first} {middle}",
                                 f"ИП {last} {first[0]}. {middle[0]}.", inn, "", ogrnip(rng, rng.randint(2005, 2023)),
                                 penalty, group, vat_included, kinds, (last, first, middle)))
                continue
            template = rng.choice(names)
            name = template.format(w=word, n=next(numbers))
            inn = unique(lambda: inn10(rng))
            # 416-FZ art. 13, 14: an HOA or a housing cooperative has its own penalty scale (part 6.3)
            org_penalty = "hoa" if name.startswith(("ТСЖ", "ЖСК")) else penalty
            orgs.append(_Org(category, "org", name, name, inn, kpp_of(inn), ogrn(rng, rng.randint(2002, 2023)),
                             org_penalty, group, vat_included, kinds))
    return orgs[:count]


async def seed_organisations(conn: AsyncConnection, *, today: date, count: int = 300, seed: int = 16) -> dict[str, int]:
    """Counterparties, their bank accounts and contacts, contracts with terms, sites, points, meters with readings
    and sub-subscribers; returns the counts. Does nothing on a tenant that has counterparties already."""
    if (await conn.execute(text("SELECT EXISTS (SELECT 1 FROM counterparties)"))).scalar_one():
        return {"counterparties": 0}
    rng = random.Random(seed)
    orgs = _organisations(rng, count)
    cp_ids = await _counterparties(conn, rng, orgs)
    await _bank_accounts_and_contacts(conn, rng, orgs, cp_ids)
    houses = [r.id for r in await conn.execute(text(
        "SELECT h.id FROM houses h WHERE h.improvement = 'full' ORDER BY h.id"))]
    contracts = _plan_contracts(rng, orgs, cp_ids, today)
    contract_ids = await _contracts(conn, contracts)
    sites = _plan_sites(rng, contracts, contract_ids, houses)
    point_ids = await _sites(conn, sites)
    meters = await _meters(conn, rng, sites, point_ids, today)
    subs = await _subs(conn, rng, sites, point_ids, today)
    return {"counterparties": len(orgs), "contracts": len(contracts), "points": len(point_ids), "meters": meters,
            "subs": subs}


async def _insert(conn: AsyncConnection, sql: str, columns: dict[str, tuple[str, list]]) -> list[int]:
    """`{rows}` in `sql` becomes the rows of the arrays (with their order `n`); the new ids in that order."""
    args = ", ".join(f"CAST(:{name} AS {kind}[])" for name, (kind, _) in columns.items())
    names = ", ".join(columns)
    sql = sql.replace("{rows}", f"unnest({args}) WITH ORDINALITY AS x({names}, n)")
    return list((await conn.execute(text(sql), {name: values for name, (_, values) in columns.items()})).scalars())


async def _counterparties(conn: AsyncConnection, rng: random.Random, orgs: list[_Org]) -> list[int]:
    streets = ("ул. Ленина", "ул. Советская", "ул. Набережная", "пр-т Мира", "ул. Гагарина", "ул. Заводская")
    addresses = [f"187760, Орловская обл., г. Приозёрск, {rng.choice(streets)}, д. {rng.randint(1, 60)}"
                 for _ in orgs]
    rows = {"kind": ("text", [o.kind for o in orgs]), "name": ("text", [o.name for o in orgs]),
            "short_name": ("text", [o.short_name if o.short_name != o.name else "" for o in orgs]),
            "inn": ("text", [o.inn for o in orgs]), "kpp": ("text", [o.kpp for o in orgs]),
            "ogrn": ("text", [o.ogrn for o in orgs]),
            "last_name": ("text", [o.person[0] for o in orgs]), "first_name": ("text", [o.person[1] for o in orgs]),
            "middle_name": ("text", [o.person[2] for o in orgs]),
            "legal_address": ("text", addresses),
            "phone": ("text", [f"+7 4862 {rng.randint(20, 79)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"
                               for _ in orgs]),
            "email": ("text", [f"info{i}@org{i}.example" for i in range(len(orgs))]),
            "edo_id": ("text", [f"2BM-{o.inn}-{o.kpp or '0'}" if rng.random() < 0.4 else "" for o in orgs]),
            "penalty_category": ("text", [o.penalty_category for o in orgs])}
    return await _insert(conn, """
        INSERT INTO counterparties(kind, name, short_name, inn, kpp, ogrn, last_name, first_name, middle_name,
                                   legal_address, postal_address, phone, email, edo_id, penalty_category)
        SELECT kind, name, short_name, inn, kpp, ogrn, last_name, first_name, middle_name, legal_address,
               legal_address, phone, email, edo_id, penalty_category FROM {rows} ORDER BY n RETURNING id""", rows)


async def _bank_accounts_and_contacts(conn: AsyncConnection, rng: random.Random, orgs: list[_Org],
                                      cp_ids: list[int]) -> None:
    accounts: list[tuple[int, str, str, str, str, bool]] = []
    for org, cp in zip(orgs, cp_ids, strict=True):
        if org.tariff_group == "budget":  # a budget institution: its treasury account at the Treasury body
            accounts.append((cp, TREASURY[0], f"03234643{rng.randint(54000000, 54999999)}0000", TREASURY[2],
                             TREASURY[1], True))
            continue
        for n in range(1 if rng.random() < 0.8 else 2):
            bic, corr, bank = rng.choice(BANKS)
            accounts.append((cp, bic, settlement_account(rng, bic, sole_trader=org.kind == "ip"), bank, corr, n == 0))
    await _insert(conn, """
        INSERT INTO counterparty_bank_accounts(counterparty_id, bic, account, bank_name, corr_account, main)
        SELECT cp, bic, account, bank, corr, main FROM {rows} ORDER BY n RETURNING id""", {
        "cp": ("int", [a[0] for a in accounts]), "bic": ("text", [a[1] for a in accounts]),
        "account": ("text", [a[2] for a in accounts]), "bank": ("text", [a[3] for a in accounts]),
        "corr": ("text", [a[4] for a in accounts]), "main": ("boolean", [a[5] for a in accounts])})
    people = [(cp, f"{rng.choice(SURNAMES)} {rng.choice(MALE)} {rng.choice(PATRONYMICS)}",
               rng.choice(("Главный бухгалтер", "Директор", "Главный энергетик", "Инженер")),
               f"+7 910 {rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}")
              for org, cp in zip(orgs, cp_ids, strict=True) if org.kind == "org" and rng.random() < 0.7]
    await _insert(conn, """
        INSERT INTO counterparty_contacts(counterparty_id, person, position, phone)
        SELECT cp, person, position, phone FROM {rows} ORDER BY n RETURNING id""", {
        "cp": ("int", [p[0] for p in people]), "person": ("text", [p[1] for p in people]),
        "position": ("text", [p[2] for p in people]), "phone": ("text", [p[3] for p in people])})


def _plan_contracts(rng: random.Random, orgs: list[_Org], cp_ids: list[int], today: date) -> list[dict[str, Any]]:
    """One contract per organisation (a hospital and a workshop with a stormwater one besides); a few signed
    lately (draft), a few terminated; some with an addendum moving the payment day or adding intermediate
    payments."""
    contracts = []
    for i, (org, cp) in enumerate(zip(orgs, cp_ids, strict=True), start=1):
        kinds = [rng.choice([k for k in org.contract_kinds if k != "stormwater"] or ["combined"])]
        if "stormwater" in org.contract_kinds and (org.category == "hospital" or rng.random() < 0.4):
            kinds.append("stormwater")
        for j, kind in enumerate(kinds):
            signed = today - timedelta(days=rng.randint(240, 3000))  # before the first reading month
            status = "active"
            valid_to = None
            roll = rng.random()
            if roll < 0.04:
                status, signed = "draft", today - timedelta(days=rng.randint(1, 20))
            elif roll < 0.08:
                status, valid_to = "terminated", today - timedelta(days=rng.randint(30, 150))
            terms = {"due_day": 10, "intermediate": []}
            if org.category in ("workshop", "hospital") and rng.random() < 0.5:
                terms["intermediate"] = [{"percent": "35.00", "day": 18}, {"percent": "50.00", "day": 31}]
            addendum = None
            if status == "active" and rng.random() < 0.2:
                addendum = signed + timedelta(days=rng.randint(60, max(61, (today - signed).days - 10)))
            contracts.append({
                "org": org, "counterparty_id": cp, "kind": kind, "status": status, "signed_on": signed,
                "valid_to": valid_to, "number": f"{'ПСВ' if kind == 'stormwater' else 'ВК'}-{i:04d}"
                                                f"{'/' + str(j + 1) if j else ''}",
                "terms": terms, "addendum": addendum,
                "vat_mode": "no_vat" if org.tariff_group == "budget" and rng.random() < 0.3 else "vat",
                "area": round(rng.uniform(800, 25000), 2) if kind == "stormwater" else None,
                "runoff": rng.choice((0.4, 0.6, 0.85, 0.9)) if kind == "stormwater" else None})
    return contracts


async def _contracts(conn: AsyncConnection, contracts: list[dict[str, Any]]) -> list[int]:
    ids = await _insert(conn, """
        INSERT INTO contracts(number, signed_on, counterparty_id, kind, status, valid_from, valid_to)
        SELECT number, signed_on, cp, kind, status, signed_on, valid_to FROM {rows} ORDER BY n RETURNING id""", {
        "number": ("text", [c["number"] for c in contracts]),
        "signed_on": ("date", [c["signed_on"] for c in contracts]),
        "cp": ("int", [c["counterparty_id"] for c in contracts]), "kind": ("text", [c["kind"] for c in contracts]),
        "status": ("text", [c["status"] for c in contracts]), "valid_to": ("date", [c["valid_to"] for c in contracts])})
    versions = []
    for c, cid in zip(contracts, ids, strict=True):
        versions.append((cid, 1, c["signed_on"], f"Договор № {c['number']} от {c['signed_on']:%d.%m.%Y}",
                         json.dumps(c["terms"]), c))
        if c["addendum"]:
            moved = {**c["terms"], "due_day": 15}
            versions.append((cid, 2, c["addendum"], f"Доп. соглашение № 1 от {c['addendum']:%d.%m.%Y}",
                             json.dumps(moved), c))
    await _insert(conn, """
        INSERT INTO contract_versions(contract_id, version, valid_from, basis, payment_terms, vat_mode,
                                      stormwater_area_m2, runoff_coefficient)
        SELECT cid, version, valid_from, basis, CAST(terms AS jsonb), vat_mode, area, runoff FROM {rows}
        ORDER BY n RETURNING id""", {
        "cid": ("int", [v[0] for v in versions]), "version": ("int", [v[1] for v in versions]),
        "valid_from": ("date", [v[2] for v in versions]), "basis": ("text", [v[3] for v in versions]),
        "terms": ("text", [v[4] for v in versions]), "vat_mode": ("text", [v[5]["vat_mode"] for v in versions]),
        "area": ("numeric", [v[5]["area"] for v in versions]),
        "runoff": ("numeric", [v[5]["runoff"] for v in versions])})
    return ids


def _plan_sites(rng: random.Random, contracts: list[dict[str, Any]], ids: list[int],
                houses: list[int]) -> list[dict[str, Any]]:
    """1–3 objects per contract; a management company's objects are the registry's apartment blocks. A cold-water
    point per object, a sewage outlet for sewage; a stormwater contract has one outlet per object."""
    objects = []
    spare = list(houses)
    rng.shuffle(spare)
    for c, cid in zip(contracts, ids, strict=True):
        org = c["org"]
        for k in range(1 if c["kind"] == "stormwater" else rng.choice((1, 1, 1, 2, 2, 3))):
            house = spare.pop() if org.category == "management" and spare else None
            name = (f"МКД {k + 1}" if house else "Территория" if c["kind"] == "stormwater"
                    else ("Основное здание" if k == 0 else f"Корпус {k + 1}"))
            points = []
            if c["kind"] in ("cold_water", "combined"):
                points.append({"kind": "supply", "name": "Ввод № 1", "diameter": rng.choice(DIAMETERS)})
            if c["kind"] in ("sewage", "combined"):
                points.append({"kind": "discharge", "name": "Выпуск № 1", "diameter": rng.choice(DIAMETERS[3:])})
            if c["kind"] == "stormwater":
                points.append({"kind": "discharge", "name": "Ливневый выпуск", "diameter": rng.choice((200, 300))})
            objects.append({"contract_id": cid, "contract": c, "name": name, "house_id": house,
                            "address": "" if house else f"г. Приозёрск, ул. {rng.choice(WORDS)}ская, д. "
                                                        f"{rng.randint(1, 80)}", "points": points})
    return objects


async def _sites(conn: AsyncConnection, objects: list[dict[str, Any]]) -> list[int]:
    object_ids = await _insert(conn, """
        INSERT INTO contract_objects(contract_id, name, address, house_id)
        SELECT cid, name, address, house FROM {rows} ORDER BY n RETURNING id""", {
        "cid": ("int", [o["contract_id"] for o in objects]), "name": ("text", [o["name"] for o in objects]),
        "address": ("text", [o["address"] for o in objects]), "house": ("int", [o["house_id"] for o in objects])})
    # a house's address from the registry where the object is a house of it
    await conn.execute(text("""
        UPDATE contract_objects o SET address = concat_ws(', ', concat_ws(' ', se.kind, se.name),
                                                          concat_ws(' ', st.kind, st.name), 'д. ' || h.number)
        FROM houses h JOIN streets st ON st.id = h.street_id JOIN settlements se ON se.id = st.settlement_id
        WHERE h.id = o.house_id AND o.address = ''"""))
    points = [(oid, o, p) for o, oid in zip(objects, object_ids, strict=True) for p in o["points"]]
    ids = await _insert(conn, """
        INSERT INTO contract_points(object_id, kind, name, diameter_mm, tariff_group, vat_included, valid_from,
                                    valid_to)
        SELECT oid, kind, name, diameter, grp, vat, valid_from, valid_to FROM {rows} ORDER BY n RETURNING id""", {
        "oid": ("int", [p[0] for p in points]), "kind": ("text", [p[2]["kind"] for p in points]),
        "name": ("text", [p[2]["name"] for p in points]), "diameter": ("int", [p[2]["diameter"] for p in points]),
        "grp": ("text", [p[1]["contract"]["org"].tariff_group for p in points]),
        "vat": ("boolean", [p[1]["contract"]["org"].vat_included for p in points]),
        "valid_from": ("date", [p[1]["contract"]["signed_on"] for p in points]),
        "valid_to": ("date", [p[1]["contract"]["valid_to"] for p in points])})
    for (_, _, p), pid in zip(points, ids, strict=True):
        p["id"] = pid
    return ids


async def _meters(conn: AsyncConnection, rng: random.Random, objects: list[dict[str, Any]], point_ids: list[int],
                  today: date) -> int:
    """Most supply points metered (19 of 20): a commercial meter each, read at the end of the last closed months
    (the consumption of a reading is the difference with the previous one). The few others are billed by their
    pipe's throughput capacity (Decree 776 p. 16) — a punitive volume, so they are small inlets (Ø 15–20 mm)."""
    chosen = [(o, p) for o in objects for p in o["points"]
              if p["kind"] == "supply" and o["contract"]["status"] != "draft" and rng.random() < 0.95]
    if not chosen:
        return 0
    current = Period.of(today)
    months = []
    period = current
    for _ in range(READING_MONTHS):
        period = period.prev()
        months.append(period)
    first_read = months[-1].first_day
    meters = []
    for o, p in chosen:
        installed = max(o["contract"]["signed_on"], first_read - timedelta(days=rng.randint(30, 900)))
        installed = min(installed, first_read - timedelta(days=1))
        meters.append((p["id"], f"КУ-{p['id']:05d}-{rng.randint(100, 999)}", installed,
                       installed.replace(year=installed.year + 6) if (installed.month, installed.day) != (2, 29)
                       else date(installed.year + 6, 2, 28), rng.randint(0, 500),
                       rng.uniform(8, 600) if o["contract"]["org"].category != "ip" else rng.uniform(3, 40),
                       o["contract"]["valid_to"]))
    meter_ids = await _insert(conn, """
        INSERT INTO meters(kind, contract_point_id, service_id, serial, digits, fraction_digits, installed_on,
                           initial_reading, verified_until, seal_number, sealed_on)
        SELECT 'commercial', pid, s.id, serial, 7, 2, installed, initial, verified, 'ПЛ-' || pid, installed
        FROM {rows} JOIN services s ON s.code = 'cold_water' ORDER BY n RETURNING id""", {
        "pid": ("int", [m[0] for m in meters]), "serial": ("text", [m[1] for m in meters]),
        "installed": ("date", [m[2] for m in meters]), "verified": ("date", [m[3] for m in meters]),
        "initial": ("numeric", [m[4] for m in meters])})
    await conn.execute(text("UPDATE contract_points SET metered = true WHERE id = ANY(:ids)"),
                       {"ids": [m[0] for m in meters]})
    await conn.execute(text("UPDATE contract_points SET diameter_mm = 15 + 5 * (id % 2) WHERE id = ANY(:ids) "
                            "AND kind = 'supply' AND NOT metered"), {"ids": point_ids})
    readings: list[tuple[int, date, float]] = []
    for (_, _, _, _, initial, monthly, ended), mid in zip(meters, meter_ids, strict=True):
        value = float(initial)
        for period in reversed(months):
            read_on = period.last_day
            if ended is not None and read_on > ended:
                break
            value += monthly * rng.uniform(0.85, 1.15)
            readings.append((mid, read_on, round(value, 2)))
    await _insert(conn, """
        INSERT INTO readings(meter_id, read_on, value, source, status, consumption)
        SELECT mid, read_on, value, 'operator', 'accepted',
               value - coalesce(lag(value) OVER (PARTITION BY mid ORDER BY read_on), m.initial_reading)
        FROM {rows} JOIN meters m ON m.id = mid ORDER BY n RETURNING id""", {
        "mid": ("int", [r[0] for r in readings]), "read_on": ("date", [r[1] for r in readings]),
        "value": ("numeric", [r[2] for r in readings])})
    return len(meter_ids)


async def _subs(conn: AsyncConnection, rng: random.Random, objects: list[dict[str, Any]], point_ids: list[int],
                today: date) -> int:
    """A few shops and cafés on the ground floor of a managed block: their supply point is a sub-subscriber of the
    block's supply point."""
    main = [p for o in objects if o["contract"]["org"].category == "management" and o["contract"]["status"] == "active"
            for p in o["points"] if p["kind"] == "supply"]
    tenants = [(o, p) for o in objects if o["contract"]["org"].category in ("shop", "cafe")
               and o["contract"]["status"] == "active" for p in o["points"] if p["kind"] == "supply"]
    rng.shuffle(tenants)
    links = []
    for host, (o, sub) in zip(main, tenants[: max(1, len(main) // 2)], strict=False):
        start = max(o["contract"]["signed_on"], today - timedelta(days=rng.randint(60, 700)))
        links.append((host["id"], sub["id"], o["contract"]["counterparty_id"], start))
    await _insert(conn, """
        INSERT INTO contract_point_subs(point_id, sub_point_id, sub_counterparty_id, valid_from)
        SELECT host, sub, cp, valid_from FROM {rows} ORDER BY n RETURNING id""", {
        "host": ("int", [s[0] for s in links]), "sub": ("int", [s[1] for s in links]),
        "cp": ("int", [s[2] for s in links]), "valid_from": ("date", [s[3] for s in links])})
    return len(links)
