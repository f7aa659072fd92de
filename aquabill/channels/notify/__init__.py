"""Notification senders: one `notifications.ports.Sender` per channel (e-mail over SMTP, SMS through SMS.ru,
Telegram and MAX bots, the portal inbox) and `open_senders` / `close_senders`, the set a tenant's campaign
uses (autocall comes from `channels/asterisk/autocall.py`)."""

from aquabill.channels.notify.bots import BotNoticeSender
from aquabill.channels.notify.email import EmailSender
from aquabill.channels.notify.factory import close_senders, open_senders
from aquabill.channels.notify.inbox import InboxSender
from aquabill.channels.notify.sms import SmsSender

__all__ = ["BotNoticeSender", "EmailSender", "InboxSender", "SmsSender", "close_senders",
           "open_senders"]
