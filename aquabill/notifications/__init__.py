"""The notification center: message templates, audiences by filter, campaigns and per-recipient delivery
across every channel a subscriber can be reached by (e-mail, SMS, Telegram, MAX, autocall, portal inbox).
Pure rules plus their SQL; the channels' adapters live in `aquabill.channels` behind `ports.Sender`.

Modules: ports (the channel interface), templates / template_store (sandboxed Jinja, stored templates),
audiences / recipients (who, and where each is reached), settings (quiet hours, SMS price, rates), sms (parts
and cost), campaigns / campaign_store (a campaign, its states, its recipients written at start), delivery_store
(claims, outcomes, the rule for a worker killed midway), pacing / runner (sending at each channel's pace),
preview (the compose page's figures), optouts."""

from aquabill.notifications.campaigns import CampaignDraft, check_draft
from aquabill.notifications.ports import CHANNELS, STATUSES, Delivery, Outgoing, Sender
from aquabill.notifications.runner import CampaignRunner, RunResult
from aquabill.notifications.settings import SendingRules, load_rules
from aquabill.notifications.sms import sms_cost, sms_parts
from aquabill.notifications.templates import MessageTemplate, compile_template

__all__ = ["CHANNELS", "STATUSES", "CampaignDraft", "CampaignRunner", "Delivery", "MessageTemplate", "Outgoing",
           "RunResult", "Sender", "SendingRules", "check_draft", "compile_template", "load_rules", "sms_cost",
           "sms_parts"]
