"""Incoming e-mail: reading RFC 822 messages (pure) and fetching new ones from an IMAP mailbox."""

from aquabill.channels.mail.imap import FetchResult, ImapConfig, MailboxError, fetch_new_messages
from aquabill.channels.mail.message import (
    Attachment,
    MailMessage,
    account_number_candidates,
    html_to_text,
    parse_message,
)

__all__ = ["Attachment", "FetchResult", "ImapConfig", "MailMessage", "MailboxError", "account_number_candidates",
           "fetch_new_messages", "html_to_text", "parse_message"]
