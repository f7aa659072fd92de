"""What the tenant's dial plan is given to dial (click-to-call, call-back, autocall)."""

from __future__ import annotations

from aquabill.billing_core.registry.phones import normalise_phone


def dial_string(number: str) -> str:
    """What the dial plan gets: a Russian number as 8XXXXXXXXXX (as dialled from an office PBX), other
    numbers as digits."""
    normalised = normalise_phone(number)
    return "8" + normalised[2:] if normalised else "".join(c for c in number if c.isdigit())
