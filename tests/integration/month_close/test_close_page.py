"""The month-close page: renders the month, divisions, checks and history; the form runs the checks (the close
button is disabled while a blocking check fails), refuses with the checks' message, and closes the month."""

from __future__ import annotations

import re

from tests.integration.billing_core.api_helpers import as_role, login_cookie
from tests.integration.month_close.test_month_close import MARCH, api, bill, divisions, sql, town, tx  # noqa: F401


def close_button(html: str) -> str:
    return re.search(r'<button type="submit" name="action" value="close"[^>]*>', html).group(0)


async def test_page_checks_and_closes(client, town, api, tx):  # noqa: F811
    north, _ = await divisions(api)
    await bill(api, MARCH, 1, 2, 3)
    await login_cookie(client, town)
    home = await client.get("/")
    assert 'href="/billing/close"' in home.text
    page = await client.get(f"/billing/close?period={MARCH}")
    assert page.status_code == 200, page.text
    for expected in ("Закрытие месяца", "Период 2024-03", "Открыт", "Северный участок", "Южный участок",
                     "Лицевые счета без начислений за период", "Невыясненные платежи старше N дней",
                     "Проверки за этот период ещё не выполнялись", "Закрытий ещё не было",
                     '<option value="2024-03" selected>2024-03</option>', "2024-02 (закрыт)"):
        assert expected in page.text, expected
    assert "disabled" in close_button(page.text)  # no checks run yet

    checked = await client.post("/billing/close", data={"period": MARCH, "division_id": "", "action": "check"})
    assert checked.status_code == 200
    assert "Проверки выполнены: есть блокирующие замечания." in checked.text
    assert "л/с ЛС4" in checked.text and "блокирует" in checked.text
    assert "disabled" in close_button(checked.text)
    refused = await client.post("/billing/close", data={"period": MARCH, "action": "close"})
    assert refused.status_code == 200 and "Период нельзя закрыть: не пройдены обязательные проверки." in refused.text
    assert (await sql(tx, "SELECT status FROM periods WHERE period = DATE '2024-03-01'"))[0].status == "open"

    # a division's page: its own checks pass
    north_page = await client.post("/billing/close", data={"period": MARCH, "division_id": str(north),
                                                           "action": "check"})
    assert "Проверки выполнены: замечаний нет." in north_page.text
    assert "disabled" not in close_button(north_page.text)

    await bill(api, MARCH, 4)
    ok = await client.post("/billing/close", data={"period": MARCH, "action": "check"})
    assert "disabled" not in close_button(ok.text)
    done = await client.post("/billing/close", data={"period": MARCH, "action": "close"})
    assert done.status_code == 200
    assert "Период 2024-03 закрыт. Открыт период 2024-04." in done.text, done.text
    assert "Закрыт</span>" in done.text and 'value="close"' not in done.text  # nothing left to close
    assert re.search(r"<td>2024-03</td><td>Вся организация</td>\s*<td>Закрытие</td>", done.text)
    assert (await sql(tx, "SELECT status FROM periods WHERE period = DATE '2024-03-01'"))[0].status == "closed"
    bad = await client.post("/billing/close", data={"period": "2024-13", "action": "check"})
    assert bad.status_code == 200 and "Недопустимый расчётный период: 2024-13" in bad.text


async def test_page_permissions(client, town):  # noqa: F811
    viewer = await as_role(client, town, "viewer")
    page = await client.get("/billing/close", headers=viewer.headers)
    assert page.status_code == 200 and "Набор проверок" in page.text and "Выполнить проверки" not in page.text
    r = await client.post("/billing/close", headers=viewer.headers, data={"period": MARCH, "action": "close"})
    assert r.status_code == 403
    operator = await as_role(client, town, "operator")
    page = await client.get("/billing/close", headers=operator.headers)
    assert page.status_code == 200 and "Выполнить проверки" in page.text


async def test_page_reopens_a_month_and_configures_the_checks(client, town, api, tx):  # noqa: F811
    await divisions(api)
    await bill(api, MARCH, 1, 2, 3, 4)
    await login_cookie(client, town)
    await client.post("/billing/close", data={"period": MARCH, "action": "check"})
    done = await client.post("/billing/close", data={"period": MARCH, "action": "close"})
    assert "Период 2024-03 закрыт." in done.text and 'id="reopen-form"' in done.text

    r = await client.post("/billing/close/reopen", data={"period": MARCH, "reason": "  "})
    assert r.status_code == 200 and "Укажите причину открытия периода" in r.text
    r = await client.post("/billing/close/reopen", data={"period": "2024-02", "reason": "ошибка"})
    assert r.status_code == 200 and "Сначала откройте период 2024-03" in r.text
    r = await client.post("/billing/close/reopen", data={"period": MARCH, "reason": "Ошибка в показаниях"})
    assert r.status_code == 200 and "Период 2024-03 открыт." in r.text, r.text
    assert (await sql(tx, "SELECT status FROM periods WHERE period = DATE '2024-03-01'"))[0].status == "open"
    assert re.search(r"<td>2024-03</td><td>Вся организация</td>\s*<td>Открытие</td><td>[^<]*</td>\s*"
                     r"<td>Ошибка в показаниях</td>", r.text)
    assert 'id="reopen-form"' not in r.text

    # the checks: «unbilled accounts» off and a warning, old unidentified payments after 7 days
    form = {"period": MARCH, "kind_unbilled_accounts": "warn", "kind_old_unidentified_payments": "block",
            "enabled_old_unidentified_payments": "1", "parameter_old_unidentified_payments": "7"}
    r = await client.post("/billing/close/checks", data=form)
    assert r.status_code == 200 and "Набор проверок сохранён." in r.text
    checks = {c["code"]: c for c in (await api.ok("get", "/api/month-close/checks"))["items"]}
    assert (checks["unbilled_accounts"]["enabled"], checks["unbilled_accounts"]["blocking"]) == (False, False)
    old = checks["old_unidentified_payments"]
    assert (old["enabled"], old["blocking"], old["parameter"]) == (True, True, 7)
    assert checks["unfinished_runs"]["enabled"] is True  # not in the form: unchanged
    assert 'name="parameter_old_unidentified_payments" size="4" value="7"' in r.text

    r = await client.post("/billing/close/checks", data={**form, "parameter_old_unidentified_payments": "семь"})
    assert r.status_code == 200 and "параметр — целое неотрицательное число" in r.text
    assert (await api.ok("get", "/api/month-close/checks"))["items"] == list(checks.values())
    r = await client.post("/billing/close/checks", data={**form, "parameter_old_unidentified_payments": ""})
    checks = {c["code"]: c for c in (await api.ok("get", "/api/month-close/checks"))["items"]}
    assert checks["old_unidentified_payments"]["parameter"] is None

    operator = await as_role(client, town, "operator")
    page = await client.get("/billing/close", headers=operator.headers)
    assert "Сохранить набор проверок" not in page.text and "enabled_unbilled_accounts" not in page.text
    assert (await client.post("/billing/close/checks", headers=operator.headers, data=form)).status_code == 403
    r = await client.post("/billing/close/reopen", headers=operator.headers, data={"period": MARCH, "reason": "x"})
    assert r.status_code == 403
