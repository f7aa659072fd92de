"""Subscribers' sign-in end to end: registration by e-mail through a real SMTP server on loopback (aiosmtpd)
and by phone through the SMS.ru fake, the letter's link, login with the same answer for an unknown login and
a wrong password, lockout, password reset, limits, and the audit log naming the subscriber."""

from __future__ import annotations

import asyncio
import re
import secrets
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from litestar.testing import AsyncTestClient

from aquabill.channels.mail.outgoing import SmtpSender, parse_smtp_url
from aquabill.channels.sms.smsru import SmsRuSender
from aquabill.devserver.fakes.sms_gateway import FakeSmsGateway
from aquabill.devserver.services import free_port
from aquabill.platform.app import create_app
from aquabill.platform.auth.service import principal_for
from aquabill.platform.web.portal.context import PORTAL_COOKIE
from aquabill.subscribers.ports import DeliveryFailed, Letter
from tests.conftest import with_settings

PASSWORD = "river-water-2024"
LINK = re.compile(r"https?://[^\s\"<>]+")


class MailInbox:
    """aiosmtpd's handler: keeps every letter it accepts."""

    def __init__(self) -> None:
        self.letters: list = []
        self.waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook)
        msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.letters.append((list(envelope.rcpt_tos), envelope.mail_from, msg))
        for loop, arrived in list(self.waiters):  # (the server runs in its own thread and loop)
            loop.call_soon_threadsafe(arrived.set)
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for rcpt, _sender, m in self.letters if address in rcpt]

    async def wait(self, address: str, count: int = 1) -> list:
        arrived = asyncio.Event()
        waiter = (asyncio.get_running_loop(), arrived)
        self.waiters.append(waiter)
        try:
            async with asyncio.timeout(10):
                while len(self.to(address)) < count:
                    await arrived.wait()
                    arrived.clear()
        finally:
            self.waiters.remove(waiter)
        return self.to(address)


@pytest.fixture(scope="module")
def smtp_server():
    inbox = MailInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture(scope="module")
def sms_gateway():
    """In a thread of its own: the test client blocks the test's loop while the app handles a request."""
    gateway = FakeSmsGateway().start_in_thread()
    yield gateway
    gateway.stop_thread()


@pytest.fixture(scope="module")
async def portal(settings, core, smtp_server, sms_gateway):
    """The app with a mail server and an SMS gateway (the session app has neither)."""
    inbox, port = smtp_server
    app = create_app(with_settings(settings, smtp_url=f"smtp://127.0.0.1:{port}", sms_url=sms_gateway.url,
                                   mail_from="noreply@vodokanal.example", telephony=False))
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        yield client


@pytest.fixture(scope="module")
async def tenant(make_tenant):
    return await make_tenant(f"my{secrets.token_hex(3)}", name="Водоканал Речной")


def host(tenant) -> dict[str, str]:
    return {"Host": f"{tenant.tenant.slug}.localhost"}


def email() -> str:
    return f"ivanov.{secrets.token_hex(4)}@mail.example"


def phone() -> tuple[str, str]:
    """(as typed, as stored)."""
    digits = f"916{secrets.randbelow(10**7):07d}"
    return f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}", f"+7{digits}"


def body_of(msg) -> tuple[str, str]:
    return (msg.get_body(preferencelist=("plain",)).get_content(),
            msg.get_body(preferencelist=("html",)).get_content())


async def register_and_confirm(portal, tenant, inbox, address: str, password: str = PASSWORD) -> str:
    """Registered and confirmed through the pages; returns the session token of the confirmation."""
    before = len(inbox.to(address))
    r = await portal.post("/my/register", headers=host(tenant), data={
        "login": address, "full_name": "Иван Иванов", "password": password, "password2": password})
    assert r.status_code == 200 and address in r.text, r.text
    letter = (await inbox.wait(address, before + 1))[-1]
    path = LINK.findall(body_of(letter)[0])[0].split(tenant.tenant.slug + ".localhost", 1)[1]
    r = await portal.post(path, headers=host(tenant), follow_redirects=False)
    assert r.status_code == 303, r.text
    return r.cookies[PORTAL_COOKIE]


async def test_register_by_email_confirm_by_link_and_log_in(portal, tenant, smtp_server, client):
    inbox, _ = smtp_server
    address = email()
    r = await portal.post("/my/register", headers=host(tenant), data={
        "login": f"  {address.upper()} ", "full_name": "Иван Иванов", "password": PASSWORD, "password2": PASSWORD})
    assert r.status_code == 200 and f"Мы отправили письмо на адрес {address}" in r.text, r.text

    [letter] = await inbox.wait(address)
    assert letter["From"] == "noreply@vodokanal.example" and "Подтвердите адрес" in letter["Subject"]
    text, html = body_of(letter)
    [link] = LINK.findall(text)
    assert link.startswith(f"http://{tenant.tenant.slug}.localhost/my/confirm/")  # the host registered on
    assert f'href="{link}"' in html and "Водоканал Речной" in text

    # not confirmed yet: the right password is told so, a wrong one is not
    r = await portal.post("/api/my/auth/login", headers=host(tenant), json={"login": address, "password": PASSWORD})
    assert r.status_code == 401 and r.json()["error"]["code"] == "not_confirmed", r.text

    path = link.split(".localhost", 1)[1]
    page = await portal.get(path, headers=host(tenant))
    assert page.status_code == 200 and "Подтвердить адрес" in page.text  # a page with a button: a GET spends nothing
    r = await portal.post(path, headers=host(tenant), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/my"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{PORTAL_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    token = r.cookies[PORTAL_COOKIE]
    me = await portal.get("/api/my/auth/me", headers=host(tenant), cookies={PORTAL_COOKIE: token})
    assert me.status_code == 200 and me.json()["email"] == address and me.json()["email_confirmed"] is True
    sid = me.json()["id"]
    portal.cookies.clear()

    again = await portal.post(path, headers=host(tenant))
    assert again.status_code == 422 and "недействительна" in again.text  # a link works once

    r = await portal.post("/my/login", headers=host(tenant), follow_redirects=False,
                          data={"login": address, "password": PASSWORD, "next": "/my/link"})
    assert r.status_code == 303 and r.headers["location"] == "/my/link" and r.cookies[PORTAL_COOKIE]
    portal.cookies.clear()

    # the confirmation is audited as the subscriber's own change
    r = await client.get(f"/api/audit/subscribers/{sid}", headers=tenant.headers)
    update = next(e for e in r.json()["items"] if e["action"] == "update")
    assert update["new"]["email_confirmed_at"] and update["subscriber_id"] == sid
    assert update["actor"] == f"абонент #{sid}" and "password_hash" not in update["new"]


async def test_unknown_login_and_wrong_password_get_the_same_answer(portal, tenant, smtp_server):
    inbox, _ = smtp_server
    address = email()
    await register_and_confirm(portal, tenant, inbox, address)
    portal.cookies.clear()
    answers = []
    for login, password in ((address, "wrong-password-1"), (email(), PASSWORD), ("not a login", PASSWORD)):
        r = await portal.post("/api/my/auth/login", headers=host(tenant), json={"login": login, "password": password})
        answers.append((r.status_code, r.json()))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0] == (401, {"error": {"code": "invalid_credentials", "message": "Неверный логин или пароль",
                                          "fields": []}})
    page = await portal.post("/my/login", headers=host(tenant), data={"login": email(), "password": PASSWORD})
    assert page.status_code == 401 and "Неверный логин или пароль" in page.text


async def test_lockout_after_repeated_failures(portal, tenant, smtp_server, settings):
    inbox, _ = smtp_server
    address = email()
    await register_and_confirm(portal, tenant, inbox, address)
    portal.cookies.clear()
    codes = []
    for _ in range(settings.lockout_attempts):
        r = await portal.post("/api/my/auth/login", headers=host(tenant), json={"login": address, "password": "nope-nope"})
        codes.append(r.json()["error"]["code"])
    assert codes == ["invalid_credentials"] * (settings.lockout_attempts - 1) + ["account_locked"]
    r = await portal.post("/api/my/auth/login", headers=host(tenant), json={"login": address, "password": PASSWORD})
    assert r.status_code == 401 and r.json()["error"]["code"] == "account_locked"
    assert "Повторите через" in r.json()["error"]["message"]


async def test_registering_again_reveals_nothing_and_changes_nothing(portal, tenant, smtp_server):
    inbox, _ = smtp_server
    address = email()
    await register_and_confirm(portal, tenant, inbox, address)
    portal.cookies.clear()
    fresh = await portal.post("/api/my/auth/register", headers=host(tenant),
                              json={"login": email(), "password": PASSWORD})
    taken = await portal.post("/api/my/auth/register", headers=host(tenant),
                              json={"login": address, "password": "another-password"})
    assert fresh.status_code == taken.status_code == 202
    assert taken.json()["message"] == fresh.json()["message"].replace(fresh.json()["to"], address)
    letters = await inbox.wait(address, 2)
    text, _ = body_of(letters[-1])
    assert "уже зарегистрирован" in text and f"http://{tenant.tenant.slug}.localhost/my/reset" in text
    r = await portal.post("/api/my/auth/login", headers=host(tenant), json={"login": address, "password": PASSWORD})
    assert r.status_code == 200  # the first password stands
    r = await portal.post("/api/my/auth/login", headers=host(tenant),
                          json={"login": address, "password": "another-password"})
    assert r.status_code == 401


async def test_password_reset_by_email_link(portal, tenant, smtp_server, core):
    inbox, _ = smtp_server
    address = email()
    old_session = await register_and_confirm(portal, tenant, inbox, address)
    portal.cookies.clear()
    known = await portal.post("/api/my/auth/reset-request", headers=host(tenant), json={"login": address})
    unknown = await portal.post("/api/my/auth/reset-request", headers=host(tenant), json={"login": "nobody@mail.example"})
    assert known.status_code == unknown.status_code == 202
    assert known.json()["message"].replace(address, "X") == unknown.json()["message"].replace("nobody@mail.example", "X")
    letters = await inbox.wait(address, 2)
    text, _ = body_of(letters[-1])
    assert "Восстановление пароля" in letters[-1]["Subject"]
    path = LINK.findall(text)[0].split(".localhost", 1)[1]
    assert path.startswith("/my/reset/")
    assert not inbox.to("nobody@mail.example")

    assert (await portal.get(path, headers=host(tenant))).status_code == 200
    short = await portal.post(path, headers=host(tenant), data={"password": "short", "password2": "short"})
    assert short.status_code == 422 and "не менее 8" in short.text
    r = await portal.post(path, headers=host(tenant), follow_redirects=False,
                          data={"password": "new-password-77", "password2": "new-password-77"})
    assert r.status_code == 303 and r.cookies[PORTAL_COOKIE]
    portal.cookies.clear()
    assert await principal_for(core, old_session) is None  # sessions of the old password are over
    assert (await portal.get(path, headers=host(tenant))).status_code == 404  # the link is spent
    for password, status in ((PASSWORD, 401), ("new-password-77", 200)):
        r = await portal.post("/api/my/auth/login", headers=host(tenant), json={"login": address, "password": password})
        assert r.status_code == status, r.text


async def test_register_by_phone_with_the_sms_code(portal, tenant, sms_gateway):
    typed, stored = phone()
    r = await portal.post("/my/register", headers=host(tenant),
                          data={"login": typed, "password": PASSWORD, "password2": PASSWORD})
    assert r.status_code == 200 and "Мы отправили SMS с кодом на номер" in r.text and 'action="/my/confirm-phone"' in r.text
    async with asyncio.timeout(5):
        [sms] = await sms_gateway.wait_for(stored)
    assert sms.phone == stored[1:] and "Водоканал Речной" in sms.text
    code = re.search(r"\b(\d{6})\b", sms.text).group(1)
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    r = await portal.post("/api/my/auth/login", headers=host(tenant), json={"login": typed, "password": PASSWORD})
    assert r.json()["error"]["code"] == "not_confirmed"
    r = await portal.post("/my/confirm-phone", headers=host(tenant), data={"phone": typed, "code": wrong})
    assert r.status_code == 422 and "Код неверен" in r.text
    r = await portal.post("/my/confirm-phone", headers=host(tenant), follow_redirects=False,
                          data={"phone": typed, "code": code})
    assert r.status_code == 303 and r.cookies[PORTAL_COOKIE]
    portal.cookies.clear()
    r = await portal.post("/api/my/auth/login", headers=host(tenant), json={"login": stored, "password": PASSWORD})
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"
    me = await portal.get("/api/my/auth/me", headers={**host(tenant), "Authorization": f"Bearer {r.json()['token']}"})
    assert me.json()["phone"] == stored and me.json()["phone_confirmed"] is True


async def test_a_phone_code_dies_after_five_wrong_tries_and_reset_by_phone(portal, tenant, sms_gateway):
    typed, stored = phone()
    r = await portal.post("/api/my/auth/register", headers=host(tenant), json={"login": typed, "password": PASSWORD})
    assert r.status_code == 202 and r.json()["kind"] == "phone"
    async with asyncio.timeout(5):
        [sms] = await sms_gateway.wait_for(stored)
    code = re.search(r"\b(\d{6})\b", sms.text).group(1)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        r = await portal.post("/api/my/auth/confirm-phone", headers=host(tenant), json={"phone": typed, "code": wrong})
        assert r.status_code == 422
    r = await portal.post("/api/my/auth/confirm-phone", headers=host(tenant), json={"phone": typed, "code": code})
    assert r.status_code == 422  # the code is dead: a new one is asked for by registering again

    r = await portal.post("/api/my/auth/register", headers=host(tenant), json={"login": typed, "password": PASSWORD})
    async with asyncio.timeout(5):
        sms = (await sms_gateway.wait_for(stored, 2))[-1]
    code = re.search(r"\b(\d{6})\b", sms.text).group(1)
    r = await portal.post("/api/my/auth/confirm-phone", headers=host(tenant), json={"phone": typed, "code": code})
    assert r.status_code == 200 and r.json()["token"]

    r = await portal.post("/my/reset", headers=host(tenant), data={"login": typed})
    assert r.status_code == 200 and 'action="/my/reset/code"' in r.text
    async with asyncio.timeout(5):
        sms = (await sms_gateway.wait_for(stored, 3))[-1]
    assert "смены пароля" in sms.text
    code = re.search(r"\b(\d{6})\b", sms.text).group(1)
    r = await portal.post("/my/reset/code", headers=host(tenant), follow_redirects=False, data={
        "phone": typed, "code": code, "password": "phone-password-9", "password2": "phone-password-9"})
    assert r.status_code == 303 and r.cookies[PORTAL_COOKIE]
    portal.cookies.clear()
    r = await portal.post("/api/my/auth/login", headers=host(tenant), json={"login": typed, "password": "phone-password-9"})
    assert r.status_code == 200


async def test_registration_is_limited_per_address(portal, tenant, smtp_server):
    address = email()
    statuses = []
    for _ in range(6):
        r = await portal.post("/api/my/auth/register", headers=host(tenant), json={"login": address, "password": PASSWORD})
        statuses.append(r.status_code)
    assert statuses == [202] * 5 + [429]
    assert "Повторите через" in r.json()["error"]["message"] and r.json()["error"]["code"] == "rate_limited"


async def test_logout_ends_the_session(portal, tenant, smtp_server, core):
    inbox, _ = smtp_server
    token = await register_and_confirm(portal, tenant, inbox, email())
    portal.cookies.clear()
    r = await portal.post("/my/logout", headers=host(tenant), cookies={PORTAL_COOKIE: token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/my/login"
    assert await principal_for(core, token) is None
    portal.cookies.clear()
    r = await portal.post("/api/my/auth/logout", headers={**host(tenant), "Authorization": f"Bearer {token}"})
    assert r.status_code == 401


async def test_without_a_mail_server_registration_by_email_is_refused_plainly(client, tenant):
    r = await client.post("/api/my/auth/register", headers=host(tenant), json={"login": email(), "password": PASSWORD})
    assert r.status_code == 409 and r.json()["error"]["code"] == "mail_not_configured"


async def test_senders_fail_with_a_clear_message(smtp_server, sms_gateway):
    _, port = smtp_server
    letter = Letter(to="a@mail.example", subject="Проверка", text="Текст")
    closed = SmtpSender.from_url(f"smtp://127.0.0.1:{free_port()}", "noreply@vodokanal.example")
    with pytest.raises(DeliveryFailed, match="нет соединения с почтовым сервером"):
        await closed.send(letter)
    # STARTTLS asked of a server that does not offer it: refused, nothing goes in clear text
    tls = SmtpSender.from_url(f"smtp://127.0.0.1:{port}?starttls=1", "noreply@vodokanal.example")
    assert parse_smtp_url(f"smtp://u%40x:p%3Aw@127.0.0.1:{port}?starttls=1").username == "u@x"
    with pytest.raises(DeliveryFailed, match="не поддерживает STARTTLS"):
        await tls.send(letter)
    wrong_key = SmsRuSender.from_url(sms_gateway.url.replace("api_id=", "api_id=x"))
    with pytest.raises(DeliveryFailed, match="Неправильный api_id"):
        await wrong_key.send("+79161234567", "Проверка")
    ok = SmsRuSender.from_url(sms_gateway.url)
    with pytest.raises(DeliveryFailed, match="Неправильно указан номер"):
        await ok.send("+1234", "Проверка")
    assert (await ok.send("+79161234567", "Проверка")).startswith("000000-")


async def test_a_refused_sms_is_told_plainly(portal, tenant, sms_gateway):
    typed, _ = phone()
    sms_gateway.fail_with = 201
    try:
        r = await portal.post("/my/register", headers=host(tenant),
                              data={"login": typed, "password": PASSWORD, "password2": PASSWORD})
        api = await portal.post("/api/my/auth/register", headers=host(tenant), json={"login": typed, "password": PASSWORD})
    finally:
        sms_gateway.fail_with = None
    assert r.status_code == 502 and "Не удалось отправить SMS" in r.text, r.text
    assert api.status_code == 502 and api.json()["error"]["code"] == "delivery_failed"


async def test_the_sign_in_pages_render_and_change_the_password(portal, tenant, smtp_server, core):
    for path, form in (("/my/login", 'action="/my/login"'), ("/my/register", 'action="/my/register"'),
                       ("/my/confirm-phone?phone=%2B79160000000", 'value="+79160000000"'),
                       ("/my/reset", 'action="/my/reset"')):
        r = await portal.get(path, headers=host(tenant))
        assert r.status_code == 200 and form in r.text and "Водоканал Речной" in r.text, path
    for dead in ("/my/confirm/no-such-token", "/my/reset/no-such-token"):
        r = await portal.get(dead, headers=host(tenant))
        assert r.status_code == 404 and "недействительна" in r.text
    assert (await portal.get("/my/login")).status_code == 404  # no tenant on this host: no portal

    inbox, _ = smtp_server
    address = email()
    token = await register_and_confirm(portal, tenant, inbox, address)
    portal.cookies.clear()
    signed = {PORTAL_COOKIE: token}
    r = await portal.get("/my/login", headers=host(tenant), cookies=signed, follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/my"  # already signed in
    portal.cookies.clear()
    r = await portal.post("/my/password", headers=host(tenant), cookies=signed,
                          data={"current": "wrong-one-1", "password": "changed-pass-1", "password2": "changed-pass-1"})
    assert r.status_code == 422 and "Текущий пароль указан неверно" in r.text
    portal.cookies.clear()
    r = await portal.post("/my/password", headers=host(tenant), cookies=signed, follow_redirects=False,
                          data={"current": PASSWORD, "password": "changed-pass-1", "password2": "changed-pass-1"})
    assert r.status_code == 303 and r.headers["location"] == "/my/settings" and r.cookies[PORTAL_COOKIE] != token
    portal.cookies.clear()
    assert await principal_for(core, token) is None
    r = await portal.post("/api/my/auth/login", headers=host(tenant), json={"login": address, "password": "changed-pass-1"})
    assert r.status_code == 200
