"""The reference page «Справочники» (/billing/reference): every tab renders; a tariff, a norm and a coefficient
are added through the forms (seen in the table and over the API with their basis); refusals (a bad price, a closed
period, a basis too long) come back on the page in Russian with the typed values; a viewer sees no forms."""

from __future__ import annotations

import re

import pytest

from tests.integration.billing_core.api_helpers import Api, as_role, close_period, login_cookie, service_id

ORDER = "Приказ Управления по тарифам Энской области от 20.11.2025 № 45-вк"


@pytest.fixture
def api(client, billing_tenant) -> Api:
    return Api(client, billing_tenant.headers)


def table(html: str, table_id: str) -> str:
    found = re.search(rf'<table[^>]*id="{table_id}"[^>]*>(.*?)</table>', html, flags=re.S)
    assert found is not None, table_id
    return found.group(1)


async def test_every_tab_renders(client, billing_tenant, api):
    cold = await service_id(api, "cold_water")
    await api.ok("post", "/api/tariffs", {"service_id": cold, "price": "45.12", "valid_from": "2024-01-01",
                                          "basis": ORDER})
    await api.ok("post", "/api/tariffs", {"service_id": cold, "price": "48.1234", "valid_from": "2099-01-01"})
    await api.ok("post", "/api/norms", {"service_id": cold, "improvement": "full", "volume": "4.85",
                                        "valid_from": "2017-01-01", "basis": "Постановление № 512-п"})
    await login_cookie(client, billing_tenant)
    home = await client.get("/")
    assert 'href="/billing/reference">Справочники</a>' in home.text

    page = await client.get("/billing/reference")
    assert page.status_code == 200, page.text
    tariffs = table(page.text, "tariffs")
    assert 'class="on" aria-current="page">Тарифы' in page.text and 'id="tariff-form"' in page.text
    # the group's name (tariff_groups), the price with the comma, the act, which row is in force today
    assert "Население и исполнители коммунальных услуг" in tariffs and "45,12" in tariffs and "48,1234" in tariffs
    assert ORDER in tariffs and "действует</span>" in tariffs and "будет действовать" in tariffs
    assert "31.12.2098" in tariffs and "не указано" in tariffs  # valid to the day before the next; no basis

    norms = await client.get("/billing/reference?tab=norms")
    assert norms.status_code == 200 and 'id="norm-form"' in norms.text
    assert "4,85" in table(norms.text, "norms") and "Постановление № 512-п" in norms.text

    coefficients = await client.get("/billing/reference?tab=coefficients")
    assert coefficients.status_code == 200 and 'id="coefficient-form"' in coefficients.text
    cold_rows = table(coefficients.text, "coefficients-cold_water")
    assert "Федеральный" in cold_rows and "1,5" in cold_rows and "ПП РФ № 603 от 29.06.2016" in cold_rows

    services = await client.get("/billing/reference?tab=services")
    assert services.status_code == 200
    listed = table(services.text, "services")
    assert "<code>cold_water</code>" in listed and "Холодное водоснабжение" in listed and "м³" in listed

    filtered = await client.get(f"/billing/reference?service_id={cold}&group=population&q=45-вк")
    assert "45,12" in table(filtered.text, "tariffs") and "48,1234" not in table(filtered.text, "tariffs")
    odd = await client.get("/billing/reference?tab=nothing&service_id=abc&offset=5")
    assert odd.status_code == 200 and 'class="on" aria-current="page">Тарифы' in odd.text


async def test_a_tariff_added_through_the_form(client, billing_tenant, api, tx):
    cold = await service_id(api, "cold_water")
    await login_cookie(client, billing_tenant)
    form = {"service_id": str(cold), "tariff_group": "population", "price": "57,37", "valid_from": "2026-07-01",
            "basis": f" {ORDER} "}
    r = await client.post("/billing/reference/tariffs", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/billing/reference?tab=tariffs"), r.text
    shown = await client.get(r.headers["location"])
    assert "Тариф добавлен" in shown.text
    assert "57,37" in table(shown.text, "tariffs") and ORDER in table(shown.text, "tariffs")
    listed = (await api.ok("get", f"/api/tariffs?service_id={cold}"))["items"]
    assert [(t["price"], t["valid_from"], t["basis"]) for t in listed] == [("57.3700", "2026-07-01", ORDER)]

    # the same date again corrects the row
    r = await client.post("/billing/reference/tariffs", data={**form, "price": "57.4"}, follow_redirects=True)
    assert r.status_code == 200 and "Тариф исправлен" in r.text and "57,40" in table(r.text, "tariffs")

    # refusals: on the page, in Russian, the typed values kept, nothing written
    bad = await client.post("/billing/reference/tariffs", data={**form, "price": "пятьдесят"})
    assert bad.status_code == 200 and "Тариф: ожидается число, например 57,37" in bad.text
    assert 'value="пятьдесят"' in bad.text and "<details class=\"add card\" id=\"tariff-form\" open>" in bad.text
    negative = await client.post("/billing/reference/tariffs", data={**form, "price": "-1"})
    assert "Тариф: значение не может быть меньше 0" in negative.text
    long = await client.post("/billing/reference/tariffs", data={**form, "basis": "П" * 501})
    assert long.status_code == 200 and "Основание: не более 500 знаков" in long.text
    no_service = await client.post("/billing/reference/tariffs", data={**form, "service_id": ""})
    assert no_service.status_code == 200 and "Выберите услугу" in no_service.text
    await close_period(tx, "2024-03")
    closed = await client.post("/billing/reference/tariffs", data={**form, "valid_from": "2024-03-01"})
    assert closed.status_code == 200
    assert "Период 2024-03 закрыт: тариф с 01.03.2024 не принимается" in closed.text
    listed = (await api.ok("get", f"/api/tariffs?service_id={cold}"))["items"]
    assert [(t["price"], t["basis"]) for t in listed] == [("57.4000", ORDER)]


async def test_a_norm_and_a_coefficient_added_through_the_forms(client, billing_tenant, api):
    cold = await service_id(api, "cold_water")
    await login_cookie(client, billing_tenant)
    r = await client.post("/billing/reference/norms", data={
        "service_id": str(cold), "improvement": "full", "volume": "4,85", "valid_from": "2025-01-01",
        "basis": "Постановление № 512-п"}, follow_redirects=True)
    assert r.status_code == 200 and "Норматив добавлен" in r.text and "Постановление № 512-п" in r.text
    assert (await api.ok("get", "/api/norms"))["items"][0]["basis"] == "Постановление № 512-п"
    r = await client.post("/billing/reference/norms", data={
        "service_id": str(cold), "improvement": "", "volume": "4", "valid_from": "2025-01-01"})
    assert "Степень благоустройства: от 1 до 32 знаков" in r.text

    r = await client.post("/billing/reference/coefficients", data={
        "service_kind": "cold_water", "value": "2", "valid_from": "2025-02-01", "basis": "Решение руководителя"},
        follow_redirects=True)
    assert r.status_code == 200 and "Коэффициент добавлен" in r.text and "Решение руководителя" in r.text
    r = await client.post("/billing/reference/coefficients", data={
        "service_kind": "cold_water", "value": "0,5", "valid_from": "2025-02-01"})
    assert "Коэффициент: значение не может быть меньше 1" in r.text


async def test_a_viewer_sees_the_tables_without_forms(client, billing_tenant, api):
    viewer = await as_role(client, billing_tenant, "viewer")
    for tab in ("tariffs", "norms", "coefficients", "services"):
        page = await viewer.get(f"/billing/reference?tab={tab}")
        assert page.status_code == 200, (tab, page.text)
        assert 'action="/billing/reference/' not in page.text and "Сохранить" not in page.text, tab
    cold = await service_id(api, "cold_water")
    r = await client.post("/billing/reference/tariffs", headers=viewer.headers, data={
        "service_id": str(cold), "price": "1", "valid_from": "2026-01-01"})
    assert r.status_code == 403
    assert (await api.ok("get", "/api/tariffs"))["total"] == 0
