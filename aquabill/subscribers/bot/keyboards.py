"""The bot's keyboards and the payload codes its buttons carry (all well under 64 bytes).

Codes: `menu`, `link`, `accs`, `bal[:<account>]`, `rd[:<account>]`, `skip`, `rc[:<account>]`,
`pay[:<account>]`, `why:<account>:<YYYY-MM>`, `ap[:<account>]`, `nt:on`, `nt:off`, `cancel`.
"""

from __future__ import annotations

from collections.abc import Sequence

from aquabill.subscribers.bot.types import Button

MENU, LINK, ACCOUNTS, CANCEL, SKIP = "menu", "link", "accs", "cancel", "skip"
BALANCE, READINGS, RECEIPT, PAY, APPEAL, WHY = "bal", "rd", "rc", "pay", "ap", "why"
NOTIFY_ON, NOTIFY_OFF = "nt:on", "nt:off"
NEEDS_ACCOUNT = (BALANCE, READINGS, RECEIPT, PAY)

Rows = tuple[tuple[Button, ...], ...]


def main_menu(*, linked: bool, notify: bool) -> Rows:
    toggle = Button("🔕 Выключить уведомления", NOTIFY_OFF) if notify else Button("🔔 Включить уведомления", NOTIFY_ON)
    if not linked:
        return ((Button("🔗 Привязать лицевой счёт", LINK),), (Button("✉️ Задать вопрос", APPEAL),), (toggle,))
    return (
        (Button("💰 Баланс", BALANCE), Button("📟 Показания", READINGS)),
        (Button("🧾 Квитанция", RECEIPT), Button("💳 Оплатить", PAY)),
        (Button("✉️ Задать вопрос", APPEAL), Button("📋 Мои счета", ACCOUNTS)),
        (toggle,),
    )


def back() -> Rows:
    return ((Button("↩️ В меню", MENU),),)


def cancel() -> Rows:
    return ((Button("Отмена", CANCEL),),)


def reading_step() -> Rows:
    return ((Button("Пропустить", SKIP), Button("Отмена", CANCEL)),)


def choose_account(action: str, accounts: Sequence[dict]) -> Rows:
    """One button per account (`<action>:<id>`), then back to the menu."""
    rows = [(Button(f"{a['number']} — {a['address']}"[:60], f"{action}:{a['id']}"),) for a in accounts]
    return (*rows, (Button("↩️ В меню", MENU),))


def accounts_list() -> Rows:
    return ((Button("🔗 Привязать ещё один", LINK),), (Button("↩️ В меню", MENU),))


def after_amount(account_id: int, pay_url: str | None, period: str | None) -> Rows:
    """Under a balance or a receipt: pay, why this amount, back."""
    first: list[Button] = []
    if pay_url:
        first.append(Button("💳 Оплатить", url=pay_url))
    if period:
        first.append(Button("❓ Почему такая сумма?", f"{WHY}:{account_id}:{period}"))
    rows = [tuple(first)] if first else []
    return (*rows, (Button("↩️ В меню", MENU),))


def pay_link(url: str) -> Rows:
    return ((Button("💳 Оплатить онлайн", url=url),), (Button("↩️ В меню", MENU),))


def parse_payload(payload: str) -> tuple[str, list[str]]:
    """`bal:12` → ('bal', ['12'])."""
    head, *rest = payload.split(":")
    return head, rest
