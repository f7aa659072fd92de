"""Month close: the tenant-configurable checks, closing / reopening a month (whole tenant or one division;
the divisions themselves are `billing_core.divisions`) and the wizard's state."""

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
from aquabill.billing_core.month_close.store import queued_runs, save_check_settings

__all__ = [
    "CATALOGUE", "CheckConfig", "CheckResult", "Finding", "check_change", "check_period", "close_period",
    "evaluate", "load_config", "outcome", "period_state", "plural", "queued_runs", "refusal", "reopen_period",
    "run_checks", "save_check_settings",
]
