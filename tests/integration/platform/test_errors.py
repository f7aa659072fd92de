"""The uniform JSON error body; validation errors are 400/422, never 500."""


async def test_validation_error_body(client, make_tenant):
    t = await make_tenant()
    r = await client.post("/api/users", headers=t.headers, json={"login": "", "password": "x"})
    assert r.status_code == 400
    body = r.json()["error"]
    assert body["code"] == "validation_error" and body["message"] == "Неверные данные запроса"
    assert body["fields"] and body["fields"][0]["field"] == "login"


async def test_malformed_json_is_400(client, make_tenant):
    t = await make_tenant()
    r = await client.post("/api/users", headers={**t.headers, "Content-Type": "application/json"}, content=b"{nope")
    assert r.status_code == 400 and r.json()["error"]["code"] in ("validation_error", "bad_request")


async def test_short_password_is_422_with_field(client, make_tenant):
    t = await make_tenant()
    r = await client.post("/api/users", headers=t.headers, json={"login": "shorty", "password": "123"})
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["field"] == "password"
    assert "не менее 8" in r.json()["error"]["message"]


async def test_duplicate_login_is_409(client, make_tenant):
    t = await make_tenant()
    body = {"login": "dup", "password": "dup-password"}
    assert (await client.post("/api/users", headers=t.headers, json=body)).status_code == 201
    r = await client.post("/api/users", headers=t.headers, json={**body, "login": "DUP"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"


async def test_unknown_role_is_422(client, make_tenant):
    t = await make_tenant()
    r = await client.post("/api/users", headers=t.headers, json={"login": "r1", "password": "password1",
                                                                 "roles": ["superuser"]})
    assert r.status_code == 422 and "superuser" in r.json()["error"]["message"]


async def test_not_found_and_bad_path_params(client, make_tenant):
    t = await make_tenant()
    r = await client.get("/api/users/999999", headers=t.headers)
    assert r.status_code == 404 and r.json()["error"] == {"code": "not_found", "message": "Пользователь не найден",
                                                          "fields": []}
    assert (await client.get("/api/users/abc", headers=t.headers)).status_code == 404
    assert (await client.get("/api/jobs/not-a-uuid", headers=t.headers)).status_code == 404
    r = await client.get("/api/accounts?limit=100000", headers=t.headers)
    assert r.status_code == 400 and r.json()["error"]["fields"][0]["field"] == "limit"


async def test_unknown_route_is_json_404(client):
    r = await client.get("/api/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


async def test_failed_request_rolls_back(client, make_tenant):
    """An error after a write leaves nothing behind: the request transaction rolls back."""
    t = await make_tenant()
    r = await client.post("/api/users", headers=t.headers, json={"login": "rb", "password": "rb-password",
                                                                 "roles": ["admin", "nonexistent"]})
    assert r.status_code == 422
    users = (await client.get("/api/users?q=rb", headers=t.headers)).json()
    assert users["total"] == 0
