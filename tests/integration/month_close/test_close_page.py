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
