"""Telephony of the contact center: each tenant's supervised AMI connection, call records from its events,
caller lookup, click-to-call and call-back (through the `CallControl` capability)."""

from aquabill.channels.asterisk.runtime.ingest import CallSink
from aquabill.channels.asterisk.runtime.supervisor import (
    TelephonySupervisor,
    backoff,
    read_state,
    rebuild_registry,
)

__all__ = ["CallSink", "TelephonySupervisor", "backoff", "read_state", "rebuild_registry"]
