"""Pure rules of an online payment's 54-FZ receipt data and of what the subscriber is told.

Receipt lines: one per service, from the account's debt by month of origin × service, in the order the
allocation covers it (oldest month first, then the tenant's service order — `billing_core.payments.allocation`
step 5): the account's advance covers the oldest debts first (as the allocation does with it), the payment
covers what is left, then the penalty balance (a line "Пени"), and whatever is still left is an advance
(payment mode `advance`, subject `payment`: FFD tags 1214 = 3 «аванс», 1212 = 10 «платёж»). The lines always
add up to the payment's amount exactly (the acquirer refuses a receipt that does not).

VAT (`VAT_RATES`, neutral names; the adapter maps them to the acquirer's codes): the tenant's setting, per
service when given. The default is "none" («без НДС»): right for an organisation on the simplified tax system
(Tax Code art. 346.11 p. 2; with income up to 60 million roubles a year it is also exempt from VAT under
art. 145 p. 1 as in force from 2025) and for managing organisations, HOAs and housing cooperatives reselling
utilities bought from a resource supplier (art. 149 p. 3 subp. 29). A resource-supplying organisation on the
general tax system that sells water to residents directly charges VAT at the general rate (art. 164 p. 3:
22 % from 2026): such a tenant sets "22" (advances then go as "22/122", art. 164 p. 4). Penalties are not
a sale: their line is always «без НДС». The tenant's accountant decides; the setting is on the page /acquiring.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from aquabill.base.errors import Invalid
from aquabill.billing_core.payments.cover import cover
from aquabill.billing_core.registry.phones import normalise_phone
from aquabill.subscribers.acquirer import Receipt, ReceiptItem

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MIN_AMOUNT = Decimal("1.00")  # the smallest payment acquirers take (SBP via YooKassa: 1 … 700 000 ₽)
MAX_AMOUNT = Decimal("700000.00")

VAT_RATES = {
    "none": "без НДС", "0": "НДС 0 %", "5": "НДС 5 %", "7": "НДС 7 %", "10": "НДС 10 %", "20": "НДС 20 %",
    "22": "НДС 22 %", "5/105": "НДС 5/105", "7/107": "НДС 7/107", "10/110": "НДС 10/110", "20/120": "НДС 20/120",
    "22/122": "НДС 22/122",
}
DEFAULT_VAT = "none"
PENALTY_TEXT = "Пени за несвоевременную оплату"
ADVANCE_TEXT = "Аванс за коммунальные услуги"
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
NEED_CONTACT = "Укажите e-mail или номер телефона: на него придёт чек об оплате (54-ФЗ)"
BAD_CONTACT = "Укажите e-mail (например ivanov@mail.ru) или номер мобильного телефона (+7 916 123-45-67)"

# the acquirers' cancellation reasons (YooKassa's list) in words for the payer
CANCEL_REASONS = {
    "3d_secure_failed": "платёж не подтверждён кодом из банка (3-D Secure)",
    "call_issuer": "банк отклонил платёж: обратитесь в банк, выпустивший карту",
    "canceled_by_merchant": "платёж отменён организацией",
    "card_expired": "истёк срок действия карты",
    "country_forbidden": "оплата картой этой страны недоступна",
    "expired_on_capture": "истёк срок подтверждения платежа",
    "expired_on_confirmation": "платёж не был подтверждён вовремя",
    "fraud_suspected": "платёж заблокирован банком из-за подозрения в мошенничестве",
    "general_decline": "банк отклонил платёж без объяснения причин",
    "identification_required": "кошелёк не идентифицирован: превышен лимит",
    "insufficient_funds": "недостаточно средств",
    "internal_timeout": "технический сбой у платёжной системы",
    "invalid_card_number": "неверный номер карты",
    "invalid_csc": "неверный код CVC/CVV",
    "issuer_unavailable": "банк, выпустивший карту, недоступен",
    "payment_method_limit_exceeded": "превышен лимит платежей",
    "payment_method_restricted": "операции этим способом оплаты запрещены",
    "permission_revoked": "разрешение на списание отозвано",
}


@dataclass(frozen=True, slots=True)
class DueLine:
    service: str  # service code
    service_name: str
    debt: Decimal  # > 0


@dataclass(frozen=True, slots=True)
class Due:
    """What an account owes, as the allocation would cover it: debts in order, penalties, its advance."""

    lines: tuple[DueLine, ...]
    penalty: Decimal = ZERO  # the penalty balance (≥ 0)
    advance: Decimal = ZERO  # advance and credits not used yet (≥ 0)

    @property
    def balance(self) -> Decimal:
        """Debts + penalties − advance: positive owed, negative paid ahead."""
        return sum((x.debt for x in self.lines), ZERO) + max(self.penalty, ZERO) - max(self.advance, ZERO)

    @property
    def total(self) -> Decimal:
        """The sum to pay, not below zero."""
        return max(self.balance, ZERO)

    @property
    def credit(self) -> Decimal:
        """What is paid ahead (an advance left after all debts), not below zero."""
        return max(-self.balance, ZERO)


def check_amount(amount: Decimal, field: str = "amount") -> Decimal:
    if not amount.is_finite() or amount != amount.quantize(CENT):
        raise Invalid("Сумма: с точностью до копеек, например 1500,00", field=field)
    if amount < MIN_AMOUNT:
        raise Invalid(f"Сумма платежа — не меньше {MIN_AMOUNT:.2f} ₽".replace(".", ","), field=field)
    if amount > MAX_AMOUNT:
        raise Invalid("Сумма одного онлайн-платежа — не больше 700 000,00 ₽", field=field)
    return amount.quantize(CENT)


def parse_contact(raw: str, field: str = "contact") -> tuple[str | None, str | None]:
    """(e-mail, None) or (None, phone as +7XXXXXXXXXX) of what the payer typed for the receipt."""
    raw = (raw or "").strip()
    if not raw:
        raise Invalid(NEED_CONTACT, field=field)
    if "@" in raw:
        email = raw.lower()
        if len(email) > 254 or not EMAIL_RE.match(email):
            raise Invalid(BAD_CONTACT, field=field)
        return email, None
    phone = normalise_phone(raw)
    if phone is None or len(re.sub(r"\D", "", raw)) > 11:
        raise Invalid(BAD_CONTACT, field=field)
    return None, phone


def advance_vat(vat: str) -> str:
    """The rate of an advance line: the calculated rate (20 → 20/120) where there is one."""
    return f"{vat}/{100 + int(vat)}" if vat in ("5", "7", "10", "20", "22") else vat


def receipt_items(due: Due, amount: Decimal, vat_for: Callable[[str], str]) -> tuple[ReceiptItem, ...]:
    """The receipt's lines of a payment of `amount` to an account owing `due` (see the module's rule).
    `vat_for(service_code)` gives a service's rate ("" for the advance line: the default rate)."""
    paid = cover([line.debt for line in due.lines], due.penalty, due.advance, amount)
    by_service: dict[str, list] = {}  # code → [name, sum], in the order first covered
    for line, part in zip(due.lines, paid.debts, strict=True):
        if part > 0:
            by_service.setdefault(line.service, [line.service_name, ZERO])[1] += part
    items = [ReceiptItem(_cut(name), total, vat_for(code)) for code, (name, total) in by_service.items()]
    if paid.penalty > 0:
        items.append(ReceiptItem(PENALTY_TEXT, paid.penalty, "none", "full_payment", "another"))
    if paid.advance > 0:
        items.append(ReceiptItem(ADVANCE_TEXT, paid.advance, advance_vat(vat_for("")), "advance", "payment"))
    return tuple(items)


def refund_items(receipt: Receipt, amount: Decimal) -> tuple[ReceiptItem, ...]:
    """The lines of a refund receipt of `amount`: taken from the payment's lines, the last first (an advance
    is returned before services paid for), in the payment's order."""
    left, taken = amount, []
    for item in reversed(receipt.items):
        part = min(item.amount * item.quantity, left)
        if part > 0:
            taken.append(ReceiptItem(item.description, part, item.vat, item.payment_mode, item.payment_subject))
            left -= part
    return tuple(reversed(taken))


def build_receipt(items: Sequence[ReceiptItem], email: str | None, phone: str | None,
                  tax_system: int | None = None) -> Receipt:
    return Receipt(tuple(items), email, phone.lstrip("+") if phone else None, tax_system)


def cancel_text(party: str, reason: str) -> str:
    """Why a payment was canceled, in Russian for the payer."""
    text = CANCEL_REASONS.get(reason)
    if text:
        return text[0].upper() + text[1:]
    return "Платёж отменён" + (f" (причина: {reason})" if reason else "")


def mask_contact(contact: str | None) -> str:
    """A receipt contact as a public page may show it: `iv***@mail.ru`, `+7 916 ***-**-67`."""
    if not contact:
        return ""
    if "@" in contact:
        name, _, domain = contact.partition("@")
        return f"{name[:2]}***@{domain}"
    return f"{contact[:2]} {contact[2:5]} ***-**-{contact[-2:]}" if len(contact) == 12 else "***"


def _cut(text: str, limit: int = 128) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
