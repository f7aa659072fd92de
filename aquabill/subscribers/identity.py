"""Pure rules of a subscriber's identity: what a login is (an e-mail address or a Russian mobile number), what a
password must be, one-time secrets (links and codes) and their lifetimes, and the texts of the letters and SMS.

A login is told apart by its `@`: an e-mail address is kept lower-case; a phone in the one form `+7XXXXXXXXXX`
(`billing_core.registry.phones.normalise_phone`, the same rule the contact center matches callers with).
One-time secrets are never stored: only an HMAC of them under the service's secret key (a database dump does
not give them away, and a 6-digit code cannot be brute-forced offline from it).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta
from html import escape

from aquabill.base.errors import Invalid
from aquabill.billing_core.registry.phones import normalise_phone
from aquabill.subscribers.ports import Letter

MIN_PASSWORD = 8
MAX_PASSWORD = 256
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")

CONFIRM_EMAIL_TTL = timedelta(hours=24)
RESET_LINK_TTL = timedelta(hours=1)
PHONE_CODE_TTL = timedelta(minutes=10)
CODE_ATTEMPTS = 5  # wrong tries of one phone code before it is spent

BAD_EMAIL = "Укажите адрес электронной почты, например ivanov@mail.ru"
BAD_PHONE = "Укажите номер мобильного телефона, например +7 916 123-45-67"
BAD_LOGIN = "Укажите адрес электронной почты или номер мобильного телефона"


def normalise_email(raw: str, field: str = "email") -> str:
    email = (raw or "").strip().lower()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise Invalid(BAD_EMAIL, field=field)
    return email


def normalise_mobile(raw: str, field: str = "phone") -> str:
    phone = normalise_phone(raw)
    if phone is None or len(re.sub(r"\D", "", raw or "")) > 11:
        raise Invalid(BAD_PHONE, field=field)
    return phone


def parse_login(raw: str, field: str = "login") -> tuple[str, str]:
    """('email', address) or ('phone', +7XXXXXXXXXX) of what a person typed as their login."""
    raw = (raw or "").strip()
    if not raw:
        raise Invalid(BAD_LOGIN, field=field)
    if "@" in raw:
        return "email", normalise_email(raw, field)
    try:
        return "phone", normalise_mobile(raw, field)
    except Invalid:
        raise Invalid(BAD_LOGIN, field=field) from None


def check_password(password: str, field: str = "password") -> str:
    if len(password or "") < MIN_PASSWORD:
        raise Invalid(f"Пароль должен содержать не менее {MIN_PASSWORD} символов", field=field)
    if len(password) > MAX_PASSWORD:
        raise Invalid(f"Пароль длиннее {MAX_PASSWORD} символов", field=field)
    if password.isdigit():
        raise Invalid("Пароль не должен состоять из одних цифр", field=field)
    return password


def clean_name(raw: str) -> str:
    return " ".join((raw or "").split())[:200]


def new_link_token() -> str:
    """The secret of a confirmation or reset link (URL-safe, 256 bits)."""
    return secrets.token_urlsafe(32)


def new_phone_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def secret_digest(key: str, *parts: str | int) -> bytes:
    """What is stored of a one-time secret: HMAC-SHA256 under the service key. A phone code is digested with
    its subscriber and purpose, so two subscribers' equal codes never collide."""
    return hmac.new(key.encode(), "\x1f".join(str(p) for p in parts).encode(), hashlib.sha256).digest()


def mask_phone(phone: str) -> str:
    """+79161234567 → +7 916 ***-**-67 (what a page may echo back)."""
    return f"{phone[:2]} {phone[2:5]} ***-**-{phone[-2:]}" if len(phone) == 12 else phone


# ---- letters and SMS (Russian) ------------------------------------------------------------------------

def _letter(to: str, subject: str, paragraphs: list[str], link: str | None, button: str = "") -> Letter:
    text = "\n\n".join(paragraphs[:1] + ([link] if link else []) + paragraphs[1:])
    html_parts = [f"<p>{escape(paragraphs[0])}</p>"]
    if link:
        html_parts.append(f'<p><a href="{escape(link)}">{escape(button or link)}</a></p>'
                          f'<p style="color:#5b6b7c;font-size:13px">{escape(link)}</p>')
    html_parts += [f"<p>{escape(p)}</p>" for p in paragraphs[1:]]
    html = ('<!doctype html><html lang="ru"><body style="font-family:sans-serif;line-height:1.5">'
            + "".join(html_parts) + "</body></html>")
    return Letter(to=to, subject=subject, text=text + "\n", html=html)


def confirmation_letter(to: str, organisation: str, link: str) -> Letter:
    return _letter(to, f"Подтвердите адрес — личный кабинет {organisation}", [
        f"Здравствуйте! Вы (или кто-то от вашего имени) зарегистрировались в личном кабинете абонента "
        f"{organisation}. Чтобы подтвердить адрес электронной почты, откройте ссылку:",
        "Ссылка действует 24 часа. Если вы не регистрировались, просто не обращайте внимания на это письмо.",
    ], link, "Подтвердить адрес")


def already_registered_letter(to: str, organisation: str, login_link: str, reset_link: str) -> Letter:
    return _letter(to, f"Вход в личный кабинет {organisation}", [
        f"Здравствуйте! Кто-то пытался зарегистрироваться в личном кабинете абонента {organisation} с вашим "
        f"адресом, но он уже зарегистрирован. Войти можно по ссылке:",
        f"Если вы забыли пароль, восстановите его: {reset_link}",
        "Если это были не вы, ничего делать не нужно.",
    ], login_link, "Войти в личный кабинет")


def reset_letter(to: str, organisation: str, link: str) -> Letter:
    return _letter(to, f"Восстановление пароля — личный кабинет {organisation}", [
        f"Здравствуйте! Для вашего адреса запрошено восстановление пароля в личном кабинете абонента "
        f"{organisation}. Чтобы задать новый пароль, откройте ссылку:",
        "Ссылка действует 1 час и срабатывает один раз. Если вы не запрашивали восстановление, "
        "не обращайте внимания на это письмо: пароль останется прежним.",
    ], link, "Задать новый пароль")


def _sms(body: str, organisation: str, limit: int = 70) -> str:
    """The SMS text with the organisation's name if it still fits one Cyrillic part."""
    signed = f"{body} {organisation}".strip()
    return signed if len(signed) <= limit else body


def phone_code_sms(code: str, organisation: str) -> str:
    return _sms(f"Код подтверждения: {code}. Никому его не сообщайте.", organisation)


def reset_code_sms(code: str, organisation: str) -> str:
    return _sms(f"Код для смены пароля: {code}. Никому его не сообщайте.", organisation)


def already_registered_sms(organisation: str) -> str:
    return _sms("Номер уже зарегистрирован. Забыли пароль? Восстановите его в кабинете.", organisation)
