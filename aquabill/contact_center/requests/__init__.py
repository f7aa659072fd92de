"""Requests (заявки) and works of the contact center.

`sla` and `assignment` are the pure rules (deadlines in calendar or working time, escalation levels;
choosing an executor by division, territory and cap); `setup` configures executors and routes (divisions
themselves are `billing_core.divisions`, shared with month close); `flow` runs a request's life and its
timers; `works` holds documents, works and acts (an act of a paid request posts a one-off charge); `store`
the queries.
"""

from aquabill.contact_center.requests.assignment import Candidate, choose_executor
from aquabill.contact_center.requests.sla import phase_deadline, remaining_seconds, sla_state
from aquabill.contact_center.requests.store import Outbox

__all__ = ["Candidate", "Outbox", "choose_executor", "phase_deadline", "remaining_seconds", "sla_state"]
