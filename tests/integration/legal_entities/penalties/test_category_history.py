"""A counterparty's dated 416-FZ category: a debt takes the category in force on its due day (penalties.py,
`category_on`), so a change of the category does not reprice the debts that fell due before it; the change is
written with its day and who made it, refused before the latest change, shown on the card."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from sqlalchemy import text

from aquabill.legal_entities.penalties import accrue
from tests.integration.billing_core.api_helpers import login_cookie
from tests.integration.legal_entities.penalties.penalty_data import document, org_contract, rows

JUNE = date(2026, 6, 1)


async def _changes(tx, counterparty_id: int) -> list[tuple]:
    async with tx() as conn:
        return [tuple(r) for r in await conn.execute(text(
            "SELECT effective_from, previous, category, created_by IS NOT NULL FROM counterparty_category_changes "
            "WHERE counterparty_id = :c ORDER BY effective_from"), {"c": counterparty_id})]


async def test_debts_due_before_the_change_keep_the_category_of_their_time(api, tx):
    k = await org_contract(api, tx, "other")
    march = await document(tx, k, "13000.00", date(2026, 3, 10))
    may = await document(tx, k, "30000.00", date(2026, 5, 10))
    url = f"/api/legal/counterparties/{k['counterparty_id']}"
    changed = await api.ok("patch", url, {"penalty_category": "management_company", "category_from": "2026-04-01",
                                          "category_note": "Лицензия на управление МКД"})
    assert changed["penalty_category"] == "management_company"
    assert [(c["effective_from"], c["previous"], c["category"], c["note"]) for c in changed["category_changes"]] == [
        ("2026-04-01", "other", "management_company", "Лицензия на управление МКД")]
    assert await _changes(tx, k["counterparty_id"]) == [(date(2026, 4, 1), "other", "management_company", True)]
    async with tx() as conn:  # in the audit log with its user, as the other tables of the tenant
        logged = (await conn.execute(text(
            "SELECT action, user_id IS NOT NULL FROM audit_log WHERE table_name = 'counterparty_category_changes' "
            "AND new_row->>'counterparty_id' = :c"), {"c": str(k["counterparty_id"])})).all()
    assert [tuple(r) for r in logged] == [("insert", True)]

    async with tx() as conn:
        result = await accrue(conn, JUNE, on=date(2026, 6, 10), contract_id=k["id"])
    # key rate 9.5 % (Decree 474 in the wording of Decree 329: fixed in 2026);
    # March (due 10.03, then 'other', ч. 6.2 — 1/130 from day 1): 11.03–09.06 = 91 days,
    #   13 000 × 9.5 % × 91 / 130 = 864.50 (as 'management_company' it would be 1235 × (60/300 + 30/170 + 1/130)
    #   = 474.44);
    # May (due 10.05, 'management_company' since 01.04, ч. 6.4 — 1/300 to day 60): 11.05–09.06 = 30 days,
    #   30 000 × 9.5 % × 30 / 300 = 285.00 (as 'other': 657.69)
    assert (result["documents"], result["amount"]) == (2, "1149.50")
    assert [(r[0], r[3], r[4], r[5]) for r in await rows(tx, k["id"])] == [
        (march, "other", 91, Decimal("864.50")), (may, "management_company", 30, Decimal("285.00"))]
    card = await api.ok("get", f"/api/legal/contracts/{k['id']}/penalties")
    assert {x["document_id"]: x["details"][0]["fraction"] for x in card["items"]} == {march: "1/130", may: "1/300"}
    month = await api.ok("get", "/api/legal/penalties?period=2026-06")
    line = next(i for i in month["items"] if i["contract_id"] == k["id"])
    assert (line["category"], line["category_name"]) == ("management_company", "Управляющая организация / Прочие")
    assert line["categories"] == ["management_company", "other"]
    assert month["by_category"]["other"] == "864.50" and month["by_category"]["management_company"] == "285.00"


async def test_a_change_is_dated_forwards_and_the_same_category_is_no_change(api, tx):
    k = await org_contract(api, tx, "other")
    url = f"/api/legal/counterparties/{k['counterparty_id']}"
    await api.ok("patch", url, {"penalty_category": "management_company", "category_from": "2026-04-01"})
    # before the latest change: refused, nothing written
    r = await api.patch(url, {"penalty_category": "hoa", "category_from": "2026-03-31"})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["fields"][0]["field"] == "category_from"
    assert "раньше последнего изменения категории (с 01.04.2026)" in error["message"]
    # more than a year ahead: refused
    r = await api.patch(url, {"penalty_category": "hoa", "category_from": "2099-01-01"})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "category_from"
    assert (await api.ok("get", url))["penalty_category"] == "management_company"
    # the same category (with or without a day) is no change; other fields change as before
    same = await api.ok("patch", url, {"penalty_category": "management_company", "category_from": "2026-05-01",
                                       "note": "без изменения категории"})
    assert (same["note"], len(same["category_changes"])) == ("без изменения категории", 1)
    # a change on the latest change's own day corrects it; back to its previous category removes it
    await api.ok("patch", url, {"penalty_category": "hoa", "category_from": "2026-04-01"})
    assert await _changes(tx, k["counterparty_id"]) == [(date(2026, 4, 1), "other", "hoa", True)]
    await api.ok("patch", url, {"penalty_category": "other", "category_from": "2026-04-01"})
    assert await _changes(tx, k["counterparty_id"]) == []
    # without a day: from today; the list is the newest first
    await api.ok("patch", url, {"penalty_category": "hoa", "category_from": "2026-02-01"})
    latest = await api.ok("patch", url, {"penalty_category": "management_company"})
    assert [(c["effective_from"], c["previous"], c["category"]) for c in latest["category_changes"]] == [
        (date.today().isoformat(), "hoa", "management_company"), ("2026-02-01", "other", "hoa")]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_the_card_shows_the_history_and_its_form_takes_the_day(legal_client, tenant, api, tx):
    k = await org_contract(api, tx, "other")
    cp = k["counterparty_id"]
    current = await api.ok("get", f"/api/legal/counterparties/{cp}")
    assert current["category_changes"] == []
    await login_cookie(legal_client, tenant)
    url = f"/legal/counterparties/{cp}"
    form = {k: current[k] for k in ("kind", "name", "inn", "kpp", "ogrn")} | {
        "penalty_category": "management_company", "category_from": "2026-03-01",
        "category_note": "Лицензия № 77-001", "active": "on"}
    r = await legal_client.post(url, data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    card = _text((await legal_client.get(url)).text)
    assert "Управляющая организация с 01.03.2026 (до этого — Прочие)" in card
    assert "Прочие → Управляющая организация" in card and "Лицензия № 77-001" in card
    assert "Категория действует с" in card
    # a day before it, through the form: refused beside the form, the typed values kept
    r = await legal_client.post(url, data={**form, "penalty_category": "hoa", "category_from": "28.02.2026"},
                                follow_redirects=False)
    assert r.status_code == 422 and "раньше последнего изменения категории" in r.text
    assert 'value="28.02.2026"' in r.text
    assert [c[:3] for c in await _changes(tx, cp)] == [(date(2026, 3, 1), "other", "management_company")]
