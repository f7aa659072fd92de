"""A receipt (ЕПД) of an account for a month: what was charged by service (volume, tariff), recalculated and
paid, the debt carried over, penalties on their own lines, the sum to pay and its payment QR string.

The money columns are the turnover statement's for that account and month (balances.turnover), so a
receipt reconciles to the kopeck with charges and payments: per service closing = opening + charged +
recalculated − paid; the account's advance is its own line (a credit, negative). Penalties come from the
penalty balance (charged, storno, paid by allocations of kind 'penalty'), never mixed into the services.
To pay = (Σ closing of the services and the advance) + the penalty balance, not below zero.
The due date and its text come from the dated rule of art. 155 part 1 (`penalties.rules.payment_due`, the
one the penalty run uses) with the tenant's contract day (`payment_due_day`) where that rule allows one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import NotFound
from aquabill.billing_core.money import money as to_money
from aquabill.billing_core.money import volume as to_volume
from aquabill.billing_core.payments.balances import TurnoverScope, turnover
from aquabill.billing_core.payments.qr import QrError, build_payment_string
from aquabill.billing_core.penalties.rules import PaymentDue, payment_due
from aquabill.billing_core.penalties.store import load_settings as load_penalty_settings
from aquabill.billing_core.periods import Period
from aquabill.billing_core.receipts.requisites import PayeeRequisites, load_requisites
from aquabill.billing_core.registry import account_card

ZERO = Decimal("0.00")
BILLED = ("meter", "norm", "average", "substitute", "common")  # methods of the month run: volume × tariff
MONEY = ("opening", "charged", "recalculated", "paid", "closing")


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    service: str  # its name
    code: str | None
    volume: Decimal | None  # m³ billed this month (the month run's rows)
    tariff: Decimal | None  # when one tariff applied the whole month
    opening: Decimal
    charged: Decimal
    recalculated: Decimal
    paid: Decimal
    closing: Decimal


@dataclass(slots=True)
class Receipt:
    period: Period
    account: dict[str, Any]
    payee: PayeeRequisites | None
    lines: list[ReceiptLine]
    totals: dict[str, Decimal]
    penalty: dict[str, Decimal]
    due: Decimal
    pay_by: date | None = None  # the last day to pay without delay
    pay_by_text: str = ""  # what the receipt says about it
    qr: str | None = None  # the GOST R 56042 payment string
    qr_problem: str | None = None  # why there is none (no requisites, …)

    def as_dict(self) -> dict[str, Any]:
        def money(d: dict[str, Decimal]) -> dict[str, str]:
            return {k: str(v) for k, v in d.items()}

        return {
            "period": str(self.period), "account": {k: str(v) if isinstance(v, Decimal) else v
                                                    for k, v in self.account.items()},
            "payee": self.payee.as_dict() if self.payee else None,
            "lines": [{k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(line).items()}
                      for line in self.lines],
            "totals": money(self.totals), "penalty": money(self.penalty), "due": str(self.due),
            "pay_by": self.pay_by.isoformat() if self.pay_by else None, "pay_by_text": self.pay_by_text,
            "qr": self.qr, "qr_problem": self.qr_problem,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Receipt:
        """The receipt back from `as_dict()` (e.g. an issued receipt's snapshot): Decimals and dates restored;
        keys it does not know (an issue's own data) are ignored."""
        def dec(value: Any) -> Decimal | None:
            return None if value is None else Decimal(str(value))

        def money(d: dict[str, Any]) -> dict[str, Decimal]:
            return {k: Decimal(str(v)) for k, v in d.items()}

        account = dict(data["account"])
        if account.get("area_m2") is not None:
            account["area_m2"] = Decimal(str(account["area_m2"]))
        lines = [ReceiptLine(x["service"], x["code"], dec(x["volume"]), dec(x["tariff"]),
                             **{k: Decimal(str(x[k])) for k in MONEY}) for x in data["lines"]]
        return cls(Period.parse(data["period"]), account,
                   PayeeRequisites(**data["payee"]) if data.get("payee") else None, lines, money(data["totals"]),
                   money(data["penalty"]), Decimal(str(data["due"])),
                   pay_by=date.fromisoformat(data["pay_by"]) if data.get("pay_by") else None,
                   pay_by_text=data.get("pay_by_text") or "", qr=data.get("qr"), qr_problem=data.get("qr_problem"))


def _d(value: Any) -> Decimal:
    return to_money(str(value or 0))


def pay_by_text(due: PaymentDue) -> str:
    """The receipt's sentence on the due date, from the dated rule that gave it."""
    basis = "срок по договору" if due.by_contract else due.rule.source
    return (f"Оплатите до {due.on:%d.%m.%Y} включительно: до {due.on.day}-го числа месяца, следующего "
            f"за расчётным ({basis}).")


# the charges' volume and tariff by service (the month run's rows), for the accounts of {cond}
BILLED_SQL = """
    SELECT account_id, service_id, sum(volume) FILTER (WHERE method = ANY(:billed)) AS volume,
           CASE WHEN count(DISTINCT tariff) FILTER (WHERE method = ANY(:billed)) = 1
                THEN min(tariff) FILTER (WHERE method = ANY(:billed)) END AS tariff
    FROM charges WHERE {cond} AND period = :p GROUP BY 1, 2"""
NO_PAYEE = "Не заданы реквизиты получателя платежа (раздел «Реквизиты для квитанций»)"


def card_account(card: dict[str, Any]) -> dict[str, Any]:
    """What a receipt shows of the account (from its card)."""
    return {"id": card["id"], "number": card["number"], "holder": card["holder"], "address": card["address"],
            "area_m2": card["area_m2"]}


def compose_receipt(period: Period, account: dict[str, Any], payee: PayeeRequisites | None,
                    items: list[dict[str, Any]], totals: dict[str, Any], penalties: dict[str, Any],
                    billed: dict[int, Any], names: dict[int, tuple[str, str]], when: PaymentDue) -> Receipt:
    """The receipt from what was loaded for it: the account's turnover lines (`items`, `totals`, `penalties` as
    `balances.turnover` gives them), its month-run rows by service (`billed`: rows with volume and tariff), the
    services' (code, name), the payee and the due date. Pure: `build_receipt` and `build_receipts` share it."""
    lines: list[ReceiptLine] = []
    for item in items:
        money = {k: _d(item[k]) for k in MONEY}
        if item["kind"] == "advance":
            if any(money.values()):
                lines.append(ReceiptLine("Аванс (переплата)", None, None, None, **money))
            continue
        b = billed.get(item["service_id"])
        code, name = names.get(item["service_id"], (item["service"], item["service"]))
        volume = to_volume(b.volume) if b is not None and b.volume is not None else None
        lines.append(ReceiptLine(name, code, volume, Decimal(b.tariff) if b is not None and b.tariff is not None
                                 else None, **money))
    money_totals = {k: _d(totals[k]) for k in MONEY}
    penalty = {k: _d(v) for k, v in penalties.items()}
    due = max(money_totals["closing"] + penalty["closing"], ZERO)
    receipt = Receipt(period, account, payee, lines, money_totals, penalty, due,
                      pay_by=when.on, pay_by_text=pay_by_text(when))
    if payee is None:
        receipt.qr_problem = NO_PAYEE
        return receipt
    fields: dict[str, Any] = {
        "Name": payee.name, "PersonalAcc": payee.personal_acc, "BankName": payee.bank_name, "BIC": payee.bic,
        "CorrespAcc": payee.corresp_acc, "PayeeINN": payee.inn, "KPP": payee.kpp,
        "Sum": due, "PersAcc": account["number"], "PaymPeriod": period,
        "Purpose": f"Оплата за {period.first_day:%m.%Y}, л/с {account['number']}",
        "PayerAddress": account["address"] or "",
    }
    try:
        receipt.qr = build_payment_string(fields)
    except QrError as exc:
        receipt.qr_problem = "; ".join(exc.problems)
    return receipt


async def build_receipt(conn: AsyncConnection, account_id: int, period: Period) -> Receipt:
    """The account's receipt for the month (many accounts at once: `batch.build_receipts`)."""
    card = await account_card(conn, account_id)
    if card is None:
        raise NotFound(f"Лицевой счёт #{account_id} не найден")
    stmt = await turnover(conn, period, period, TurnoverScope(account_id=account_id), limit=1000)
    billed = {r.service_id: r for r in await conn.execute(text(BILLED_SQL.format(cond="account_id = :a")),
                                                          {"a": account_id, "p": period.first_day,
                                                           "billed": list(BILLED)})}
    names = await service_names(conn)
    when = payment_due(period.first_day, (await load_penalty_settings(conn))["due_day"])
    return compose_receipt(period, card_account(card), await load_requisites(conn), stmt["items"], stmt["totals"],
                           stmt["penalties"], billed, names, when)


async def service_names(conn: AsyncConnection) -> dict[int, tuple[str, str]]:
    return {r.id: (r.code, r.name) for r in await conn.execute(text("SELECT id, code, name FROM services"))}
