"""Tuning of the set-based runs, set once at start-up by the app, the worker or the CLI from their settings
(`platform.config.apply_run_tuning`); the defaults serve tests and benchmarks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class RunTuning:
    work_mem: str = "256MB"  # per sort/hash of a run's statements (SET LOCAL work_mem)
    timing: bool = False  # print each statement's time (diagnostics)


CURRENT = RunTuning()


def configure(*, work_mem: str, timing: bool) -> None:
    CURRENT.work_mem = work_mem
    CURRENT.timing = timing


def work_mem_sql() -> str:
    """The statement that gives a run's transaction its work_mem."""
    return f"SET LOCAL work_mem = '{CURRENT.work_mem}'"
