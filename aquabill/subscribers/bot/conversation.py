"""The bot conversation: one event in, the replies out, the chat's state kept in `bot_chats`.

`handle(conn, event, env)` runs inside the caller's tenant transaction: it records the update (a repeated
delivery gets nothing), opens the chat (creating its subscriber on first contact) with its row locked, so
one chat's updates are handled one after another, reacts to the event by the chat's step, and saves the
state when it changed. Every reply is one message; a step's answer and the next question travel together.

Steps (`state["step"]`): none (the menu), `link_number` → `link_check` (linking an account), `reading`
(meter by meter: `account`, `meters`, `i`, an optional `photo` waiting for its value), `appeal` (the next
text is the question). Anything unexpected answers with the menu; /start, /menu and «Отмена» always do.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Conflict, DomainError, Invalid
from aquabill.subscribers import links
from aquabill.subscribers.bot import actions, store, texts
from aquabill.subscribers.bot import keyboards as kb
from aquabill.subscribers.bot.types import MAX_TEXT, BotEnv, BotEvent, Outcome, PhotoRef, Reply

COMMANDS_MENU = ("/start", "/menu", "/help", "меню", "начать", "start")
COMMANDS_CANCEL = ("/cancel", "отмена")


async def handle(conn: AsyncConnection, event: BotEvent, env: BotEnv) -> Outcome:
    """React to one event (see the module's docstring)."""
    out = Outcome()
    fresh, chat = await store.begin_update(conn, event.channel, event.update_key, event.chat_key, env.schema)
    if not fresh:
        out.duplicate = True
        return out
    if chat is None:  # first contact
        chat = await store.open_chat(conn, event.channel, event.chat_key, event.name, absent=True)
    talk = Talk(conn, env, event, chat, out)
    try:
        await talk.react()
    except DomainError as exc:  # a refusal the steps did not expect: say it, back to the menu
        talk.reset()
        await talk.menu(exc.message)
    if talk.state != chat["state"] or talk.notify != chat["notify"]:  # a new chat's row holds the defaults
        await store.save_chat(conn, chat["id"], talk.state, talk.notify)
    return out


class Talk:
    """One event's handling: the chat's state and notify flag, changed in place and saved by `handle`."""

    def __init__(self, conn: AsyncConnection, env: BotEnv, event: BotEvent, chat: dict[str, Any],
                 out: Outcome) -> None:
        self.conn, self.env, self.event, self.out = conn, env, event, out
        self.subscriber_id: int = chat["subscriber_id"]
        self.state: dict[str, Any] = dict(chat["state"] or {})
        self.notify: bool = chat["notify"]
        self.first_contact: bool = chat["new"]

    # ---- replies --------------------------------------------------------------------------------------------

    def say(self, text: str, buttons: kb.Rows = ()) -> None:
        self.out.replies.append(Reply(text[:MAX_TEXT], buttons))

    async def menu(self, lead: str = "") -> None:
        """The main menu, after `lead` (what just happened) when given."""
        accounts = await actions.accounts(self.conn, self.subscriber_id)
        body = texts.MENU if accounts else texts.MENU_UNLINKED
        self.say(f"{lead}\n\n{body}" if lead else body, kb.main_menu(linked=bool(accounts), notify=self.notify))

    def reset(self) -> None:
        """Back to no step (the shared phone number is kept)."""
        self.state = {k: v for k, v in self.state.items() if k == "phone"}

    # ---- dispatch -------------------------------------------------------------------------------------------

    async def react(self) -> None:
        e = self.event
        if e.payload is not None:
            await self.pressed(e.payload)
        elif e.contact is not None:
            await self.contact()
        elif e.photo is not None:
            await self.photo(e.photo, (e.text or "").strip())
        elif e.text is not None:
            await self.typed(e.text.strip())
        else:
            await self.menu()

    async def pressed(self, payload: str) -> None:
        head, args = kb.parse_payload(payload)
        if head in (kb.MENU, kb.CANCEL):
            self.reset()
            await self.menu(texts.CANCELLED if head == kb.CANCEL else "")
        elif head == kb.LINK:
            self.state = {**self.state, "step": "link_number"}
            self.say(texts.LINK_NUMBER, kb.cancel())
        elif head == kb.ACCOUNTS:
            self.say(*await actions.accounts_text(self.conn, self.subscriber_id))
        elif head in ("nt",) and args and args[0] in ("on", "off"):
            self.notify = args[0] == "on"
            await self.menu(texts.NOTIFY_ON if self.notify else texts.NOTIFY_OFF)
        elif head == kb.SKIP and self.state.get("step") == "reading":
            self.state.pop("photo", None)
            self.state["i"] = int(self.state.get("i", 0)) + 1
            await self.next_meter(texts.READING_SKIPPED)
        elif head == kb.WHY and len(args) == 2:
            self.say(*await actions.why(self.conn, self.subscriber_id, args[0], args[1]))
        elif head == kb.APPEAL:
            await self.start_appeal(args)
        elif head in kb.NEEDS_ACCOUNT:
            await self.with_account(head, args)
        else:
            await self.menu(texts.NOT_UNDERSTOOD)

    async def typed(self, raw: str) -> None:
        word = raw.lower()
        if word in COMMANDS_MENU or word.split("@")[0] in COMMANDS_MENU:
            self.reset()
            await self.menu(texts.GREETING.format(tenant=self.env.tenant_name) if word.startswith("/start")
                            or self.first_contact else "")
            return
        if word in COMMANDS_CANCEL:
            self.reset()
            await self.menu(texts.CANCELLED)
            return
        step = self.state.get("step")
        if step == "link_number":
            await self.link_number(raw)
        elif step == "link_check":
            await self.link_check(raw)
        elif step == "reading":
            await self.reading_value(raw)
        elif step == "appeal":
            await self.appeal_text(raw)
        elif self.first_contact:
            await self.menu(texts.GREETING.format(tenant=self.env.tenant_name))
        else:
            await self.menu(texts.NOT_UNDERSTOOD)

    async def contact(self) -> None:
        c = self.event.contact
        assert c is not None
        if not c.own:
            self.say(texts.CONTACT_FOREIGN, kb.back())
            return
        self.state["phone"] = c.phone[:32]
        self.say(texts.CONTACT_THANKS, kb.back())

    async def photo(self, ref: PhotoRef, caption: str) -> None:
        if self.state.get("step") != "reading":
            self.say(texts.PHOTO_OUT_OF_PLACE, kb.back())
            return
        self.state["photo"] = {"ref": ref.ref, "mime": ref.mime_type}
        if caption:
            await self.reading_value(caption)
        else:
            self.say(texts.READING_PHOTO_KEPT, kb.reading_step())

    # ---- accounts -------------------------------------------------------------------------------------------

    async def with_account(self, action: str, args: list[str]) -> None:
        """Balance, readings, receipt, pay: for the account given, the only one, or after a choice."""
        accounts = await actions.accounts(self.conn, self.subscriber_id)
        if not accounts:
            self.say(texts.NO_ACCOUNTS + " " + texts.MENU_UNLINKED, kb.main_menu(linked=False, notify=self.notify))
            return
        if args:
            account = next((a for a in accounts if str(a["id"]) == args[0]), None)
            if account is None:
                await self.menu("Лицевой счёт не найден.")
                return
        elif len(accounts) == 1:
            account = accounts[0]
        else:
            self.say(texts.CHOOSE_ACCOUNT, kb.choose_account(action, accounts))
            return
        if action == kb.BALANCE:
            self.say(*await actions.balance(self.conn, self.env, account))
        elif action == kb.RECEIPT:
            text, buttons, document = await actions.receipt(self.conn, self.env, account)
            self.out.replies.append(Reply(text, buttons, document))
        elif action == kb.PAY:
            self.say(*await actions.pay(self.conn, self.env, account))
        elif action == kb.READINGS:
            await self.start_readings(account)

    # ---- linking an account ---------------------------------------------------------------------------------

    async def link_number(self, raw: str) -> None:
        number = raw.strip()[:32]
        if not number:
            self.say(texts.LINK_NUMBER, kb.cancel())
            return
        self.state = {**self.state, "step": "link_check", "number": number}
        kind = await links.link_check_kind(self.conn)
        self.say(texts.LINK_CHECK_SURNAME if kind == "surname" else texts.LINK_CHECK_AMOUNT, kb.cancel())

    async def link_check(self, raw: str) -> None:
        number = str(self.state.get("number", ""))
        try:  # no savepoint: a failed attempt must stay recorded (it counts towards the limit)
            account = await actions.link(self.conn, self.subscriber_id, number, raw.strip()[:64], self.event.channel)
        except Invalid as exc:
            self.state = {**self.state, "step": "link_number"}
            self.state.pop("number", None)
            self.say(texts.LINK_AGAIN.format(message=exc.message.rstrip(".")), kb.cancel())
            return
        except Conflict as exc:
            self.reset()
            await self.menu(exc.message)
            return
        self.reset()
        await self.menu(texts.LINKED.format(number=account["number"], address=account.get("address") or "—"))

    # ---- readings -------------------------------------------------------------------------------------------

    async def start_readings(self, account: dict[str, Any]) -> None:
        refusal, meters = await actions.reading_start(self.conn, self.env, account["id"])
        if refusal:
            self.say(refusal, kb.back())
            return
        if not meters:
            self.say(texts.READINGS_NO_METERS.format(number=account["number"]), kb.back())
            return
        self.state = {**{k: v for k, v in self.state.items() if k == "phone"}, "step": "reading",
                      "account": account["id"], "meters": [m["id"] for m in meters], "i": 0}
        self.say(actions.meter_question(meters[0], 1, len(meters)), kb.reading_step())

    async def next_meter(self, lead: str) -> None:
        ids: list[int] = list(self.state.get("meters", []))
        i = int(self.state.get("i", 0))
        if i >= len(ids):
            self.reset()
            await self.menu(f"{lead}\n\n{texts.READINGS_DONE}" if lead else texts.READINGS_DONE)
            return
        meter = await actions.meter(self.conn, self.env, int(self.state["account"]), ids[i])
        if meter is None:  # no longer in service: skip it
            self.state["i"] = i + 1
            await self.next_meter(lead)
            return
        question = actions.meter_question(meter, i + 1, len(ids))
        self.say(f"{lead}\n\n{question}" if lead else question, kb.reading_step())

    async def reading_value(self, raw: str) -> None:
        ids: list[int] = list(self.state.get("meters", []))
        i = int(self.state.get("i", 0))
        if i >= len(ids):
            self.reset()
            await self.menu()
            return
        photo = self.state.get("photo")
        ref = PhotoRef(photo["ref"], photo.get("mime", "image/jpeg")) if photo else None
        try:
            result = await actions.submit(self.conn, self.env, self.subscriber_id, int(self.state["account"]),
                                          ids[i], raw, ref)
        except Invalid as exc:
            if exc.field == "photo":  # the photo is what was refused: forget it
                self.state.pop("photo", None)
            self.say(texts.READING_RETRY.format(message=exc.message.rstrip(".") + "."), kb.reading_step())
            return
        self.state.pop("photo", None)
        if result["status"] == "rejected":  # stored with its reason; the same meter is asked again
            self.say(result["message"], kb.reading_step())
            return
        self.state["i"] = i + 1
        await self.next_meter(result["message"])

    # ---- appeals --------------------------------------------------------------------------------------------

    async def start_appeal(self, args: list[str]) -> None:
        accounts = await actions.accounts(self.conn, self.subscriber_id)
        if args:
            account_id = next((a["id"] for a in accounts if str(a["id"]) == args[0]), None)
        elif len(accounts) > 1:
            self.say(texts.CHOOSE_ACCOUNT, kb.choose_account(kb.APPEAL, accounts))
            return
        else:
            account_id = accounts[0]["id"] if accounts else None
        self.state = {**{k: v for k, v in self.state.items() if k == "phone"}, "step": "appeal",
                      "account": account_id}
        self.say(texts.APPEAL_ASK, kb.cancel())

    async def appeal_text(self, raw: str) -> None:
        if not raw.strip():
            self.say(texts.APPEAL_EMPTY, kb.cancel())
            return
        appeal = await actions.appeal(self.conn, self.subscriber_id, self.state.get("account"), raw,
                                      self.state.get("phone", ""), self.out)
        self.reset()
        await self.menu(texts.APPEAL_DONE.format(number=appeal["number"]))
