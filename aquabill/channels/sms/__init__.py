"""Outgoing SMS: parts counting (pure) and the SMS.ru HTTP API adapter."""

from aquabill.channels.sms.parts import Segments, count_parts, sms_parts
from aquabill.channels.sms.smsru import SmsRuConfig, SmsRuSender, parse_sms_url, read_send_answer, send_form

__all__ = ["Segments", "SmsRuConfig", "SmsRuSender", "count_parts", "parse_sms_url", "read_send_answer",
           "send_form", "sms_parts"]
