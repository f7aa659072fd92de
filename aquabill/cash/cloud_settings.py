"""The tenant's cloud fiscalization settings (`cloud_fiscal_settings`, t0031, one row) as staff edit them (page
`/acquiring/cloud-fiscal`, API `/api/cloud-fiscal/settings`). Rules + SQL; never commits.

The service's password arrives here already sealed (the platform seals it with the app's secret key,
`platform/secret_box.py`) and never leaves: the view says only whether one is set and when it changed; the
audit log never holds it (t0031 hides the column).

What the receipt needs from the organisation (ATOL Online `receipt.company`, FFD 1.2 tags; FNS order
ЕД-7-20/662@): the INN (tag 1018), the e-mail the receipt is sent from (1117), the settlement place — for an
online payment the site's address (1187), the tax system (1055, the service's `sno` names).

Never both receipts: cloud fiscalization cannot be switched on while ЮKassa sends the receipt data with the
payment (`acquiring_settings.send_receipt`), and the other way round (`subscribers.acquiring_settings`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid

PROVIDERS = {"atol_online": "АТОЛ Онлайн"}
# the tax systems by the service's names (ATOL Online API v5 `company.sno`) → tag 1055
SNO = {"osn": "ОСН — общая", "usn_income": "УСН «доходы»", "usn_income_outcome": "УСН «доходы минус расходы»",
       "esn": "ЕСХН", "patent": "Патентная система"}
GROUP_RE = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
LOOPBACK = ("http://127.0.0.1", "http://localhost", "http://[::1]")
BOTH_RECEIPTS = ("Чеки по онлайн-платежам уже передаёт ЮKassa (флажок «Передавать данные чека (54-ФЗ) вместе с "
                 "платежом» в настройках ЮKassa). Снимите его, чтобы включить облачную фискализацию: иначе на один "
                 "платёж будет два чека")
BOTH_RECEIPTS_YOOKASSA = ("Чеки по онлайн-платежам пробивает облачная касса (Оплата → Облачная фискализация). Чтобы "
                          "ЮKassa передавала данные чека, сначала выключите облачную фискализацию: иначе на один платёж "
                          "будет два чека")
COLUMNS = ("enabled", "provider", "api_url", "login", "password", "password_changed_at", "group_code", "inn", "email",
           "payment_address", "sno", "updated_at")

# INN control digits: FNS order ММВ-7-6/435@ of 29.06.2012 (10 digits for an organisation, 12 for a sole trader;
# each control digit = Σ digit × weight mod 11 mod 10)
_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


@dataclass(frozen=True, slots=True)
class CloudConfig:
    """What the runner needs (the password still sealed)."""

    api_url: str
    login: str
    password: str
    group_code: str
    inn: str
    email: str
    payment_address: str
    sno: str
    enabled: bool


def inn_ok(inn: str) -> bool:
    def control(digits: str, weights: tuple[int, ...]) -> int:
        return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10

    if not inn.isascii() or not inn.isdigit() or len(inn) not in (10, 12) or inn.startswith("00"):
        return False
    if len(inn) == 10:
        return control(inn[:9], _INN10) == int(inn[9])
    return control(inn[:10], _INN11) == int(inn[10]) and control(inn[:11], _INN12) == int(inn[11])


def check_api_url(url: str) -> str:
    """The service's API address: https, or http on this machine (a local fake for development)."""
    url = url.strip().rstrip("/")
    if not url:
        raise Invalid("Укажите адрес API, например https://online.atol.ru/possystem/v5", field="api_url")
    if len(url) > 300 or any(c.isspace() for c in url) or not (
            url.startswith("https://") or any(url.startswith(p + "/") or url.startswith(p + ":") for p in LOOPBACK)):
        raise Invalid("Адрес API: https://…, например https://online.atol.ru/possystem/v5", field="api_url")
    return url


def check_values(values: dict[str, Any]) -> dict[str, Any]:
    """The settings as typed, checked and trimmed (Invalid with the field at fault)."""
    out = {"api_url": check_api_url(str(values.get("api_url", ""))),
           "login": str(values.get("login", "")).strip(), "group_code": str(values.get("group_code", "")).strip(),
           "inn": re.sub(r"\s+", "", str(values.get("inn", ""))), "email": str(values.get("email", "")).strip().lower(),
           "payment_address": str(values.get("payment_address", "")).strip(), "sno": str(values.get("sno", "osn")),
           "enabled": bool(values.get("enabled")), "provider": str(values.get("provider", "atol_online"))}
    if out["provider"] not in PROVIDERS:
        raise Invalid("Поддерживается только АТОЛ Онлайн", field="provider")
    if len(out["login"]) > 100:
        raise Invalid("Логин: не длиннее 100 символов", field="login")
    if out["group_code"] and not GROUP_RE.match(out["group_code"]):
        raise Invalid("Код группы касс: латинские буквы, цифры, «_», «-», например v5-online-atol-ru_5179",
                      field="group_code")
    if out["inn"] and not inn_ok(out["inn"]):
        raise Invalid(f"ИНН «{out['inn']}»: 10 или 12 цифр с верным контрольным числом", field="inn")
    if out["email"] and (len(out["email"]) > 64 or not EMAIL_RE.match(out["email"])):  # tag 1117: ≤ 64
        raise Invalid("E-mail отправителя чеков, например kassa@vodokanal.ru", field="email")
    if len(out["payment_address"]) > 256:  # tag 1187: ≤ 256
        raise Invalid("Место расчётов: не длиннее 256 символов", field="payment_address")
    if out["sno"] not in SNO:
        raise Invalid("Неизвестная система налогообложения", field="sno")
    return out


async def load(conn: AsyncConnection) -> dict[str, Any] | None:
    r = (await conn.execute(text(f"SELECT {', '.join(COLUMNS)} FROM cloud_fiscal_settings WHERE id = 1"))).first()
    return dict(r._mapping) if r else None


async def config(conn: AsyncConnection) -> CloudConfig | None:
    """The settings the runner works with, or None while they are not complete (no password, group or INN)."""
    r = await load(conn)
    if r is None or not (r["api_url"] and r["login"] and r["password"] and r["group_code"] and r["inn"]):
        return None
    return CloudConfig(r["api_url"], r["login"], r["password"], r["group_code"], r["inn"], r["email"],
                       r["payment_address"], r["sno"], r["enabled"])


def view(row: dict[str, Any] | None, default_api_url: str) -> dict[str, Any]:
    r = row or {}
    return {"enabled": r.get("enabled", False), "provider": r.get("provider", "atol_online"),
            "api_url": r.get("api_url") or default_api_url, "login": r.get("login", ""),
            "password_set": bool(r.get("password")), "password_changed_at": r.get("password_changed_at"),
            "group_code": r.get("group_code", ""), "inn": r.get("inn", ""), "email": r.get("email", ""),
            "payment_address": r.get("payment_address", ""), "sno": r.get("sno", "osn"),
            "updated_at": r.get("updated_at")}


async def settings_view(conn: AsyncConnection, default_api_url: str) -> dict[str, Any]:
    return view(await load(conn), default_api_url)


async def yookassa_receipts(conn: AsyncConnection) -> bool:
    """ЮKassa sends the receipt data with each payment (its setting; on by default)."""
    return bool((await conn.execute(text(
        "SELECT coalesce((SELECT send_receipt FROM acquiring_settings WHERE id = 1), true)"))).scalar())


async def cloud_enabled(conn: AsyncConnection) -> bool:
    """For the ЮKassa settings: refuse its receipts while this is true (`BOTH_RECEIPTS`)."""
    return bool((await conn.execute(text(
        "SELECT EXISTS (SELECT 1 FROM cloud_fiscal_settings WHERE id = 1 AND enabled)"))).scalar())


async def save(conn: AsyncConnection, values: dict[str, Any], *, sealed_password: str | None,
               default_api_url: str) -> dict[str, Any]:
    """Check and store the settings; `sealed_password` None keeps the stored password."""
    v = check_values(values)
    current = await load(conn)
    if v["enabled"]:
        missing = [name for key, name in (("login", "логин"), ("group_code", "код группы касс"), ("inn", "ИНН"),
                                          ("email", "e-mail отправителя"), ("payment_address", "место расчётов"))
                   if not v[key]]
        if not (sealed_password or (current and current["password"])):
            missing.append("пароль")
        if missing:
            raise Invalid(f"Чтобы включить облачную фискализацию, укажите: {', '.join(missing)}", field="enabled")
        if await yookassa_receipts(conn):
            raise Invalid(BOTH_RECEIPTS, field="enabled")
    params = {**v, "password": sealed_password}
    pw = "CAST(:password AS text)"
    await conn.execute(text(
        "INSERT INTO cloud_fiscal_settings(id, enabled, provider, api_url, login, password, password_changed_at, "
        "group_code, inn, email, payment_address, sno, updated_at) VALUES (1, :enabled, :provider, :api_url, :login, "
        f"coalesce({pw}, ''), CASE WHEN {pw} IS NULL THEN NULL ELSE now() END, :group_code, :inn, :email, "
        ":payment_address, :sno, now()) "
        "ON CONFLICT (id) DO UPDATE SET enabled = excluded.enabled, provider = excluded.provider, "
        "api_url = excluded.api_url, login = excluded.login, group_code = excluded.group_code, inn = excluded.inn, "
        "email = excluded.email, payment_address = excluded.payment_address, sno = excluded.sno, updated_at = now(), "
        f"password = coalesce({pw}, cloud_fiscal_settings.password), "
        f"password_changed_at = CASE WHEN {pw} IS NULL THEN cloud_fiscal_settings.password_changed_at "
        "ELSE now() END"), params)
    return await settings_view(conn, default_api_url)
