"""Login, sessions, lockout, logout, permissions — against the real app, PostgreSQL and Redis."""

from aquabill.platform.web.context import SESSION_COOKIE
from tests.conftest import ADMIN_PASSWORD


async def login(client, slug, login="admin", password=ADMIN_PASSWORD):
    return await client.post("/api/auth/login", json={"tenant": slug, "login": login, "password": password})


async def test_wrong_password_and_unknown_tenant_look_the_same(client, make_tenant):
    t = await make_tenant()
    bad_pw = await login(client, t.tenant.slug, password="nope-nope")
    no_tenant = await login(client, "no-such-tenant", password="nope-nope")
    no_user = await login(client, t.tenant.slug, login="ghost", password="nope-nope")
    for r in (bad_pw, no_tenant, no_user):
        assert r.status_code == 401
        assert r.json()["error"] == {"code": "invalid_credentials", "message": "Неверный логин или пароль",
                                     "fields": []}


async def test_lockout_after_repeated_failures(client, make_tenant, settings):
    t = await make_tenant()
    for _ in range(settings.lockout_attempts - 1):
        assert (await login(client, t.tenant.slug, password="wrong-password")).json()["error"]["code"] == \
            "invalid_credentials"
    r = await login(client, t.tenant.slug, password="wrong-password")
    assert r.status_code == 401 and r.json()["error"]["code"] == "account_locked"
    # even the right password is refused while locked
    r = await login(client, t.tenant.slug)
    assert r.status_code == 401 and r.json()["error"]["code"] == "account_locked"
    assert "заблокирована" in r.json()["error"]["message"]


async def test_admin_password_reset_unlocks(client, make_tenant, settings):
    t = await make_tenant()
    created = await client.post("/api/users", headers=t.headers, json={
        "login": "operator1", "password": "operator-pass", "full_name": "Оператор Первый", "roles": ["operator"]})
    assert created.status_code == 201, created.text
    for _ in range(settings.lockout_attempts):
        await login(client, t.tenant.slug, "operator1", "bad-password")
    assert (await login(client, t.tenant.slug, "operator1", "operator-pass")).json()["error"]["code"] == "account_locked"
    r = await client.patch(f"/api/users/{created.json()['id']}", headers=t.headers, json={"password": "new-operator-pass"})
    assert r.status_code == 200
    assert (await login(client, t.tenant.slug, "operator1", "new-operator-pass")).status_code == 200


async def test_logout_revokes_token(client, make_tenant):
    t = await make_tenant()
    token = (await login(client, t.tenant.slug)).json()["token"]
    h = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/auth/me", headers=h)).status_code == 200
    assert (await client.post("/api/auth/logout", headers=h)).status_code == 200
    r = await client.get("/api/auth/me", headers=h)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "not_authenticated"


async def test_inactive_user_cannot_use_existing_token(client, make_tenant):
    t = await make_tenant()
    r = await client.post("/api/users", headers=t.headers, json={"login": "temp", "password": "temp-password",
                                                                 "roles": ["viewer"]})
    token = (await login(client, t.tenant.slug, "temp", "temp-password")).json()["token"]
    await client.patch(f"/api/users/{r.json()['id']}", headers=t.headers, json={"is_active": False})
    assert (await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401


async def test_permission_denied_for_viewer_edit(client, make_tenant):
    t = await make_tenant()
    await client.post("/api/users", headers=t.headers, json={"login": "viewer", "password": "viewer-pass",
                                                             "roles": ["viewer"]})
    token = (await login(client, t.tenant.slug, "viewer", "viewer-pass")).json()["token"]
    h = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/users", headers=h)).status_code == 200  # * view
    r = await client.post("/api/users", headers=h, json={"login": "x2", "password": "xxxxxxxx"})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    assert "Недостаточно прав" in r.json()["error"]["message"]
    # operator role has no access to users at all
    await client.post("/api/users", headers=t.headers, json={"login": "op", "password": "op-password",
                                                             "roles": ["operator"]})
    token = (await login(client, t.tenant.slug, "op", "op-password")).json()["token"]
    assert (await client.get("/api/users", headers={"Authorization": f"Bearer {token}"})).status_code == 403
    assert (await client.get("/api/accounts", headers={"Authorization": f"Bearer {token}"})).status_code == 200


async def test_page_login_sets_http_only_cookie_and_home_renders(client, make_tenant):
    t = await make_tenant(name="МУП «Тестовый водоканал»")
    page = await client.get("/login")
    assert page.status_code == 200 and "Код организации" in page.text
    r = await client.post("/login", data={"tenant": t.tenant.slug, "login": "admin", "password": ADMIN_PASSWORD,
                                          "next": "/"}, follow_redirects=False)
    assert r.status_code == 302
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(SESSION_COOKIE + "=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    token = r.cookies[SESSION_COOKIE]
    home = await client.get("/", cookies={SESSION_COOKIE: token})
    assert home.status_code == 200
    assert "МУП «Тестовый водоканал»" in home.text and "Фоновые задания" in home.text
    # the same cookie on another tenant's host is not accepted: back to the login page
    other = await make_tenant()
    r = await client.get("/", cookies={SESSION_COOKIE: token},
                         headers={"Host": f"{other.tenant.slug}.localhost"}, follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"].startswith("/login")
    r = await client.get("/", cookies={SESSION_COOKIE: token},
                         headers={"Host": f"{t.tenant.slug}.localhost"})
    assert r.status_code == 200


async def test_page_login_error_is_russian(client, make_tenant):
    t = await make_tenant()
    r = await client.post("/login", data={"tenant": t.tenant.slug, "login": "admin", "password": "bad"})
    assert r.status_code == 401
    assert "Неверный логин или пароль" in r.text


async def test_host_tenant_login_page_hides_tenant_field(client, make_tenant):
    t = await make_tenant(name="Водоканал Хост")
    r = await client.get("/login", headers={"Host": f"{t.tenant.slug}.localhost"})
    assert "Водоканал Хост" in r.text and "Код организации" not in r.text
    r = await client.post("/login", headers={"Host": f"{t.tenant.slug}.localhost"}, follow_redirects=False,
                          data={"login": "admin", "password": ADMIN_PASSWORD, "next": "//evil.example"})
    assert r.status_code == 302 and r.headers["location"] == "/"
    for evil in ("/\\evil.example", "https://evil.example", "/ok\r\nSet-Cookie: x=1"):
        r = await client.post("/login", headers={"Host": f"{t.tenant.slug}.localhost"}, follow_redirects=False,
                              data={"login": "admin", "password": ADMIN_PASSWORD, "next": evil})
        assert r.headers["location"] == "/"
    r = await client.post("/login", headers={"Host": f"{t.tenant.slug}.localhost"}, follow_redirects=False,
                          data={"login": "admin", "password": ADMIN_PASSWORD, "next": "/accounts?q=1"})
    assert r.headers["location"] == "/accounts?q=1"


async def test_unauthenticated_api_gets_json_401_and_pages_redirect(client):
    r = await client.get("/api/users")
    assert r.status_code == 401 and r.json()["error"]["code"] == "not_authenticated"
    r = await client.get("/accounts", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"].startswith("/login")


async def test_custom_role_grants_exactly_its_permissions(client, make_tenant):
    t = await make_tenant()
    r = await client.post("/api/roles", headers=t.headers, json={
        "code": "clerk", "name": "Делопроизводитель", "permissions": ["accounts:view", "jobs:view"]})
    assert r.status_code == 201, r.text
    role = r.json()
    assert role["permissions"] == ["accounts:view", "jobs:view"]
    bad = await client.post("/api/roles", headers=t.headers, json={"code": "bad", "name": "x",
                                                                   "permissions": ["accounts:destroy"]})
    assert bad.status_code == 422 and "accounts:destroy" in bad.json()["error"]["message"]
    await client.post("/api/users", headers=t.headers, json={"login": "cash", "password": "cash-password",
                                                             "roles": ["clerk"]})
    token = (await login(client, t.tenant.slug, "cash", "cash-password")).json()["token"]
    h = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/accounts", headers=h)).status_code == 200
    assert (await client.get("/api/audit", headers=h)).status_code == 403
    # widening the role takes effect on the next request, and the change is audited
    r = await client.patch(f"/api/roles/{role['id']}", headers=t.headers,
                           json={"permissions": ["accounts:view", "audit:view"]})
    assert r.json()["permissions"] == ["accounts:view", "audit:view"]
    assert (await client.get("/api/audit", headers=h)).status_code == 200
    assert (await client.get("/api/jobs", headers=h)).status_code == 403
    changes = (await client.get("/api/audit?table=role_permissions", headers=t.headers)).json()["items"]
    assert {(e["action"], (e["new"] or e["old"])["resource"]) for e in changes[:2]} == {
        ("insert", "audit"), ("delete", "jobs")}
