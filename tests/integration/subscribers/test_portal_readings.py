"""Readings from the portal: taken only inside the tenant's window (today injected), validated exactly as staff
entry validates them (`add_reading`), stored with source 'portal' and an optional photo that only the
account's subscriber can see."""

from datetime import date, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core.metering.reading_entry import add_reading
from aquabill.subscribers.readings import account_meters, submit_reading
from aquabill.tenants.context import tenant_transaction
from tests.integration.subscribers.portal_seed import meter_id, portal_tenant, set_reading_days  # noqa: F401
from tests.portal_support import portal_user

INSIDE = date(2024, 3, 20)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4


@pytest.fixture
def tx(core, portal_tenant):  # noqa: F811
    def open_tx():
        return tenant_transaction(core.engines, portal_tenant.tenant)

    return open_tx


async def test_same_validation_as_staff_entry(core, portal_tenant, tx):  # noqa: F811
    """The portal's meter (account 1) and the staff's (account 2) are alike; the same values in the same
    order get the same status, consumption and reason."""
    me = await portal_user(core, portal_tenant.tenant, account_ids=[1])
    values = [("2024-02-20", "15"), ("2024-03-20", "900"), ("2024-04-20", "12"), ("2024-05-20", "17,5"),
              ("2024-05-20", "17.5")]
    async with tx() as conn:
        mine, staff = await meter_id(conn, 1), await meter_id(conn, 2)
        outcomes = []
        for day, value in values:
            today = date.fromisoformat(day)
            got = await submit_reading(conn, subscriber_id=me.subscriber_id, account_id=1, meter_id=mine,
                                       value=value, today=today, source="portal")
            ref = await add_reading(conn, staff, read_on=today, value=D(value.replace(",", ".")), source="operator")
            ref_status = "duplicate" if ref["duplicate"] else ref["status"]
            assert (got["status"], got["consumption"], got["reason"]) == (ref_status, ref["consumption"], ref["reason"])
            outcomes.append((got["status"], got["consumption"]))
        sources = (await conn.execute(text(
            "SELECT DISTINCT source FROM readings WHERE meter_id = :m"), {"m": mine})).scalars().all()
    # 15: 5 m³ since the installation; 900: 885 m³ in 30 days is flagged; 12: below 15 and not a rollover;
    # 17.5: 2.5 m³ since 15; the same again: a duplicate
    assert outcomes == [("accepted", D("5")), ("flagged", D("885")), ("rejected", None), ("accepted", D("2.5")),
                        ("duplicate", D("2.5"))]
    assert sources == ["portal"]


async def test_answers_in_plain_russian(core, portal_tenant, tx):  # noqa: F811
    me = await portal_user(core, portal_tenant.tenant, account_ids=[1])
    async with tx() as conn:
        mine = await meter_id(conn, 1)

        async def submit(value, today=INSIDE):
            return await submit_reading(conn, subscriber_id=me.subscriber_id, account_id=1, meter_id=mine,
                                        value=value, today=today, source="portal")

        assert (await submit("15,5"))["message"] == (
            "Показание 15,5 по счётчику № ХВ-101 (холодное водоснабжение) принято. Расход: 5,5 м³. Спасибо!")
        assert (await submit("15.5"))["message"] == (
            "Показание 15,5 по счётчику № ХВ-101 (холодное водоснабжение) уже передано 20.03.2024, "
            "повторно отправлять не нужно.")
        flagged = await submit("600", date(2024, 4, 20))
        assert flagged["status"] == "flagged" and flagged["message"] == (
            "Показание 600 по счётчику № ХВ-101 (холодное водоснабжение) получено, но расход 584,5 м³ больше "
            "обычного, поэтому его проверит специалист. Если цифры верные, ничего делать не нужно.")
        rejected = await submit("123456", date(2024, 5, 20))
        assert rejected["status"] == "rejected" and rejected["message"] == (
            "Показание 123456 по счётчику № ХВ-101 (холодное водоснабжение) не принято: показание 123456 превышает "
            "разрядность счётчика (5 знаков до запятой). Проверьте цифры на счётчике (до запятой — кубометры) и "
            "передайте показание ещё раз.")
        again = await submit("16", INSIDE)
        assert again["status"] == "rejected" and again["message"] == (
            "Показание 16 по счётчику № ХВ-101 (холодное водоснабжение) не принято: сегодня по этому счётчику уже "
            "принято показание 15,5. Если в нём ошибка, напишите нам в разделе «Обращения».")
        for bad, message in (("", "Введите показание счётчика — число с табло, например 123,456"),
                             ("12а", "Показание «12а» не является числом: введите число с табло счётчика, "
                                     "например 123,456")):
            with pytest.raises(Invalid) as refused:
                await submit(bad, date(2024, 5, 21))
            assert refused.value.message == message


async def test_outside_the_window_nothing_is_stored(core, portal_tenant, tx):  # noqa: F811
    me = await portal_user(core, portal_tenant.tenant, account_ids=[1])
    async with tx() as conn:
        mine = await meter_id(conn, 1)
        for today, message in (
            (date(2024, 3, 6), "Показания принимаются с 15 по 25 число месяца. Сегодня 6 марта — передайте "
                               "показания с 15 марта."),
            (date(2024, 12, 26), "Показания принимаются с 15 по 25 число месяца. Сегодня 26 декабря — передайте "
                                 "показания с 15 января."),
        ):
            with pytest.raises(Invalid) as refused:
                await submit_reading(conn, subscriber_id=me.subscriber_id, account_id=1, meter_id=mine,
                                     value="15", today=today, source="portal")
            assert refused.value.message == message
        await conn.execute(text("INSERT INTO periods(period, status) VALUES (DATE '2024-06-01', 'closed')"))
        with pytest.raises(Invalid) as closed:  # inside the window, but the month is closed
            await submit_reading(conn, subscriber_id=me.subscriber_id, account_id=1, meter_id=mine, value="15",
                                 today=date(2024, 6, 20), source="portal")
        assert closed.value.message == ("Расчётный период этого месяца уже закрыт, показания за него не принимаются. "
                                        "Передайте показания в следующем месяце.")
        await set_reading_days(conn, 1, 10)  # the tenant's own window
        got = await submit_reading(conn, subscriber_id=me.subscriber_id, account_id=1, meter_id=mine, value="15",
                                   today=date(2024, 3, 6), source="portal")
        assert got["status"] == "accepted"
        stored = (await conn.execute(text("SELECT count(*) FROM readings WHERE meter_id = :m"), {"m": mine})).scalar()
    assert stored == 1


async def test_only_own_accounts_and_meters(core, portal_tenant, tx):  # noqa: F811
    me = await portal_user(core, portal_tenant.tenant, account_ids=[1])
    async with tx() as conn:
        others = await meter_id(conn, 2)
        mine = await meter_id(conn, 1)
        meters = await account_meters(conn, 1, INSIDE)
        assert [(m["serial"], m["service_name"], m["last_value"]) for m in meters] == [
            ("ХВ-101", "Холодное водоснабжение", None)]
        for account, meter, message in ((2, others, "Лицевой счёт не найден"), (1, others, "Счётчик не найден"),
                                        (999999, mine, "Лицевой счёт не найден")):
            with pytest.raises(NotFound) as refused:
                await submit_reading(conn, subscriber_id=me.subscriber_id, account_id=account, meter_id=meter,
                                     value="15", today=INSIDE, source="portal")
            assert refused.value.message == message
        # a removed meter is not read any more
        await conn.execute(text("UPDATE meters SET removed_on = DATE '2024-03-01' WHERE id = :m"), {"m": mine})
        assert await account_meters(conn, 1, INSIDE) == []
        with pytest.raises(NotFound):
            await submit_reading(conn, subscriber_id=me.subscriber_id, account_id=1, meter_id=mine, value="15",
                                 today=INSIDE, source="portal")


async def test_photo_kept_with_the_reading_and_shown_only_to_its_owner(client, core, portal_tenant, tx):  # noqa: F811
    me = await portal_user(core, portal_tenant.tenant, account_ids=[1])
    stranger = await portal_user(core, portal_tenant.tenant, account_ids=[2])
    async with tx() as conn:
        mine = await meter_id(conn, 1)
        with pytest.raises(Invalid) as big:
            await submit_reading(conn, subscriber_id=me.subscriber_id, account_id=1, meter_id=mine, value="15",
                                 today=INSIDE, source="portal", photo=JPEG + bytes(5 * 1024 * 1024))
        assert big.value.message.startswith("Фото слишком большое (5,0 МБ): можно не больше 5 МБ.")
        with pytest.raises(Invalid) as not_image:
            await submit_reading(conn, subscriber_id=me.subscriber_id, account_id=1, meter_id=mine, value="15",
                                 today=INSIDE, source="portal", photo=b"<svg xmlns='http://www.w3.org/2000/svg'/>",
                                 photo_type="image/jpeg")
        assert not_image.value.field == "photo"
        got = await submit_reading(conn, subscriber_id=me.subscriber_id, account_id=1, meter_id=mine, value="15",
                                   today=INSIDE, source="portal", photo=JPEG, photo_type="image/png")
        assert got["status"] == "accepted" and got["has_photo"] is True
        stored = (await conn.execute(text("SELECT count(*) FROM readings WHERE meter_id = :m"), {"m": mine})).scalar()
        assert stored == 1  # the refused attempts stored nothing
    reading = got["reading_id"]
    own = await client.get(f"/my/readings/{reading}/photo", headers=me.headers)
    assert own.status_code == 200 and own.content == JPEG
    assert own.headers["content-type"] == "image/jpeg"  # what the bytes are, not what the sender said
    assert (await client.get(f"/my/readings/{reading}/photo", headers=stranger.headers)).status_code == 404
    anonymous = await client.get(f"/my/readings/{reading}/photo", headers={"Host": me.headers["Host"]},
                                 follow_redirects=False)
    assert (anonymous.status_code, anonymous.headers["location"]) == (
        302, f"/my/login?next=/my/readings/{reading}/photo")
    assert (await client.get(f"/my/readings/{reading + 1000}/photo", headers=me.headers)).status_code == 404


def _today(settings) -> date:
    return datetime.now(ZoneInfo(settings.timezone)).date()


async def test_reading_through_the_page_and_the_api(client, core, settings, portal_tenant, tx):  # noqa: F811
    """The form (multipart with a photo) and the JSON API, today inside the window and then outside it."""
    me = await portal_user(core, portal_tenant.tenant, account_ids=[1])
    async with tx() as conn:
        await set_reading_days(conn, 1, 31)
        mine = await meter_id(conn, 1)
    r = await client.get("/my/accounts/1/readings", headers=me.headers)
    assert r.status_code == 200 and "ХВ-101" in r.text and 'name="value"' in r.text
    r = await client.post("/my/accounts/1/readings", headers=me.headers,
                          data={"meter_id": str(mine), "value": "15,25"},
                          files={"photo": ("meter.jpg", JPEG, "image/jpeg")})
    assert r.status_code == 200, r.text
    assert "Показание 15,25 по счётчику № ХВ-101 (холодное водоснабжение) принято" in r.text
    async with tx() as conn:
        row = (await conn.execute(text(
            "SELECT r.id, r.source, r.status, r.read_on, ph.size FROM readings r "
            "JOIN reading_photos ph ON ph.reading_id = r.id WHERE r.meter_id = :m"), {"m": mine})).one()
    assert (row.source, row.status, row.read_on, row.size) == ("portal", "accepted", _today(settings), len(JPEG))
    assert f"/my/readings/{row.id}/photo" in (await client.get("/my/readings", headers=me.headers)).text

    bad = await client.post("/my/accounts/1/readings", headers=me.headers, data={"meter_id": str(mine), "value": "abc"})
    assert bad.status_code == 200 and "Показание «abc» не является числом" in bad.text
    other = await client.post("/my/accounts/2/readings", headers=me.headers,
                              data={"meter_id": str(mine), "value": "16"})
    assert other.status_code == 404 and "Лицевой счёт не найден" in other.text

    api = await client.post("/api/my/accounts/1/readings", headers=me.headers, json={"meter_id": mine, "value": 15.25})
    assert api.status_code == 200 and api.json()["status"] == "duplicate", api.text
    meters = (await client.get("/api/my/accounts/1/meters", headers=me.headers)).json()
    assert meters["window"] == {"days": [1, 31], "open": True, "message": None}
    assert meters["items"][0]["last_value"] == "15.250"
    history = (await client.get("/api/my/accounts/1/readings", headers=me.headers)).json()
    assert [(x["value"], x["source"], x["has_photo"]) for x in history["items"]] == [("15.250", "portal", True)]

    day = _today(settings).day
    async with tx() as conn:  # a window that today is not in
        await set_reading_days(conn, *((day + 1, day + 1) if day < 28 else (1, 1)))
    closed = await client.post("/api/my/accounts/1/readings", headers=me.headers, json={"meter_id": mine, "value": "16"})
    assert closed.status_code == 422 and closed.json()["error"]["message"].startswith("Показания принимаются с ")
    page = await client.get("/my/readings", headers=me.headers)
    assert "Показания принимаются с " in page.text and 'name="value"' not in page.text
    assert (await client.post("/api/my/accounts/1/readings", json={"meter_id": mine, "value": "16"},
                              headers={"Host": me.headers["Host"]})).status_code == 401
