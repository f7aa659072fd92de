"""Penalties (пени) under art. 155 part 14 of the Housing Code: the key-rate table, the federal moratoria
and rate rules (overridable per tenant), the day-precise calculation of one debt (calc.py), the rule
calendar (calendar.py) and the set-based penalty run over a whole tenant (run.py, store.py)."""

from aquabill.billing_core.penalties.calc import (
    HOUSING_CODE_155,
    Payment,
    PenaltyResult,
    PenaltyRow,
    PenaltyScale,
    PenaltyScope,
    RateDate,
    RowKind,
    ScaleStep,
    calculate_penalty,
    due_date,
)
from aquabill.billing_core.penalties.rates import KEY_RATES, KeyRate, rate_on
from aquabill.billing_core.penalties.rules import (
    FEDERAL_RULES,
    Moratorium,
    PenaltyRules,
    RateRule,
    RateRuleKind,
)

__all__ = [
    "FEDERAL_RULES", "HOUSING_CODE_155", "KEY_RATES", "KeyRate", "Moratorium", "Payment", "PenaltyResult",
    "PenaltyRow", "PenaltyRules", "PenaltyScale", "PenaltyScope", "RateDate", "RateRule", "RateRuleKind", "RowKind",
    "ScaleStep", "calculate_penalty",
    "due_date", "rate_on",
]
