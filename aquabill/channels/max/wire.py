"""MAX Bot API ↔ the conversation's neutral types (schema 0.0.32): an `Update` (JSON) to a `BotEvent`, a
`Reply` to a `NewMessageBody`. Pure functions over dicts.

Only dialogs with the bot are served (`recipient.chat_type` 'dialog'); the chat key is the user's id, to
which replies go (`POST /messages?user_id=`). Repeated deliveries are recognised by the message's `mid`, the
button press's `callback_id`, or the start's chat and time.
"""

from __future__ import annotations

import re
from typing import Any

from aquabill.subscribers.bot import BotEvent, Contact, PhotoRef, Reply

CHANNEL = "max"
UPDATE_TYPES = ["message_created", "message_callback", "bot_started"]
_TEL = re.compile(r"^TEL[^:]*:(.+)$", re.MULTILINE)


def _user_name(user: Any) -> str:
    if not isinstance(user, dict):
        return ""
    return " ".join(str(x) for x in (user.get("first_name"), user.get("last_name")) if x)[:200]


def _user_id(user: Any) -> int | None:
    uid = user.get("user_id") if isinstance(user, dict) else None
    return uid if isinstance(uid, int) and not isinstance(uid, bool) else None


def phone_from_vcf(vcf: str) -> str:
    found = _TEL.search(vcf or "")
    return found.group(1).strip() if found else ""


def _attachments(body: dict, sender_id: int) -> tuple[PhotoRef | None, Contact | None]:
    photo = contact = None
    for att in body.get("attachments") or []:
        if not isinstance(att, dict) or not isinstance(att.get("payload"), dict):
            continue
        payload = att["payload"]
        if att.get("type") == "image" and isinstance(payload.get("url"), str) and photo is None:
            photo = PhotoRef(payload["url"])
        elif att.get("type") == "contact" and contact is None:
            phone = phone_from_vcf(str(payload.get("vcf_info") or ""))
            if phone:
                contact = Contact(phone, own=_user_id(payload.get("max_info")) == sender_id)
    return photo, contact


def to_event(update: Any) -> BotEvent | None:
    """The update as a conversation event, or None for what the bot ignores (other update types, group
    chats, malformed updates)."""
    if not isinstance(update, dict):
        return None
    kind = update.get("update_type")
    if kind == "message_created":
        message = update.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("body"), dict):
            return None
        recipient = message.get("recipient") if isinstance(message.get("recipient"), dict) else {}
        if recipient.get("chat_type") != "dialog":
            return None
        sender_id, body = _user_id(message.get("sender")), message["body"]
        mid = body.get("mid")
        if sender_id is None or not isinstance(mid, str) or not mid:
            return None
        photo, contact = _attachments(body, sender_id)
        text = body.get("text") if isinstance(body.get("text"), str) else None
        return BotEvent(CHANNEL, str(sender_id), f"m:{mid}", text=text, photo=photo, contact=contact,
                        name=_user_name(message.get("sender")))
    if kind == "message_callback":
        callback = update.get("callback")
        if not isinstance(callback, dict):
            return None
        user_id, cid = _user_id(callback.get("user")), callback.get("callback_id")
        if user_id is None or not isinstance(cid, str) or not cid:
            return None
        payload = callback.get("payload") if isinstance(callback.get("payload"), str) else ""
        return BotEvent(CHANNEL, str(user_id), f"c:{cid}", payload=payload, name=_user_name(callback.get("user")))
    if kind == "bot_started":
        user_id = _user_id(update.get("user"))
        if user_id is None:
            return None
        return BotEvent(CHANNEL, str(user_id), f"s:{update.get('chat_id')}:{update.get('timestamp')}",
                        text="/start", name=_user_name(update.get("user")))
    return None


def keyboard(reply: Reply) -> dict | None:
    if not reply.buttons:
        return None
    rows = [[{"type": "link", "text": b.label, "url": b.url} if b.url else
             {"type": "callback", "text": b.label, "payload": b.payload} for b in row] for row in reply.buttons]
    return {"type": "inline_keyboard", "payload": {"buttons": rows}}


def message_body(reply: Reply, file_token: str | None = None) -> dict:
    """The reply as `NewMessageBody` (text ≤ 4000 characters, the keyboard and a file as attachments)."""
    attachments = []
    if file_token:
        attachments.append({"type": "file", "payload": {"token": file_token}})
    markup = keyboard(reply)
    if markup:
        attachments.append(markup)
    return {"text": reply.text[:4000], "attachments": attachments, "link": None, "notify": True}
