"""Job kinds: what each does, its Russian title, and the permission needed to start it.

The job modules register themselves with `@job`; `catalogue.load_job_kinds()` imports them once, at the
app's and the worker's start (the composition roots), so nothing here imports a job module."""

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
