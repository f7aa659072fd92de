"""What the bot says: short, friendly Russian, and how it writes money, volumes and dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

MONTHS = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
          "ноябрь", "декабрь")


def money(value: Decimal | str | int) -> str:
    """1234.5 → «1 234,50 ₽»."""
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    return f"{amount:,f}".replace(",", "\u202f").replace(".", ",") + " ₽"


def number(value: Decimal | str | int | None) -> str:
    """A reading or volume as people write it: 123.450 → «123,45»."""
    if value is None:
        return "—"
    n = Decimal(str(value)).normalize()
    text = f"{n:f}"
    return text.replace(".", ",")


def day(value: date | None) -> str:
    return f"{value:%d.%m.%Y}" if value else "—"


def month_name(year: int, month: int) -> str:
    return f"{MONTHS[month - 1]} {year}"


GREETING = "Здравствуйте! Это бот «{tenant}». Здесь можно узнать баланс, передать показания, оплатить и задать вопрос."
MENU = "Что вы хотите сделать?"
MENU_UNLINKED = "Чтобы видеть баланс и передавать показания, привяжите лицевой счёт."
NOT_UNDERSTOOD = "Не понял вас. Выберите действие кнопкой ниже."
CANCELLED = "Хорошо, отменили."

LINK_NUMBER = "Введите номер лицевого счёта (он есть в квитанции)."
LINK_CHECK_AMOUNT = "Теперь введите сумму из последней квитанции, например 1234,56."
LINK_CHECK_SURNAME = "Теперь введите первые три буквы фамилии владельца счёта."
LINKED = "Готово! Лицевой счёт {number} привязан: {address}."
LINK_AGAIN = "{message}. Попробуйте ещё раз: введите номер лицевого счёта."

CHOOSE_ACCOUNT = "Выберите лицевой счёт:"
NO_ACCOUNTS = "У вас пока нет привязанных лицевых счетов."
ACCOUNTS = "Ваши лицевые счета:"

BALANCE_DEBT = "Лицевой счёт {number}\n{address}\n\nК оплате: {amount}"
BALANCE_ZERO = "Лицевой счёт {number}\n{address}\n\nДолга нет. Спасибо, что платите вовремя!"
BALANCE_CREDIT = "Лицевой счёт {number}\n{address}\n\nДолга нет, переплата {amount} — она зачтётся в следующих начислениях."

RECEIPT_NONE = "По лицевому счёту {number} квитанций ещё не было."
RECEIPT_HEAD = "Квитанция за {month}, лицевой счёт {number}"

PAY = "Оплата по лицевому счёту {number}: к оплате {amount}. Нажмите кнопку, чтобы оплатить картой или через СБП."
PAY_NOTHING = "По лицевому счёту {number} долга нет. Можно внести аванс по кнопке ниже."

READINGS_CLOSED = "{message}"
READINGS_NO_METERS = "У лицевого счёта {number} нет счётчиков, по которым принимаются показания."
READING_ASK = ("Счётчик {position}: {service}, № {serial}.\nПрошлое показание: {last}{when}.\n"
               "Введите текущее показание цифрами (например 123,45). Можно приложить фото счётчика.")
READING_PHOTO_KEPT = "Фото получено. Теперь введите показание цифрами."
READING_SKIPPED = "Пропустили этот счётчик."
READINGS_DONE = "Спасибо! Показания переданы."
READING_RETRY = "{message} Введите показание ещё раз или нажмите «Пропустить»."

APPEAL_ASK = "Опишите ваш вопрос одним сообщением. Мы зарегистрируем обращение и ответим."
APPEAL_DONE = "Обращение № {number} зарегистрировано. Мы ответим в течение нескольких рабочих дней."
APPEAL_EMPTY = "Сообщение пустое. Опишите вопрос текстом."

NOTIFY_ON = "Уведомления включены: пришлём напоминание о показаниях и о новой квитанции."
NOTIFY_OFF = "Уведомления выключены. Включить их можно в меню."

CONTACT_THANKS = "Спасибо, номер сохранён: укажем его в ваших обращениях."
CONTACT_FOREIGN = "Можно поделиться только своим номером."
PHOTO_OUT_OF_PLACE = "Фото счётчика можно приложить, когда бот попросит ввести показание."

EXPLAIN_NONE = "Объяснение расчёта пока недоступно."
SERVICE_ERROR = "Не получилось выполнить действие. Попробуйте ещё раз чуть позже."
