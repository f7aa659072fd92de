"""The senders a campaign of one tenant can use, opened together and closed together.

- 'email' when the service has an SMTP server (`AQUABILL_SMTP_URL`);
- 'sms' when it has an SMS gateway (`AQUABILL_SMS_URL`; the gateway and its account are the service's, there
  is no per-tenant SMS setting yet);
- 'telegram' / 'max' for the tenant's bots that staff enabled (token opened with the app's secret key);
- 'inbox' always;
- 'autocall' when the tenant's telephony can place calls (`channels/asterisk/autocall.py` decides).
A channel whose setting is unusable is left out (and logged), never failing the others.
"""

from __future__ import annotations

import logging

from aquabill.channels.bots.service import BotDirectory
from aquabill.channels.notify.bots import BotNoticeSender
from aquabill.channels.notify.email import EmailSender
from aquabill.channels.notify.inbox import InboxSender
from aquabill.channels.notify.sms import SmsSender
from aquabill.notifications.ports import Sender
from aquabill.platform.state import Core
from aquabill.tenants.context import Tenant

log = logging.getLogger(__name__)

BOT_CHANNELS = ("telegram", "max")


async def open_senders(core: Core, tenant: Tenant) -> dict[str, Sender]:
    s = core.settings
    senders: dict[str, Sender] = {}
    if s.smtp_url:
        try:
            senders["email"] = EmailSender.from_url(s.smtp_url, s.mail_from, scope=tenant.slug)
        except ValueError as exc:
            log.warning("e-mail notices off: AQUABILL_SMTP_URL is unusable (%s)", exc)
    if s.sms_url:
        try:
            senders["sms"] = SmsSender.from_url(s.sms_url)
        except ValueError as exc:
            log.warning("SMS notices off: AQUABILL_SMS_URL is unusable (%s)", exc)
    directory = BotDirectory(core, ttl=0.0)
    for channel in BOT_CHANNELS:
        config = await directory.lookup(tenant.slug, channel)
        if config is not None:
            senders[channel] = BotNoticeSender(channel, s, config.token)
    senders["inbox"] = InboxSender(core.engines, tenant)
    try:
        from aquabill.channels.asterisk.autocall import autocall_sender
    except ImportError:
        log.warning("autocall notices off: channels/asterisk/autocall.py is missing")
    else:
        try:
            autocall = await autocall_sender(core, tenant)
        except Exception:
            log.exception("autocall notices off for tenant %s", tenant.slug)
        else:
            if autocall is not None:
                senders["autocall"] = autocall
    return senders


async def close_senders(senders: dict[str, Sender]) -> None:
    """Close every sender; one failing to close does not keep the others open."""
    for channel, sender in senders.items():
        try:
            await sender.close()
        except Exception:
            log.exception("the %s sender did not close cleanly", channel)
