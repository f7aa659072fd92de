"""Meters and readings: validation rules (pure), recording readings, meter events and confirmation."""

from aquabill.billing_core.metering.meters import (
    MeterInstall,
    get_meter,
    install_meter,
    list_meters,
    mark_failed,
    replace_meter,
    update_verification,
)
from aquabill.billing_core.metering.reading_entry import (
    add_reading,
    confirm_reading,
    get_reading,
    list_readings,
)

__all__ = [
    "MeterInstall", "add_reading", "confirm_reading", "get_meter", "get_reading", "install_meter", "list_meters",
    "list_readings", "mark_failed", "replace_meter", "update_verification",
]
