async def test_health(client):
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    r = await client.get("/health/ready")
    assert r.status_code == 200
    assert r.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_openapi_schema_is_served(client):
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    assert "/api/accounts" in r.json()["paths"]


async def test_login_and_me(client, make_tenant):
    t = await make_tenant()
    r = await client.get("/api/auth/me", headers=t.headers)
    assert r.status_code == 200
    assert r.json()["tenant"]["slug"] == t.tenant.slug
    assert "*:admin" in r.json()["permissions"]
