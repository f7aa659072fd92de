"""Appeals (обращения) of the contact center: registered manually, from a call or from an incoming e-mail;
the mail journal (IMAP mailboxes per tenant); telephonograms about outages by address."""

from aquabill.platform.appeals.mail_intake import PollReport, poll_mailbox, poll_tenant
from aquabill.platform.appeals.service import (
    CREATED,
    UPDATED,
    appeal_card,
    appeal_from_call,
    create_appeal,
    event_data,
    publish_appeal,
    update_appeal,
)
from aquabill.platform.appeals.store import SOURCES, STATUSES, AppealFilter, list_appeals
from aquabill.platform.appeals.telephonograms import affecting

__all__ = ["CREATED", "SOURCES", "STATUSES", "UPDATED", "AppealFilter", "PollReport", "affecting", "appeal_card",
           "appeal_from_call", "create_appeal", "event_data", "list_appeals", "poll_mailbox", "poll_tenant",
           "publish_appeal", "update_appeal"]
