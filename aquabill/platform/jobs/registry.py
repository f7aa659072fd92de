"""Job kinds: what each does, its Russian title, and the permission needed to start it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aquabill.platform.jobs.context import JobContext

JobFn = Callable[["JobContext", dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class JobSpec:
    kind: str
    title: str
    resource: str
    action: str
    fn: JobFn


JOBS: dict[str, JobSpec] = {}


def job(kind: str, title: str, resource: str, action: str):
    def register(fn: JobFn) -> JobFn:
        JOBS[kind] = JobSpec(kind, title, resource, action, fn)
        return fn

    return register


def load_job_modules() -> None:
    """Import the modules that register job kinds."""
    from aquabill.platform.jobs import (  # noqa: F401
        billing,
        builtin,
        csv_import,
        mail_poll,
        payments_allocation,
        payments_file,
        penalties,
    )
