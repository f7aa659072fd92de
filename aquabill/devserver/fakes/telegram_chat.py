"""The Telegram fake with a chat window, for `aquabill dev`: open `<fake>/chat` in a browser and talk to the
demo tenant's bot as a Telegram user would — type messages, press the inline buttons, open the pay link.
Updates reach the service's webhook exactly as Telegram's do (the fake posts them with the secret header);
what the bot sends is shown from the fake's record of `sendMessage` / `sendDocument` calls."""

from __future__ import annotations

import html
import json
from urllib.parse import parse_qs

from aquabill.devserver.fakes.http import read_body, respond
from aquabill.devserver.fakes.telegram_api import FakeTelegram

DEV_BOT_TOKEN = "100500:dev-demo-bot-token-not-secret"
CHAT_ID = 777000
PAGE = """<!doctype html><html lang="ru"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Telegram (локальный) — чат с ботом</title>
<style>
body{margin:0;font:16px/1.45 system-ui,sans-serif;background:#dfe7ee}
header{background:#2a7ab0;color:#fff;padding:10px 16px;font-weight:600}
#log{max-width:640px;margin:0 auto;padding:12px;display:flex;flex-direction:column;gap:8px;padding-bottom:90px}
.m{max-width:85%;padding:8px 12px;border-radius:12px;white-space:pre-wrap;background:#fff}
.me{align-self:flex-end;background:#effdde}
.kb{display:flex;flex-wrap:wrap;gap:4px;margin-top:6px}
.kb button,.kb a{flex:1 1 40%;background:#f0f5fa;border:1px solid #c8d7e4;border-radius:8px;padding:6px;
  font:inherit;color:#2a7ab0;cursor:pointer;text-decoration:none;text-align:center}
form{position:fixed;bottom:0;left:0;right:0;display:flex;gap:8px;padding:10px;background:#fff;border-top:1px solid #ccd}
input{flex:1;font:inherit;padding:10px;border:1px solid #ccd;border-radius:8px}
form button{font:inherit;background:#2a7ab0;color:#fff;border:0;border-radius:8px;padding:0 16px}
</style></head><body><header>Бот «@BOT» · локальный Telegram для разработки</header>
<div id="log"></div>
<form id="f"><input id="t" placeholder="Сообщение (например, /start)" autocomplete="off"><button>➤</button></form>
<script>
const log = document.getElementById('log');
async function send(body) { await fetch('/chat/send', {method: 'POST', body: new URLSearchParams(body)}); await load(); }
async function load() {
  const items = await (await fetch('/chat/log')).json();
  log.innerHTML = '';
  for (const m of items) {
    const d = document.createElement('div'); d.className = 'm' + (m.me ? ' me' : ''); d.textContent = m.text;
    if (m.buttons && m.buttons.length) {
      const kb = document.createElement('div'); kb.className = 'kb';
      for (const row of m.buttons) for (const b of row) {
        const el = document.createElement(b.url ? 'a' : 'button'); el.textContent = b.text;
        if (b.url) { el.href = b.url; el.target = '_blank'; } else { el.onclick = () => send({data: b.callback_data}); }
        kb.appendChild(el);
      }
      d.appendChild(kb);
    }
    log.appendChild(d);
  }
  window.scrollTo(0, document.body.scrollHeight);
}
document.getElementById('f').onsubmit = (e) => { e.preventDefault(); const t = document.getElementById('t');
  if (t.value.trim()) { send({text: t.value}); t.value = ''; } };
load(); setInterval(load, 2000);
</script></body></html>"""


class DevTelegram(FakeTelegram):
    """The fake Bot API plus `/chat`: one person's private chat with the dev bot."""

    def __init__(self) -> None:
        super().__init__()
        self.said: list[dict] = []  # what the person typed or pressed, in order, with the time of the call count

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/chat"):
            return await super().__call__(scope, receive, send)
        if path == "/chat":
            bot = self.bots.get(DEV_BOT_TOKEN)
            page = PAGE.replace("@BOT", html.escape("@" + (bot.username if bot else "bot")))
            return await respond(send, 200, page.encode(), "text/html; charset=utf-8")
        if path == "/chat/send" and scope["method"] == "POST":
            form = {k: v[-1] for k, v in parse_qs((await read_body(receive)).decode()).items()}
            if form.get("data"):
                self.said.append({"at": len(self.calls), "text": "▸ кнопка", "me": True})
                await self.inject(DEV_BOT_TOKEN, self.callback(CHAT_ID, form["data"][:64], first_name="Разработчик"))
            elif form.get("text"):
                self.said.append({"at": len(self.calls), "text": form["text"][:4096], "me": True})
                await self.inject(DEV_BOT_TOKEN, self.message(CHAT_ID, form["text"][:4096], first_name="Разработчик"))
            return await respond(send, 200, b"{}")
        if path == "/chat/log":
            return await respond(send, 200, json.dumps(self._log(), ensure_ascii=False).encode())
        return await respond(send, 404, b"Not Found", "text/plain")

    def _log(self) -> list[dict]:
        bot_said = [(i, {"text": c.text or "📄 " + ", ".join(name for name, _ in c.files.values()),
                         "buttons": c.buttons, "me": False})
                    for i, c in enumerate(self.calls)
                    if c.token == DEV_BOT_TOKEN and c.chat_id == CHAT_ID and c.method in ("sendMessage", "sendDocument")]
        mine = [(m["at"] - 0.5, m) for m in self.said]
        return [m for _, m in sorted(mine + bot_said, key=lambda x: x[0])]
