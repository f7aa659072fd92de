"""Billing reference data: services, tariffs, norms, increasing coefficients, kinds of account parameters."""

from aquabill.billing_core.reference.coefficients import (
    Coefficient,
    coefficient_on,
    list_coefficients,
    set_override,
    timeline,
)
from aquabill.billing_core.reference.norms import improvements, list_norms, set_norm
from aquabill.billing_core.reference.parameter_kinds import create_kind, get_kind, list_kinds
from aquabill.billing_core.reference.services import (
    SERVICE_KINDS,
    create_service,
    get_service,
    list_services,
    update_service,
)
from aquabill.billing_core.reference.tariffs import list_tariffs, set_tariff, tariff_groups

__all__ = [
    "SERVICE_KINDS", "Coefficient", "coefficient_on", "create_kind", "create_service", "get_kind", "get_service",
    "improvements", "list_coefficients", "list_kinds", "list_norms", "list_services", "list_tariffs", "set_norm",
    "set_override", "set_tariff", "tariff_groups", "timeline", "update_service",
]
