"""Staff issue an organisation a one-time code (shown once, 14 days, stored as its SHA-256, a new one voids the
unused ones); a portal user links the organisation with its INN and the code; a wrong INN, a wrong code, a used
one: the same answer; attempts limited like the personal accounts' links; a code typed by two people at once
links one of them; staff see and revoke links, audited."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

from sqlalchemy import text

from aquabill.base.errors import Invalid
from aquabill.legal_entities import portal
from aquabill.legal_entities.portal import ORG_LINK_REFUSAL
from aquabill.tenants.context import tenant_transaction
from tests.portal_support import portal_user


async def _code(api, counterparty_id: int) -> dict:
    r = await api.post(f"/api/legal/counterparties/{counterparty_id}/org-access/code")
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    return r.json()


async def test_a_code_is_shown_once_stored_hashed_and_a_new_one_voids_the_old(api, tx, world):
    first = await _code(api, world.beta.id)
    second = await _code(api, world.beta.id)
    for issued in (first, second):
        code = issued["code"]
        assert len(code) == 11 and code[5] == "-" and code.replace("-", "").isalnum()
    async with tx() as conn:
        rows = (await conn.execute(text(
            "SELECT code_sha256, expires_at - created_at AS valid, expires_at > now() AS live, used_at "
            "FROM org_portal_invites WHERE counterparty_id = :c ORDER BY id"), {"c": world.beta.id})).all()
        audited = (await conn.execute(text(
            "SELECT count(*) FROM audit_log WHERE table_name = 'org_portal_invites' AND user_id IS NOT NULL "
            "AND row_id = ANY(:ids)"), {"ids": [str(first["id"]), str(second["id"])]})).scalar_one()
    hashes = [hashlib.sha256(x["code"].replace("-", "").encode()).hexdigest() for x in (first, second)]
    assert [r.code_sha256 for r in rows[-2:]] == hashes
    assert [r.live for r in rows[-2:]] == [False, True]
    assert rows[-1].valid == timedelta(days=14)
    assert audited >= 3  # two inserts and the voiding update
    listed = await api.ok("get", f"/api/legal/counterparties/{world.beta.id}/org-access")
    assert listed["invite"]["id"] == second["id"] and "code" not in listed["invite"]


async def test_link_with_inn_and_code_then_the_code_is_spent(api, legal_client, core, tenant, world):
    issued = await _code(api, world.beta.id)
    me = await portal_user(core, tenant.tenant)
    r = await legal_client.post("/my/org/link", data={"inn": f" {world.beta.inn} ", "code": issued["code"].lower()},
                                headers=me.headers)
    assert r.status_code == 200, r.text
    assert "Организация «ООО «Бета»»" in r.text or "ООО «Бета»" in r.text
    assert f'href="/my/org/{world.beta.id}"' in r.text
    again = await legal_client.post("/my/org/link", data={"inn": world.beta.inn, "code": issued["code"]},
                                    headers=me.headers)
    assert again.status_code == 422 and ORG_LINK_REFUSAL in again.text
    listed = await api.ok("get", f"/api/legal/counterparties/{world.beta.id}/org-access")
    assert listed["invite"] is None
    assert [(x["subscriber_id"], x["revoked_at"]) for x in listed["items"] if x["subscriber_id"] == me.subscriber_id] \
        == [(me.subscriber_id, None)]


async def test_a_wrong_inn_or_code_gets_the_same_answer_and_attempts_are_limited(api, legal_client, core, tenant,
                                                                                  world):
    issued = await _code(api, world.alfa.id)
    me = await portal_user(core, tenant.tenant)
    answers = []
    for inn, code in ((world.beta.inn, issued["code"]), (world.alfa.inn, "ABCDE-FGHJK"), ("12345", issued["code"]),
                      ("7707083893", issued["code"]), (world.alfa.inn, "")):
        r = await legal_client.post("/my/org/link", data={"inn": inn, "code": code}, headers=me.headers)
        answers.append((r.status_code, ORG_LINK_REFUSAL in r.text))
    assert answers == [(422, True)] * 5
    r = await legal_client.post("/my/org/link", data={"inn": world.alfa.inn, "code": issued["code"]},
                                headers=me.headers)
    assert r.status_code == 409 and "Слишком много неудачных попыток" in r.text
    async with tenant_transaction(core.engines, tenant.tenant) as conn:  # the right code is still unused
        used = (await conn.execute(text("SELECT used_at FROM org_portal_invites WHERE id = :i"),
                                   {"i": issued["id"]})).scalar_one()
    assert used is None


async def test_one_code_typed_by_two_people_at_once_links_one(api, core, tenant, world):
    issued = await _code(api, world.alfa.id)
    first, second = (await portal_user(core, tenant.tenant), await portal_user(core, tenant.tenant))

    async def link(user):
        async with tenant_transaction(core.engines, tenant.tenant) as conn:
            try:
                return (await portal.link_organisation(conn, user.subscriber_id, world.alfa.inn, issued["code"]))["id"]
            except Invalid as exc:
                return exc.message

    outcomes = await asyncio.gather(link(first), link(second))
    assert sorted(outcomes, key=str) == sorted([world.alfa.id, ORG_LINK_REFUSAL], key=str)
    async with tenant_transaction(core.engines, tenant.tenant) as conn:
        linked = (await conn.execute(text(
            "SELECT count(*) FROM subscriber_counterparties WHERE subscriber_id = ANY(:s)"),
            {"s": [first.subscriber_id, second.subscriber_id]})).scalar_one()
    assert linked == 1


async def test_staff_revoke_a_link_audited_and_the_pages_close(api, legal_client, member, tx, world):
    assert (await legal_client.get(f"/my/org/{world.alfa.id}", headers=member.headers)).status_code == 200
    listed = await api.ok("get", f"/api/legal/counterparties/{world.alfa.id}/org-access")
    [link] = [x for x in listed["items"] if x["subscriber_id"] == member.subscriber_id]
    other = await api.post(f"/api/legal/counterparties/{world.beta.id}/org-access/{link['id']}/revoke")
    assert other.status_code == 404
    revoked = await api.ok("post", f"/api/legal/counterparties/{world.alfa.id}/org-access/{link['id']}/revoke",
                           status=200)
    assert revoked["revoked_at"] is not None and revoked["revoked_by_name"]
    twice = await api.post(f"/api/legal/counterparties/{world.alfa.id}/org-access/{link['id']}/revoke")
    assert twice.status_code == 409
    async with tx() as conn:
        audit = (await conn.execute(text(
            "SELECT action, user_id IS NOT NULL FROM audit_log WHERE table_name = 'subscriber_counterparties' "
            "AND row_id = :r ORDER BY id"), {"r": str(link["id"])})).all()
    assert [tuple(a) for a in audit][-1] == ("update", True)
    assert (await legal_client.get(f"/my/org/{world.alfa.id}", headers=member.headers)).status_code == 404


async def test_two_codes_issued_at_once_leave_one_live(core, tenant, world):
    async def issue():
        async with tenant_transaction(core.engines, tenant.tenant) as conn:
            return await portal.issue_invite(conn, world.beta.id, user_id=None)

    first, second = await asyncio.gather(issue(), issue())
    assert first["code"] != second["code"]
    async with tenant_transaction(core.engines, tenant.tenant) as conn:
        live = (await conn.execute(text(
            "SELECT id FROM org_portal_invites WHERE counterparty_id = :c AND used_at IS NULL AND expires_at > now()"),
            {"c": world.beta.id})).scalars().all()
    assert live == [max(first["id"], second["id"])]
