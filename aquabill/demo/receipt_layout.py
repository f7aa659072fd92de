"""The demo tenant's receipt layout: a header, a footer with the cash desks' hours, a note to subscribers and the
logo (a water drop, `assets/drop.png`), saved through the layout's own checks — once: a layout the tenant has
changed (any text or a logo) is left as it is."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.billing_core.receipts import load_layout, save_layout, save_logo

LOGO = Path(__file__).parent / "assets" / "drop.png"
TEXTS = {
    "header_text": "МУП «Водоканал г. Приозёрска» (демо)\nЕдиный платёжный документ за холодную воду и водоотведение",
    "footer_text": ("Абонентский отдел: г. Приозёрск, ул. Ленина, д. 1 (демо-адрес), пн–пт 8:00–17:00, "
                    "обед 12:00–13:00.\nТелефон: +7 (800) 000-00-00, аварийно-диспетчерская служба — круглосуточно.\n"
                    "Показания счётчиков передавайте в личном кабинете, в Telegram-боте или по телефону."),
    "notes": ("Оплатить можно в личном кабинете и по QR-коду в приложении банка. Не забудьте о поверке "
              "счётчиков: после истечения срока поверки начисление идёт по среднему объёму, затем по нормативу "
              "(п. 59, 60 Правил № 354)."),
}


async def seed_receipt_layout(conn: AsyncConnection, user_id: int | None = None) -> bool:
    """Give the tenant the demo layout unless it has one of its own; True when it wrote it."""
    current = await load_layout(conn)
    if current["logo"] is not None or any(current[k] for k in TEXTS):
        return False
    await save_layout(conn, TEXTS, user_id=user_id)
    await save_logo(conn, LOGO.read_bytes(), user_id=user_id)
    return True
