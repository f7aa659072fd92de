"""ATOL Online (cloud fiscalization service) API v5 — the wire format as pure encode/decode functions, and what
its errors mean, in Russian. The I/O is `atol.py`.

Sources (read 2026-12-08; ATOL's own document «API АТОЛ Онлайн v5» (online.atol.ru/files/API_atol_online_v5.pdf)
was not in the index — the shapes below are as the following clients and samples have them; "(verify)" marks
what none of them shows directly):
- **V4DOC** = GitHub `skodnik/atol-online` commit `1b76e8d5c264dbeaae8784b34b9c79c07fc18d34`,
  `src/Api/StatusErrorConstants.php`: the service's error table transcribed from «API_atol_online_v4.pdf (версия
  документа 5.15) стр. 63» — HTTP status, code, text, the document status; and `data/samples/response/*.json`
  (commit `42c236da…`/`1b76e8d5…`): getToken, registration, report done/fail answers as the service sent them.
- **V5CS** = GitHub `ili/atol-online` (C#, «AtolOnline.Unofficial») commit
  `1788c3da80f6bb2e4a2a75ec425eeb40648f791a`, `AtolOnline/V5/…`: v5 base `https://online.atol.ru/possystem/v5`,
  `POST getToken` {login, pass}, `POST {group_code}/{operation}` and `GET {group_code}/report/{uuid}` with the
  header `Token`; v5 item fields (Entities/Item.cs: `payment_object` an integer = tag 1212, `measure` an integer
  = tag 2108, `payment_method` a name = tag 1214, `vat.type`); sno names (Enums/SNO.cs); report payload
  (ReportPayload.cs, same commit family `65f2d3f9…`).
- VAT types `vat5`, `vat7`, `vat105`, `vat107`, `vat22`, `vat122` (rates of 2025–2026: Federal Law 425-FZ of
  28.11.2025, Tax Code art. 164 p. 3 — 22 % from 01.01.2026) are not in V5CS; seen in ATOL-speaking integrations
  in the index (1C code mapping 22 % → "vat22", 22/122 → "vat122") (verify in ATOL's v5 document).

Protocol:
- `POST {api}/getToken` {"login", "pass"} → 200 {"token", "error": null, "timestamp"}; the token lives 24 hours
  (V4DOC code 11 «срок действия 24 часа»); a wrong login → 401 code 12.
- `POST {api}/{group_code}/sell` (or `sell_refund`), header `Token: <token>`, body {"external_id", "timestamp":
  "dd.MM.yyyy HH:mm:ss", "receipt": {"client": {"email"|"phone"}, "company": {"email", "sno", "inn",
  "payment_address"}, "items": [{"name", "price", "quantity", "sum", "measure", "payment_method",
  "payment_object", "vat": {"type"}}], "payments": [{"type": 1, "sum"}], "total"}} → 200 {"uuid", "status":
  "wait", "error": null, "timestamp"}. Payment type 1 = безналичными (tag 1081) (verify the v5 numbering).
- **A repeated external_id** (V4DOC `INCOMING_EXTERNAL_ID_ALREADY_EXISTS`): HTTP 400, `error.code` 33,
  text «В системе существует чек с external_id : {0} и group_code: {1}», document status "wait"; the answer
  carries the `uuid` of the document registered first (a sample answer quoted in an ATOL client in the index:
  `{"uuid": …, "status": "wait", "error": {"code": 33, "error_id": …, "text": …, "type": "system"}}`) — so a
  resend after a lost answer just learns the uuid (verify that v5 answers the same).
- `GET {api}/{group_code}/report/{uuid}` → {"uuid", "status": "wait" | "done" | "fail", "payload":
  {"fiscal_receipt_number", "shift_number", "receipt_datetime", "total", "fn_number", "ecr_registration_number",
  "fiscal_document_number", "fiscal_document_attribute", "fns_site", "ofd_inn", "ofd_receipt_url"} | null,
  "error": {"code", "text", "type"} | null, "timestamp", …}; code 34 «Состояние чека не найдено» = not yet.
- Errors are {"error": {"error_id", "code", "text", "type"}}: 401 codes 10 (token not recognised) and 11 (token
  expired) → get a new token and repeat once; 12, 14, 20, 21 → the settings are wrong; 30, 31, 32, 40, 41 → the
  request is refused for good; 500 / 50 / 1 / timeouts → the outcome is unknown: repeat with the same
  external_id later. A document `fail`ed by the register carries `error.type` "agent" / "driver" / "timeout"
  and ATOL's own (Russian) text (sample responseFailFiscalization-02.json: code 2009, INN mismatch).

Amounts are JSON numbers in roubles with at most 2 decimals (V5CS: «дробная часть не более 2 знаков»). They are
sent from kopeck-exact `Decimal`s through `float`: a value below 2^53 / 100 with two decimals round-trips exactly
(Python prints the shortest repr), and the service's maximum is 42 949 672.95; answers are read with
`parse_float=Decimal`. No rounding happens here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from aquabill.cash.cloud import CloudReceipt

OPERATIONS = {"sale": "sell", "refund": "sell_refund"}  # our operation → the service's (tag 1054: 1 / 2)
# neutral VAT name → ATOL `vat.type` (V5CS Enums/VatTypes.cs; the 2025–26 rates: see the module's docstring)
VAT_TYPES = {"none": "none", "0": "vat0", "5": "vat5", "7": "vat7", "10": "vat10", "20": "vat20", "22": "vat22",
             "5/105": "vat105", "7/107": "vat107", "10/110": "vat110", "20/120": "vat120", "22/122": "vat122"}
# tag 1214 → ATOL `payment_method` (V5CS Enums/PaymentMethod.cs)
PAYMENT_METHODS = {1: "full_prepayment", 2: "prepayment", 3: "advance", 4: "full_payment", 5: "partial_payment",
                   6: "credit", 7: "credit_payment"}
ELECTRONIC = 1  # `payments[].type`: безналичный расчёт (tag 1081)
TIMESTAMP = "%d.%m.%Y %H:%M:%S"
# what the service's codes mean (V4DOC), in words for staff
CODE_TEXT = {
    0: "неизвестная ошибка АТОЛ Онлайн",
    1: "сервер АТОЛ Онлайн не смог обработать чек",
    10: "АТОЛ Онлайн не распознал токен",
    11: "токен АТОЛ Онлайн истёк",
    12: "неверный логин или пароль АТОЛ Онлайн",
    13: "АТОЛ Онлайн отклонил запрос: ошибка в данных",
    14: "пользователь АТОЛ Онлайн заблокирован: обратитесь в поддержку АТОЛ Онлайн",
    20: "код группы касс не соответствует логину АТОЛ Онлайн",
    21: "группа касс не поддерживает версию протокола v5 (ФФД 1.2)",
    30: "АТОЛ Онлайн не нашёл чек по идентификатору",
    31: "операция не поддерживается АТОЛ Онлайн",
    32: "АТОЛ Онлайн отклонил чек: ошибка в данных чека",
    33: "чек с этим идентификатором уже есть в АТОЛ Онлайн",
    34: "чек ещё не обработан",
    40: "АТОЛ Онлайн отклонил запрос как некорректный",
    41: "АТОЛ Онлайн отклонил тип содержимого запроса",
    50: "ошибка сервера АТОЛ Онлайн",
}
TOKEN_CODES = {10, 11}  # get a new token and repeat once
SETTINGS_CODES = {12, 14, 20, 21}  # the settings must be fixed
UNKNOWN_CODES = {0, 1, 50}  # the outcome is not known
DUPLICATE = 33
NOT_YET = 34


class AtolError(Exception):
    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.message, self.code = message, code


class AtolUnknown(AtolError):
    """No answer, a server error, a garbled answer: the outcome is unknown — repeat with the same external_id."""


class AtolRefused(AtolError):
    """The service refused the request or the register did not register the receipt: it fails for good."""


class AtolSettings(AtolError):
    """The login, password or group is wrong: nothing goes through until the settings are fixed."""


class AtolTokenRejected(AtolSettings):
    """The token is not (or no longer) valid: a new one is needed."""


@dataclass(frozen=True, slots=True)
class Company:
    inn: str
    email: str
    sno: str
    payment_address: str


@dataclass(frozen=True, slots=True)
class Registration:
    uuid: str
    duplicate: bool = False  # the external_id was known: this is the first document's uuid


@dataclass(frozen=True, slots=True)
class FiscalProof:
    fn_number: str  # ФН (tag 1041)
    fd_number: int  # ФД (1040)
    fiscal_sign: int  # ФП / ФПД (1077)
    fiscal_at: datetime  # 1012
    total: Decimal  # 1020
    shift_number: int | None
    receipt_number: int | None
    payload: dict[str, Any]  # everything the service said, for the record (OFD link, registration number …)


@dataclass(frozen=True, slots=True)
class Report:
    uuid: str
    status: str  # wait | done | fail
    proof: FiscalProof | None = None
    error: AtolRefused | None = None


def _number(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)


def format_timestamp(at: datetime) -> str:
    return at.strftime(TIMESTAMP)


def parse_timestamp(raw: Any, zone: tzinfo) -> datetime | None:
    """A "dd.MM.yyyy HH:mm:ss" of the service, taken as the organisation's local time (verify: ATOL gives no
    zone; the register's clock is set to its own local time)."""
    try:
        return datetime.strptime(str(raw), TIMESTAMP).replace(tzinfo=zone)
    except ValueError:
        return None


def encode_token_request(login: str, password: str) -> bytes:
    return json.dumps({"login": login, "pass": password}, ensure_ascii=False).encode()


def encode_receipt(external_id: str, receipt: CloudReceipt, company: Company, at: datetime) -> dict[str, Any]:
    """The body of `sell` / `sell_refund` (the same every time for one request: a resend repeats it)."""
    client = {"email": receipt.email} if receipt.email else {"phone": receipt.phone}
    items = [{"name": i.name[:128], "price": _number(i.price), "quantity": _number(i.quantity), "sum": _number(i.sum),
              "measure": i.measure, "payment_method": PAYMENT_METHODS[i.method], "payment_object": i.subject,
              "vat": {"type": VAT_TYPES[i.vat]}} for i in receipt.items]
    return {"external_id": external_id, "timestamp": format_timestamp(at), "receipt": {
        "client": client,
        "company": {"email": company.email, "sno": company.sno, "inn": company.inn,
                    "payment_address": company.payment_address},
        "items": items, "payments": [{"type": ELECTRONIC, "sum": _number(receipt.total)}],
        "total": _number(receipt.total)}}


def dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def _loads(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"null", parse_float=Decimal)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def describe(code: Any, text: Any, kind: Any = "") -> str:
    """An error of the service in words: ours for a known code, then the service's own text."""
    known = CODE_TEXT.get(code) if isinstance(code, int) else None
    theirs = str(text or "").strip()
    if kind in ("agent", "driver"):
        base = "Касса не зарегистрировала чек"
    elif kind == "timeout":
        base = "Чек не обработан: истекло время ожидания в очереди АТОЛ Онлайн"
    else:
        base = (known or "Ошибка АТОЛ Онлайн")
        base = base[0].upper() + base[1:]
    tail = f": {theirs}" if theirs and theirs.rstrip(".") != (known or "").rstrip(".") else ""
    return f"{base}{tail}" + (f" (код {code})" if code is not None and code != "" else "")


def error_of(status: int, body: bytes) -> AtolError:
    """What a non-200 answer (or a 200 with an error) means."""
    data = _loads(body)
    error = data.get("error") if isinstance(data.get("error"), dict) else {}
    code = error.get("code")
    code = int(code) if isinstance(code, int | Decimal) else None
    message = describe(code, error.get("text"), error.get("type"))
    if status >= 500 or status == 429 or code in UNKNOWN_CODES or (code is None and status not in (400, 401, 403)):
        return AtolUnknown(message if code is not None else f"АТОЛ Онлайн не смог обработать запрос (HTTP {status})",
                           code=code)
    if code in TOKEN_CODES:
        return AtolTokenRejected(message, code=code)
    if code in SETTINGS_CODES or status in (401, 403):
        return AtolSettings(message, code=code)
    return AtolRefused(message, code=code)


def decode_token(status: int, body: bytes) -> str:
    data = _loads(body)
    token = data.get("token")
    if status == 200 and not data.get("error") and isinstance(token, str) and token:
        return token
    if status == 200:
        error = error_of(400, body) if data.get("error") else AtolUnknown("АТОЛ Онлайн не выдал токен")
        raise error
    raise error_of(status, body)


def decode_registration(status: int, body: bytes) -> Registration:
    """The answer to `sell` / `sell_refund`: the document's uuid (also for a repeated external_id)."""
    data = _loads(body)
    error = data.get("error") if isinstance(data.get("error"), dict) else None
    uuid = data.get("uuid")
    if error is not None and error.get("code") == DUPLICATE:
        if isinstance(uuid, str) and uuid:
            return Registration(uuid, duplicate=True)
        raise AtolRefused(describe(DUPLICATE, error.get("text"), "") + ", но не сообщил его номер: проверьте чек в "
                          "личном кабинете АТОЛ Онлайн", code=DUPLICATE)
    if status == 200 and error is None and isinstance(uuid, str) and uuid:
        return Registration(uuid)
    if status == 200 and error is None:
        raise AtolUnknown("АТОЛ Онлайн ответил без идентификатора чека")
    raise error_of(status if status != 200 else 400, body)


def decode_report(status: int, body: bytes, zone: tzinfo) -> Report:
    """The document's state: wait, done (with the fiscal proof) or fail (with the reason)."""
    data = _loads(body)
    error = data.get("error") if isinstance(data.get("error"), dict) else None
    state, uuid = data.get("status"), str(data.get("uuid") or "")
    if error is not None and error.get("code") == NOT_YET:
        return Report(uuid, "wait")
    if status != 200:
        raise error_of(status, body)
    if state == "wait":
        return Report(uuid, "wait")
    if state == "fail":
        return Report(uuid, "fail", error=AtolRefused(
            describe(error.get("code"), error.get("text"), error.get("type")) if error else
            "АТОЛ Онлайн не зарегистрировал чек", code=error.get("code") if error else None))
    if state == "done":
        return Report(uuid, "done", proof=decode_payload(data.get("payload"), zone))
    raise AtolUnknown("АТОЛ Онлайн ответил непонятным состоянием чека")


def decode_payload(payload: Any, zone: tzinfo) -> FiscalProof:
    if not isinstance(payload, dict):
        raise AtolUnknown("АТОЛ Онлайн не прислал реквизиты чека")
    try:
        fn, fd, sign = str(payload["fn_number"]), int(payload["fiscal_document_number"]), \
            int(payload["fiscal_document_attribute"])
        total = Decimal(str(payload["total"]))
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise AtolUnknown("АТОЛ Онлайн прислал неполные реквизиты чека") from exc
    at = parse_timestamp(payload.get("receipt_datetime"), zone)
    if not fn.isdigit() or len(fn) != 16 or fd <= 0 or not 0 <= sign < 2 ** 63 or at is None:
        raise AtolUnknown("АТОЛ Онлайн прислал неверные реквизиты чека")

    def opt_int(key: str) -> int | None:
        value = payload.get(key)
        return int(value) if isinstance(value, int | Decimal) else None

    plain = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in payload.items()}
    return FiscalProof(fn, fd, sign, at, total, opt_int("shift_number"), opt_int("fiscal_receipt_number"), plain)
