"""Adjustments of charges entered by people: one-off charges (spread by area or residents, kopeck-exact),
storno of charge rows, installment agreements (a debt charged back in monthly instalments).

Every charge row written here is audited with the acting user and the time (t0018: the audit triggers of
`charges` skip only the billing run's own posting statements), as are the documents themselves."""

from aquabill.billing_core.adjustments.installments import (
    cancel_agreement,
    create_agreement,
    get_agreement,
    list_agreements,
    post_due_instalments,
    split_debt,
)
from aquabill.billing_core.adjustments.one_off import OneOff, create_one_off, get_one_off, list_one_offs
from aquabill.billing_core.adjustments.storno import storno

__all__ = [
    "OneOff", "cancel_agreement", "create_agreement", "create_one_off", "get_agreement", "get_one_off",
    "list_agreements", "list_one_offs", "post_due_instalments", "split_debt", "storno",
]
