"""Month close: divisions, the tenant-configurable checks, closing / reopening a month (whole tenant or
one division) and the wizard's state."""

from aquabill.billing_core.month_close.catalogue import (
    CATALOGUE,
    CheckConfig,
    CheckResult,
    Finding,
    check_change,
    evaluate,
    outcome,
    plural,
    refusal,
)
from aquabill.billing_core.month_close.checks import load_config, run_checks
from aquabill.billing_core.month_close.closing import check_period, close_period, period_state, reopen_period
from aquabill.billing_core.month_close.divisions import (
    create_division,
    get_division,
    list_divisions,
    update_division,
)

__all__ = [
    "CATALOGUE", "CheckConfig", "CheckResult", "Finding", "check_change", "check_period", "close_period",
    "create_division", "evaluate", "get_division", "list_divisions", "load_config", "outcome", "period_state",
    "plural", "refusal", "reopen_period", "run_checks", "update_division",
]
