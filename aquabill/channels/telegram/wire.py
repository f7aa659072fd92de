"""Telegram ↔ the conversation's neutral types: an `Update` to a `BotEvent` (None for what the bot ignores)
and a `Reply`'s buttons to an inline keyboard. Pure functions over python-telegram-bot's objects."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from aquabill.subscribers.bot import BotEvent, Contact, PhotoRef, Reply

CHANNEL = "telegram"
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic")


def _name(user) -> str:
    if user is None:
        return ""
    return " ".join(x for x in (user.first_name, user.last_name) if x)[:200]


def _photo(message: Message) -> PhotoRef | None:
    if message.photo:
        return PhotoRef(message.photo[-1].file_id)  # the sizes of one picture, the largest last
    doc = message.document
    if doc is not None and (doc.mime_type or "") in IMAGE_TYPES:  # a photo sent "as a file"
        return PhotoRef(doc.file_id, doc.mime_type or "image/jpeg")
    return None


def to_event(update: Update) -> BotEvent | None:
    """The update as a conversation event: a button press or a message in a private chat; None for the
    rest (edits, group chats, channel posts, …)."""
    key = str(update.update_id)
    query = update.callback_query
    if query is not None:
        message = query.message
        chat = message.chat if message is not None else None
        if chat is not None and chat.type != "private":
            return None
        chat_id = chat.id if chat is not None else query.from_user.id
        return BotEvent(CHANNEL, str(chat_id), key, payload=query.data or "", name=_name(query.from_user))
    message = update.message
    if message is None or message.chat.type != "private":
        return None
    contact = None
    if message.contact is not None:
        own = message.from_user is not None and message.contact.user_id == message.from_user.id
        contact = Contact(message.contact.phone_number, own=own)
    return BotEvent(CHANNEL, str(message.chat.id), key, text=message.text or message.caption,
                    photo=_photo(message), contact=contact, name=_name(message.from_user))


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(b.label, url=b.url) if b.url else InlineKeyboardButton(b.label, callback_data=b.payload)
         for b in row] for row in reply.buttons])
