"""The per-line report of an import: every data line ends up inserted, updated, unchanged or failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUSES = ("inserted", "updated", "unchanged", "failed")


@dataclass
class ImportReport:
    kind: str
    lines: int = 0
    status: dict[int, str] = field(default_factory=dict)  # line → one of STATUSES
    errors: dict[int, str] = field(default_factory=dict)  # line → why it was not loaded
    warnings: dict[int, str] = field(default_factory=dict)  # line → loaded, but worth a look
    created: dict[str, int] = field(default_factory=dict)  # rows created in related tables (addresses)
    notes: list[str] = field(default_factory=list)  # about the file as a whole

    def mark(self, line: int, status: str) -> None:
        assert status in STATUSES, status
        self.status[line] = status

    def fail(self, line: int, error: str) -> None:
        self.status[line] = "failed"
        self.errors[line] = error

    def warn(self, line: int, warning: str) -> None:
        self.warnings[line] = warning

    def count(self, status: str) -> int:
        return sum(1 for s in self.status.values() if s == status)

    def as_dict(self, *, max_errors: int | None = None) -> dict[str, Any]:
        """JSON-ready: counts plus `errors` / `warnings` as [{"line", "error" | "warning"}] by line."""
        errors = [{"line": n, "error": self.errors[n]} for n in sorted(self.errors)]
        warnings = [{"line": n, "warning": self.warnings[n]} for n in sorted(self.warnings)]
        out: dict[str, Any] = {
            "kind": self.kind, "lines": self.lines,
            **{s: self.count(s) for s in STATUSES},
            "errors": errors[:max_errors] if max_errors is not None else errors,
            "errors_total": len(errors),
            "warnings": warnings[:max_errors] if max_errors is not None else warnings,
            "warnings_total": len(warnings),
            "created": dict(self.created),
            "notes": list(self.notes),
        }
        return out

    def summary(self) -> str:
        """One line in Russian for the CLI and job messages."""
        return (f"Строк: {self.lines}; добавлено: {self.count('inserted')}, изменено: {self.count('updated')}, "
                f"без изменений: {self.count('unchanged')}, с ошибками: {self.count('failed')}")
