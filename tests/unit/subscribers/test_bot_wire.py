"""Messenger updates to conversation events and replies to the messengers' keyboards (pure)."""

from telegram import Update

from aquabill.channels.max import wire as max_wire
from aquabill.channels.telegram import wire as tg_wire
from aquabill.subscribers.bot import BotEvent, Button, Contact, PhotoRef, Reply

USER = {"user_id": 501, "first_name": "Иван", "last_name": "Петров", "username": None, "is_bot": False,
        "last_activity_time": 1, "name": "Иван Петров"}
REPLY = Reply("Меню", ((Button("Баланс", "bal"), Button("Оплатить", url="https://b.example/pay/t")),))


def max_message(chat_type="dialog", **body) -> dict:
    return {"update_type": "message_created", "timestamp": 1, "message": {
        "sender": USER, "recipient": {"chat_id": 77, "chat_type": chat_type, "user_id": 9},
        "timestamp": 1, "body": {"mid": "mid.1", "seq": 1, "text": None, "attachments": None, **body}}}


def test_max_text_message():
    assert max_wire.to_event(max_message(text="ЛС1")) == BotEvent("max", "501", "m:mid.1", text="ЛС1",
                                                                   name="Иван Петров")


def test_max_photo_and_contact():
    event = max_wire.to_event(max_message(text="123,4", attachments=[
        {"type": "image", "payload": {"photo_id": 1, "token": "t", "url": "https://cdn.example/p.jpg"}},
        {"type": "contact", "payload": {"vcf_info": "BEGIN:VCARD\nTEL;TYPE=cell:+79161234567\nEND:VCARD",
                                        "max_info": USER}}]))
    assert event.photo == PhotoRef("https://cdn.example/p.jpg") and event.text == "123,4"
    assert event.contact == Contact("+79161234567", own=True)


def test_max_callback_and_start():
    press = {"update_type": "message_callback", "timestamp": 1,
             "callback": {"timestamp": 1, "callback_id": "cb.9", "payload": "bal", "user": USER}, "message": None}
    assert max_wire.to_event(press) == BotEvent("max", "501", "c:cb.9", payload="bal", name="Иван Петров")
    start = {"update_type": "bot_started", "timestamp": 5, "chat_id": 77, "user": USER}
    assert max_wire.to_event(start) == BotEvent("max", "501", "s:77:5", text="/start", name="Иван Петров")


def test_max_ignores_group_chats_other_types_and_garbage():
    for update in (max_message("chat", text="x"), {"update_type": "dialog_muted", "timestamp": 1}, [], "x",
                   {"update_type": "message_created"}, {"update_type": "message_callback", "callback": {}},
                   max_message(mid="")):
        assert max_wire.to_event(update) is None


def test_max_message_body():
    assert max_wire.message_body(REPLY) == {"text": "Меню", "link": None, "notify": True, "attachments": [
        {"type": "inline_keyboard", "payload": {"buttons": [[
            {"type": "callback", "text": "Баланс", "payload": "bal"},
            {"type": "link", "text": "Оплатить", "url": "https://b.example/pay/t"}]]}}]}
    with_file = max_wire.message_body(Reply("Квитанция"), "file.1")
    assert with_file["attachments"] == [{"type": "file", "payload": {"token": "file.1"}}]


def tg(update: dict) -> BotEvent | None:
    return tg_wire.to_event(Update.de_json(update, None))


FROM = {"id": 42, "is_bot": False, "first_name": "Иван", "last_name": "Петров"}
CHAT = {"id": 42, "type": "private"}


def test_telegram_message_photo_and_callback():
    assert tg({"update_id": 7, "message": {"message_id": 1, "date": 0, "chat": CHAT, "from": FROM,
                                           "text": "/start"}}) == BotEvent("telegram", "42", "7", text="/start",
                                                                           name="Иван Петров")
    photo = tg({"update_id": 8, "message": {"message_id": 2, "date": 0, "chat": CHAT, "from": FROM, "caption": "12",
                                            "photo": [{"file_id": "s", "file_unique_id": "s", "width": 1, "height": 1},
                                                      {"file_id": "L", "file_unique_id": "L", "width": 9, "height": 9}]}})
    assert photo.photo == PhotoRef("L") and photo.text == "12"
    press = tg({"update_id": 9, "callback_query": {"id": "q", "from": FROM, "chat_instance": "c", "data": "bal",
                                                   "message": {"message_id": 3, "date": 0, "chat": CHAT}}})
    assert press == BotEvent("telegram", "42", "9", payload="bal", name="Иван Петров")


def test_telegram_contact_is_own_only_when_the_sender_shared_it():
    own = tg({"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": CHAT, "from": FROM,
                                          "contact": {"phone_number": "+79161234567", "first_name": "И", "user_id": 42}}})
    other = tg({"update_id": 2, "message": {"message_id": 1, "date": 0, "chat": CHAT, "from": FROM,
                                            "contact": {"phone_number": "+79160000000", "first_name": "Х", "user_id": 5}}})
    assert own.contact == Contact("+79161234567", own=True) and other.contact.own is False


def test_telegram_ignores_groups_and_edits():
    group = {"id": -100, "type": "supergroup", "title": "Дом"}
    assert tg({"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": group, "from": FROM, "text": "x"}}) is None
    assert tg({"update_id": 2, "edited_message": {"message_id": 1, "date": 0, "edit_date": 1, "chat": CHAT,
                                                  "from": FROM, "text": "x"}}) is None


def test_telegram_keyboard():
    markup = tg_wire.keyboard(REPLY).to_dict()
    assert markup == {"inline_keyboard": [[{"text": "Баланс", "callback_data": "bal"},
                                           {"text": "Оплатить", "url": "https://b.example/pay/t"}]]}
    assert tg_wire.keyboard(Reply("x")) is None
