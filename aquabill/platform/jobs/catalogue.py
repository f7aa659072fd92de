"""Every job kind of the product: importing this module registers them all in `registry.JOBS`."""

from __future__ import annotations

from aquabill.platform.jobs import (  # noqa: F401  (imported for their @job registrations)
    billing,
    builtin,
    campaigns,
    cloud_fiscal,
    csv_import,
    edo,
    legal_calc,
    legal_documents,
    legal_penalties,
    mail_poll,
    payments_allocation,
    payments_file,
    penalties,
    receipts_print,
)


def load_job_kinds() -> None:
    """Called by the app factory and the worker builder; the imports above have done the work."""
