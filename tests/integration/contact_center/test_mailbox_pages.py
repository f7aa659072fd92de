"""The mailboxes page: add, edit, disable and enable an IMAP mailbox through the forms (admin's cookie
session); the password is sealed like the AMI secret, never shown back, kept when the field is left empty."""

from __future__ import annotations

from sqlalchemy import text

from aquabill.platform.secret_box import SecretBox
from tests.integration.billing_core.api_helpers import as_role, login_cookie


async def _box(tx, name: str) -> dict:
    async with tx() as conn:
        row = (await conn.execute(text("SELECT * FROM mailboxes WHERE name = :n"), {"n": name})).first()
    return dict(row._mapping)


async def test_mailboxes_page_forms(client, cc_tenant, tx, core, api):
    box = SecretBox(core.settings.secret_key)
    await login_cookie(client, cc_tenant)
    r = await client.get("/appeals/mailboxes")
    assert r.status_code == 200 and 'id="mailbox-new"' in r.text

    r = await client.post("/appeals/mailboxes", data={"name": "Приёмная", "host": "imap.example.ru", "port": "993",
                                                      "use_ssl": "1", "username": "priem", "password": "Imap-Secret-1",
                                                      "folder": "INBOX", "kind": "complaint", "enabled": "1"},
                          follow_redirects=False)
    assert r.status_code == 303, r.text
    row = await _box(tx, "Приёмная")
    assert row["enabled"] and row["use_ssl"] and row["port"] == 993 and row["username"] == "priem"
    assert row["secret"] != "Imap-Secret-1" and box.open(row["secret"]) == "Imap-Secret-1"
    page = (await client.get("/appeals/mailboxes")).text
    assert "Приёмная" in page and "Imap-Secret-1" not in page and row["secret"] not in page
    listed = await api.ok("get", "/api/mailboxes")
    assert listed["items"][0]["has_password"] is True and "secret" not in listed["items"][0]

    # refused: a bad port, an empty host; nothing written, the password not echoed
    r = await client.post("/appeals/mailboxes", data={"name": "Второй", "host": "imap.example.ru", "port": "x",
                                                      "username": "u", "password": "Other-Secret-2"})
    assert r.status_code == 200 and "Порт" in r.text and "Other-Secret-2" not in r.text
    r = await client.post("/appeals/mailboxes", data={"name": "Второй", "host": "", "port": "993", "username": "u"})
    assert r.status_code == 200 and "Проверьте поле «сервер»" in r.text
    assert len((await api.ok("get", "/api/mailboxes"))["items"]) == 1

    # edit without a password: the sealed one stays; another folder starts the UIDs over
    async with tx() as conn:
        await conn.execute(text("UPDATE mailboxes SET last_uid = 40, uid_validity = 7 WHERE id = :i"), {"i": row["id"]})
    url = f"/appeals/mailboxes/{row['id']}"
    r = await client.post(url, data={"action": "save", "name": "Приёмная", "host": "imap.example.ru", "port": "993",
                                     "use_ssl": "1", "username": "priem", "password": "", "folder": "Входящие",
                                     "enabled": "1"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    edited = await _box(tx, "Приёмная")
    assert edited["secret"] == row["secret"] and edited["folder"] == "Входящие"
    assert (edited["last_uid"], edited["uid_validity"]) == (0, None)
    r = await client.post(url, data={"action": "save", "name": "Приёмная", "host": "imap.example.ru", "port": "993",
                                     "username": "priem", "password": "New-Secret-3", "folder": "Входящие",
                                     "enabled": "1"}, follow_redirects=False)
    assert r.status_code == 303
    assert box.open((await _box(tx, "Приёмная"))["secret"]) == "New-Secret-3"
    assert (await _box(tx, "Приёмная"))["use_ssl"] is False  # the box was unticked

    assert (await client.post(url, data={"action": "disable"}, follow_redirects=False)).status_code == 303
    assert (await _box(tx, "Приёмная"))["enabled"] is False
    assert "Включить" in (await client.get("/appeals/mailboxes")).text
    assert (await client.post(url, data={"action": "enable"}, follow_redirects=False)).status_code == 303
    assert (await _box(tx, "Приёмная"))["enabled"] is True
    assert (await client.post("/appeals/mailboxes/999999", data={"action": "disable"})).status_code == 404

    history = await api.ok("get", f"/api/audit/mailboxes/{row['id']}")
    assert "New-Secret-3" not in str(history)

    operator = await as_role(client, cc_tenant, "operator")
    assert (await operator.get("/appeals/mailboxes")).status_code == 403
