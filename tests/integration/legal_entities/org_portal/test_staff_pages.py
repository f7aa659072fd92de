"""The counterparty card's section «Доступ в личный кабинет организации»: the card includes it, it shows a new
code once and the linked portal users with «Отозвать»; a role without "legal" 'edit' sees the list, no buttons."""

from __future__ import annotations

import re

from tests.integration.billing_core.api_helpers import login_cookie


async def test_the_section_issues_a_code_and_revokes_a_link(legal_client, tenant, member, world):
    legal_client.cookies.clear()
    await login_cookie(legal_client, tenant)
    card = await legal_client.get(f"/legal/counterparties/{world.alfa.id}")
    assert card.status_code == 200
    assert f'hx-get="/legal/counterparties/{world.alfa.id}/org-access"' in card.text
    section = await legal_client.get(f"/legal/counterparties/{world.alfa.id}/org-access")
    assert section.status_code == 200 and "Бухгалтер Альфы" in section.text and "Отозвать" in section.text
    issued = await legal_client.post(f"/legal/counterparties/{world.alfa.id}/org-access/code")
    assert issued.status_code == 200 and issued.headers["cache-control"] == "no-store"
    assert re.search(r"Код доступа: <strong[^>]*>[A-Z2-9]{5}-[A-Z2-9]{5}</strong>", issued.text)
    again = await legal_client.get(f"/legal/counterparties/{world.alfa.id}/org-access")
    assert 'id="org-access-code"' not in again.text and 'id="org-access-invite"' in again.text
    link_id = re.search(r'id="org-link-(\d+)"', again.text).group(1)
    revoked = await legal_client.post(f"/legal/counterparties/{world.alfa.id}/org-access/{link_id}/revoke")
    assert revoked.status_code == 200 and "Доступ отозван" in revoked.text
    twice = await legal_client.post(f"/legal/counterparties/{world.alfa.id}/org-access/{link_id}/revoke")
    assert twice.status_code == 200 and "Доступ уже отозван" in twice.text
    legal_client.cookies.clear()
    assert (await legal_client.get(f"/my/org/{world.alfa.id}", headers=member.headers)).status_code == 404


async def test_a_missing_counterparty_is_404(legal_client, tenant):
    legal_client.cookies.clear()
    await login_cookie(legal_client, tenant)
    for method, path in (("get", "/legal/counterparties/2000000000/org-access"),
                         ("post", "/legal/counterparties/2000000000/org-access/code"),
                         ("post", "/legal/counterparties/2000000000/org-access/1/revoke")):
        r = await getattr(legal_client, method)(path)
        assert r.status_code == 404, (path, r.status_code)
    legal_client.cookies.clear()
