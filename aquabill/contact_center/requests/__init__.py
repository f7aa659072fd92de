"""Contact center: appeals, requests (заявки) and works.

Requests: `sla` and `assignment` are the pure rules (deadlines in calendar or working time, escalation
levels; choosing an executor by division, territory and cap); `requests_setup` configures divisions,
executors and routes; `requests_flow` runs a request's life and its timers; `requests_works` holds documents,
works and acts (an act of a paid request posts a one-off charge); `requests_store` the queries.
"""

from aquabill.contact_center.requests.assignment import Candidate, choose_executor
from aquabill.contact_center.requests.sla import phase_deadline, remaining_seconds, sla_state
from aquabill.contact_center.requests.store import Outbox

__all__ = ["Candidate", "Outbox", "choose_executor", "phase_deadline", "remaining_seconds", "sla_state"]
