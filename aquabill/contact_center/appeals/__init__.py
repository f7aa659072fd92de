"""Appeals (обращения) of the contact center: registered manually, from a call or from an incoming e-mail;
the mail journal (mailboxes per tenant; polling is `channels.mail.intake`); telephonograms about outages by address."""

from aquabill.contact_center.appeals.service import (
    CREATED,
    UPDATED,
    appeal_card,
    appeal_from_call,
    create_appeal,
    event_data,
    update_appeal,
)
from aquabill.contact_center.appeals.store import SOURCES, STATUSES, AppealFilter, list_appeals
from aquabill.contact_center.appeals.telephonograms import affecting

__all__ = ["CREATED", "SOURCES", "STATUSES", "UPDATED", "AppealFilter", "affecting", "appeal_card",
           "appeal_from_call", "create_appeal", "event_data", "list_appeals", "update_appeal"]
