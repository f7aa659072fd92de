"""Isolation: a portal user sees only the organisations linked to it — every `/my/org/{id}/…` route with another
organisation's id (or another organisation's document or meter under its own id) is a 404; staff routes refuse a
portal session; a portal route without a session sends to the login page."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from aquabill.platform.web.legal_entities import org_access_api, org_access_pages
from aquabill.platform.web.portal import org_routes


def _org_gets(cp: int, doc: int) -> list[str]:
    return [f"/my/org/{cp}", f"/my/org/{cp}/documents", f"/my/org/{cp}/documents/{doc}.xml",
            f"/my/org/{cp}/documents/{doc}.pdf", f"/my/org/{cp}/meters", f"/my/org/{cp}/reconciliation"]


def test_every_route_is_covered():
    """The lists below name every route of the organisation portal and of its staff part."""
    portal_paths = {p for h in org_routes.ROUTES for p in h.paths}
    staff_paths = {p for h in [*org_access_api.ROUTES, *org_access_pages.ROUTES] for p in h.paths}
    assert len(portal_paths) == 7 and len(staff_paths) == 6


async def test_another_organisations_ids_are_404(legal_client, member, world, tx):
    alfa, beta = world.alfa, world.beta
    async with tx() as conn:
        beta_doc = (await conn.execute(text(
            "INSERT INTO legal_documents(kind, number, issued_on, contract_id, counterparty_id, amount_net, vat, "
            "amount, file_name, xml) VALUES ('act', 'Б-1', DATE '2026-01-31', :c, :cp, 10, 0, 10, 'b.xml', 'x') "
            "RETURNING id"), {"c": beta.contract_id, "cp": beta.id})).scalar_one()
    refused = []
    for path in [*_org_gets(beta.id, beta_doc), *_org_gets(2_000_000_000, alfa.upd_id),
                 f"/my/org/{alfa.id}/documents/{beta_doc}.xml", f"/my/org/{alfa.id}/documents/{beta_doc}.pdf",
                 f"/my/org/{alfa.id}/reconciliation?contract={beta.contract_id}",
                 *(f"/my/org/{alfa.id}/documents/{name}" for name in (
                     "99999999999.xml", "0.xml", f"{alfa.upd_id}.exe", f"{alfa.upd_id}", "x.pdf", "-1.xml"))]:
        r = await legal_client.get(path, headers=member.headers)
        refused.append((path, r.status_code))
    assert all(status == 404 for _, status in refused), refused
    for cp, meter in ((beta.id, beta.meter_id), (alfa.id, beta.meter_id)):
        r = await legal_client.post(f"/my/org/{cp}/meters", data={"meter_id": str(meter), "value": "200"},
                                    headers=member.headers)
        assert r.status_code == 404, (cp, meter, r.text)
    async with tx() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM readings WHERE meter_id = :m"),
                                   {"m": beta.meter_id})).scalar_one() == 0


@pytest.mark.parametrize("method, path", [
    ("get", "/api/legal/counterparties/{cp}/org-access"), ("post", "/api/legal/counterparties/{cp}/org-access/code"),
    ("post", "/api/legal/counterparties/{cp}/org-access/1/revoke"), ("get", "/legal/counterparties/{cp}/org-access"),
    ("post", "/legal/counterparties/{cp}/org-access/code"), ("post", "/legal/counterparties/{cp}/org-access/1/revoke"),
    ("get", "/legal/counterparties/{cp}")])
async def test_staff_routes_refuse_a_portal_session(legal_client, member, world, tx, method, path):
    r = await getattr(legal_client, method)(path.format(cp=world.alfa.id), headers=member.headers,
                                            follow_redirects=False)
    assert r.status_code in (302, 303, 401, 403), r.status_code
    async with tx() as conn:
        issued = (await conn.execute(text(
            "SELECT count(*) FROM org_portal_invites WHERE counterparty_id = :c AND created_by IS NULL"),
            {"c": world.alfa.id})).scalar_one()
    assert issued == 0


async def test_without_a_session_to_the_login_page(legal_client, tenant, world):
    host = {"Host": f"{tenant.tenant.slug}.localhost"}
    legal_client.cookies.clear()
    for path in ["/my/org", "/my/org/link", *_org_gets(world.alfa.id, world.alfa.upd_id)]:
        r = await legal_client.get(path, headers=host, follow_redirects=False)
        assert (r.status_code, r.headers.get("location", "").startswith("/my/login")) == (302, True), path


async def test_odd_input_is_a_clear_refusal_never_a_5xx(legal_client, member, world, api):
    alfa = world.alfa
    cases = [
        ("post", "/my/org/link", {"inn": "9" * 40, "code": "Ж" * 40}, 422),
        ("post", "/my/org/link", {"inn": "", "code": ""}, 422),
        ("post", f"/my/org/{alfa.id}/meters", {"meter_id": "abc", "value": "1"}, 422),
        ("post", f"/my/org/{alfa.id}/meters", {"meter_id": "99999999999", "value": "1"}, 422),
        ("post", f"/my/org/{alfa.id}/meters", {"meter_id": str(alfa.meter_id), "value": ""}, 422),
        ("post", f"/my/org/{alfa.id}/meters", {"meter_id": str(alfa.meter_id), "value": "1e999"}, 422),
        ("get", f"/my/org/{alfa.id}/reconciliation?contract=0", None, 404),
        ("get", f"/my/org/{alfa.id}/reconciliation?contract=-1", None, 400),
        ("get", f"/my/org/{alfa.id}/reconciliation?from=2026-1-1x", None, 422),
        ("get", f"/my/org/{alfa.id}/documents?offset=-1", None, 400),
        ("get", f"/my/org/{alfa.id}/documents/{'9' * 40}.xml", None, 404),
        ("get", "/my/org/99999999999", None, 422),  # the app bounds path ids (check_path_ids)
    ]
    got = []
    for method, path, data, _ in cases:
        kw = {"data": data} if data is not None else {}
        r = await getattr(legal_client, method)(path, headers=member.headers, **kw)
        got.append((path, r.status_code))
    assert got == [(path, status) for _, path, _, status in cases]
    for path, status in ((f"/api/legal/counterparties/{alfa.id}/org-access/2000000000/revoke", 404),
                         ("/api/legal/counterparties/99999999999/org-access/code", 422)):
        assert (await api.post(path)).status_code == status, path
