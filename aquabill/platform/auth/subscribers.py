"""Subscribers' sign-in on a tenant's portal: registration by e-mail or phone, confirmation (a link in a
letter, a code in an SMS), password login with lockout, logout and password reset.

- A login is an e-mail address or a mobile number (`subscribers.identity.parse_login`); signing in with one
  needs it confirmed. Sessions are the platform's (`new_session(core, "subscriber", id, tenant.id)`): a token
  of kind 'subscriber' opens the portal of that tenant and no staff route.
- No enumeration: an unknown login and a wrong password get the same answer; registering an address that is
  already registered answers as a new registration does (the owner gets a letter saying so, with the way in);
  a reset request answers the same whether the address is known or not, and its letter leaves in the
  background so the answer's time does not tell either.
- An unconfirmed registration made again keeps its first password (whoever confirms the address gets the
  account as it was registered; a forgotten password is reset), and sends a new link or code.
- Passwords are argon2 (`platform/auth/passwords.py`), hashed and checked in a thread as staff login does.
  One-time secrets are stored as HMACs under the service key (`identity.secret_digest`), with an expiry; a
  phone code dies after `identity.CODE_ATTEMPTS` wrong tries.
- Registration, reset requests and code checks are limited per address and per client IP (Redis counters in
  fixed windows): over the limit the answer is 429 with when to come back.
- Letters and SMS go through the `MailSender` / `SmsSender` built from the settings (`AQUABILL_SMTP_URL`,
  `AQUABILL_SMS_URL`); without them registration by that kind of login is refused plainly (409).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, text

from aquabill.base.errors import Conflict, DomainError, Invalid
from aquabill.channels.mail.outgoing import SmtpSender
from aquabill.channels.sms.smsru import SmsRuSender
from aquabill.platform.auth.passwords import hash_password, verify_password
from aquabill.platform.auth.service import INVALID_CREDENTIALS, AuthError, new_session
from aquabill.platform.config import Settings
from aquabill.platform.state import Core
from aquabill.subscribers import identity
from aquabill.subscribers import identity_store as store
from aquabill.subscribers.ports import Letter, MailSender, SmsSender
from aquabill.tenants import control
from aquabill.tenants.context import Tenant, tenant_transaction

log = logging.getLogger(__name__)

BAD_LINK = "Ссылка недействительна или устарела. Запросите новую."
BAD_CODE = "Код неверен или устарел. Проверьте код или запросите новый."
NOT_CONFIRMED = {"email": "Адрес ещё не подтверждён: откройте ссылку из письма, которое мы отправили при регистрации.",
                 "phone": "Номер ещё не подтверждён: введите код из SMS, которое мы отправили при регистрации."}
NO_MAIL = "Отправка писем не настроена: зарегистрируйтесь по номеру телефона или обратитесь в организацию"
NO_SMS = "Отправка SMS не настроена: зарегистрируйтесь по адресу электронной почты или обратитесь в организацию"

WINDOW_SECONDS = 3600
# (per address, per client IP) in a window, by action; the per-IP bound is loose: mobile carriers put many
# subscribers behind one address
LIMITS = {"register": (5, 100), "reset": (5, 100), "code": (10, 200)}

_background: set[asyncio.Task] = set()


class RateLimited(DomainError):
    status_code = 429
    code = "rate_limited"


@dataclass(frozen=True, slots=True)
class Sent:
    """What registration and a reset request answer: where the link or code went and what to do next."""

    kind: str  # "email" | "phone"
    to: str  # the address or +7XXXXXXXXXX
    message: str


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    subscriber_id: int


# ---- the outside world ----------------------------------------------------------------------------------

def mail_sender(settings: Settings) -> MailSender | None:
    return SmtpSender.from_url(settings.smtp_url, settings.mail_from) if settings.smtp_url else None


def sms_sender(settings: Settings) -> SmsSender | None:
    return SmsRuSender.from_url(settings.sms_url) if settings.sms_url else None


def _require_channel(settings: Settings, kind: str) -> None:
    if kind == "email" and not settings.smtp_url:
        raise Conflict(NO_MAIL, code="mail_not_configured")
    if kind == "phone" and not settings.sms_url:
        raise Conflict(NO_SMS, code="sms_not_configured")


async def _deliver(settings: Settings, kind: str, to: str, what: Letter | str) -> None:
    if kind == "email":
        sender = mail_sender(settings)
        assert sender is not None and isinstance(what, Letter)
        await sender.send(what)
    else:
        sms = sms_sender(settings)
        assert sms is not None and isinstance(what, str)
        await sms.send(to, what)


def _in_background(job: Awaitable[None], what: str) -> None:
    async def run() -> None:
        try:
            await job
        except Exception:  # a reset letter that failed: logged, never told to the asker (no enumeration)
            log.exception("subscriber %s could not be sent", what)

    task = asyncio.get_running_loop().create_task(run())
    _background.add(task)
    task.add_done_callback(_background.discard)


async def _limit(core: Core, tenant: Tenant, action: str, *, address: str | None, ip: str | None) -> None:
    per_address, per_ip = LIMITS[action]
    for who, limit in ((address, per_address), (f"ip:{ip}" if ip else None, per_ip)):
        if not who:
            continue
        key = core.keys.portal_limit(tenant.id, action, hashlib.sha256(who.encode()).hexdigest()[:32])
        count = await core.redis.incr(key)
        ttl = await core.redis.ttl(key)
        if count == 1 or ttl < 0:
            await core.redis.expire(key, WINDOW_SECONDS)
            ttl = WINDOW_SECONDS
        if count > limit:
            raise RateLimited(f"Слишком много запросов. Повторите через {max(1, (ttl + 59) // 60)} мин.")


async def _verify(password_hash: str | None, password: str) -> bool:
    return await asyncio.to_thread(verify_password, password_hash, password)


async def _hash(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def _acting(conn, subscriber_id: int) -> None:
    """Name the subscriber in the transaction for the audit log (t0021), as portal transactions do."""
    await conn.execute(text("SELECT set_config('aquabill.subscriber_id', :s, true)"), {"s": str(subscriber_id)})


def _key(core: Core) -> str:
    return str(core.settings.secret_key)


async def _sign_in(core: Core, tenant: Tenant, subscriber_id: int) -> SignedIn:
    return SignedIn(await new_session(core, "subscriber", subscriber_id, tenant.id), subscriber_id)


async def _end_sessions(core: Core, tenant: Tenant, subscriber_id: int) -> None:
    s = control.sessions
    async with core.engines.control.begin() as conn:
        await conn.execute(delete(s).where(s.c.kind == "subscriber", s.c.user_id == subscriber_id,
                                           s.c.tenant_id == tenant.id))


# ---- registration and confirmation ----------------------------------------------------------------------

def _sent_message(kind: str, to: str) -> str:
    if kind == "email":
        return (f"Мы отправили письмо на адрес {to}. Откройте ссылку из письма, чтобы подтвердить адрес "
                "(ссылка действует 24 часа). Письма нет — проверьте папку «Спам».")
    return (f"Мы отправили SMS с кодом на номер {identity.mask_phone(to)}. Введите код, чтобы подтвердить номер "
            "(код действует 10 минут).")


async def register(core: Core, tenant: Tenant, *, login: str, password: str, full_name: str = "",
                   origin: str, ip: str | None) -> Sent:
    """A new subscriber with `login` (e-mail or phone) and `password`; a confirmation link or code is sent."""
    kind, value = identity.parse_login(login)
    identity.check_password(password)
    _require_channel(core.settings, kind)
    await _limit(core, tenant, "register", address=value, ip=ip)
    password_hash = await _hash(password)
    secret: str | None = None
    async with tenant_transaction(core.engines, tenant) as conn:
        found = await store.by_login(conn, kind, value)
        if found is None:
            sid = await store.create(conn, kind=kind, value=value, full_name=identity.clean_name(full_name),
                                     password_hash=password_hash)
            found = await store.by_id(conn, sid) if sid else await store.by_login(conn, kind, value)
        assert found is not None
        if found["is_active"] and not store.confirmed(found, kind):
            secret = await _issue(core, conn, found["id"], "confirm_email" if kind == "email" else "confirm_phone")
        active = found["is_active"]
    org = tenant.name
    if secret is not None:
        what = (identity.confirmation_letter(value, org, f"{origin}/my/confirm/{secret}") if kind == "email"
                else identity.phone_code_sms(secret, org))
        await _deliver(core.settings, kind, value, what)
    elif active:  # already registered and confirmed: its owner hears of it, the asker learns nothing new
        what = (identity.already_registered_letter(value, org, f"{origin}/my/login", f"{origin}/my/reset")
                if kind == "email" else identity.already_registered_sms(org))
        await _deliver(core.settings, kind, value, what)
    return Sent(kind, value, _sent_message(kind, value))


async def _issue(core: Core, conn, subscriber_id: int, purpose: str) -> str:
    """A new secret of `purpose` for the subscriber (a link's token, or a phone's 6-digit code)."""
    if purpose in ("confirm_phone", "reset_phone"):
        code = identity.new_phone_code()
        stored = "confirm_phone" if purpose == "confirm_phone" else "reset"
        await store.issue_code(conn, subscriber_id, stored,
                               identity.secret_digest(_key(core), "code", subscriber_id, stored, code),
                               identity.PHONE_CODE_TTL)
        return code
    token = identity.new_link_token()
    ttl = identity.CONFIRM_EMAIL_TTL if purpose == "confirm_email" else identity.RESET_LINK_TTL
    await store.issue_code(conn, subscriber_id, purpose, identity.secret_digest(_key(core), "link", token), ttl)
    return token


def _link_digest(core: Core, token: str) -> bytes | None:
    token = (token or "").strip()
    if not token or len(token) > 128:
        return None
    return identity.secret_digest(_key(core), "link", token)


async def link_is_live(core: Core, tenant: Tenant, purpose: str, token: str) -> bool:
    """Whether a confirmation or reset link still works (the page shown before its button)."""
    digest = _link_digest(core, token)
    if digest is None:
        return False
    async with tenant_transaction(core.engines, tenant) as conn:
        return await store.peek_link(conn, purpose, digest) is not None


async def confirm_email(core: Core, tenant: Tenant, token: str) -> SignedIn:
    """The address of the letter's link is confirmed; its subscriber is signed in."""
    digest = _link_digest(core, token)
    async with tenant_transaction(core.engines, tenant) as conn:
        sid = await store.take_link(conn, "confirm_email", digest) if digest else None
        if sid is None:
            raise Invalid(BAD_LINK, field="token")
        await _acting(conn, sid)
        await store.mark_confirmed(conn, sid, "email")
    return await _sign_in(core, tenant, sid)


def _code(raw: str) -> str:
    code = "".join(c for c in (raw or "") if not c.isspace() and c != "-")
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        raise Invalid("Введите 6 цифр кода из SMS", field="code")
    return code


async def _take_phone_code(core: Core, tenant: Tenant, phone: str, code: str, purpose: str, ip: str | None,
                           then) -> int:
    """Check a phone's code of `purpose`; on success run `then(conn, subscriber_id)` in the same transaction.
    A wrong code is counted (committed) before the refusal is raised."""
    phone = identity.normalise_mobile(phone)
    code = _code(code)
    await _limit(core, tenant, "code", address=phone, ip=ip)
    sid = None
    async with tenant_transaction(core.engines, tenant) as conn:
        found = await store.by_login(conn, "phone", phone)
        if found is not None and found["is_active"]:
            digest = identity.secret_digest(_key(core), "code", found["id"], purpose, code)
            if await store.take_code(conn, found["id"], purpose, digest):
                sid = found["id"]
                await _acting(conn, sid)
                await then(conn, sid)
    if sid is None:
        raise Invalid(BAD_CODE, field="code")
    return sid


async def confirm_phone(core: Core, tenant: Tenant, phone: str, code: str, *, ip: str | None) -> SignedIn:
    """The phone whose SMS code this is gets confirmed; its subscriber is signed in."""
    async def confirmed(conn, sid: int) -> None:
        await store.mark_confirmed(conn, sid, "phone")

    sid = await _take_phone_code(core, tenant, phone, code, "confirm_phone", ip, confirmed)
    return await _sign_in(core, tenant, sid)


# ---- login ----------------------------------------------------------------------------------------------

async def login(core: Core, tenant: Tenant, login: str, password: str) -> SignedIn:
    """Check the password, with lockout after repeated failures (as staff login)."""
    try:
        kind, value = identity.parse_login(login)
    except Invalid:
        await _verify(None, password)
        raise AuthError(INVALID_CREDENTIALS) from None
    s = core.settings
    failure: AuthError | None = None
    async with tenant_transaction(core.engines, tenant) as conn:
        found = await store.by_login(conn, kind, value)
        if found is not None and found["locked_until"] and found["locked_until"] > datetime.now(UTC):
            minutes = max(1, int((found["locked_until"] - datetime.now(UTC)).total_seconds() + 59) // 60)
            raise AuthError(f"Вход временно заблокирован после {s.lockout_attempts} неудачных попыток. "
                            f"Повторите через {minutes} мин.", code="account_locked")
        ok = await _verify(found["password_hash"] if found else None, password)
        if found is None or not found["is_active"]:
            raise AuthError(INVALID_CREDENTIALS)
        if ok:
            if not store.confirmed(found, kind):
                raise AuthError(NOT_CONFIRMED[kind], code="not_confirmed")
            await store.record_success(conn, found["id"])
        else:  # counted and committed; the refusal is raised after the commit
            locked = await store.record_failure(conn, found["id"], s.lockout_attempts, s.lockout_minutes)
            failure = AuthError(INVALID_CREDENTIALS)
            if locked and locked > datetime.now(UTC):
                failure = AuthError(f"Вход заблокирован на {s.lockout_minutes} мин. после {s.lockout_attempts} "
                                    "неудачных попыток.", code="account_locked")
    if failure is not None:
        raise failure
    return await _sign_in(core, tenant, found["id"])


# ---- password reset -------------------------------------------------------------------------------------

def _reset_message(kind: str, to: str) -> str:
    if kind == "email":
        return (f"Если адрес {to} зарегистрирован, на него придёт письмо со ссылкой для смены пароля "
                "(ссылка действует 1 час).")
    return (f"Если номер {identity.mask_phone(to)} зарегистрирован, на него придёт SMS с кодом для смены пароля "
            "(код действует 10 минут).")


async def request_reset(core: Core, tenant: Tenant, *, login: str, origin: str, ip: str | None) -> Sent:
    """Send a reset link (e-mail) or code (phone) if the login is known; the answer is the same either way."""
    kind, value = identity.parse_login(login)
    _require_channel(core.settings, kind)
    await _limit(core, tenant, "reset", address=value, ip=ip)
    secret = None
    async with tenant_transaction(core.engines, tenant) as conn:
        found = await store.by_login(conn, kind, value)
        if found is not None and found["is_active"]:
            secret = await _issue(core, conn, found["id"], "reset" if kind == "email" else "reset_phone")
    if secret is not None:
        what = (identity.reset_letter(value, tenant.name, f"{origin}/my/reset/{secret}") if kind == "email"
                else identity.reset_code_sms(secret, tenant.name))
        _in_background(_deliver(core.settings, kind, value, what), f"{kind} reset")
    return Sent(kind, value, _reset_message(kind, value))


async def _new_password(core: Core, tenant: Tenant, sid: int) -> SignedIn:
    await _end_sessions(core, tenant, sid)  # whoever knew the old password is signed out everywhere
    return await _sign_in(core, tenant, sid)


async def reset_with_link(core: Core, tenant: Tenant, token: str, password: str) -> SignedIn:
    identity.check_password(password)
    password_hash = await _hash(password)
    digest = _link_digest(core, token)
    async with tenant_transaction(core.engines, tenant) as conn:
        sid = await store.take_link(conn, "reset", digest) if digest else None
        if sid is None:
            raise Invalid(BAD_LINK, field="token")
        await _acting(conn, sid)
        await store.set_password(conn, sid, password_hash)
        await store.mark_confirmed(conn, sid, "email")  # the letter reached the address
    return await _new_password(core, tenant, sid)


async def reset_with_code(core: Core, tenant: Tenant, phone: str, code: str, password: str, *,
                          ip: str | None) -> SignedIn:
    identity.check_password(password)
    password_hash = await _hash(password)

    async def new_password(conn, sid: int) -> None:
        await store.set_password(conn, sid, password_hash)
        await store.mark_confirmed(conn, sid, "phone")  # the SMS reached the phone

    sid = await _take_phone_code(core, tenant, phone, code, "reset", ip, new_password)
    return await _new_password(core, tenant, sid)


async def change_password(core: Core, tenant: Tenant, subscriber_id: int, current: str, new: str) -> SignedIn:
    """A signed-in subscriber's new password (the current one proves it is them); every session ends and a
    new one is opened."""
    identity.check_password(new)
    async with tenant_transaction(core.engines, tenant) as conn:
        found = await store.by_id(conn, subscriber_id)
    if not await _verify(found["password_hash"] if found else None, current) or found is None:
        raise Invalid("Текущий пароль указан неверно", field="current")
    password_hash = await _hash(new)
    async with tenant_transaction(core.engines, tenant) as conn:
        await _acting(conn, subscriber_id)
        await store.set_password(conn, subscriber_id, password_hash)
    return await _new_password(core, tenant, subscriber_id)


async def profile(conn, subscriber_id: int) -> dict:
    """The signed-in subscriber as the portal shows them (no secrets)."""
    found = await store.by_id(conn, subscriber_id)
    if found is None:
        return {}
    return {"id": found["id"], "email": found["email"], "phone": found["phone"], "full_name": found["full_name"],
            "email_confirmed": found["email_confirmed_at"] is not None,
            "phone_confirmed": found["phone_confirmed_at"] is not None}
