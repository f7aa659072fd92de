"""From call updates (folded AMI events) to `calls` rows and real-time events of the tenant.

Events published (per tenant, through the hub; `data` fields):
  call.ringing  — an agent's phone rings: call_id, linkedid, direction, caller, caller_normalised, called,
                  queue, extension (whose phone rings), started_at, account_id (when one account matches),
                  accounts [{id, number, holder, address, status}] (every account with the caller's phone)
  call.answered — call_id, linkedid, agent_extension, answered_at, wait_s, account_id
  call.ended    — call_id, linkedid, status (answered|missed|abandoned|lost), ended_at, duration_s, wait_s,
                  agent_extension, recording, account_id; a call still in progress when the link to the PBX
                  was lost ends with status 'lost' (and `link_lost: true`), ended at the last event received
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aquabill.billing_core.registry.phones import accounts_by_phone, normalise_phone
from aquabill.channels.asterisk.calls import CallUpdate
from aquabill.contact_center import calls as store
from aquabill.platform.realtime import publish
from aquabill.platform.state import Core
from aquabill.tenants.context import Tenant, tenant_transaction


@dataclass
class _Known:
    call_id: int
    account_id: int | None
    accounts: list[dict[str, Any]]


class CallSink:
    """Applies a tenant's call updates in order (one sink per AMI connection)."""

    def __init__(self, core: Core, tenant: Tenant) -> None:
        self.core = core
        self.tenant = tenant
        self._known: dict[str, _Known] = {}

    async def apply(self, update: CallUpdate) -> None:
        call = update.call
        known = self._known.get(call.linkedid)
        async with tenant_transaction(self.core.engines, self.tenant) as conn:
            accounts = known.accounts if known else []
            account_id = known.account_id if known else None
            if known is None and call.direction == "inbound":
                accounts = await accounts_by_phone(conn, call.caller)
                account_id = accounts[0]["id"] if len(accounts) == 1 else None
            row = await store.upsert_call(conn, call, caller_normalised=normalise_phone(call.caller),
                                          account_id=account_id)
        if known is None:
            known = _Known(row["id"], row["account_id"], accounts)
        if update.kind == "ended":
            self._known.pop(call.linkedid, None)
        else:
            self._known[call.linkedid] = known
        event = self._event(update, row, known)
        if event is not None:
            await publish(self.core.redis, self.core.keys, self.tenant.id, event[0], event[1])

    @staticmethod
    def _event(update: CallUpdate, row: dict[str, Any], known: _Known) -> tuple[str, dict[str, Any]] | None:
        call = update.call
        base = {"call_id": row["id"], "linkedid": call.linkedid, "account_id": row["account_id"]}
        if update.kind == "ringing":
            return "call.ringing", base | {
                "direction": row["direction"], "caller": row["caller"], "caller_normalised": row["caller_normalised"],
                "called": row["called"], "queue": call.queue, "extension": update.extension,
                "started_at": row["started_at"].isoformat(), "accounts": known.accounts,
            }
        if update.kind == "answered":
            return "call.answered", base | {
                "agent_extension": call.agent_extension, "wait_s": row["wait_s"],
                "answered_at": call.answered_at.isoformat() if call.answered_at else None,
            }
        if update.kind == "ended":
            return "call.ended", base | {
                "status": row["status"], "ended_at": call.ended_at.isoformat() if call.ended_at else None,
                "duration_s": row["duration_s"], "wait_s": row["wait_s"], "agent_extension": call.agent_extension,
                "recording": call.recording,
            }
        return None


async def end_lost_calls(core: Core, tenant: Tenant, *, last_seen: dict[str, datetime],
                         started_before: datetime | None = None) -> int:
    """Mark the tenant's calls in progress as lost (the AMI link dropped, or a new link starts without knowing
    the PBX's state) and publish their call.ended; returns how many."""
    async with tenant_transaction(core.engines, tenant) as conn:
        rows = await store.lose_calls(conn, last_seen=last_seen, started_before=started_before)
    for row in rows:
        await publish(core.redis, core.keys, tenant.id, "call.ended", {
            "call_id": row["id"], "linkedid": row["linkedid"], "account_id": row["account_id"],
            "status": row["status"], "ended_at": row["ended_at"].isoformat(), "duration_s": row["duration_s"],
            "wait_s": row["wait_s"], "agent_extension": row["agent_extension"], "recording": row["recording"],
            "link_lost": True})
    return len(rows)
