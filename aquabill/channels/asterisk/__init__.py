"""Asterisk over the Manager Interface (AMI): the wire format, folding events into call records, a client on
panoramisk's Manager, click-to-call (`AmiCallControl`, the `CallControl` capability) and a simulator for
tests/demos."""

from aquabill.channels.asterisk.calls import CallRecord, CallTracker, CallUpdate, extension_of, fold
from aquabill.channels.asterisk.client import AmiAuthError, AmiClient, AmiError
from aquabill.channels.asterisk.control import AmiCallControl, AmiSettings
from aquabill.channels.asterisk.protocol import Decoder, Message, ProtocolError

__all__ = [
    "AmiAuthError", "AmiCallControl", "AmiClient", "AmiError", "AmiSettings", "CallRecord", "CallTracker",
    "CallUpdate", "Decoder", "Message", "ProtocolError", "extension_of", "fold",
]
