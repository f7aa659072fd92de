"""Address registry (settlement → street → house → premise), personal accounts and the account card:
parameters, residents, absences."""

from aquabill.billing_core.registry.absences import add_absence, delete_absence, list_absences
from aquabill.billing_core.registry.account_parameters import parameter_history, set_account_parameter
from aquabill.billing_core.registry.card import full_card
from aquabill.billing_core.registry.queries import account_card, require_account, search_accounts
from aquabill.billing_core.registry.residents import (
    add_resident,
    delete_resident,
    list_residents,
    update_resident,
)

__all__ = [
    "account_card", "add_absence", "add_resident", "delete_absence", "delete_resident", "full_card",
    "list_absences", "list_residents", "parameter_history", "require_account", "search_accounts",
    "set_account_parameter", "update_resident",
]
