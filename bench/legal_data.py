"""The data set of `bench/legal_entities.py`: N counterparties, each with one contract (cold water + sewage), one
site and three connection points, written set-based (one INSERT … SELECT a table, over generate_series or the
arrays of the requisites).

Per contract:
- a counterparty: nine in ten organisations (INN of 10 digits, KPP, OGRN), one in ten sole traders (INN of 12,
  OGRNIP, the person's name); every number carries its correct control digits (`legal_entities.requisites`'
  algorithms; the numbers are made up, region 57); each has an EDO participant id (the UPD's file name needs
  the buyer's and the seller's: `channels/fns_upd/naming.py`);
- its tariff group: every tenth a budget consumer ('budget'), the others 'other'; every twentieth contract
  without VAT ('no_vat': the document is an act, not a UPD);
- points: «Ввод № 1», a metered supply point with a commercial meter read at the end of the month before and at
  the end of the month (20–319 m³); «Ввод № 2», an unmetered supply point with a 15/20/25 mm pipe (the
  throughput-capacity rule); «Выпуск № 1», a discharge point (sewage from the site's water; every seventh
  discharges 95 % of it);
- tariffs of 'other' and 'budget' for cold water and sewage (from 2026-01-01 and the July indexation);
- the seller's receipt requisites (valid INN, KPP, BIC and account key) and its EDO participant id (the
  `edo_settings` row of 'diadoc', not enabled), the month open in `periods`.

The generated rows skip the audit and FK triggers (`session_replication_role = replica`), as
`bench/billing_run.py` does: the bench measures the calculation and the documents, not the data entry.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import text

from aquabill.legal_entities.requisites import complete_account, complete_inn, complete_ogrn

REGION = "57"
SIGNED = date(2024, 1, 15)  # written as DATE '2024-01-15' in the statements below
# ₽ per m³ without VAT; the second value from the July indexation (the demo's population tariffs rise 1 July too)
TARIFFS = (("cold_water", "other", "61.40", "65.70"), ("sewage", "other", "47.15", "50.45"),
           ("cold_water", "budget", "58.90", "63.02"), ("sewage", "budget", "45.30", "48.47"))
SELLER_BIC = "044525225"  # ПАО Сбербанк (a real BIC; the account below is made up with a valid key)
SELLER = {"name": "МУП «Водоканал г. Бенчмарка»", "inn": complete_inn("575100001"), "kpp": "575101001",
          "personal_acc": complete_account(SELLER_BIC, "40702810000000000777"), "bank_name": "ПАО Сбербанк",
          "bic": SELLER_BIC, "corresp_acc": "30101810400000000225",
          "address": "302000, Орловская обл., г. Бенчмарк, ул. Ленина, д. 1", "phone": "+7 4862 00-00-00",
          "email": "bench@vodokanal.example"}


def requisites(n: int) -> dict[str, list[str]]:
    """The INN, KPP, OGRN / OGRNIP of counterparties 1..n (sole traders: every tenth), unique, with valid control
    digits: an organisation's INN = region + office (51–54) + record (5 digits) + control; a person's = region +
    office + record (6) + two controls; OGRN = 1 + year + region + office + record + control."""
    inns, kpps, ogrns = [], [], []
    for i in range(1, n + 1):
        office = f"{51 + i % 4:02d}"
        if i % 10 == 0:
            inn = complete_inn(REGION + office + f"{i:06d}")
            inns.append(inn)
            kpps.append("")
            ogrns.append(complete_ogrn("315" + REGION + f"{i:09d}"))
        else:
            inn = complete_inn(REGION + office + f"{i // 4:05d}")
            inns.append(inn)
            kpps.append(inn[:4] + "01001")
            ogrns.append(complete_ogrn("112" + REGION + office + f"{i // 4:05d}"))
    return {"inn": inns, "kpp": kpps, "ogrn": ogrns}


def _month_end(period: date) -> date:
    return (period.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


STATEMENTS = [
    "SET LOCAL session_replication_role = replica",
    # counterparties (the requisites come as arrays: their check digits are computed in Python)
    """INSERT INTO counterparties(kind, name, short_name, inn, kpp, ogrn, last_name, first_name, middle_name,
                                  legal_address, postal_address, email, phone, edo_id, penalty_category)
       SELECT CASE WHEN n % 10 = 0 THEN 'ip' ELSE 'org' END,
              CASE WHEN n % 10 = 0 THEN 'Индивидуальный предприниматель Бенчев Иван Иванович ' || n
                   WHEN n % 10 = 5 THEN 'МБУ «Учреждение № ' || n || '»'
                   ELSE 'ООО «Абонент ' || n || '»' END,
              '', inn, kpp, ogrn,
              CASE WHEN n % 10 = 0 THEN 'Бенчев' ELSE '' END, CASE WHEN n % 10 = 0 THEN 'Иван' ELSE '' END,
              CASE WHEN n % 10 = 0 THEN 'Иванович' ELSE '' END,
              '302000, Орловская обл., г. Бенчмарк, ул. Заводская, д. ' || (1 + n % 200),
              '302000, Орловская обл., г. Бенчмарк, ул. Заводская, д. ' || (1 + n % 200),
              'org' || n || '@bench.example', '+7 4862 ' || lpad((n % 1000000)::text, 6, '0'),
              '2BM-' || inn || CASE WHEN kpp = '' THEN '' ELSE '-' || kpp END,
              CASE WHEN n % 25 = 0 THEN 'management_company' ELSE 'other' END
       FROM unnest(CAST(:inn AS text[]), CAST(:kpp AS text[]), CAST(:ogrn AS text[]))
            WITH ORDINALITY AS x(inn, kpp, ogrn, n) ORDER BY n""",
    """INSERT INTO contracts(number, signed_on, counterparty_id, kind, status, valid_from)
       SELECT 'Б-' || lpad(c.id::text, 6, '0'), DATE '2024-01-15', c.id, 'combined', 'active', DATE '2024-01-15'
       FROM counterparties c ORDER BY c.id""",
    """INSERT INTO contract_versions(contract_id, version, valid_from, basis, payment_terms, vat_mode)
       SELECT k.id, 1, DATE '2024-01-15', 'Договор № ' || k.number || ' от ' || to_char(DATE '2024-01-15', 'DD.MM.YYYY'),
              CASE WHEN k.id % 9 = 0 THEN '{"due_day": 10, "intermediate": [{"percent": "35.00", "day": 18}]}'
                   ELSE '{"due_day": 10, "intermediate": []}' END::jsonb,
              CASE WHEN k.id % 20 = 0 THEN 'no_vat' ELSE 'vat' END
       FROM contracts k ORDER BY k.id""",
    """INSERT INTO contract_objects(contract_id, name, address)
       SELECT k.id, 'Основное здание', 'г. Бенчмарк, ул. Промышленная, д. ' || k.id FROM contracts k ORDER BY k.id""",
    # three points a site: metered supply, unmetered supply with its pipe, a discharge point
    """INSERT INTO contract_points(object_id, kind, name, diameter_mm, tariff_group, vat_included, metered,
                                   valid_from, discharge_share)
       SELECT o.id, p.kind, p.name, p.diameter, CASE WHEN o.contract_id % 10 = 0 THEN 'budget' ELSE 'other' END,
              false, p.metered, DATE '2024-01-15', p.share
       FROM contract_objects o CROSS JOIN LATERAL (VALUES
              (1, 'supply', 'Ввод № 1', 32, true, 1.0),
              (2, 'supply', 'Ввод № 2', (ARRAY[15, 20, 25])[1 + o.id % 3], false, 1.0),
              (3, 'discharge', 'Выпуск № 1', 100, false, CASE WHEN o.id % 7 = 0 THEN 0.95 ELSE 1.0 END))
            AS p(k, kind, name, diameter, metered, share)
       ORDER BY o.id, p.k""",
    """INSERT INTO meters(kind, contract_point_id, service_id, serial, digits, fraction_digits, installed_on,
                          initial_reading, verified_until, seal_number, sealed_on)
       SELECT 'commercial', p.id, s.id, 'КУ-' || p.id, 7, 2, DATE '2024-01-15', 0, DATE '2030-01-14', 'ПЛ-' || p.id, DATE '2024-01-15'
       FROM contract_points p JOIN services s ON s.code = 'cold_water' WHERE p.metered ORDER BY p.id""",
    # two month-end readings: the month before (the start) and the billed month's end
    """INSERT INTO readings(meter_id, read_on, value, source, status, consumption)
       SELECT m.id, r.read_on, r.value, 'operator', 'accepted', r.consumption
       FROM meters m CROSS JOIN LATERAL (VALUES
              (CAST(:before AS date), 1000 + m.id % 500, 1000 + m.id % 500),
              (CAST(:month_end AS date), 1000 + m.id % 500 + 20 + m.id % 300, 20 + m.id % 300))
            AS r(read_on, value, consumption)
       WHERE m.kind = 'commercial'""",
    """INSERT INTO tariffs(service_id, tariff_group, price, valid_from)
       SELECT s.id, t.grp, t.price, t.valid_from
       FROM unnest(CAST(:t_code AS text[]), CAST(:t_group AS text[]), CAST(:t_price AS numeric[]),
                   CAST(:t_from AS date[])) AS t(code, grp, price, valid_from)
       JOIN services s ON s.code = t.code
       ON CONFLICT (service_id, tariff_group, valid_from) DO NOTHING""",
    "INSERT INTO periods(period) VALUES (CAST(:period AS date)) ON CONFLICT (period) DO NOTHING",
    "INSERT INTO edo_settings(operator, participant_id) VALUES ('diadoc', :seller_edo) ON CONFLICT DO NOTHING",
    # the signer and the OGRN of documents to legal entities (legal_entities/issue/parties.py)
    """INSERT INTO billing_settings(key, value) VALUES ('legal_signer', '{"ogrn": "1025753000019", "last_name":
       "Петрова", "first_name": "Анна", "middle_name": "Сергеевна", "position": "Главный бухгалтер"}')
       ON CONFLICT (key) DO NOTHING""",
]


async def generate(conn, n: int, period: date) -> dict[str, int]:
    """Write the data set for `n` contracts billed in `period` (the first of a month); returns the counts."""
    t_rows = [(code, group, price, valid_from) for code, group, jan, jul in TARIFFS
              for price, valid_from in ((jan, date(2026, 1, 1)), (jul, date(2026, 7, 1)))]
    params = {**requisites(n), "period": period, "before": period - timedelta(days=1),
              "month_end": _month_end(period),
              "seller_edo": f"2BM-{SELLER['inn']}-{SELLER['kpp']}",
              "t_code": [r[0] for r in t_rows], "t_group": [r[1] for r in t_rows],
              "t_price": [r[2] for r in t_rows], "t_from": [r[3] for r in t_rows]}
    for sql in STATEMENTS:
        await conn.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
    from aquabill.billing_core.receipts import save_requisites

    await save_requisites(conn, SELLER)
    counts = (await conn.execute(text(
        "SELECT (SELECT count(*) FROM counterparties), (SELECT count(*) FROM contracts), "
        "(SELECT count(*) FROM contract_points), (SELECT count(*) FROM meters WHERE kind = 'commercial'), "
        "(SELECT count(*) FROM readings)"))).one()
    return dict(zip(("counterparties", "contracts", "points", "meters", "readings"), counts, strict=True))
